"""Grad-CAM: maps with the face's shape, finite, in [0, 1], that change with the class; for the plain CNN,
the nested keras.applications bases, the ensemble, and models built under mixed precision."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core import artifacts
from core.explain import GradCam, ensemble_heatmaps, overlay
from core.models import TRAINED_MODELS, build_model
from tests.conftest import face_like

FACES = np.stack([face_like(label, 0) for label in range(3)])


@pytest.mark.parametrize("name", TRAINED_MODELS)
def test_gradcam_of_a_saved_model(trained_root, name):
    model = artifacts.load_model(trained_root / "artifacts" / name / artifacts.MODEL)
    cam = GradCam(model)
    heatmaps, probabilities = cam(FACES)
    assert heatmaps.shape == (3, 48, 48) and heatmaps.dtype == np.float32
    assert np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1
    # the same forward pass as predict's, up to float32 round-off: oneDNN picks other kernels for the two graphs
    # (up to 4e-5 for VGG16 on an Intel Xeon with AMX)
    np.testing.assert_allclose(probabilities, model.predict(FACES[..., None], verbose=0), atol=1e-4)
    others = [cam(FACES, class_index=c)[0] for c in range(7)]
    assert max(np.abs(others[0] - other).max() for other in others[1:]) > 1e-3  # the class matters
    single, _ = cam(FACES[0])
    # one face alone or in a batch: oneDNN picks other kernels, float32 round-off up to ~4e-4 in ResNet50V2
    np.testing.assert_allclose(single[0], heatmaps[0], atol=1e-3)
    assert overlay(FACES[0], heatmaps[0]).shape == (192, 192, 3)


@pytest.mark.parametrize("name", ["cnn", "vgg16", "resnet50v2"])
def test_gradcam_under_mixed_precision(name):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model(name, augmentation=())
        heatmaps, probabilities = GradCam(model)(FACES, class_index=[0, 1, 2])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert heatmaps.shape == (3, 48, 48) and np.isfinite(heatmaps).all()
    assert probabilities.dtype == np.float32


def test_the_ensemble_heatmap_is_its_members_weighted(trained_root):
    cams = {name: GradCam(artifacts.load_model(trained_root / "artifacts" / name / artifacts.MODEL))
            for name in ("cnn", "vgg16")}
    heatmaps, probabilities = ensemble_heatmaps(cams, {"cnn": 0.25, "vgg16": 0.75}, FACES, class_index=3)
    by_hand = 0.25 * cams["cnn"](FACES, 3)[0] + 0.75 * cams["vgg16"](FACES, 3)[0]
    np.testing.assert_allclose(heatmaps, by_hand, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
