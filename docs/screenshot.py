"""The README's picture of the Overview page, taken in headless Chromium from the artifacts as they are.

    python docs/screenshot.py [--artifacts artifacts] [--out docs/dashboard.png]

Run it after `python -m core cards` whenever the models change, so the picture shows the table's figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from dashboard.benchmark import CHROMIUM, CHROMIUM_ARGS, serve

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--artifacts", default="artifacts")
parser.add_argument("--out", default="docs/dashboard.png")
args = parser.parse_args()

with serve(Path(args.artifacts)) as url, sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1240})
    page.goto(url)
    page.get_by_role("heading", name="FER-2013 model lab").first.wait_for(timeout=180_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
    page.screenshot(path=args.out)
    browser.close()
print(f"wrote {args.out}")
