"""Dashboard speed, measured: a cold start in Chromium (server ready to the first page drawn), page switches
with the artifacts cached, and a try-it prediction (the page's own path: read, face detection, every model with
its TTA, the ensemble) on a real photo, by itself and in Chromium from choosing the file to the results drawn.
Medians over repeats, in one run; written to ARTIFACTS/dashboard_benchmark.json.

    python -m dashboard.benchmark --artifacts artifacts --photo dashboard/astronaut.jpg

The browser figure needs Debian's chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from core import artifacts
from core.explain import GradCam
from core.faces import DETECTORS
from core.machine import machine_description, prefer_eigen_for_inference
from core.predictor import Predictor
from dashboard.common import PAGES, SAMPLE_PHOTO, view_path

APP = str(Path(__file__).resolve().parent / "app.py")
RESULT_FILE = "dashboard_benchmark.json"


def page_switch_ms(repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=300)
    app.run()
    files = [file for file, *_ in PAGES]
    for page in files:  # first visit fills the caches
        app.switch_page(view_path(page)).run()
    times = {page: [] for page in files}
    for _ in range(repeats):
        for page in files:
            started = time.perf_counter()
            app.switch_page(view_path(page)).run()
            times[page].append((time.perf_counter() - started) * 1000)
    return {page: round(statistics.median(values), 1) for page, values in times.items()}


def try_it_ms(root: Path, photo_path: Path, repeats: int) -> dict:
    """The try-it page's own path (``Predictor.predict_photo``: read, detect, every model with its TTA, the
    ensemble) on one photo, per detector, after a warm-up call."""
    engine = Predictor(root)
    data = photo_path.read_bytes()
    result = {"models": engine.names}
    for detector in DETECTORS:
        engine.predict_photo(data, detector)  # warm-up: loads the detector
        runs = [engine.predict_photo(data, detector) for _ in range(repeats)]
        result[detector] = {"faces": len(runs[-1].faces),
                            **{f"{key}_ms": round(statistics.median(r.timing_ms[key] for r in runs), 1)
                               for key in ("read", "detect", "models", "total")}}
    faces = runs[-1].faces
    if faces:
        result["gradcam_ms_one_face"] = gradcam_ms(engine.networks, faces[0].face.pixels, repeats)
    return result


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, with this machine's closed network: no sandbox, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(root: Path, wait_s: float = 90):
    """The dashboard on a free localhost port over the artifact root, as the README starts it; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        # the `streamlit` script, as the README runs it: unlike `python -m streamlit` it does not put the
        # repository on sys.path, so `core` must be importable as installed (requirements.txt's `-e .`)
        [str(Path(sys.executable).with_name("streamlit")), "run", APP, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],  # an edit elsewhere must not leave a "source changed" prompt
        cwd=Path(APP).parents[1], env={**os.environ, "FER_LAB_ARTIFACTS": str(Path(root).resolve())},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not come up within {wait_s:.0f} s") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def first_page_ms(root: Path) -> float:
    """A cold start: from opening the app's address (the server up, no page run yet) to the Overview's title drawn."""
    from playwright.sync_api import sync_playwright

    with serve(root) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()  # the browser is open; the server has run no script yet
        page.goto(url)
        page.get_by_role("heading", name="FER-2013 model lab").first.wait_for(timeout=180_000)
        elapsed = (time.perf_counter() - started) * 1000
        browser.close()
    return round(elapsed, 1)


def browser_upload_ms(root: Path, photo_path: Path, repeats: int) -> dict:
    """In headless Chromium: from choosing a photo on the try-it page to its results drawn and the script
    finished, the models warm (one upload first). Each upload has its own name, so each is a new photo."""
    from playwright.sync_api import sync_playwright

    times = []
    with serve(root) as url, sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/try_it")
        page.get_by_role("heading", name="Try it").first.wait_for(timeout=180_000)
        for attempt in range(repeats + 1):
            copy = Path(folder) / f"photo{attempt}{photo_path.suffix}"
            shutil.copyfile(photo_path, copy)
            started = time.perf_counter()
            page.locator('input[type="file"]').first.set_input_files(str(copy))
            page.get_by_text(f"{copy.name}: ").first.wait_for(timeout=180_000)
            page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
            page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
            if attempt:  # the first upload loads and warms the models
                times.append((time.perf_counter() - started) * 1000)
        browser.close()
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "uploads": len(times)}


def gradcam_ms(models: dict, face: np.ndarray, repeats: int) -> dict:
    """Median time of one face's Grad-CAM per model, after a warm-up call."""
    timings = {}
    for name, model in models.items():
        cam = GradCam(model)
        cam(face)
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            cam(face)
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = round(statistics.median(runs), 1)
    return timings


def main() -> None:
    prefer_eigen_for_inference()  # as the page's server does (dashboard/app.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default="artifacts", help="models to serve; writes ARTIFACTS/" + RESULT_FILE)
    parser.add_argument("--photo", default=str(SAMPLE_PHOTO))
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    root = Path(args.artifacts)
    os.environ["FER_LAB_ARTIFACTS"] = str(root.resolve())
    result = {"first_page_ms": first_page_ms(root),
              "page_switch_ms": page_switch_ms(max(3, args.repeats // 3)),
              "try_it": try_it_ms(root, Path(args.photo), args.repeats),
              "try_it_in_chromium": browser_upload_ms(root, Path(args.photo), max(3, args.repeats // 2)),
              "photo": Path(args.photo).name, "repeats": args.repeats, "machine": machine_description(),
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    artifacts.write_json(root / RESULT_FILE, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
