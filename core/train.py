"""Training one registered model into its artifact folder, resumable after an interruption.

    from core.train import TrainConfig, train
    card = train(TrainConfig(model="cnn", data="../shared/fer2013", epochs=40))

Each epoch ends with a checkpoint (model, optimizer, schedule state) in ``<out>/<model>/checkpoint/``;
``resume=True`` continues from it, so an interruption costs at most the epoch in progress.
The learning rate warms up for two epochs, then follows a cosine down to a hundredth over the epoch
budget. Validation alone picks the kept weights and stops a run that has stopped improving.
A model with deferred class weights (``class_weights_from_epoch``) trains unweighted first, so that the
features form on the natural class mix, then weighted; its kept weights come from after the switch.
``continue_from`` starts from a finished model's folder instead of new weights and trains ``epochs`` more
with a fresh warm-up and cosine (a warm restart); history, timings and the kept epoch carry on from it.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from core import artifacts
from core.classes import CLASS_NAMES, NUM_CLASSES
from core.data import Split, Splits, class_counts, class_weights, describe_test_split, examples_per_class, load_dataset, make_splits, split_summary
from core.evaluate import TTA_MODES, evaluate_predictions, predict
from core.models import TRAINED_MODELS, build_model, copy_weights, describe_augmentation, get_spec, set_base_trainable, weights_label

WARMUP_EPOCHS = 2
FINAL_LR_FRACTION = 0.01  # the cosine ends at this fraction of the peak rate
STOP_PATIENCE = 8  # epochs without a better val accuracy before training stops
FINETUNE_LR_FACTOR = 0.1  # fine-tuning a pretrained base runs at a tenth of the head's rate
MAX_MODEL_BYTES = 55_000_000  # a larger float32 model.keras is stored in float16 (files in git stay under 60 MB)


class TrainError(Exception):
    """A training run cannot start or go on; the message says what to do."""


@dataclass
class TrainConfig:
    model: str
    data: str
    out: str = "artifacts"
    epochs: int | None = None  # None: the registry's default, likewise below
    batch_size: int | None = None
    learning_rate: float | None = None
    weights: str | None = None
    seed: int = 1234
    val_fraction: float = 0.1
    precision: str = "auto"  # "auto", "float32" or "mixed_bfloat16"
    resume: bool = False
    restart: bool = False
    limit: int | None = None  # train on the first N training images only (smoke tests)
    class_weights_from_epoch: int | None = None  # class-weighted models: epochs before the weights switch on
    continue_from: str | None = None  # a finished model folder to train on from; epochs then counts the extra ones
    patience: int | None = None  # epochs without a better val accuracy before stopping (None: STOP_PATIENCE)


@dataclass
class TrainState:
    """Everything needed to pick an interrupted run up again, saved after every epoch."""

    epoch: int = 0  # epochs completed
    phase: str = "full"
    learning_rate: float = 1e-3
    best_val_accuracy: float = -1.0
    best_epoch: int = 0
    epochs_since_best: int = 0
    stopped_early: bool = False
    train_seconds: float = 0.0
    train_images: int = 0
    history: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    continued_from: dict | None = None  # the finished run this one carries on (folder, epochs, its card's command)

    @property
    def first_epoch(self) -> int:
        """Epochs done before this run's schedule began: 0, or those of the run it continues."""
        return self.continued_from["epochs"] if self.continued_from else 0


# --- machine set-up -----------------------------------------------------------------------------


def cpu_supports_bf16() -> bool:
    """True where the CPU has AMX or AVX-512 BF16, which make mixed_bfloat16 pay off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def choose_precision(request: str) -> str:
    if request not in ("auto", "float32", "mixed_bfloat16"):
        raise TrainError(f"Unknown precision '{request}': use auto, float32 or mixed_bfloat16.")
    if request != "auto":
        return request
    import keras

    if keras.backend.backend() == "jax":
        import jax

        if jax.default_backend() == "gpu":
            return "mixed_bfloat16"
    return "mixed_bfloat16" if cpu_supports_bf16() else "float32"


def distribution_scope():
    """A tf.distribute scope over every GPU present (MirroredStrategy), the default one otherwise."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext(), 1
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    return strategy.scope(), strategy.num_replicas_in_sync


