"""Test-split evaluation with scikit-learn's metrics, into ``metrics.json`` and ``predictions.npz``.

    from core.evaluate import compute_metrics
    metrics = compute_metrics(y_true, probabilities)   # accuracy, F1s, per class, confusion, ROC

Also the choice of test-time augmentation on validation, and calibration: expected calibration
error, reliability bins, and a softmax temperature fitted on validation.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from core.artifacts import MISTAKES_PER_CLASS
from core.classes import CLASS_NAMES, NUM_CLASSES
from core.inference import TTA_MODES

ROC_DECIMALS = 5
CALIBRATION_BINS = 15


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


def calibration_bins(y_true, probabilities, bins: int = CALIBRATION_BINS) -> dict:
    """Reliability diagram data and expected calibration error (top-class confidence, equal-width bins).

    ECE = sum over bins of (share of samples in the bin) x |accuracy - mean confidence| in the bin.
    """
    y_true = np.asarray(y_true)
    probabilities = np.asarray(probabilities, np.float64)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    mean_confidence = np.bincount(which, confidence, bins) / np.maximum(count, 1)
    accuracy = np.bincount(which, correct.astype(np.float64), bins) / np.maximum(count, 1)
    ece = float(np.sum(count / max(len(y_true), 1) * np.abs(accuracy - mean_confidence)))
    filled = count > 0
    return {"ece": ece, "edges": edges.tolist(), "count": count.tolist(),
            "confidence": np.where(filled, mean_confidence, np.nan).tolist(),
            "accuracy": np.where(filled, accuracy, np.nan).tolist()}


def apply_temperature(probabilities, temperature: float) -> np.ndarray:
    """softmax(log p / T): T > 1 softens over-confident probabilities, T < 1 sharpens them."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(y_true, probabilities) -> float:
    chosen = np.asarray(probabilities, np.float64)[np.arange(len(y_true)), np.asarray(y_true)]
    return float(-np.mean(np.log(np.clip(chosen, 1e-12, 1.0))))


def fit_temperature(y_true, probabilities) -> float:
    """The temperature minimising the negative log-likelihood of ``y_true`` (fit it on validation)."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda t: negative_log_likelihood(y_true, apply_temperature(probabilities, t)),
                             bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-4})
    return float(result.x)


def calibration_report(y_val, val_probabilities, y_test, test_probabilities) -> dict:
    """ECE and reliability bins on test, before and after a temperature fitted on validation."""
    temperature = fit_temperature(y_val, val_probabilities)
    scaled = apply_temperature(test_probabilities, temperature)
    return {"temperature": temperature, "bins": CALIBRATION_BINS,
            "test": calibration_bins(y_test, test_probabilities),
            "test_with_temperature": calibration_bins(y_test, scaled),
            "nll": negative_log_likelihood(y_test, test_probabilities),
            "nll_with_temperature": negative_log_likelihood(y_test, scaled)}


def _accuracy(y_true, probabilities) -> float:
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == np.asarray(y_true)))


def choose_tta(val_y, val_probabilities: dict[str, np.ndarray]) -> str:
    """The TTA mode with the best validation accuracy; on a tie, the one with fewer views."""
    return max(val_probabilities, key=lambda mode: (_accuracy(val_y, val_probabilities[mode]), -TTA_MODES.index(mode)))


def evaluate_predictions(val, test, val_probabilities: dict[str, np.ndarray],
                         test_probabilities: dict[str, np.ndarray], tta: str | None = None) -> tuple[dict, dict]:
    """Metrics and the predictions file's arrays for one model, from its probabilities per TTA mode.

    The TTA mode is ``tta``, or by default chosen on validation; the test split only measures it.
    The temperature is fitted on validation.
    """
    tta = tta or choose_tta(val.y, val_probabilities)
    chosen = test_probabilities[tta]
    metrics = compute_metrics(test.y, chosen)
    metrics["tta"] = tta
    metrics["tta_effect"] = {mode: {"val_accuracy": _accuracy(val.y, val_probabilities[mode]),
                                    "test_accuracy": _accuracy(test.y, test_probabilities[mode])}
                             for mode in val_probabilities}
    metrics["calibration"] = calibration_report(val.y, val_probabilities[tta], test.y, chosen)
    mistakes = most_confident_mistakes(test.y, chosen)
    arrays = {
        "y_true": np.asarray(test.y, np.int8),
        "probabilities": chosen.astype(np.float32),
        "mistake_index": mistakes.astype(np.int32),
        "mistake_pixels": test.x[mistakes, :, :, 0].astype(np.uint8),
        "val_y_true": np.asarray(val.y, np.int8),
        "val_probabilities": val_probabilities[tta].astype(np.float32),
    }
    return metrics, arrays
