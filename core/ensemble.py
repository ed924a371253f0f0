"""The ensemble: a weighted average of the trained models' probabilities, the weights chosen on validation.

It has no network of its own. It is built from its members' ``predictions.npz`` (validation and test
probabilities, each with the member's own test-time augmentation) and written as a model folder
like any other, with ``ensemble.json`` in place of ``model.keras``:

    from core.ensemble import build_ensemble
    build_ensemble(splits, "artifacts")          # artifacts/ensemble/{ensemble,metrics,card}.json, ...
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.data import Splits, describe_test_split
from core.evaluate import evaluate_predictions, negative_log_likelihood
from core.inference import EnsembleError, combine
from core.models import TRAINED_MODELS, get_spec

NAME = "ensemble"
WEIGHT_STEP = 0.1  # the weights are searched on a grid of this step over the simplex


def weight_grid(members: list[str], step: float = WEIGHT_STEP):
    """Every weighting on the simplex with the given step, each member's weight a multiple of it."""
    units = round(1 / step)
    for split in itertools.combinations(range(units + len(members) - 1), len(members) - 1):
        bounds = (-1, *split, units + len(members) - 1)
        yield {m: round((bounds[i + 1] - bounds[i] - 1) * step, 10) for i, m in enumerate(members)}


def choose_weights(y_val, val_probabilities: dict[str, np.ndarray], step: float = WEIGHT_STEP) -> dict[str, float]:
    """The grid weighting with the lowest validation log-loss; ties go to the higher accuracy. (Chosen by
    accuracy instead, the weights did worse on held-out validation faces: docs/studies/ensemble_weights.py.)"""
    members = list(val_probabilities)
    best_key, best = None, None
    for weights in weight_grid(members, step):
        mixed = combine(val_probabilities, weights)
        key = (-negative_log_likelihood(y_val, mixed), float(np.mean(mixed.argmax(1) == y_val)))
        if best_key is None or key > best_key:
            best_key, best = key, weights
    return best


def member_predictions(root: Path, members: list[str], splits: Splits) -> dict[str, dict]:
    """Each member's predictions.npz, checked to be complete and made on these validation and test images."""
    found = {}
    for name in members:
        folder = root / name
        missing = artifacts.missing_files(folder)
        if missing:
            raise EnsembleError(f"Member {name} is not trained: {folder} lacks {', '.join(missing)}. Train it first.")
        saved = artifacts.read_npz(folder / artifacts.PREDICTIONS)
        if "val_probabilities" not in saved:
            raise EnsembleError(f"{folder / artifacts.PREDICTIONS} has no validation probabilities: re-evaluate it "
                                f"with `python -m core evaluate {name} --data ...`.")
        if not (np.array_equal(saved["val_y_true"], splits.val.y) and np.array_equal(saved["y_true"], splits.test.y)):
            raise EnsembleError(f"{name} was evaluated on other validation or test images than these (another "
                                "--seed, --val-fraction or dataset?). Re-evaluate it on this data.")
        found[name] = saved
    return found


def build_ensemble(splits: Splits, root, members: list[str] | None = None, log=print) -> dict:
    """Choose the weights on validation, evaluate on test, write ``<root>/ensemble/``. Returns the metrics."""
    root = Path(root)
    members = list(members or TRAINED_MODELS)
    if len(members) < 2:
        raise EnsembleError("An ensemble needs at least two members.")
    saved = member_predictions(root, members, splits)
    started = time.perf_counter()
    weights = choose_weights(splits.val.y, {name: saved[name]["val_probabilities"] for name in members})
    val = combine({name: saved[name]["val_probabilities"] for name in members}, weights)
    test = combine({name: saved[name]["probabilities"] for name in members}, weights)
    metrics, arrays = evaluate_predictions(splits.val, splits.test, {"none": val}, {"none": test})
    member_tta = {name: artifacts.read_json(root / name / artifacts.METRICS).get("tta", "none") for name in members}
    metrics.update({"model": NAME, "test_split": describe_test_split(splits.test), "initial_weights": "members",
                    "initial_weights_label": "its members'", "tta": "members' own"})
    folder = root / NAME
    spec = get_spec(NAME)
    artifacts.write_json(folder / artifacts.ENSEMBLE, {"members": weights, "members_tta": member_tta,
                                                        "chosen_on": "validation", "chosen_by": "log-loss",
                                                        "weight_step": WEIGHT_STEP})
    artifacts.write_npz(folder / artifacts.PREDICTIONS, **arrays)
    artifacts.write_json(folder / artifacts.METRICS, metrics)
    artifacts.write_json(
        folder / artifacts.CARD,
        {
            "model": NAME,
            "title": spec.title,
            "description": spec.description,
            "architecture": "ensemble",
            "members": weights,
            "members_tta": member_tta,
            "initial_weights": "members",
            "initial_weights_label": "its members'",
            "best_val_accuracy": metrics["tta_effect"]["none"]["val_accuracy"],
            "parameters": sum(
                artifacts.read_json(root / m / artifacts.CARD).get("parameters", 0) for m, w in weights.items() if w
            ),
            "file_size_bytes": 0,
            "search_seconds": round(time.perf_counter() - started, 2),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    log(f"{NAME}: weights {weights} (lowest log-loss on validation); test accuracy {metrics['accuracy']:.4f}, "
        f"macro F1 {metrics['macro_f1']:.4f}")
    return metrics
