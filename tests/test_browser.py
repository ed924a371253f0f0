"""End to end in a real browser: serve the app on localhost, open every page in headless Chromium,
upload a photo on the try-it page and see probabilities appear. Screenshots land in tests/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.benchmark import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.jpg"
# A deep link comes first: the first request of a fresh server must not bypass app.py (it once failed with
# "No module named 'core'" when the pages sat in Streamlit's auto-discovered pages/ folder).
PAGES = {"training": "Training", "": "FER-2013 model lab", "data": "Data", "per_class": "Per-class scores",
         "confusion": "Confusion matrices", "roc": "ROC curves", "calibration": "Calibration", "mistakes": "Mistakes",
         "try_it": "Try it"}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(trained_root):
    with serve(trained_root / "artifacts") as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield tab
        browser.close()


def settle(page) -> None:
    """Wait until the script has finished running (no 'Running…' status widget)."""
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_timeout(1500)  # tables and charts paint a moment after the script ends


def test_every_page_opens_without_an_error(server, page):
    for path, title in PAGES.items():
        page.goto(f"{server}/{path}")
        error = page.locator('[data-testid="stException"]')
        page.get_by_role("heading", name=title).or_(error).first.wait_for(timeout=120_000)
        settle(page)
        assert error.count() == 0, f"/{path}: {error.first.inner_text()}"
        page.screenshot(path=str(SCREENSHOTS / f"{path or 'overview'}.png"), full_page=True)


def test_a_photo_upload_shows_probabilities(server, page):
    page.goto(f"{server}/try_it")
    page.get_by_role("heading", name="Try it").first.wait_for(timeout=120_000)
    page.locator('input[type="file"]').first.set_input_files(str(PHOTO))
    page.get_by_text("Face 1").first.wait_for(timeout=120_000)
    page.get_by_text("5 model(s)").first.wait_for(timeout=60_000)
    page.get_by_text("Show Grad-CAM").first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1  # the probability bars
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SCREENSHOTS / "try_it_photo.png"), full_page=True)
