"""The registry: what each model is, and the transfer bases' weights, online, offline or from a file."""

from __future__ import annotations

import numpy as np
import pytest

from core.models import (
    AUGMENTATIONS,
    REGISTRY,
    TRAINED_MODELS,
    TRANSFER_ARCHITECTURES,
    WeightsUnavailable,
    build_model,
    describe_augmentation,
    set_base_trainable,
)


def test_the_registry_names_its_kinds_of_model_once():
    assert TRAINED_MODELS == ("cnn", "cnn_aug", "vgg16", "resnet50v2")
    assert [n for n, s in REGISTRY.items() if s.is_transfer] == ["vgg16", "resnet50v2"]
    assert [n for n, s in REGISTRY.items() if s.is_ensemble] == ["ensemble"]
    assert TRANSFER_ARCHITECTURES == {"vgg16", "resnet50v2"}


def test_imagenet_weights_offline_fail_with_the_file_to_fetch(monkeypatch):
    import keras.src.utils.file_utils as file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(WeightsUnavailable, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.*--weights none"):
        build_model("vgg16", weights="imagenet")


def test_a_local_weights_file_is_used_and_fine_tuning_unfreezes_the_top(tmp_path):
    import keras

    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(48, 48, 3), name="vgg16")
    path = tmp_path / "vgg16_base.weights.h5"
    base.save_weights(path)
    model = build_model("vgg16", weights=str(path))
    np.testing.assert_array_equal(model.get_layer("vgg16").get_layer("block5_conv3").get_weights()[0],
                                  base.get_layer("block5_conv3").get_weights()[0])
    set_base_trainable(model, REGISTRY["vgg16"], "head")
    assert not model.get_layer("vgg16").trainable and model.get_layer("probabilities").trainable
    set_base_trainable(model, REGISTRY["vgg16"], "finetune")
    nested = model.get_layer("vgg16")
    assert nested.get_layer("block4_conv1").trainable and not nested.get_layer("block3_conv3").trainable
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        build_model("vgg16", weights=str(tmp_path / "nope.h5"))


def test_a_recipe_names_its_augmentation_and_gets_those_layers_in_that_order():
    import keras

    model = build_model("cnn", augmentation=AUGMENTATIONS)
    assert [layer.name for layer in model.layers[1:5]] == ["aug_flip", "aug_shift", "aug_zoom", "aug_erase"]
    faces = np.full((4, 48, 48, 1), 128.0, np.float32)
    keras.utils.set_random_seed(0)
    augmented = keras.Model(model.input, model.get_layer("aug_erase").output)(faces, training=True)
    assert augmented.shape == faces.shape and not np.allclose(augmented, faces)  # something was erased
    plain = build_model("cnn_aug", augmentation=())
    assert [layer.name for layer in plain.layers if layer.name.startswith("aug")] == []
    assert REGISTRY["cnn_aug"].augmentation == ("flip", "shift") and REGISTRY["cnn"].augmentation == ()
    assert describe_augmentation(("zoom",)) == ["RandomZoom(height_factor=(-0.15, 0.15), width_factor=None)"]
    with pytest.raises(ValueError, match="Unknown augmentation blur"):
        build_model("cnn", augmentation=("blur",))
