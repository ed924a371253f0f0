"""Speed, measured in one run: training images/second and inference latency per model and precision.

    python -m core benchmark            # writes artifacts/benchmark.json, prints a table

Training speed is the median over timed steps on random pixels (after warm-up steps);
inference latency is the median over repeated calls of the exported float32-style inference model
(no augmentation layers), at batch 1 and batch 256.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.classes import IMAGE_SIZE, NUM_CLASSES
from core.machine import library_versions, machine_description
from core.models import build_model, compile_model

PRECISIONS = ("float32", "mixed_bfloat16")
WARMUP_STEPS = 2
LATENCY_REPEATS_BATCH1 = 30
LATENCY_REPEATS_BATCH256 = 3


def _median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(name: str, precision: str, train_steps: int, batch_size: int, rng) -> dict:
    import keras

    keras.mixed_precision.set_dtype_policy(precision)
    model = build_model(name, weights="none")
    compile_model(model, 1e-4, 0.1)
    x = rng.integers(0, 256, (batch_size, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[rng.integers(0, NUM_CLASSES, batch_size)]
    for _ in range(WARMUP_STEPS):
        model.train_on_batch(x, y)
    step = _median_seconds(lambda: model.train_on_batch(x, y), train_steps)

    inference = build_model(name, weights="none", augmentation=())
    one, many = x[:1], rng.integers(0, 256, (256, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
    predict = inference.predict_on_batch
    predict(one), predict(many)  # warm-up: builds the graphs
    batch1 = _median_seconds(lambda: predict(one), LATENCY_REPEATS_BATCH1)
    batch256 = _median_seconds(lambda: predict(many), LATENCY_REPEATS_BATCH256)
    keras.backend.clear_session()
    return {"model": name, "precision": precision, "train_images_per_second": round(batch_size / step, 1),
            "train_step_ms": round(step * 1000, 1), "latency_ms_batch1": round(batch1 * 1000, 2),
            "latency_ms_batch256": round(batch256 * 1000, 1),
            "inference_images_per_second_batch256": round(256 / batch256, 1)}


def run_benchmark(models, out: Path, train_steps: int = 6, batch_size: int = 64, log=print) -> dict:
    rng = np.random.default_rng(0)
    rows = []
    log(f"{'model':<12}{'precision':<16}{'train img/s':>12}{'batch-1 ms':>12}{'batch-256 ms':>14}")
    for name in models:
        for precision in PRECISIONS:
            row = measure(name, precision, train_steps, batch_size, rng)
            rows.append(row)
            log(f"{name:<12}{precision:<16}{row['train_images_per_second']:>12}{row['latency_ms_batch1']:>12}"
                f"{row['latency_ms_batch256']:>14}")
    speedups = {}
    for name in models:
        f32, bf16 = (next(r for r in rows if r["model"] == name and r["precision"] == p) for p in PRECISIONS)
        speedups[name] = round(bf16["train_images_per_second"] / f32["train_images_per_second"], 2)
    result = {"batch_size": batch_size, "train_steps": train_steps, "results": rows,
              "bf16_training_speedup": speedups, "versions": library_versions(), "machine": machine_description(),
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    artifacts.write_json(out / artifacts.BENCHMARK, result)
    log(f"mixed_bfloat16 / float32 training speed: {speedups}; written to {out / artifacts.BENCHMARK}")
    return result
