"""Running a model on faces: test-time augmentation views, batched prediction, and the ensemble's mix.

    from core.inference import predict
    probabilities = predict(model, faces_uint8, tta="flip")   # (N, 7), averaged over the face and its mirror

    run = compile_together({"cnn": cnn, "resnet50v2": resnet})  # several networks, one compiled call
    probabilities = predict_together(run, faces_uint8, {"cnn": "flip+shift", "resnet50v2": "flip"})

``predict`` serves training's evaluation; ``predict_together`` the predictor (the page, ``core predict``,
``core verify``): the same views, the same mean over them.
"""

from __future__ import annotations

import numpy as np

from core.classes import IMAGE_SIZE, NUM_CLASSES

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
        chunks.append(_mean_over_views(model.predict_on_batch(np.concatenate(views)), len(views)))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, NUM_CLASSES), np.float32)


def _mean_over_views(output, views: int) -> np.ndarray:
    """(views x N, 7) model output, views stacked one after another, to the (N, 7) mean over the views."""
    output = np.asarray(output, np.float64)
    return output.reshape(views, -1, output.shape[-1]).mean(axis=0)


def compile_together(networks: dict):
    """One compiled TensorFlow function running every network on its own input: ``run({name: images})``.

    In one graph TensorFlow can run the networks side by side on the cores, and one call replaces one per network:
    one face's TTA views through the four networks took 1.2x less time than a ``predict_on_batch`` per network
    with TensorFlow's own kernels, about the same with oneDNN's (``docs/studies/inference_paths.py``). Its
    structure never changes (a network not needed gets an empty batch and is skipped) and it takes any number
    of faces, so it is traced once, at its first call.
    """
    import tensorflow as tf

    def one(network, images):  # an empty batch skips the network (a convolution cannot take one)
        return tf.cond(tf.shape(images)[0] > 0, lambda: tf.cast(network(images, training=False), tf.float32),
                       lambda: tf.zeros((0, NUM_CLASSES), tf.float32))

    @tf.function(input_signature=[{name: tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1)) for name in networks}])
    def run(inputs):
        return {name: one(network, inputs[name]) for name, network in networks.items()}

    run.names = list(networks)
    return run


def predict_together(run, images: np.ndarray, tta: dict[str, str]) -> dict[str, np.ndarray]:
    """{network: (N, 7) float32} for raw (N, 48, 48, 1) pixels, each network named in ``tta`` averaged over its
    own views, as ``predict`` would give it; ``run`` comes from ``compile_together``."""
    images = np.asarray(images, np.float32)
    views = {name: len(tta_views(images[:1], mode)) for name, mode in tta.items()}
    per_call = max(1, PREDICT_BATCH // max(views.values(), default=1))
    nothing = np.zeros((0, *images.shape[1:]), np.float32)
    chunks = {name: [] for name in tta}
    for start in range(0, len(images), per_call):
        batch = images[start : start + per_call]
        output = run({name: np.concatenate(tta_views(batch, tta[name])) if name in tta else nothing
                      for name in run.names})
        for name in tta:
            chunks[name].append(_mean_over_views(output[name], views[name]))
    return {name: np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, NUM_CLASSES), np.float32)
            for name, parts in chunks.items()}


class EnsembleError(Exception):
    """The ensemble cannot be built; the message says what is missing."""


def combine(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """sum_m w_m p_m / sum_m w_m over the members with a weight."""
    total = sum(weights.values())
    if total <= 0:
        raise EnsembleError("The ensemble weights sum to zero.")
    mixed = sum(weight * np.asarray(probabilities[name], np.float64) for name, weight in weights.items() if weight)
    return (mixed / total).astype(np.float32)
