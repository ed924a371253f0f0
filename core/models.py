"""The model registry: the four architectures and everything that differs between them.

Every model takes raw pixels, shape (N, 48, 48, 1), values 0-255, does its own rescaling and channel
repeat inside, and outputs float32 probabilities over ``CLASS_NAMES``:

    from core.models import REGISTRY, build_model
    model = build_model("cnn_aug", weights="none")
    probabilities = model.predict(images_uint8)          # (N, 7)

Only built-in Keras layers are used, so a saved model loads anywhere with
``keras.saving.load_model(path, compile=False)`` and no import of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.classes import IMAGE_SIZE, NUM_CLASSES

# Where keras.applications keeps (and, when online, downloads) ImageNet weights.
KERAS_MODELS_DIR = Path.home() / ".keras" / "models"


class UnknownModel(Exception):
    """A model name that is not in the registry."""


class WeightsUnavailable(Exception):
    """ImageNet weights could not be had (offline and not in the Keras cache)."""


@dataclass(frozen=True)
class ModelSpec:
    """What one registered model is, and how it trains by default."""

    name: str
    title: str
    description: str
    architecture: str  # "cnn", "vgg16", "resnet50v2" or "ensemble" (no network of its own)
    augmentation: tuple = ()  # names among AUGMENTATIONS, applied in this order while training
    class_weighted: bool = False
    class_weights_from_epoch: int = 0  # deferred re-weighting: unweighted epochs before the weights switch on
    default_weights: str = "none"  # "none", "imagenet" or a file path
    epochs: int = 30  # the budget the cosine learning-rate schedule spans
    batch_size: int = 64
    learning_rate: float = 1e-3
    label_smoothing: float = 0.1
    optimizer: str = "adamw"  # "adamw", or "sgd" (Nesterov momentum 0.9)
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # after the warm-up: "cosine" over the epoch budget, or "plateau" (see core.train)
    restarts: tuple = ()  # planned warm restarts after the first run, each (epochs, peak learning rate); cosine only
    patience: int = 8  # epochs without a better validation accuracy before the last run stops early
    weight_average: float = 0.0  # the decay per step of the weights' moving average kept (core.weight_average), 0: none
    widths: tuple = (32, 64, 128, 256)  # the CNN's four conv blocks
    head_epochs: int = 5  # transfer models with pretrained weights: frozen-base epochs first
    finetune_from: str | None = None  # first base layer unfrozen when fine-tuning
    weights_file: str | None = None  # keras.applications' name for the ImageNet "notop" file

    @property
    def is_ensemble(self) -> bool:
        """Combined from the trained models' probabilities, with no network of its own."""
        return self.architecture == "ensemble"

    @property
    def is_transfer(self) -> bool:
        """A keras.applications base (ImageNet weights where they can be had) with a new head."""
        return self.architecture not in ("cnn", "ensemble")


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "cnn",
            "Custom CNN",
            "Four conv blocks with batch norm, trained from scratch.",
            "cnn",
            epochs=34,
            patience=34,  # one cosine, run to the end, as cnn_aug's
        ),
        ModelSpec(
            "cnn_aug",
            "Custom CNN + augmentation",
            "The same CNN trained on mirrored faces shifted by up to 10 %.",
            "cnn",
            augmentation=("flip", "shift"),
            epochs=150,
            patience=150,  # the cosine's last epochs still gain: it runs to the end
        ),
        ModelSpec(
            "vgg16",
            "VGG16 transfer",
            "keras.applications.VGG16 base with a new head. With ImageNet "
            "weights the base is frozen first, then its top two blocks fine-tuned; from random init all of "
            "it trains.",
            "vgg16",
            augmentation=("flip", "shift"),
            epochs=24,
            patience=24,  # one cosine, run to the end
            learning_rate=1e-4,
            finetune_from="block4_conv1",
            weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        ),
        ModelSpec(
            "resnet50v2",
            "ResNet50V2 + class weights",
            "keras.applications.ResNet50V2 trained "
            "unweighted, then with balanced class weights for the rare classes (disgust is 1.5 % of the "
            "data) over its last four epochs (deferred re-weighting).",
            "resnet50v2",
            augmentation=("flip", "shift"),
            class_weighted=True,
            class_weights_from_epoch=16,
            epochs=20,
            learning_rate=1e-3,
            finetune_from="conv5_block1_preact_bn",
            weights_file="resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        ),
        ModelSpec(
            "ensemble",
            "Ensemble (weighted average)",
            "A weighted average of the trained models' probabilities, the "
            "weights chosen on validation (python -m core ensemble).",
            "ensemble",
        ),
    )
}
TRAINED_MODELS = tuple(name for name, spec in REGISTRY.items() if not spec.is_ensemble)
TRANSFER_ARCHITECTURES = frozenset(spec.architecture for spec in REGISTRY.values() if spec.is_transfer)