def machine_description() -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    used = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "cores_used": used, "platform": platform.platform(),
            "python": platform.python_version()}


def library_versions() -> dict:
    import keras
    import sklearn

    versions = {"keras": keras.__version__, "backend": keras.backend.backend(), "numpy": np.__version__,
                "scikit-learn": sklearn.__version__}
    with contextlib.suppress(ImportError):
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    return versions


# --- progress -------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def make_progress_bar(epoch: int, epochs: int, steps: int, past_epoch_seconds: list[float], stream=None):
    """A Keras callback drawing: epoch, bar, loss, accuracy, time left in the epoch and in the run."""
    import keras

    stream = stream or sys.stdout
    live = stream.isatty()

    class ProgressBar(keras.callbacks.Callback):
        def on_epoch_begin(self, _epoch, logs=None):
            self.start = time.perf_counter()
            self.train_seconds = 0.0

        def on_train_batch_end(self, batch, logs=None):
            self.train_seconds = time.perf_counter() - self.start
            done = batch + 1
            if not live or (done % 5 and done != steps):
                return
            per_step = self.train_seconds / done
            epoch_left = per_step * (steps - done)
            typical = np.median(past_epoch_seconds) if past_epoch_seconds else per_step * steps * 1.1
            run_left = epoch_left + typical * (epochs - epoch - 1)
            bar = "#" * int(24 * done / steps)
            logs = logs or {}
            stream.write(f"\repoch {epoch + 1}/{epochs} [{bar:<24}] {done}/{steps} loss {logs.get('loss', 0):.4f} "
                         f"acc {logs.get('accuracy', 0):.4f}  epoch left {_clock(epoch_left)}  run left ≤{_clock(run_left)} ")
            stream.flush()

    return ProgressBar()


# --- checkpoints ------------------------------------------------------------------------------------


def checkpoint_dir(model_dir: Path) -> Path:
    return model_dir / "checkpoint"


def _save_checkpoint(model, state: TrainState, folder: Path) -> None:
    artifacts.save_keras_model(model, folder / "last.keras")
    artifacts.write_json(folder / "state.json", asdict(state))


def _load_checkpoint(folder: Path):
    import keras

    state = TrainState(**artifacts.read_json(folder / "state.json"))
    try:
        model = keras.saving.load_model(folder / "last.keras")
    except Exception as error:
        raise TrainError(f"The checkpoint in {folder} is damaged ({error}). Start over with --restart.") from error
    return model, state


def compile_model(model, learning_rate: float, label_smoothing: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=1e-4),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )


# --- the run --------------------------------------------------------------------------------------------


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise TrainError(f"Cannot write to the output folder '{folder}' ({error.strerror or error}). "
                         "Choose another with --out.") from error


def resolved_config(config: TrainConfig) -> TrainConfig:
    """The config with the registry's defaults filled in."""
    spec = get_spec(config.model)
    return replace(
        config,
        epochs=config.epochs or spec.epochs,
        batch_size=config.batch_size or spec.batch_size,
        learning_rate=config.learning_rate or spec.learning_rate,
        weights=config.weights or spec.default_weights,
        patience=STOP_PATIENCE if config.patience is None else config.patience,
        class_weights_from_epoch=(spec.class_weights_from_epoch if config.class_weights_from_epoch is None
                                  else config.class_weights_from_epoch) if spec.class_weighted else None,
    )


def write_dataset_artifacts(splits: Splits, root: Path) -> None:
    """The data page's files: the split summary and a few example faces per class."""
    artifacts.write_json(root / artifacts.DATASET, split_summary(splits))
    images, labels = examples_per_class(splits.train)
    artifacts.write_npz(root / artifacts.DATASET_EXAMPLES, images=images[..., 0], labels=labels.astype(np.int8))


