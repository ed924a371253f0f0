"""Test-split evaluation with scikit-learn's metrics, into ``metrics.json`` and ``predictions.npz``.

    from core.evaluate import compute_metrics
    metrics = compute_metrics(y_true, probabilities)   # accuracy, F1s, per class, confusion, ROC
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from core.classes import CLASS_NAMES, NUM_CLASSES

MISTAKES_PER_CLASS = 12  # most confident mistakes kept, with their pixels, per true class
ROC_DECIMALS = 5


def _roc_entry(y_binary: np.ndarray, scores: np.ndarray) -> dict | None:
    """One ROC curve; None where it is undefined (a class absent from, or filling, the test split)."""
    if y_binary.min() == y_binary.max():
        return None
    fpr, tpr, _ = skm.roc_curve(y_binary, scores)
    return {"fpr": np.round(fpr, ROC_DECIMALS).tolist(), "tpr": np.round(tpr, ROC_DECIMALS).tolist(),
            "auc": float(skm.auc(fpr, tpr))}


def roc_curves(y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    """One-vs-rest ROC per class, plus the micro average (all decisions pooled) and the macro
    average (the mean of the per-class curves on a common false-positive grid)."""
    one_hot = np.eye(NUM_CLASSES, dtype=np.int8)[y_true]
    per_class = {name: _roc_entry(one_hot[:, i], probabilities[:, i]) for i, name in enumerate(CLASS_NAMES)}
    micro = _roc_entry(one_hot.ravel(), probabilities.ravel())
    defined = [c for c in per_class.values() if c is not None]
    macro = None
    if defined:
        grid = np.unique(np.concatenate([c["fpr"] for c in defined]))
        mean_tpr = np.mean([np.interp(grid, c["fpr"], c["tpr"]) for c in defined], axis=0)
        macro = {"fpr": np.round(grid, ROC_DECIMALS).tolist(), "tpr": np.round(mean_tpr, ROC_DECIMALS).tolist(),
                 "auc": float(np.mean([c["auc"] for c in defined]))}
    return {"per_class": per_class, "micro": micro, "macro": macro}


def compute_metrics(y_true, probabilities) -> dict:
    """Everything the dashboard shows about a model's test predictions."""
    y_true = np.asarray(y_true, np.int64)
    probabilities = np.asarray(probabilities, np.float32)
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(NUM_CLASSES))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    return {
        "classes": list(CLASS_NAMES),
        "n_test": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(skm.f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                   "support": int(support[i])}
            for i, name in enumerate(CLASS_NAMES)
        },
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "classification_report": skm.classification_report(
            y_true, y_pred, labels=labels, target_names=list(CLASS_NAMES), digits=4, zero_division=0),
        "roc": roc_curves(y_true, probabilities),
    }


def most_confident_mistakes(y_true, probabilities, per_class: int = MISTAKES_PER_CLASS) -> np.ndarray:
    """Indices of the misclassified test images, the most confident first, at most ``per_class`` per true class."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    chosen = []
    for label in range(NUM_CLASSES):
        wrong = np.flatnonzero((y_true == label) & (y_pred != label))
        chosen.extend(wrong[np.argsort(-confidence[wrong], kind="stable")][:per_class])
    chosen = np.asarray(chosen, np.int64)
    return chosen[np.argsort(-confidence[chosen], kind="stable")]


def predict(model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probabilities (N, 7) float32 for raw (N, 48, 48, 1) pixels."""
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), np.float32)


def evaluate_predictions(test, probabilities: np.ndarray) -> tuple[dict, dict]:
    """Metrics and the compact predictions file's arrays for one model on the test split."""
    metrics = compute_metrics(test.y, probabilities)
    mistakes = most_confident_mistakes(test.y, probabilities)
    arrays = {
        "y_true": np.asarray(test.y, np.int8),
        "probabilities": probabilities.astype(np.float32),
        "mistake_index": mistakes.astype(np.int32),
        "mistake_pixels": test.x[mistakes, :, :, 0].astype(np.uint8),
    }
    return metrics, arrays