def get_spec(name: str) -> ModelSpec:
    if name not in REGISTRY:
        raise UnknownModel(f"Unknown model '{name}'. Known models: {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def weights_label(weights: str) -> str:
    """How a model's initial weights are shown everywhere: 'ImageNet', 'random init' or a file name."""
    if weights == "none":
        return "random init"
    if weights == "imagenet":
        return "ImageNet"
    return f"file {Path(weights).name}"


# A recipe's augmentation, by name: built-in Keras layers, so saved models load without this module. Mirror and
# small shifts are what let the CNN fit (measured on validation); rotation, zoom and contrast/brightness jitter
# on top made it underfit in 36 epochs (docs/experiments.md). "zoom" (the frame's scale +-15 %) is what a face
# cropped from a photo differs by most (docs/experiments.md, faces in photos); "erase" blanks a random patch.
AUGMENTATIONS = ("flip", "shift", "zoom", "erase")


def augmentation_layers(keras, names) -> list:
    """The layers for a recipe's augmentation names, in the order given."""
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"Unknown augmentation {', '.join(unknown)}: use {', '.join(AUGMENTATIONS)}.")
    make = {
        "flip": lambda: keras.layers.RandomFlip("horizontal", name="aug_flip"),
        "shift": lambda: keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", name="aug_shift"),
        "zoom": lambda: keras.layers.RandomZoom((-0.15, 0.15), fill_mode="nearest", name="aug_zoom"),
        "erase": lambda: keras.layers.RandomErasing(factor=(0.5, 0.5), scale=(0.02, 0.2), value_range=(0, 255),
                                                    name="aug_erase"),
    }
    return [make[name]() for name in names]


def describe_augmentation(names) -> list[str]:
    """The augmentation layers and their settings, e.g. 'RandomFlip(mode=horizontal)'."""
    import keras

    shown = ("mode", "height_factor", "width_factor", "factor", "scale", "value_range")
    described = []
    for layer in augmentation_layers(keras, names):
        config = layer.get_config()
        described.append(f"{type(layer).__name__}(" + ", ".join(f"{k}={config[k]}" for k in shown if k in config) + ")")
    return described


def _conv_block(keras, x, filters: int, index: int, dropout: float):
    for j in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"b{index}_conv{j}")(x)
        x = keras.layers.BatchNormalization(name=f"b{index}_bn{j}")(x)
        x = keras.layers.Activation("relu", name=f"b{index}_relu{j}")(x)
    x = keras.layers.MaxPooling2D(name=f"b{index}_pool")(x)
    return keras.layers.Dropout(dropout, name=f"b{index}_drop")(x)


def _cnn_body(keras, x, widths):
    """48 -> 24 -> 12 -> 6 -> 3: widths double as the maps shrink; global pooling, two dense layers."""
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(x)
    for index, filters in enumerate(widths, start=1):
        x = _conv_block(keras, x, filters, index, dropout=0.1 + 0.05 * index)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(256, use_bias=False, name="dense1")(x)
    x = keras.layers.BatchNormalization(name="dense1_bn")(x)
    x = keras.layers.Activation("relu", name="dense1_relu")(x)
    x = keras.layers.Dropout(0.5, name="dense1_drop")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense2")(x)
    return keras.layers.Dropout(0.3, name="dense2_drop")(x)