def scheduled_learning_rate(epoch: int, epochs: int, peak: float) -> float:
    """Linear warm-up over the first epochs, then a cosine from ``peak`` down to a hundredth of it."""
    if epoch < WARMUP_EPOCHS:
        return peak * (epoch + 1) / (WARMUP_EPOCHS + 1)
    progress = (epoch - WARMUP_EPOCHS) / max(epochs - WARMUP_EPOCHS - 1, 1)
    floor = peak * FINAL_LR_FRACTION
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))


def _continue_finished_run(folder: str, name: str, train_images: int):
    """The weights and a TrainState carrying on the finished run in ``folder`` (model.keras, card, history)."""
    folder = Path(folder)
    if (checkpoint_dir(folder) / "state.json").is_file():
        raise TrainError(f"{folder} holds an unfinished run: finish it with --resume before continuing from it.")
    try:
        finished = artifacts.read_model_artifacts(folder)
    except artifacts.ArtifactError as error:
        raise TrainError(f"--continue-from needs a finished model folder; {folder}: {error}.") from error
    card = finished.card
    if card.get("model") != name:
        raise TrainError(f"{folder} holds '{card.get('model')}', not '{name}'.")
    model = build_model(name, weights="none")
    copy_weights(artifacts.load_model(folder / artifacts.MODEL), model)
    history = finished.history.to_dict("records")
    state = TrainState(epoch=card["epochs_run"], best_val_accuracy=card["best_val_accuracy"],
                       best_epoch=card["best_epoch"], train_seconds=card["training_seconds"],
                       train_images=card["epochs_run"] * train_images, history=history,
                       continued_from={"folder": str(folder), "epochs": card["epochs_run"],
                                       "best_epoch": card["best_epoch"], "trained_at": card.get("trained_at"),
                                       "command": card.get("command")})
    return model, state, card["initial_weights"]


def _phase_for(epoch: int, pretrained: bool, head_epochs: int, weights_from: int | None) -> str:
    """'head' (frozen pretrained base), then 'finetune' (pretrained) or 'full' (random init), then
    'reweighted' from epoch ``weights_from`` on when class weights are deferred."""
    if pretrained and epoch < head_epochs:
        return "head"
    if weights_from and weights_from <= epoch:
        return "reweighted"
    return "finetune" if pretrained else "full"


