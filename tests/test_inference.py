"""Test-time augmentation views and the ensemble's weighted mean: the pieces of the one inference path."""

from __future__ import annotations

import numpy as np
import pytest

from core.inference import EnsembleError, combine, tta_views


def test_tta_views_are_the_face_its_mirror_and_their_shifts():
    images = np.arange(2 * 48 * 48, dtype=np.float32).reshape(2, 48, 48, 1)
    assert len(tta_views(images, "none")) == 1
    face, mirror = tta_views(images, "flip")
    np.testing.assert_array_equal(mirror[0, :, 0, 0], images[0, :, 47, 0])
    views = tta_views(images, "flip+shift")
    assert len(views) == 10 and all(v.shape == images.shape for v in views)
    down = views[2]  # the face moved down 2 pixels, its top row repeated
    np.testing.assert_array_equal(down[:, 2:], images[:, :-2])
    np.testing.assert_array_equal(down[:, 0], images[:, 0])
    with pytest.raises(ValueError, match="Unknown test-time augmentation"):
        tta_views(images, "rotate")


def test_combine_is_the_weighted_mean_of_the_probabilities():
    a = np.array([[0.6, 0.4, 0, 0, 0, 0, 0]], np.float32)
    b = np.array([[0.0, 0.5, 0.5, 0, 0, 0, 0]], np.float32)
    mixed = combine({"a": a, "b": b}, {"a": 0.75, "b": 0.25})
    np.testing.assert_allclose(mixed, [[0.45, 0.425, 0.125, 0, 0, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(combine({"a": a, "b": b}, {"a": 3, "b": 1}), mixed, atol=1e-7)  # weights normalised
    with pytest.raises(EnsembleError):
        combine({"a": a}, {"a": 0.0})