def _application_base(keras, spec: ModelSpec, weights: str):
    """The keras.applications base, with ImageNet weights from the Keras cache or the network."""
    constructor = {"vgg16": keras.applications.VGG16, "resnet50v2": keras.applications.ResNet50V2}[spec.architecture]
    shape = (IMAGE_SIZE, IMAGE_SIZE, 3)
    if weights in ("none", "imagenet"):
        source = None if weights == "none" else "imagenet"
    else:
        if not Path(weights).is_file():
            raise WeightsUnavailable(f"Weights file '{weights}' does not exist.")
        source = str(weights)
    try:
        return constructor(include_top=False, weights=source, input_shape=shape, name=spec.architecture)
    except Exception as error:  # keras raises a bare Exception for a failed download
        if weights != "imagenet":
            raise WeightsUnavailable(f"Cannot load weights from '{weights}': {error}") from error
        raise WeightsUnavailable(
            f"ImageNet weights for {spec.architecture} could not be downloaded ({error}). Offline, put the "
            f"file '{spec.weights_file}' into '{KERAS_MODELS_DIR}', or pass --weights PATH to that file, "
            "or --weights none to train from random initialisation."
        ) from error


def _preprocess_for(keras, architecture: str):
    """The input scaling each ImageNet base was trained with, as a built-in layer."""
    if architecture == "vgg16":  # "caffe" style: BGR mean subtraction (the channels are equal here)
        return keras.layers.Normalization(mean=[103.939, 116.779, 123.68], variance=[1.0, 1.0, 1.0],
                                          name="imagenet_norm")
    return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="imagenet_norm")  # to [-1, 1]


def build_model(name: str, weights: str = "none", augmentation: tuple | None = None):
    """Build a registered model (uncompiled) under the current Keras dtype policy.

    Args:
        name: a key of ``REGISTRY``.
        weights: "none" (random init), "imagenet" (Keras cache or download) or a weights file path,
            for the transfer models' base.
        augmentation: names among AUGMENTATIONS (default: the spec's); inference copies pass ().
    """
    import keras

    spec = get_spec(name)
    if name not in TRAINED_MODELS:
        raise UnknownModel(f"'{name}' has no network of its own: build it with `python -m core ensemble`.")
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    x = inputs
    for layer in augmentation_layers(keras, spec.augmentation if augmentation is None else augmentation):
        x = layer(x)
    if not spec.is_transfer:
        x = _cnn_body(keras, x, spec.widths)
    else:
        x = keras.layers.Concatenate(name="to_rgb")([x, x, x])
        x = _preprocess_for(keras, spec.architecture)(x)
        x = _application_base(keras, spec, weights)(x)
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
        x = keras.layers.Dropout(0.4, name="head_drop1")(x)
        x = keras.layers.Dense(256, activation="relu", name="head_dense")(x)
        x = keras.layers.Dropout(0.3, name="head_drop2")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def base_layer(model, spec: ModelSpec):
    """The nested keras.applications base of a transfer model (None for the CNNs)."""
    return model.get_layer(spec.architecture) if spec.is_transfer else None


def set_base_trainable(model, spec: ModelSpec, phase: str) -> None:
    """'head': base frozen; 'finetune': base unfrozen from ``spec.finetune_from`` on; 'full': all trainable.

    Batch-norm layers of a pretrained base stay frozen while fine-tuning (their statistics are ImageNet's).
    """
    base = base_layer(model, spec)
    if base is None:
        return
    base.trainable = phase != "head"
    if phase != "finetune":
        return
    names = [layer.name for layer in base.layers]
    start = names.index(spec.finetune_from)
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= start and layer.__class__.__name__ != "BatchNormalization"


def copy_weights(source, target) -> None:
    """Copy weights layer by layer, by name, from a trained model into a fresh (inference) copy."""
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "plateau")


def compile_model(model, learning_rate: float, label_smoothing: float, optimizer: str = "adamw",
                  weight_decay: float = 1e-4) -> None:
    """Label-smoothed cross-entropy with AdamW, or SGD with Nesterov momentum 0.9; decoupled weight decay."""
    import keras

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer '{optimizer}': use {', '.join(OPTIMIZERS)}.")
    make = (keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay) if optimizer == "adamw" else
            keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True, weight_decay=weight_decay))
    model.compile(
        optimizer=make,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
