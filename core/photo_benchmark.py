"""The photo path measured against FER-2013 itself: framing calibration on training faces, the benchmark on test faces.

Both place 48x48 faces into larger synthetic photos (``core.photo_set``), where the face's frame is known.

    python -m core framing --data PATH           # training faces: where each detector's box sits in the frame
    python -m core photo-benchmark --data PATH   # test faces: found, accuracy and agreement vs the originals, time

The benchmark runs ``Predictor.predict_photo``, the try-it page's own path, photo by photo.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.classes import IMAGE_SIZE
from core.data import Split
from core.faces import DETECTORS, FRAMING_FILE, Detection, read_photo, search
from core.machine import machine_description
from core.photo_set import compose_photo
from core.report import MISSING

FRAMING_PHOTOS = 600
BENCHMARK_PHOTOS = 300
EMPTY_PHOTOS = 100  # backgrounds alone: every face found there is a false one
FACE_TIMING_ROUNDS = 20


def _sample(split: Split, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(len(split), min(count, len(split)), replace=False)


def matching_box(detections: list[Detection], frame) -> Detection | None:
    """The first (largest) detection whose box's centre lies inside the face's frame (x, y, side), or None."""
    x, y, side = frame
    for detection in detections:
        bx, by, bw, bh = detection.box
        if x <= bx + bw / 2 <= x + side and y <= by + bh / 2 <= y + side:
            return detection
    return None


def calibrate_framing(train: Split, count: int = FRAMING_PHOTOS, seed: int = 0, log=print) -> dict:
    """For each detector, the median FER-2013 frame around its box (side and centre offset in units of
    sqrt(w*h)), measured on training faces placed into photos; written to ``core/framing.json``."""
    rng = np.random.default_rng(seed)
    photos = [compose_photo(train.x[i, :, :, 0], rng) for i in _sample(train, count, seed)]
    result = {"measured_on": f"{len(photos)} FER-2013 training faces placed into synthetic photos "
                             f"(core.photo_set, seed {seed})", "detectors": {}}
    for detector in DETECTORS:
        ratios = []
        for jpeg, frame in photos:
            match = matching_box(search(read_photo(jpeg).rgb, detector)[0], frame)
            if match is None:
                continue
            x, y, side = frame
            bx, by, bw, bh = match.box
            size = float(np.sqrt(bw * bh))
            ratios.append((side / size, (x + side / 2 - bx - bw / 2) / size, (y + side / 2 - by - bh / 2) / size))
        if not ratios:
            raise RuntimeError(f"{detector} found none of the {len(photos)} faces: nothing to calibrate on.")
        ratios = np.asarray(ratios)
        median = np.median(ratios, axis=0)
        spread = np.percentile(ratios, 75, axis=0) - np.percentile(ratios, 25, axis=0)
        result["detectors"][detector] = {
            "scale": round(float(median[0]), 4), "dx": round(float(median[1]), 4), "dy": round(float(median[2]), 4),
            "interquartile": {"scale": round(float(spread[0]), 4), "dx": round(float(spread[1]), 4),
                              "dy": round(float(spread[2]), 4)},
            "faces": len(ratios)}
        log(f"{detector}: {len(ratios)} of {len(photos)} faces found; frame side {median[0]:.3f} x sqrt(w*h), "
            f"centre offset ({median[1]:+.3f}, {median[2]:+.3f})")
    return result


def write_framing(calibration: dict, path: Path = FRAMING_FILE) -> None:
    artifacts.write_json(path, calibration)


def _median(values) -> float | None:
    return round(statistics.median(values), 1) if values else None


def face_ms(predictor, face: np.ndarray, rounds: int = FACE_TIMING_ROUNDS) -> dict[str, float]:
    """Median ms of one face (48x48) through each model alone, as the try-it page runs it: its validated test-time
    augmentation's views in one call, an ensemble with its members. The models take turns round after round, so
    that they share the machine's moods."""
    faces = face.reshape(1, IMAGE_SIZE, IMAGE_SIZE)
    for name in predictor.names:
        predictor.predict_faces(faces, names=[name])  # warm-up: traces this choice of networks
    times = {name: [] for name in predictor.names}
    for _ in range(rounds):
        for name in predictor.names:
            started = time.perf_counter()
            predictor.predict_faces(faces, names=[name])
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: _median(values) for name, values in times.items()}


