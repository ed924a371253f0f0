"""The shape of every artifact file, declared once and checked once, when a model folder is read.

A file that is valid JSON but not what the format says (``card.json`` holding ``[]``, ``metrics.json``
lacking a class, ``history.csv`` lacking a column, a NaN among the probabilities) raises ``SchemaError``
naming the first thing wrong; ``core.artifacts`` then marks that model broken with the reason and every
other model still shows. The declarations follow artifacts/README.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.classes import CLASS_NAMES, NUM_CLASSES
from core.inference import TTA_MODES

TTA_CHOICES = (*TTA_MODES, "members' own")  # the ensemble's scores use its members' own


class SchemaError(ValueError):
    """An artifact file is readable but not what the format says."""


@dataclass(frozen=True)
class Optional:
    """A key that may be missing or null; when present, ``spec`` applies."""

    spec: object


@dataclass(frozen=True)
class Each:
    """A mapping whose keys are ``keys`` (all of them, or any when None) and whose values all follow ``spec``."""

    spec: object
    keys: tuple | None = None


@dataclass(frozen=True)
class ListOf:
    spec: object
    length: int | None = None


NUMBER = "a finite number"
FRACTION = "a number from 0 to 1"
COUNT = "a whole number of at least 0"


def check(value, spec, where: str) -> None:
    """Raise SchemaError if ``value`` does not follow ``spec``; ``where`` names it in the message."""
    if isinstance(spec, Optional):
        if value is not None:
            check(value, spec.spec, where)
    elif spec in (NUMBER, FRACTION):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SchemaError(f"{where} is {value!r}, not {spec}")
        if spec == FRACTION and not 0 <= value <= 1:
            raise SchemaError(f"{where} is {value!r}, not {spec}")
    elif spec == COUNT:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SchemaError(f"{where} is {value!r}, not {spec}")
    elif isinstance(spec, type):
        if not isinstance(value, spec):
            raise SchemaError(f"{where} is {type(value).__name__} {_short(value)}, not {spec.__name__}")
    elif isinstance(spec, tuple):  # one of these strings
        if value not in spec:
            raise SchemaError(f"{where} is {value!r}, not one of {', '.join(map(str, spec))}")
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            raise SchemaError(f"{where} is {type(value).__name__} {_short(value)}, not an object")
        for key, item in spec.items():
            if key not in value and not isinstance(item, Optional):
                raise SchemaError(f"{where} lacks {key!r}")
            check(value.get(key), item, f"{where}.{key}")
    elif isinstance(spec, Each):
        check(value, dict, where)
        missing = [k for k in spec.keys or () if k not in value]
        if missing:
            raise SchemaError(f"{where} lacks {', '.join(map(repr, missing))}")
        for key, item in value.items():
            check(item, spec.spec, f"{where}.{key}")
    elif isinstance(spec, ListOf):
        if not isinstance(value, list) or (spec.length is not None and len(value) != spec.length):
            raise SchemaError(f"{where} is {_short(value)}, not a list" + (f" of {spec.length}" if spec.length else ""))
        for index, item in enumerate(value):
            check(item, spec.spec, f"{where}[{index}]")
    else:
        raise TypeError(f"unknown schema entry {spec!r}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


ROC_CURVE = Optional({"fpr": ListOf(NUMBER), "tpr": ListOf(NUMBER), "auc": FRACTION})
BINS = {"ece": FRACTION, "count": ListOf(COUNT), "confidence": ListOf(Optional(NUMBER)),
        "accuracy": ListOf(Optional(NUMBER))}
METRICS = {
    "n_test": COUNT, "accuracy": FRACTION, "macro_f1": FRACTION, "weighted_f1": FRACTION,
    "per_class": Each({"precision": FRACTION, "recall": FRACTION, "f1": FRACTION, "support": COUNT}, CLASS_NAMES),
    "confusion_matrix": ListOf(ListOf(COUNT, NUM_CLASSES), NUM_CLASSES),
    "classification_report": str,
    "roc": {"per_class": Each(ROC_CURVE, CLASS_NAMES), "micro": ROC_CURVE, "macro": ROC_CURVE},
    "tta": Optional(TTA_CHOICES),
    "tta_effect": Optional(Each({"val_accuracy": FRACTION, "test_accuracy": FRACTION})),
    "calibration": Optional({"temperature": NUMBER, "test": BINS, "test_with_temperature": BINS,
                             "nll": NUMBER, "nll_with_temperature": NUMBER}),
    "test_split": Optional(str),
}
CARD = {
    "title": Optional(str), "description": Optional(str), "architecture": Optional(str),
    "parameters": Optional(COUNT), "file_size_bytes": Optional(COUNT), "model_sha256": Optional(str),
    "initial_weights": Optional(str), "initial_weights_label": Optional(str),
    "epochs_run": Optional(COUNT), "best_epoch": Optional(COUNT), "best_val_accuracy": Optional(NUMBER),
    "wall_seconds": Optional(NUMBER), "training_seconds": Optional(NUMBER), "train_images_per_second": Optional(NUMBER),
    "trained_at": Optional(str), "dtype_policy": Optional(str), "augmentation_layers": Optional(ListOf(str)),
    "continued_from": Optional(dict), "command": Optional(dict), "storage": Optional(dict), "data": Optional(dict),
    "machine": Optional(dict), "versions": Optional(dict), "optimizer": Optional(str), "schedule": Optional(str),
    "weight_decay": Optional(NUMBER), "weight_average": Optional(NUMBER),
    "teacher": Optional({"folder": str, "answered_by": str, "model_sha256": Each(Optional(str))}),
}
ENSEMBLE = {"members": Each(NUMBER), "members_tta": Optional(Each(TTA_MODES)), "weight_step": Optional(FRACTION),
            "chosen_by": Optional(("log-loss", "accuracy"))}
DATASET = {
    "splits": Each({"total": COUNT, "counts": Each(COUNT, CLASS_NAMES), "fractions": Each(FRACTION, CLASS_NAMES)},
                   ("train", "val", "test")),
    "source": {"form": str, "path": str}, "val_fraction": FRACTION, "seed": int, "test_split": str,
    "class_weights": Each(NUMBER), "load_report": Optional(dict),
}
BENCHMARK = {"results": ListOf({"model": str, "precision": str, "latency_ms_batch1": Optional(NUMBER)})}
PHOTO_BENCHMARK = {"face_ms": Optional(Each(NUMBER)), "detectors": Each({"median_ms": Each(NUMBER)})}
HISTORY_NUMBERS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


def check_history(history: pd.DataFrame, columns: tuple) -> None:
    missing = [c for c in columns if c not in history.columns]
    if missing:
        raise SchemaError(f"history.csv lacks the column(s) {', '.join(missing)}")
    if history.empty:
        raise SchemaError("history.csv has no epochs")
    for column in HISTORY_NUMBERS:
        values = pd.to_numeric(history[column], errors="coerce")
        bad = history["epoch"][~np.isfinite(values.to_numpy(dtype=float))]
        if len(bad):
            raise SchemaError(f"history.csv's {column} is not a finite number at epoch(s) "
                              f"{', '.join(map(str, bad.tolist()[:5]))}")


def _indices_within(values, limit: int) -> bool:
    return not len(values) or 0 <= values.min() <= values.max() < limit


def check_predictions(predictions: dict, n_test: int) -> None:
    probabilities = predictions.get("probabilities")
    if probabilities is None or probabilities.shape != (n_test, NUM_CLASSES):
        shape = None if probabilities is None else probabilities.shape
        raise SchemaError(f"predictions.npz's probabilities are {shape}, not ({n_test}, {NUM_CLASSES}) as "
                          "metrics.json says")
    if not np.isfinite(probabilities).all():
        raise SchemaError(f"predictions.npz holds {int((~np.isfinite(probabilities)).sum())} probabilities that are "
                          "not finite numbers (NaN or infinity)")
    y_true = predictions.get("y_true")
    if y_true is None or y_true.shape != (n_test,) or not _indices_within(y_true, NUM_CLASSES):
        raise SchemaError("predictions.npz's y_true is not one class index per test face")
    index, pixels = predictions.get("mistake_index"), predictions.get("mistake_pixels")
    if index is None or pixels is None or len(index) != len(pixels) or not _indices_within(index, n_test):
        raise SchemaError("predictions.npz's mistake_index and mistake_pixels do not match the test faces")
