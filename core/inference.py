"""Running a model on faces: test-time augmentation views, batched prediction, and the ensemble's mix.

    from core.inference import predict
    probabilities = predict(model, faces_uint8, tta="flip")   # (N, 7), averaged over the face and its mirror

The one way every caller (training's evaluation, the predictor, verify) turns pixels into probabilities.
"""

from __future__ import annotations

import numpy as np

from core.classes import NUM_CLASSES

TTA_MODES = ("none", "flip", "flip+shift")  # views averaged: 1, 2 (mirror), 10 (mirror x 2-pixel shifts)
SHIFT_PIXELS = 2
PREDICT_BATCH = 512  # images (faces x views) per model call


def _shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The images moved by (dy, dx) pixels, edges repeated."""
    p = SHIFT_PIXELS
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)), mode="edge")
    h, w = images.shape[1:3]
    return padded[:, p - dy: p - dy + h, p - dx: p - dx + w]


def tta_views(images: np.ndarray, tta: str) -> list[np.ndarray]:
    """The views of (N, H, W, C) images whose predictions ``predict`` averages."""
    if tta not in TTA_MODES:
        raise ValueError(f"Unknown test-time augmentation '{tta}': use one of {', '.join(TTA_MODES)}.")
    views = [images]
    if tta != "none":
        views.append(images[:, :, ::-1])
    if tta == "flip+shift":
        s = SHIFT_PIXELS
        views += [_shifted(view, dy, dx) for view in views[:2] for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s))]
    return views


def predict(model, images: np.ndarray, tta: str = "none") -> np.ndarray:
    """Probabilities (N, 7) float32 for raw (N, 48, 48, 1) pixels, averaged over the TTA views.

    All views of up to PREDICT_BATCH images go through the model in one call (``predict_on_batch``, one
    compiled graph): calling ``model.predict`` per view cost each call its own set-up.
    """
    images = np.asarray(images, np.float32)
    per_call = max(1, PREDICT_BATCH // len(tta_views(images[:1], tta)))
    chunks = []
    for start in range(0, len(images), per_call):
        views = tta_views(images[start : start + per_call], tta)
        output = np.asarray(model.predict_on_batch(np.concatenate(views)), np.float64)
        chunks.append(output.reshape(len(views), -1, output.shape[-1]).mean(axis=0))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, NUM_CLASSES), np.float32)


class EnsembleError(Exception):
    """The ensemble cannot be built; the message says what is missing."""


def combine(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """sum_m w_m p_m / sum_m w_m over the members with a weight."""
    total = sum(weights.values())
    if total <= 0:
        raise EnsembleError("The ensemble weights sum to zero.")
    mixed = sum(weight * np.asarray(probabilities[name], np.float64) for name, weight in weights.items() if weight)
    return (mixed / total).astype(np.float32)