def train(config: TrainConfig, splits: Splits | None = None, log=print) -> dict:
    """Train, export, evaluate and write every artifact of one model. Returns its card."""
    import keras

    spec = get_spec(config.model)
    if config.class_weights_from_epoch is not None and not spec.class_weighted:
        weighted = ", ".join(name for name in TRAINED_MODELS if get_spec(name).class_weighted)
        raise TrainError(f"{spec.name} trains without class weights; --class-weights-from applies to: {weighted}.")
    if config.continue_from and not config.epochs:
        raise TrainError("--continue-from needs --epochs: how many more epochs to train.")
    config = resolved_config(config)
    weights_from = config.class_weights_from_epoch
    root = Path(config.out)
    model_dir = root / spec.name
    _check_writable(model_dir)
    checkpoints = checkpoint_dir(model_dir)
    has_checkpoint = (checkpoints / "state.json").is_file()
    if has_checkpoint and not (config.resume or config.restart):
        raise TrainError(f"An earlier run of {spec.name} left a checkpoint in {checkpoints}. Add --resume to "
                         "continue it, or --restart to start over.")
    if config.restart and checkpoints.exists():
        shutil.rmtree(checkpoints)
        has_checkpoint = False

    if splits is None:
        splits = make_splits(load_dataset(config.data), config.val_fraction, config.seed)
    if config.limit and config.limit < len(splits.train):
        keep = np.sort(np.random.default_rng(config.seed).permutation(len(splits.train))[: config.limit])
        splits = replace(splits, train=Split(splits.train.x[keep], splits.train.y[keep], splits.train.origin[keep]))
    write_dataset_artifacts(splits, root)

    precision = choose_precision(config.precision)
    keras.mixed_precision.set_dtype_policy(precision)
    scope, replicas = distribution_scope()
    with scope:
        if has_checkpoint:
            model, state = _load_checkpoint(checkpoints)
            log(f"Resuming {spec.name} after epoch {state.epoch} (best val accuracy {state.best_val_accuracy:.4f}).")
        elif config.continue_from:
            model, state, weights = _continue_finished_run(config.continue_from, spec.name, len(splits.train))
            config = replace(config, weights=weights)  # the continued run's initial weights, for phases and card
            state.learning_rate, state.config = config.learning_rate, asdict(config)
            state.phase = _phase_for(state.epoch, weights != "none", spec.head_epochs, weights_from)
            set_base_trainable(model, spec, state.phase)
            compile_model(model, state.learning_rate, spec.label_smoothing)
            model.optimizer.build(model.trainable_variables)  # saved with the weights, as after an epoch
            artifacts.save_keras_weights(model, checkpoints / "best.weights.h5")  # kept unless an epoch beats it
            log(f"Continuing {spec.name} from {config.continue_from} after epoch {state.epoch} "
                f"(best val accuracy {state.best_val_accuracy:.4f}, epoch {state.best_epoch}).")
        else:
            keras.utils.set_random_seed(config.seed)
            model = build_model(spec.name, weights=config.weights)
            state = TrainState(learning_rate=config.learning_rate, config=asdict(config))
            state.phase = _phase_for(0, config.weights != "none", spec.head_epochs, weights_from)
            set_base_trainable(model, spec, state.phase)
            compile_model(model, state.learning_rate, spec.label_smoothing)

    if has_checkpoint and state.continued_from:
        config = replace(config, weights=state.config["weights"])
    pretrained = config.weights != "none"
    last_epoch = state.first_epoch + config.epochs
    y_train = np.eye(NUM_CLASSES, dtype=np.float32)[splits.train.y]
    y_val = np.eye(NUM_CLASSES, dtype=np.float32)[splits.val.y]
    weights_by_class = class_weights(splits.train.y) if spec.class_weighted else None
    steps = int(np.ceil(len(splits.train) / config.batch_size))
    log(f"Training {spec.name}: {len(splits.train)} training, {len(splits.val)} validation images; "
        f"{precision}; weights {weights_label(config.weights)}; {replicas} replica(s); up to {last_epoch} epochs.")

    last_phase = _phase_for(last_epoch - 1, pretrained, spec.head_epochs, weights_from)
    while state.epoch < last_epoch and not state.stopped_early:
        phase = _phase_for(state.epoch, pretrained, spec.head_epochs, weights_from)
        if phase != state.phase:
            state.phase, state.epochs_since_best = phase, 0
            if phase == "reweighted":  # weights kept from before the switch would undo it: choose anew
                state.best_val_accuracy = -1.0
            else:  # frozen head done: unfreeze the top of the base
                with scope:
                    set_base_trainable(model, spec, phase)
                    compile_model(model, state.learning_rate, spec.label_smoothing)
        peak = config.learning_rate * (FINETUNE_LR_FACTOR if pretrained and phase != "head" else 1.0)
        state.learning_rate = scheduled_learning_rate(state.epoch - state.first_epoch, config.epochs, peak)
        model.optimizer.learning_rate.assign(state.learning_rate)
        keras.utils.set_random_seed(config.seed + state.epoch)  # same shuffling when resumed
        progress = make_progress_bar(state.epoch, last_epoch, steps, [h["seconds"] for h in state.history])
        started = time.perf_counter()
        result = model.fit(splits.train.x, y_train, batch_size=config.batch_size, epochs=state.epoch + 1,
                           initial_epoch=state.epoch, validation_data=(splits.val.x, y_val),
                           class_weight=weights_by_class if state.epoch >= (weights_from or 0) else None,
                           callbacks=[progress], verbose=0, shuffle=True)
        seconds = time.perf_counter() - started
        logs = {key: float(values[-1]) for key, values in result.history.items()}
        state.epoch += 1
        state.train_seconds += progress.train_seconds
        state.train_images += len(splits.train)
        state.history.append({"epoch": state.epoch, "phase": phase, "loss": logs["loss"], "accuracy": logs["accuracy"],
                              "val_loss": logs["val_loss"], "val_accuracy": logs["val_accuracy"],
                              "learning_rate": state.learning_rate, "seconds": round(seconds, 2)})
        improved = logs["val_accuracy"] > state.best_val_accuracy
        if improved:
            state.best_val_accuracy, state.best_epoch = logs["val_accuracy"], state.epoch
            state.epochs_since_best = 0
            artifacts.save_keras_weights(model, checkpoints / "best.weights.h5")
        else:
            state.epochs_since_best += 1
        if phase == last_phase and state.epochs_since_best >= config.patience:
            state.stopped_early = True
        _save_checkpoint(model, state, checkpoints)
        if sys.stdout.isatty():
            sys.stdout.write("\r")
        log(f"epoch {state.epoch}/{last_epoch} [{phase}] loss {logs['loss']:.4f} acc {logs['accuracy']:.4f} "
            f"val_loss {logs['val_loss']:.4f} val_acc {logs['val_accuracy']:.4f} lr {state.learning_rate:.2e} "
            f"{seconds:.0f}s{'  *best' if improved else ''}{'  (stopping early)' if state.stopped_early else ''}")

    model.load_weights(checkpoints / "best.weights.h5")
    card = export_and_evaluate(model, spec.name, state, config, precision, splits, root, log)
    shutil.rmtree(checkpoints)  # the run is complete and its artifacts written
    return card


