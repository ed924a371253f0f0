"""Speed, measured in one run: training images/second and inference latency per model and precision, and
where an epoch's time goes.

    python -m core benchmark            # writes artifacts/benchmark.json, prints a table
    python -m core benchmark --epoch    # writes artifacts/epoch_time.json: an epoch's time, part by part

Training speed is the median over timed steps on random pixels (after warm-up steps); inference latency is
the median over repeated calls of the inference network (no augmentation layers, built under the row's
precision policy, random init, oneDNN kernels as in training), at batch 1 and batch 256, measured once per
architecture and precision: models that differ only in how they were trained (``cnn``, ``cnn_aug``) share the
figure rather than differ by noise.

The epoch breakdown times, on random pixels, the parts of one epoch of ``core.train`` for each precision and
batch size, the settings measured alternately round after round so that they share the machine's moods:
the training step without augmentation (the network's compute), the step with the recipe's augmentation
layers, ``model.fit`` on a sample with the run's callbacks (adding the input pipeline, shuffling and
callbacks), validation (``model.evaluate``) and the checkpoint written after each epoch. Per-image times
are scaled to an epoch of FER-2013's training and validation splits.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.checkpoint import BEST_WEIGHTS, TrainState, save_checkpoint
from core.classes import IMAGE_SIZE, NUM_CLASSES
from core.machine import library_versions, machine_description
from core.models import build_model, compile_model, get_spec
from core.progress import make_progress_bar

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


def measure(name: str, precision: str, train_steps: int, batch_size: int, rng, latencies: dict) -> dict:
    """One model's training speed, and its architecture's latency at this precision (kept in ``latencies``,
    {(architecture, precision): (batch-1 seconds, batch-256 seconds)}, for the models that share it)."""
    import keras

    keras.mixed_precision.set_dtype_policy(precision)
    model = build_model(name, weights="none")
    compile_model(model, 1e-4, 0.1)
    x = rng.integers(0, 256, (batch_size, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[rng.integers(0, NUM_CLASSES, batch_size)]
    for _ in range(WARMUP_STEPS):
        model.train_on_batch(x, y)
    step = _median_seconds(lambda: model.train_on_batch(x, y), train_steps)

    architecture = (get_spec(name).architecture, precision)
    if architecture not in latencies:
        inference = build_model(name, weights="none", augmentation=())
        one, many = x[:1], rng.integers(0, 256, (256, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.float32)
        predict = inference.predict_on_batch
        predict(one), predict(many)  # warm-up: builds the graphs
        latencies[architecture] = (_median_seconds(lambda: predict(one), LATENCY_REPEATS_BATCH1),
                                   _median_seconds(lambda: predict(many), LATENCY_REPEATS_BATCH256))
    batch1, batch256 = latencies[architecture]
    keras.backend.clear_session()
    return {"model": name, "precision": precision, "train_images_per_second": round(batch_size / step, 1),
            "train_step_ms": round(step * 1000, 1), "latency_ms_batch1": round(batch1 * 1000, 2),
            "latency_ms_batch256": round(batch256 * 1000, 1),
            "inference_images_per_second_batch256": round(256 / batch256, 1)}


def run_benchmark(models, out: Path, train_steps: int = 6, batch_size: int = 64, log=print) -> dict:
    rng = np.random.default_rng(0)
    rows, latencies = [], {}
    log(f"{'model':<12}{'precision':<16}{'train img/s':>12}{'batch-1 ms':>12}{'batch-256 ms':>14}")
    for name in models:
        for precision in PRECISIONS:
            row = measure(name, precision, train_steps, batch_size, rng, latencies)
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


EPOCH_TIME = "epoch_time.json"
EPOCH_TRAIN_IMAGES, EPOCH_VAL_IMAGES = 25_837, 2_872  # FER-2013's training pool less a tenth for validation
EPOCH_PARTS = ("network", "augmentation", "input_and_callbacks", "validation", "checkpoint")


class _EpochSetup:
    """One model at one precision and batch size: the recipe's training model, the same network without
    augmentation, and random pixels to time them on."""

    def __init__(self, name: str, precision: str, batch_size: int, sample: int, rng, folder: Path):
        import keras

        keras.mixed_precision.set_dtype_policy(precision)
        self.name, self.precision, self.batch_size, self.folder = name, precision, batch_size, folder
        self.trained = build_model(name, weights="none")
        self.bare = build_model(name, weights="none", augmentation=())
        for model in (self.trained, self.bare):
            compile_model(model, 1e-4, 0.1)
        self.x = rng.integers(0, 256, (sample, IMAGE_SIZE, IMAGE_SIZE, 1)).astype(np.uint8)
        self.y = np.eye(NUM_CLASSES, dtype=np.float32)[rng.integers(0, NUM_CLASSES, sample)]
        self.callbacks = [make_progress_bar(0, 1, sample // batch_size, [], stream=io.StringIO()),
                          keras.callbacks.TensorBoard(log_dir=str(folder / "tensorboard"), write_graph=False)]
        keras.mixed_precision.set_dtype_policy("float32")

    def _fit(self) -> None:
        self.trained.fit(self.x, self.y, batch_size=self.batch_size, epochs=1, shuffle=True, verbose=0,
                         callbacks=self.callbacks)

    def _save_checkpoint(self) -> None:  # what core.train writes after an epoch: the checkpoint, the best weights
        save_checkpoint(self.trained, TrainState(), self.folder)
        artifacts.save_keras_weights(self.trained, self.folder / BEST_WEIGHTS)

    def warm_up(self) -> None:
        batch = (self.x[: self.batch_size], self.y[: self.batch_size])
        for _ in range(WARMUP_STEPS):
            self.trained.train_on_batch(*batch), self.bare.train_on_batch(*batch)
        self._fit()
        self.trained.evaluate(self.x, self.y, batch_size=self.batch_size, verbose=0)

    def measure(self, steps: int) -> dict:
        """Seconds per image of each part but the checkpoint, which is seconds per epoch."""
        batch = (self.x[: self.batch_size], self.y[: self.batch_size])
        network = _median_seconds(lambda: self.bare.train_on_batch(*batch), steps) / self.batch_size
        augmented = _median_seconds(lambda: self.trained.train_on_batch(*batch), steps) / self.batch_size
        fit = _median_seconds(self._fit, 1) / len(self.x)
        validation = _median_seconds(lambda: self.trained.evaluate(self.x, self.y, batch_size=self.batch_size,
                                                                   verbose=0), 1) / len(self.x)
        checkpoint = _median_seconds(self._save_checkpoint, 1)
        return {"network": network, "augmentation": augmented - network, "input_and_callbacks": fit - augmented,
                "validation": validation, "checkpoint": checkpoint}


def _epoch_row(setup: _EpochSetup, rounds: list[dict]) -> dict:
    per = {part: statistics.median(r[part] for r in rounds) for part in EPOCH_PARTS}
    seconds = {part: per[part] * EPOCH_TRAIN_IMAGES for part in EPOCH_PARTS[:3]}
    seconds["validation"] = per["validation"] * EPOCH_VAL_IMAGES
    seconds["checkpoint"] = per["checkpoint"]
    training = sum(seconds[part] for part in EPOCH_PARTS[:3])
    return {"model": setup.name, "precision": setup.precision, "batch_size": setup.batch_size,
            "epoch_seconds": round(sum(seconds.values()), 1),
            "seconds": {part: round(value, 2) for part, value in seconds.items()},
            "train_images_per_second": round(EPOCH_TRAIN_IMAGES / training, 1),
            "network_images_per_second": round(1 / per["network"], 1)}


def run_epoch_breakdown(models, out: Path, precisions=PRECISIONS, batch_sizes=(64, 256), rounds: int = 3,
                        sample: int = 2048, steps: int = 6, log=print) -> dict:
    """Where an epoch's time goes, per model, precision and batch size; writes OUT/epoch_time.json."""
    import keras

    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in models:
            setups = [_EpochSetup(name, p, b, sample, rng, Path(scratch) / f"{name}-{p}-{b}")
                      for p in precisions for b in batch_sizes]
            for setup in setups:
                setup.warm_up()
            measured = [[] for _ in setups]
            for _ in range(rounds):  # alternately, so that every setting meets the same moods of the machine
                for setup, results in zip(setups, measured):
                    results.append(setup.measure(steps))
            rows += [_epoch_row(setup, results) for setup, results in zip(setups, measured)]
            keras.backend.clear_session()
    result = {"train_images": EPOCH_TRAIN_IMAGES, "val_images": EPOCH_VAL_IMAGES, "rounds": rounds, "sample": sample,
              "results": rows, "versions": library_versions(), "machine": machine_description(),
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    artifacts.write_json(out / EPOCH_TIME, result)
    for line in epoch_table(result):
        log(line)
    log(f"written to {out / EPOCH_TIME}")
    return result


def epoch_table(result: dict) -> list[str]:
    """The breakdown as a Markdown table: seconds per epoch by part, and training img/s."""
    header = ["model", "precision", "batch", *(p.replace("_", " ") for p in EPOCH_PARTS), "epoch s", "training img/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * 3 + " ---: |" * (len(header) - 3)]
    for row in result["results"]:
        cells = [row["model"], row["precision"], row["batch_size"], *(f"{row['seconds'][p]:.1f}" for p in EPOCH_PARTS),
                 f"{row['epoch_seconds']:.0f}", row["train_images_per_second"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines
