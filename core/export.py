"""The end of a training run: the inference model (float32, or float16 where the file would be too
large), its evaluation, and the card that says how it was made, all written into a staging folder
that then takes the place of the model's folder (``core.checkpoint.swap_in``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core import artifacts
from core.classes import CLASS_NAMES
from core.data import Splits, class_counts, class_weights, describe_test_split
from core.evaluate import evaluate_predictions
from core.inference import TTA_MODES, predict
from core.machine import library_versions, machine_description
from core.models import build_model, copy_weights, describe_augmentation, get_spec, weights_label

if TYPE_CHECKING:
    from core.checkpoint import TrainState
    from core.train import TrainConfig

MAX_MODEL_BYTES = 55_000_000  # a larger float32 model.keras is stored in float16 (files in git stay under 60 MB)


def export_and_evaluate(trained, state: TrainState, config: TrainConfig, precision: str, splits: Splits,
                        folder: Path, log=print) -> dict:
    """Write the inference model (no augmentation, no optimizer), its history, metrics and card into ``folder``."""
    import keras

    spec = get_spec(config.model)
    keras.mixed_precision.set_dtype_policy("float32")
    inference = build_model(spec.name, weights="none", augmentation=())
    copy_weights(trained, inference)
    model_file = folder / artifacts.MODEL
    artifacts.save_keras_model(inference, model_file)
    storage = {"weights_dtype": "float32"}
    if model_file.stat().st_size > MAX_MODEL_BYTES:
        storage = save_compact(inference, spec.name, model_file, splits, log)
    artifacts.write_history(folder / artifacts.HISTORY, state.history)
    metrics = evaluate_saved_model(spec.name, folder, splits, config.weights)
    card = {
        "model": spec.name,
        "title": spec.title,
        "description": spec.description,
        "architecture": spec.architecture,
        "parameters": int(inference.count_params()),
        "file_size_bytes": model_file.stat().st_size,
        "model_sha256": artifacts.file_sha256(model_file),
        "initial_weights": config.weights if config.weights in ("none", "imagenet") else Path(config.weights).name,
        "initial_weights_label": weights_label(config.weights),
        "augmentation": bool(config.augmentation),
        "augmentation_layers": describe_augmentation(config.augmentation),
        "class_weights": ({CLASS_NAMES[c]: w for c, w in class_weights(splits.train.y).items()}
                          if spec.class_weighted else None),
        "class_weights_from_epoch": config.class_weights_from_epoch,
        "label_smoothing": spec.label_smoothing,
        "optimizer": config.optimizer,
        "weight_decay": spec.weight_decay,
        "schedule": config.schedule,
        "weight_average": config.weight_average,
        "epochs_run": state.epoch,
        "epochs_max": state.first_epoch + config.epochs + sum(epochs for epochs, _ in config.restarts),
        "continued_from": state.continued_from,
        "teacher": state.teacher,
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "stopped_early": state.stopped_early,
        "training_seconds": round(state.train_seconds, 1),
        "wall_seconds": round(sum(h["seconds"] for h in state.history), 1),
        "train_images_per_second": round(state.train_images / state.train_seconds, 1) if state.train_seconds else None,
        "dtype_policy": precision,
        "storage": storage,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "data": {"source": splits.report.source, "form": splits.report.form,
                 "counts": {s: class_counts(getattr(splits, s).y) for s in ("train", "val", "test")},
                 "totals": {s: len(getattr(splits, s)) for s in ("train", "val", "test")},
                 "test_split": describe_test_split(splits.test), "val_fraction": splits.val_fraction},
        "command": state.config,
        "versions": library_versions(),
        "machine": machine_description(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    artifacts.write_json(folder / artifacts.CARD, card)  # last: a staging folder with a card is complete
    log(f"{spec.name}: test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f} "
        f"({metrics['test_split']})")
    return card


def save_compact(inference, name: str, path: Path, splits: Splits, log=print) -> dict:
    """Store the model with float16 weights (half the file) and measure what that costs in accuracy."""
    import keras

    float32_bytes = path.stat().st_size
    reference = {split: predict(inference, getattr(splits, split).x) for split in ("val", "test")}
    keras.mixed_precision.set_dtype_policy("float16")
    try:
        compact = build_model(name, weights="none", augmentation=())
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    copy_weights(inference, compact)
    artifacts.save_keras_model(compact, path)
    stored = {split: predict(artifacts.load_model(path), getattr(splits, split).x) for split in ("val", "test")}
    storage = {"weights_dtype": "float16", "float32_bytes": float32_bytes, "bytes": path.stat().st_size}
    for split in ("val", "test"):
        y = getattr(splits, split).y
        storage[f"{split}_accuracy_float32"] = float(np.mean(reference[split].argmax(1) == y))
        storage[f"{split}_accuracy_float16"] = float(np.mean(stored[split].argmax(1) == y))
        storage[f"{split}_same_prediction"] = float(np.mean(reference[split].argmax(1) == stored[split].argmax(1)))
        storage[f"{split}_max_probability_change"] = float(np.abs(reference[split] - stored[split]).max())
    log(f"{name}: stored in float16, {float32_bytes / 1e6:.1f} -> {storage['bytes'] / 1e6:.1f} MB; test accuracy "
        f"{storage['test_accuracy_float32']:.4f} -> {storage['test_accuracy_float16']:.4f}")
    return storage


def evaluate_saved_model(name: str, folder: Path, splits: Splits, weights: str | None = None,
                         tta: str | None = None) -> dict:
    """Evaluate model ``name`` saved in ``<folder>/model.keras`` on the test split (and validation, which
    chooses the TTA unless ``tta`` names one, and fits the temperature); write metrics.json and predictions.npz."""
    folder = Path(folder)
    model = artifacts.load_model(folder / artifacts.MODEL)
    val = {mode: predict(model, splits.val.x, tta=mode) for mode in TTA_MODES}
    test = {mode: predict(model, splits.test.x, tta=mode) for mode in TTA_MODES}
    metrics, arrays = evaluate_predictions(splits.val, splits.test, val, test, tta)
    if weights is None:  # re-evaluation: keep what the card says about the initial weights
        card_file = folder / artifacts.CARD
        weights = artifacts.read_json(card_file)["initial_weights"] if card_file.is_file() else "unknown"
    metrics.update({"model": name, "test_split": describe_test_split(splits.test),
                    "initial_weights": weights, "initial_weights_label": weights_label(weights)})
    artifacts.write_npz(folder / artifacts.PREDICTIONS, **arrays)
    artifacts.write_json(folder / artifacts.METRICS, metrics)
    return metrics
