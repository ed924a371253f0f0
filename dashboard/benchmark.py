"""Dashboard speed, measured: page switches with the artifacts cached, and a try-it prediction
(face detection plus every model) on a real photo. Medians over repeats, in one run.

    python -m dashboard.benchmark --artifacts artifacts --photo tests/fixtures/astronaut.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.explain import GradCam
from core.faces import DETECTORS, find_faces, read_photo
from dashboard.common import PAGES, view_path

APP = str(Path(__file__).resolve().parent / "app.py")


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
    models = {name: artifacts.load_model(folder / artifacts.MODEL)
              for name, folder in artifacts.list_model_dirs(root).items() if (folder / artifacts.MODEL).is_file()}
    photo = read_photo(photo_path.read_bytes())
    result = {"models": sorted(models)}
    for detector in DETECTORS:
        find_faces(photo.rgb, detector)  # warm-up: loads the detector
        detect, predict = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            faces = find_faces(photo.rgb, detector)
            middle = time.perf_counter()
            batch = np.stack([face.pixels for face in faces])[..., None].astype(np.float32)
            for model in models.values():
                model.predict_on_batch(batch)
            detect.append((middle - started) * 1000)
            predict.append((time.perf_counter() - middle) * 1000)
        total = [d + p for d, p in zip(detect, predict)]
        result[detector] = {"faces": len(faces), "detection_ms": round(statistics.median(detect), 1),
                            "all_models_ms": round(statistics.median(predict), 1), "total_ms": round(statistics.median(total), 1)}
    result["gradcam_ms_one_face"] = gradcam_ms(models, faces[0].pixels, repeats)
    return result


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default="artifacts")
    parser.add_argument("--photo", default=str(Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "astronaut.jpg"))
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    os.environ["FER_LAB_ARTIFACTS"] = str(Path(args.artifacts).resolve())
    result = {"page_switch_ms": page_switch_ms(max(3, args.repeats // 3)),
              "try_it": try_it_ms(Path(args.artifacts), Path(args.photo), args.repeats)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
