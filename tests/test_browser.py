"""End to end in a real browser: serve the app on localhost, open every page in headless Chromium,
upload a photo on the try-it page and see probabilities appear. Screenshots land in tests/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from dashboard.benchmark import CHROMIUM, CHROMIUM_ARGS, serve
from dashboard.common import SAMPLE_PHOTO

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PHOTO = SAMPLE_PHOTO
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


class Watch:
    """Every request the page makes to a host other than the app's, and every console error."""

    def __init__(self, server: str):
        self.host = urlparse(server).netloc
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def request(self, request) -> None:
        if urlparse(request.url).scheme in ("http", "https", "ws", "wss") and urlparse(request.url).netloc != self.host:
            self.foreign.append(request.url)

    def console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):  # see response()
            self.errors.append(message.text)

    def response(self, response) -> None:
        """A failed load, except Streamlit's own probe of a deep link's path for its base URL."""
        if response.status >= 400 and not re.search(r"/[a-z_]+/_stcore/(health|host-config)$", response.url):
            self.errors.append(f"{response.status} {response.url}")


@pytest.fixture(scope="module")
def watch(server) -> Watch:
    return Watch(server)


@pytest.fixture(scope="module")
def page(server, watch):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.on("request", watch.request)
        tab.on("console", watch.console)
        tab.on("response", watch.response)
        tab.on("pageerror", lambda error: watch.errors.append(str(error)))
        yield tab
        browser.close()


def settle(page) -> None:
    """Wait until the script has finished running (no 'Running…' status widget)."""
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_timeout(1500)  # tables and charts paint a moment after the script ends


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as that first."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": 1400, "height": max(1000, height)})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_every_page_opens_without_an_error(server, page, watch):
    for path, title in PAGES.items():
        page.goto(f"{server}/{path}")
        error = page.locator('[data-testid="stException"]')
        page.get_by_role("heading", name=title).or_(error).first.wait_for(timeout=120_000)
        settle(page)
        assert error.count() == 0, f"/{path}: {error.first.inner_text()}"
        screenshot(page, f"{path or 'overview'}.png")
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0  # client.toolbarMode = "viewer"
    assert watch.foreign == [] and watch.errors == []  # nothing left the machine; the console stayed clean


def test_a_photo_upload_shows_probabilities(server, page, watch):
    page.goto(f"{server}/try_it")
    page.get_by_role("heading", name="Try it").first.wait_for(timeout=120_000)
    page.locator('input[type="file"]').first.set_input_files(str(PHOTO))
    page.get_by_text("Face 1").first.wait_for(timeout=120_000)
    page.get_by_text("5 model(s)").first.wait_for(timeout=60_000)
    page.get_by_text("Show Grad-CAM").first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1  # the probability bars
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "try_it_photo.png")
    assert watch.foreign == [] and watch.errors == []