def run_photo_benchmark(predictor, test: Split, count: int = BENCHMARK_PHOTOS, seed: int = 1, log=print) -> dict:
    """Test faces placed into photos, through ``predictor.predict_photo`` with each detector, against the
    same faces given to the models as 48x48 originals: faces found, accuracy, agreement, time; and one face's
    time through each model alone (``face_ms``)."""
    index = _sample(test, count, seed)
    rng = np.random.default_rng(seed)
    photos = [compose_photo(test.x[i, :, :, 0], rng) for i in index]
    empty = [compose_photo(None, rng)[0] for _ in range(EMPTY_PHOTOS)]
    originals = predictor.predict_faces(test.x[index].reshape(-1, IMAGE_SIZE, IMAGE_SIZE))
    labels = test.y[index]
    result = {
        "photos": len(photos),
        "empty_photos": len(empty),
        "seed": seed,
        "models": predictor.names,
        "face_ms": face_ms(predictor, test.x[index[0]]),
        "detectors": {},
    }
    for detector in DETECTORS:
        predictor.predict_photo(photos[0][0], detector)  # loads the detector
        found, timings, through_photo = (
            [],
            {k: [] for k in ("read", "detect", "models", "total")},
            {n: [] for n in predictor.names},
        )
        for k, (jpeg, frame) in enumerate(photos):
            photo = predictor.predict_photo(jpeg, detector)
            for key in timings:
                timings[key].append(photo.timing_ms[key])
            match = next((r for r in photo.faces if r.face.box and matching_box([Detection(r.face.box)], frame)), None)
            if match is not None:
                found.append(k)
                for name in predictor.names:
                    through_photo[name].append(match.probabilities[name])
        per_model = {}
        for name in predictor.names:
            photo_labels = np.argmax(through_photo[name], axis=1) if found else np.zeros(0, int)
            original_labels = originals[name][found].argmax(axis=1)
            per_model[name] = {
                "accuracy_photo": round(float(np.mean(photo_labels == labels[found])), 4) if found else None,
                "accuracy_original": round(float(np.mean(original_labels == labels[found])), 4) if found else None,
                "agreement": round(float(np.mean(photo_labels == original_labels)), 4) if found else None}
        without_face = [predictor.predict_photo(jpeg, detector) for jpeg in empty]
        false_faces = sum(bool(photo.faces) for photo in without_face)
        empty_ms = _median([photo.timing_ms["total"] for photo in without_face])
        result["detectors"][detector] = {"found": len(found), "found_share": round(len(found) / len(photos), 4),
                                         "empty_photos_with_a_face": false_faces,
                                         "median_ms": {k: _median(v) for k, v in timings.items()},
                                         "median_ms_without_a_face": empty_ms, "models": per_model}
        log(
            f"{detector}: found {len(found)} of {len(photos)}, a face in {false_faces} of {len(empty)} photos "
            "without one; median ms "
            + ", ".join(f"{k} {_median(v)}" for k, v in timings.items())
            + f"; a photo without a face: {empty_ms} ms"
        )
    return result


def _figure(value: float | None, spec: str) -> str:
    return MISSING if value is None else format(value, spec)


def summary_markdown(result: dict) -> str:
    """The benchmark as a Markdown table, one row per detector and model."""
    machine = result.get("machine")
    where = (f" Measured on {machine['cpu']} ({machine['cores']} cores), {result['measured_at'][:10]}."
             if machine else "")
    lines = [
        f"{result['photos'] + result['empty_photos']} photos (seed {result['seed']}): {result['photos']} with a test "
        f"face, {result['empty_photos']} without a face; accuracy and agreement on the faces found.{where}",
        "",
        "| detector | faces found | false faces | median ms: read / detect / models / total | median ms, no face |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for detector, entry in result["detectors"].items():
        ms = entry["median_ms"]
        lines.append(f"| {detector} | {entry['found']} of {result['photos']} ({entry['found_share']:.1%}) | "
                     f"{entry['empty_photos_with_a_face']} of {result['empty_photos']} | "
                     f"{ms['read']} / {ms['detect']} / {ms['models']} / **{ms['total']}** | "
                     f"{_figure(entry.get('median_ms_without_a_face'), 'g')} |")
    lines += ["", "| detector | model | accuracy via photo | accuracy of the 48x48 originals | agreement |",
              "| --- | --- | ---: | ---: | ---: |"]
    for detector, entry in result["detectors"].items():
        for name, figures in entry["models"].items():
            lines.append(f"| {detector} | {name} | {_figure(figures['accuracy_photo'], '.4f')} | "
                         f"{_figure(figures['accuracy_original'], '.4f')} | {_figure(figures['agreement'], '.1%')} |")
    if result.get("face_ms"):
        lines += ["", "One face through each model alone, as the page runs it (its validated test-time augmentation, "
                  f"an ensemble with its members), median ms of {FACE_TIMING_ROUNDS} rounds:", "",
                  "| " + " | ".join(result["face_ms"]) + " |", "|" + " ---: |" * len(result["face_ms"]),
                  "| " + " | ".join(f"{ms:g}" for ms in result["face_ms"].values()) + " |"]
    return "\n".join(lines)


def save(result: dict, out: Path) -> Path:
    path = Path(out) / artifacts.PHOTO_BENCHMARK
    artifacts.write_json(path, {**result, "machine": machine_description(),
                                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return path