def export_and_evaluate(trained, name: str, state: TrainState, config: TrainConfig, precision: str,
                        splits: Splits, root: Path, log=print) -> dict:
    """Write the inference model (float32, no augmentation, no optimizer), its history, metrics and card."""
    import keras

    spec = get_spec(name)
    model_dir = root / name
    keras.mixed_precision.set_dtype_policy("float32")
    inference = build_model(name, weights="none", augment=False)
    copy_weights(trained, inference)
    artifacts.save_keras_model(inference, model_dir / artifacts.MODEL)
    storage = {"weights_dtype": "float32"}
    if (model_dir / artifacts.MODEL).stat().st_size > MAX_MODEL_BYTES:
        storage = save_compact(inference, name, model_dir / artifacts.MODEL, splits, log)
    artifacts.write_history(model_dir / artifacts.HISTORY, state.history)
    metrics = evaluate_saved_model(name, splits, root, config.weights)
    card = {
        "model": name,
        "title": spec.title,
        "description": spec.description,
        "architecture": spec.architecture,
        "parameters": int(inference.count_params()),
        "file_size_bytes": (model_dir / artifacts.MODEL).stat().st_size,
        "initial_weights": config.weights if config.weights in ("none", "imagenet") else Path(config.weights).name,
        "initial_weights_label": weights_label(config.weights),
        "augmentation": spec.augment,
        "augmentation_layers": describe_augmentation(spec),
        "class_weights": ({CLASS_NAMES[c]: w for c, w in class_weights(splits.train.y).items()}
                          if spec.class_weighted else None),
        "class_weights_from_epoch": config.class_weights_from_epoch,
        "label_smoothing": spec.label_smoothing,
        "epochs_run": state.epoch,
        "epochs_max": state.first_epoch + config.epochs,
        "continued_from": state.continued_from,
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "stopped_early": state.stopped_early,
        "training_seconds": round(state.train_seconds, 1),
        "wall_seconds": round(sum(h["seconds"] for h in state.history), 1),
        "train_images_per_second": round(state.train_images / state.train_seconds, 1) if state.train_seconds else None,
        "dtype_policy": precision,
        "storage": storage,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "data": {"source": splits.report.source, "form": splits.report.form,
                 "counts": {s: class_counts(getattr(splits, s).y) for s in ("train", "val", "test")},
                 "totals": {s: len(getattr(splits, s)) for s in ("train", "val", "test")},
                 "test_split": describe_test_split(splits.test), "val_fraction": splits.val_fraction},
        "command": state.config,
        "versions": library_versions(),
        "machine": machine_description(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    artifacts.write_json(model_dir / artifacts.CARD, card)
    log(f"{name}: test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f} "
        f"({metrics['test_split']}); artifacts in {model_dir}")
    return card


def save_compact(inference, name: str, path: Path, splits: Splits, log=print) -> dict:
    """Store the model with float16 weights (half the file) and measure what that costs in accuracy."""
    import keras

    float32_bytes = path.stat().st_size
    reference = {split: predict(inference, getattr(splits, split).x) for split in ("val", "test")}
    keras.mixed_precision.set_dtype_policy("float16")
    try:
        compact = build_model(name, weights="none", augment=False)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    copy_weights(inference, compact)
    artifacts.save_keras_model(compact, path)
    stored = {split: predict(artifacts.load_model(path), getattr(splits, split).x) for split in ("val", "test")}
    storage = {"weights_dtype": "float16", "float32_bytes": float32_bytes, "bytes": path.stat().st_size}
    for split in ("val", "test"):
        y = getattr(splits, split).y
        storage[f"{split}_accuracy_float32"] = float(np.mean(reference[split].argmax(1) == y))
        storage[f"{split}_accuracy_float16"] = float(np.mean(stored[split].argmax(1) == y))
        storage[f"{split}_same_prediction"] = float(np.mean(reference[split].argmax(1) == stored[split].argmax(1)))
        storage[f"{split}_max_probability_change"] = float(np.abs(reference[split] - stored[split]).max())
    log(f"{name}: stored in float16, {float32_bytes / 1e6:.1f} -> {storage['bytes'] / 1e6:.1f} MB; test accuracy "
        f"{storage['test_accuracy_float32']:.4f} -> {storage['test_accuracy_float16']:.4f}")
    return storage


def evaluate_saved_model(name: str, splits: Splits, root: Path, weights: str | None = None,
                         tta: str | None = None) -> dict:
    """Evaluate ``<root>/<name>/model.keras`` on the test split (and validation, which chooses the TTA
    unless ``tta`` names one, and fits the temperature); write metrics.json and predictions.npz."""
    model_dir = Path(root) / name
    model = artifacts.load_model(model_dir / artifacts.MODEL)
    val = {mode: predict(model, splits.val.x, tta=mode) for mode in TTA_MODES}
    test = {mode: predict(model, splits.test.x, tta=mode) for mode in TTA_MODES}
    metrics, arrays = evaluate_predictions(splits.val, splits.test, val, test, tta)
    if weights is None:  # re-evaluation: keep what the card says about the initial weights
        card_file = model_dir / artifacts.CARD
        weights = artifacts.read_json(card_file)["initial_weights"] if card_file.is_file() else "unknown"
    metrics.update({"model": name, "test_split": describe_test_split(splits.test),
                    "initial_weights": weights, "initial_weights_label": weights_label(weights)})
    artifacts.write_npz(model_dir / artifacts.PREDICTIONS, **arrays)
    artifacts.write_json(model_dir / artifacts.METRICS, metrics)
    return metrics


def is_up_to_date(name: str, root: Path) -> bool:
    """True when a model's artifacts are complete and no interrupted run is waiting to resume."""
    model_dir = Path(root) / name
    return not artifacts.missing_files(model_dir) and not (checkpoint_dir(model_dir) / "state.json").is_file()

