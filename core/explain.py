"""Grad-CAM: which parts of the face pushed a model towards a class.

    from core.explain import GradCam
    cam = GradCam(model)                      # a loaded model.keras, CNN or keras.applications base
    heatmaps, probabilities = cam(faces)      # (N, 48, 48) in [0, 1] for each predicted class
    heatmaps, _ = cam(faces, class_index=1)   # ... or for the class you ask about

The model is split at its last convolutional feature maps (inside a nested keras.applications base
when there is one) into "pixels -> maps" and "maps -> class scores"; the maps are weighted by the
spatially averaged gradient of the class score and summed, negative evidence dropped
(Selvaraju et al., 2017). The score is the logit before the final softmax, as in the paper: the
probability of a confident class saturates and its gradient vanishes. Gradients use TensorFlow;
the maps may be of any float dtype (mixed precision). The maps are coarse at 48x48 input (CNN 6x6,
VGG16 3x3, ResNet50V2 2x2) and are upsampled.
"""

from __future__ import annotations

import numpy as np

from core.classes import IMAGE_SIZE

_NOT_MAPS = ("Dropout", "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D")


class ExplainError(Exception):
    """Grad-CAM cannot be computed for this model."""


def _nested_base(model):
    """The one nested Functional model inside ``model`` (a keras.applications base), or None."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested[0] if len(nested) == 1 else None


def last_feature_layer(model):
    """The last layer whose output is a spatial feature map (rank 4, more than 1x1, not pooled or dropped)."""
    for layer in reversed(model.layers):
        shape = getattr(layer.output, "shape", None)
        if shape is not None and len(shape) == 4 and (shape[1] or 0) * (shape[2] or 0) > 1 \
                and type(layer).__name__ not in _NOT_MAPS and not layer.name.startswith(("aug_", "input", "pixels")):
            return layer
    raise ExplainError(f"{model.name} has no spatial feature maps to explain.")


class GradCam:
    """Grad-CAM for one model; build once, call per face."""

    def __init__(self, model):
        import keras

        final = model.layers[-1]  # a Dense softmax layer: its logits are computed from its input
        self.logits = isinstance(final, keras.layers.Dense) and final.activation is keras.activations.softmax
        end = final.input if self.logits else model.output
        self.kernel, self.bias = (final.kernel, final.bias) if self.logits else (None, None)
        base = _nested_base(model)
        if base is None:  # a plain CNN: split the model itself
            maps = last_feature_layer(model)
            self.to_maps = keras.Model(model.input, maps.output)
            self.from_maps = keras.Model(maps.output, end)
        else:  # pixels -> (outer layers) -> base input -> maps -> rest of base -> outer head
            maps = last_feature_layer(base)
            position = model.layers.index(base)
            before = keras.Model(model.input, model.layers[position - 1].output)
            inside = keras.Model(base.input, maps.output)
            head = keras.Model(model.layers[position + 1].input, end)
            self.to_maps = lambda x: inside(before(x))
            if maps is base.layers[-1]:  # the maps are the base's output
                self.from_maps = head
            else:
                rest = keras.Model(maps.output, base.output)
                self.from_maps = lambda m: head(rest(m))

    def __call__(self, faces, class_index=None) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps (N, 48, 48) float32 in [0, 1] and probabilities (N, 7) for faces (N, 48, 48[, 1]) or
        one face (48, 48[, 1]), 0-255. ``class_index``: an int or one per face; default the predicted class."""
        import cv2
        import tensorflow as tf

        pixels = np.asarray(faces, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        maps = tf.convert_to_tensor(self.to_maps(pixels))
        with tf.GradientTape() as tape:
            tape.watch(maps)
            output = tf.cast(self.from_maps(maps), tf.float32)
            if self.logits:
                scores = output @ tf.cast(self.kernel, tf.float32) + tf.cast(self.bias, tf.float32)
                probabilities = tf.nn.softmax(scores)
            else:
                scores = probabilities = output
            if class_index is None:
                targets = tf.argmax(probabilities, axis=1)
            else:
                targets = tf.broadcast_to(tf.constant(class_index, tf.int64), [len(pixels)])
            score = tf.reduce_sum(tf.gather(scores, targets, axis=1, batch_dims=1))
        gradients = tf.cast(tape.gradient(score, maps), tf.float32)
        weights = tf.reduce_mean(gradients, axis=(1, 2))  # one weight per feature map and face
        cams = tf.nn.relu(tf.einsum("nhwc,nc->nhw", tf.cast(maps, tf.float32), weights)).numpy()
        if not np.all(np.isfinite(cams)):
            raise ExplainError("Grad-CAM produced non-finite values.")
        heatmaps = np.stack([cv2.resize(cam, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_LINEAR) for cam in cams])
        peaks = heatmaps.max(axis=(1, 2), keepdims=True)
        heatmaps = np.divide(heatmaps, peaks, out=np.zeros_like(heatmaps), where=peaks > 0)
        return heatmaps.astype(np.float32), probabilities.numpy()


def ensemble_heatmaps(cams: dict, weights: dict[str, float], faces, class_index=None) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's Grad-CAM: its members' heatmaps for the ensemble's class, averaged with its weights."""
    from core.inference import combine

    members = [name for name, weight in weights.items() if weight]
    targets = class_index
    if targets is None:  # the ensemble's own class needs its members' probabilities first
        targets = combine({name: cams[name](faces)[1] for name in members}, weights).argmax(axis=1)
    explained = {name: cams[name](faces, targets) for name in members}
    total = sum(weights[name] * explained[name][0] for name in members) / sum(weights.values())
    return total.astype(np.float32), combine({name: explained[name][1] for name in members}, weights)


def overlay(face, heatmap: np.ndarray, alpha: float = 0.45, size: int = 192) -> np.ndarray:
    """The face in gray with the heatmap in colour (JET) on top: (size, size, 3) uint8 RGB."""
    import cv2

    gray = np.asarray(face, np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)
    gray = cv2.resize(gray, (size, size), interpolation=cv2.INTER_CUBIC)
    heat = cv2.resize(np.uint8(255 * np.clip(heatmap, 0, 1)), (size, size), interpolation=cv2.INTER_CUBIC)
    coloured = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB), 1 - alpha, coloured, alpha, 0)
