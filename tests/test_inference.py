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


def tiny_network(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Conv2D(4, 3),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(7, activation="softmax")])


def test_several_networks_in_one_call_give_what_each_gives_alone_in_chunks_and_trace_once(monkeypatch):
    from core import inference

    monkeypatch.setattr(inference, "PREDICT_BATCH", 20)  # 2 faces a call for flip+shift: chunks are exercised
    networks = {"a": tiny_network(1), "b": tiny_network(2)}
    run = inference.compile_together(networks)
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    modes = {"a": "flip+shift", "b": "flip"}
    inference.predict_together(run, faces[:1], modes)
    together = inference.predict_together(run, faces, modes)
    for name, network in networks.items():
        np.testing.assert_allclose(together[name], inference.predict(network, faces, modes[name]), atol=1e-6)
    only_b = inference.predict_together(run, faces[:3], {"b": "none"})  # "a" gets an empty batch
    assert list(only_b) == ["b"]
    np.testing.assert_allclose(only_b["b"], inference.predict(networks["b"], faces[:3], "none"), atol=1e-6)
    assert run.experimental_get_tracing_count() == 1  # one graph for every batch size and choice of networks
    assert inference.predict_together(run, faces[:0], modes)["a"].shape == (0, 7)
