"""Checks that committed artifacts are what they claim: within the size budget, self-consistent,
and (given the data) reproduced exactly by reloading each ``model.keras`` through ``core.predictor``.

    from core.verify import verify_artifacts
    problems = verify_artifacts("artifacts")                 # sizes and consistency: no data needed
    problems = verify_artifacts("artifacts", splits=splits)  # and reload + re-predict the test split

Each check returns a list of problems, one sentence each; an empty list means it passed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core import artifacts
from core.checkpoint import checkpoint_dir, tensorboard_root
from core.evaluate import compute_metrics
from core.predictor import Predictor

MAX_FILE_BYTES = 60_000_000  # no single file over 60 MB (git hosts refuse or warn on larger ones)
MAX_TOTAL_BYTES = 150_000_000  # the whole artifacts/ folder
EXACT_KEYS = ("accuracy", "macro_f1", "weighted_f1", "confusion_matrix")


def size_problems(root) -> list[str]:
    """Files over ``MAX_FILE_BYTES`` and a total over ``MAX_TOTAL_BYTES`` under ``root``, counting what git keeps: not
    a run's own files (.gitignore): its TensorBoard logs, checkpoints, hidden staging folders, partial writes."""
    root = Path(root)
    runs_own = {tensorboard_root(root), *(checkpoint_dir(d) for d in root.glob("*") if d.is_dir())}
    files = [f for f in root.rglob("*") if f.is_file() and runs_own.isdisjoint(f.parents)
             and not any(part.startswith(".") for part in f.relative_to(root).parts)]
    problems = [f"{f} is {f.stat().st_size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit per file."
                for f in files if f.stat().st_size > MAX_FILE_BYTES]
    total = sum(f.stat().st_size for f in files)
    if total > MAX_TOTAL_BYTES:
        problems.append(f"{root} holds {total / 1e6:.1f} MB, over the {MAX_TOTAL_BYTES / 1e6:.0f} MB limit.")
    return problems


def _metric_differences(name: str, stored: dict, recomputed: dict, source: str) -> list[str]:
    return [f"{name}: metrics.json {key} is {stored.get(key)!r} but {source} gives {recomputed[key]!r}."
            for key in EXACT_KEYS if stored.get(key) != recomputed[key]]


def consistency_problems(model: artifacts.ModelArtifacts, folder) -> list[str]:
    """metrics.json agrees with predictions.npz, with its own TTA table, and the card with the model file."""
    folder = Path(folder)
    recomputed = compute_metrics(model.predictions["y_true"], model.predictions["probabilities"])
    problems = _metric_differences(model.name, model.metrics, recomputed, "predictions.npz")
    effects = model.metrics.get("tta_effect", {})  # the ensemble's single entry is "none"
    effect = effects.get(model.metrics.get("tta")) or (effects.get("none") if model.ensemble else None)
    n_test = model.metrics["n_test"]
    if effect and round(effect["test_accuracy"] * n_test) != round(model.metrics["accuracy"] * n_test):
        problems.append(f"{model.name}: the TTA table's test accuracy {effect['test_accuracy']} is not the "
                        f"reported accuracy {model.metrics['accuracy']}.")
    if model.ensemble is None:
        size = (folder / artifacts.MODEL).stat().st_size
        if model.card.get("file_size_bytes") != size:
            problems.append(f"{model.name}: card.json says the model file has {model.card.get('file_size_bytes')} "
                            f"bytes, {artifacts.MODEL} has {size}.")
        recorded = model.card.get("model_sha256")
        if recorded is None:
            problems.append(f"{model.name}: card.json records no model_sha256, so {artifacts.MODEL} cannot be checked "
                            "against it; retrain, or re-record it if the file is known good.")
        elif recorded != artifacts.file_sha256(folder / artifacts.MODEL):
            problems.append(f"{model.name}: {artifacts.MODEL} is not the file its card and metrics describe (its "
                            "SHA-256 differs from card.json's model_sha256).")
    return problems


def reproduction_problems(model: artifacts.ModelArtifacts, predicted: dict, engine, splits) -> list[str]:
    """Compare the stored predictions and metrics exactly with the test split re-predicted through the one
    inference path (``predicted``: ``core.predictor``'s answers, each network reloaded from ``model.keras``
    with its TTA, the ensemble combined from its members' answers)."""
    if not np.array_equal(model.predictions["y_true"], splits.test.y):
        return [f"{model.name}: was evaluated on other test images than these (another dataset?)."]
    if model.name not in predicted:
        return [f"{model.name}: cannot be run ({engine.broken.get(model.name, 'not loaded')})."]
    probabilities = predicted[model.name]
    problems = _metric_differences(model.name, model.metrics, compute_metrics(splits.test.y, probabilities),
                                   "re-predicting the test split")
    changed = int(np.sum(probabilities.argmax(1) != model.predictions["probabilities"].argmax(1)))
    if changed:
        problems.append(f"{model.name}: {changed} test predictions differ from predictions.npz.")
    return problems


def verify_artifacts(root, splits=None, log=print) -> list[str]:
    """Every check on every model folder under ``root``; logs one line per model, returns all problems."""
    root = Path(root)
    problems = size_problems(root)
    models, broken = artifacts.read_all_models(root)
    problems += [f"{name}: {reason}." for name, reason in broken.items()]
    engine = Predictor(root, warm_detector=False) if splits is not None and models else None
    predicted = engine.predict_faces(splits.test.x[..., 0]) if engine else {}  # every network runs once
    for name, model in models.items():
        folder = root / name
        found = consistency_problems(model, folder)
        if splits is not None:
            found += reproduction_problems(model, predicted, engine, splits)
        problems += found
        checked = "consistent" + (", reproduced from the data" if splits is not None else "")
        log(f"{name}: {'OK' if not found else f'{len(found)} problem(s)'} ({checked}; test accuracy "
            f"{model.metrics['accuracy']:.4f})")
    if not models and not broken:
        problems.append(f"{root} holds no model folders.")
    return problems
