"""Training one registered model into its artifact folder, resumable after an interruption.

    from core.train import TrainConfig, train
    card = train(TrainConfig(model="cnn", data="../shared/fer2013", epochs=40))

Each epoch ends with a checkpoint (``core.checkpoint``); ``resume=True`` continues from it, so an
interruption costs at most the epoch in progress, and the resumed run repeats the uninterrupted one:
every epoch's shuffling, augmentation and dropout are seeded from the run's seed and the epoch alone.
The learning rate warms up for two epochs, then follows a cosine down to a hundredth over the epoch
budget, or (``schedule="plateau"``) falls by a quarter whenever validation accuracy stalls for five epochs.
Validation alone picks the kept weights and stops a run that has stopped improving.
A model with deferred class weights (``class_weights_from_epoch``) trains unweighted first, so that the
features form on the natural class mix, then weighted; its kept weights come from after the switch.
``continue_from`` starts from a finished model's folder instead of new weights and trains ``epochs`` more
with a fresh warm-up and cosine (a warm restart); history, timings and the kept epoch carry on from it.
A recipe's planned restarts (``ModelSpec.restarts``) run in the same call. With ``weight_average``, a moving
average of the weights (``core.weight_average``) is what validation scores and the kept weights are. The finished
model is exported into a staging folder that then takes the place of ``<out>/<model>/`` (``core.checkpoint.swap_in``).
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from core import artifacts
from core.checkpoint import (
    BEST_WEIGHTS,
    RunLock,
    TrainError,
    TrainState,
    checkpoint_dir,
    finish_swap,
    has_checkpoint,
    load_checkpoint,
    save_checkpoint,
    staging_dir,
    swap_in,
    tensorboard_dir,
)
from core.classes import NUM_CLASSES
from core.data import Split, Splits, class_weights, detect_form, load_dataset, make_splits
from core.distill import TEACHER_WEIGHT, distilled_targets
from core.export import export_and_evaluate
from core.machine import PRECISIONS, choose_precision, cluster_tasks, distribution_scope
from core.models import (
    OPTIMIZERS,
    SCHEDULES,
    TRAINED_MODELS,
    build_model,
    compile_model,
    copy_weights,
    get_spec,
    set_base_trainable,
    weights_label,
)
from core.progress import make_progress_bar

WARMUP_EPOCHS = 2
FINAL_LR_FRACTION = 0.01  # the cosine ends at this fraction of the peak rate
FINETUNE_LR_FACTOR = 0.1  # fine-tuning a pretrained base runs at a tenth of the head's rate
PLATEAU_FACTOR = 0.75  # the "plateau" schedule multiplies the rate by this ...
PLATEAU_PATIENCE = 5  # ... after this many epochs without a better validation accuracy
# Settings a resumed run must share with the run it resumes; the epoch budget and patience may change.
RESUME_MUST_MATCH = ("data", "seed", "val_fraction", "batch_size", "learning_rate", "weights", "limit",
                     "class_weights_from_epoch", "continue_from", "optimizer", "schedule", "restarts",
                     "augmentation", "teacher", "teacher_weight", "weight_average")
SETTINGS_BEFORE_THEY_WERE_RECORDED = {"optimizer": "adamw", "schedule": "cosine", "restarts": [], "teacher": None,
                                      "teacher_weight": None, "weight_average": 0.0}  # older checkpoints


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
    limit: int | None = None  # train on N training images drawn with the seed (smoke tests)
    class_weights_from_epoch: int | None = None  # class-weighted models: epochs before the weights switch on
    teacher: str | None = None  # knowledge distillation: an artifact folder whose ensemble's answers are targets
    teacher_weight: float | None = None  # the targets' share from the teacher, the rest from the labels
    continue_from: str | None = None  # a finished model folder to train on from; epochs then counts the extra ones
    patience: int | None = None  # epochs without a better val accuracy before stopping (None: the registry's)
    optimizer: str | None = None  # "adamw" or "sgd" (None: the registry's)
    schedule: str | None = None  # "cosine" or "plateau" (None: the registry's)
    augmentation: list | None = None  # names among AUGMENTATIONS, [] for none (None: the registry's)
    weight_average: float | None = None  # the decay of the weights' moving average kept, 0 for none (None: registry's)
    restarts: list | None = None  # planned warm restarts, [epochs, peak rate] each (None: the registry's; none when
    # continuing a finished run, which is itself a restart)


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
        patience=spec.patience if config.patience is None else config.patience,
        optimizer=config.optimizer or spec.optimizer,
        schedule=config.schedule or spec.schedule,
        augmentation=list(spec.augmentation if config.augmentation is None else config.augmentation),
        restarts=[list(run) for run in (config.restarts if config.restarts is not None else
                                        () if config.continue_from else spec.restarts)],
        class_weights_from_epoch=(spec.class_weights_from_epoch if config.class_weights_from_epoch is None
                                  else config.class_weights_from_epoch) if spec.class_weighted else None,
        teacher_weight=(TEACHER_WEIGHT if config.teacher_weight is None else config.teacher_weight)
        if config.teacher else None,
        weight_average=spec.weight_average if config.weight_average is None else config.weight_average,
    )


def scheduled_learning_rate(epoch: int, epochs: int, peak: float) -> float:
    """Linear warm-up over the first epochs, then a cosine from ``peak`` down to a hundredth of it."""
    if epoch < WARMUP_EPOCHS:
        return peak * (epoch + 1) / (WARMUP_EPOCHS + 1)
    progress = (epoch - WARMUP_EPOCHS) / max(epochs - WARMUP_EPOCHS - 1, 1)
    floor = peak * FINAL_LR_FRACTION
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))


def planned_runs(config: TrainConfig) -> list[tuple[int, float]]:
    """(epochs, peak learning rate) of each run a resolved config trains: the first, then its planned restarts."""
    return [(config.epochs, config.learning_rate), *((int(e), float(rate)) for e, rate in config.restarts)]


def run_at(epoch: int, runs: list[tuple[int, float]]) -> tuple[int, int, float]:
    """(first epoch, epochs, peak rate) of the run that ``epoch`` (counted from this config's start) belongs to."""
    start = 0
    for epochs, peak in runs:
        if epoch < start + epochs:
            return start, epochs, peak
        start += epochs
    return start - runs[-1][0], runs[-1][0], runs[-1][1]


def plateau_step(rate: float, stalled: int, improved: bool) -> tuple[float, int]:
    """The "plateau" schedule after an epoch: the next rate (or its scale of the peak), and the epochs since
    validation accuracy last improved; the rate falls by PLATEAU_FACTOR after PLATEAU_PATIENCE of them, as in
    Khaireddin & Chen (2021)."""
    if improved:
        return rate, 0
    if stalled + 1 >= PLATEAU_PATIENCE:
        return rate * PLATEAU_FACTOR, 0
    return rate, stalled + 1


def settings_differing(saved: dict, config: TrainConfig, continued: bool) -> list[str]:
    """The settings in which ``config`` differs from the run saved in a checkpoint, as 'name: old -> new'."""
    differing = []
    recorded_later = {**SETTINGS_BEFORE_THEY_WERE_RECORDED, "augmentation": list(get_spec(config.model).augmentation)}
    for key in RESUME_MUST_MATCH:
        if key == "weights" and continued:  # a continued run takes its weights from the finished run's card
            continue
        old, new = saved.get(key, recorded_later.get(key)), getattr(config, key)
        if key == "data":
            old, new = str(Path(old).resolve()) if old else old, str(Path(new).resolve())
        if old != new:
            differing.append(f"{key}: {old} -> {new}")
    return differing


def reseed(model, seed: int, epoch: int) -> None:
    """Seed Python, NumPy, TensorFlow and every random layer (dropout, augmentation) from the run's seed and
    the epoch, so that an epoch's randomness is the same whether the run was resumed before it or not."""
    import keras

    keras.utils.set_random_seed(seed + epoch)
    states = [v for v in model.variables if v.path.endswith("seed_generator_state")]
    for index, state in enumerate(states):
        state.assign(np.array([(seed * 100_003 + epoch * 1_009 + index) % (2**31 - 1), 0], dtype=state.dtype))


def _continue_finished_run(folder: str, name: str, train_images: int, augmentation: tuple):
    """The weights and a TrainState carrying on the finished run in ``folder`` (model.keras, card, history)."""
    folder = Path(folder)
    if has_checkpoint(folder):
        raise TrainError(f"{folder} holds an unfinished run: finish it with --resume before continuing from it.")
    try:
        finished = artifacts.read_model_artifacts(folder)
    except artifacts.ArtifactError as error:
        raise TrainError(f"--continue-from needs a finished model folder; {folder}: {error}.") from error
    card = finished.card
    if card.get("model") != name:
        raise TrainError(f"{folder} holds '{card.get('model')}', not '{name}'.")
    model = build_model(name, weights="none", augmentation=augmentation)
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


def _check_request(config: TrainConfig) -> None:
    spec = get_spec(config.model)
    if config.class_weights_from_epoch is not None and not spec.class_weighted:
        weighted = ", ".join(name for name in TRAINED_MODELS if get_spec(name).class_weighted)
        raise TrainError(f"{spec.name} trains without class weights; --class-weights-from applies to: {weighted}.")
    if config.continue_from and not config.epochs:
        raise TrainError("--continue-from needs --epochs: how many more epochs to train.")
    if config.optimizer not in (None, *OPTIMIZERS) or config.schedule not in (None, *SCHEDULES):
        raise TrainError(f"Use an optimizer among {', '.join(OPTIMIZERS)} and a schedule among {', '.join(SCHEDULES)}.")
    if config.schedule == "plateau" and (config.restarts or (config.restarts is None and not config.continue_from
                                                              and spec.restarts)):
        raise TrainError("Planned warm restarts follow the cosine schedule; the plateau schedule has none.")
    if config.precision not in PRECISIONS:
        raise TrainError(f"Unknown precision '{config.precision}': use {', '.join(PRECISIONS)}.")
    if config.teacher_weight is not None and not (config.teacher and 0 < config.teacher_weight <= 1):
        raise TrainError("--teacher-weight needs --teacher and a share in (0, 1].")
    if config.weight_average is not None and not 0 <= config.weight_average < 1:
        raise TrainError("--weight-average is the average's decay per step: 0 (none) or in (0, 1), e.g. 0.999.")
    try:
        machines = cluster_tasks()
    except ValueError as error:
        raise TrainError(f"{error} Unset it to train on this machine.") from error
    if machines > 1:
        raise TrainError(f"TF_CONFIG names a cluster of {machines} machines, but Keras 3's model.fit does not train "
                         "under MultiWorkerMirroredStrategy (keras-team/keras#20585; python docs/studies/"
                         "multi_worker.py tries it). Unset TF_CONFIG and train on one machine: several GPUs there "
                         "train together through MirroredStrategy.")


def _prepare_folder(config: TrainConfig, model_dir: Path, log) -> str:
    """Make way for the run in ``model_dir`` (under its lock): "resume" a checkpoint, start "fresh", or "done" when
    the run had finished and only the swap of its folder into place was left to complete."""
    root, name = model_dir.parent, model_dir.name
    if finish_swap(root, name):
        log(f"Completed the replacement of {model_dir} that an interrupted run had begun: its training is done.")
        return "done"
    if staging_dir(root, name).exists():  # an export that was cut short: its run's checkpoint is still there
        shutil.rmtree(staging_dir(root, name))
    checkpoints = checkpoint_dir(model_dir)
    if config.restart and checkpoints.exists():
        shutil.rmtree(checkpoints)
    if has_checkpoint(model_dir):
        if not config.resume:
            raise TrainError(f"An earlier run of {name} left a checkpoint in {checkpoints}. Add --resume to "
                             "continue it, or --restart to start over.")
        return "resume"
    continuing_in_place = config.continue_from and Path(config.continue_from).resolve() == model_dir.resolve()
    if not artifacts.missing_files(model_dir) and not (config.restart or continuing_in_place):
        raise TrainError(f"{model_dir} holds a finished model. Add --restart to train a new one that replaces it "
                         "when it is done, or choose another --out.")
    if config.restart:
        shutil.rmtree(tensorboard_dir(model_dir), ignore_errors=True)  # the new run's curves only
    return "fresh"


def train(config: TrainConfig, splits: Splits | None = None, log=print) -> dict:
    """Train, export, evaluate and write every artifact of one model. Returns its card."""
    _check_request(config)
    if splits is None:
        detect_form(Path(config.data))  # a wrong --data is named before anything is written
    config = resolved_config(config)
    root = Path(config.out)
    model_dir = root / config.model
    _check_writable(root)
    with RunLock(root, config.model):
        start = _prepare_folder(config, model_dir, log)
        if start == "done":
            return artifacts.read_json(model_dir / artifacts.CARD)
        if splits is None:
            splits = make_splits(load_dataset(config.data), config.val_fraction, config.seed)
        if config.limit and config.limit < len(splits.train):
            keep = np.sort(np.random.default_rng(config.seed).permutation(len(splits.train))[: config.limit])
            splits = replace(splits, train=Split(splits.train.x[keep], splits.train.y[keep], splits.train.origin[keep]))
        if not len(splits.train) or not len(splits.val):
            raise TrainError(f"Nothing to {'train on' if not len(splits.train) else 'validate on'}: the training pool "
                             f"gives {len(splits.train)} training and {len(splits.val)} validation images. Use more "
                             "data (or a larger --limit, or another --val-fraction).")
        return _run(config, splits, model_dir, start == "resume", log)


def _run(config: TrainConfig, splits: Splits, model_dir: Path, resuming: bool, log) -> dict:
    import keras

    from core.weight_average import WeightAverage  # imports keras

    spec = get_spec(config.model)
    weights_from = config.class_weights_from_epoch
    checkpoints = checkpoint_dir(model_dir)
    precision = choose_precision(config.precision)
    keras.mixed_precision.set_dtype_policy(precision)
    scope, replicas = distribution_scope()
    with scope:
        if resuming:
            model, state = load_checkpoint(checkpoints)
            differing = settings_differing(state.config, config, bool(state.continued_from))
            if differing:
                raise TrainError(f"--resume with other settings than the run in {checkpoints}: {'; '.join(differing)}. "
                                 "Resume with the same ones, or --restart.")
            log(f"Resuming {spec.name} after epoch {state.epoch} (best val accuracy {state.best_val_accuracy:.4f}).")
            if state.best_epoch and not (checkpoints / BEST_WEIGHTS).is_file():
                log(
                    f"warning: {checkpoints / BEST_WEIGHTS} is gone, and with it the weights of epoch "
                    f"{state.best_epoch}; "
                    "the best of the epochs from here on will be kept (the last one's, if none is left to run)."
                )
                state.best_val_accuracy, state.best_epoch, state.epochs_since_best = -1.0, 0, 0
            if state.continued_from:
                config = replace(config, weights=state.config["weights"])
        elif config.continue_from:
            model, state, weights = _continue_finished_run(config.continue_from, spec.name, len(splits.train),
                                                           tuple(config.augmentation))
            config = replace(config, weights=weights)  # the continued run's initial weights, for phases and card
            state.learning_rate, state.config = config.learning_rate, asdict(config)
            state.phase = _phase_for(state.epoch, weights != "none", spec.head_epochs, weights_from)
            set_base_trainable(model, spec, state.phase)
            compile_model(model, state.learning_rate, spec.label_smoothing, config.optimizer, spec.weight_decay)
            model.optimizer.build(model.trainable_variables)  # saved with the weights, as after an epoch
            artifacts.save_keras_weights(model, checkpoints / BEST_WEIGHTS)  # kept unless an epoch beats it
            log(f"Continuing {spec.name} from {config.continue_from} after epoch {state.epoch} "
                f"(best val accuracy {state.best_val_accuracy:.4f}, epoch {state.best_epoch}).")
        else:
            keras.utils.set_random_seed(config.seed)
            model = build_model(spec.name, weights=config.weights, augmentation=tuple(config.augmentation))
            state = TrainState(learning_rate=config.learning_rate, config=asdict(config))
            state.phase = _phase_for(0, config.weights != "none", spec.head_epochs, weights_from)
            set_base_trainable(model, spec, state.phase)
            compile_model(model, state.learning_rate, spec.label_smoothing, config.optimizer, spec.weight_decay)

    pretrained = config.weights != "none"
    runs = planned_runs(config)
    last_epoch = state.first_epoch + sum(epochs for epochs, _ in runs)
    y_train = np.eye(NUM_CLASSES, dtype=np.float32)[splits.train.y]
    if config.teacher:  # knowledge distillation: the targets mix the teacher's answers with the labels
        y_train, teacher = distilled_targets(y_train, config, splits.train, checkpoints, resuming, log)
        state.teacher = teacher or state.teacher
    y_val = np.eye(NUM_CLASSES, dtype=np.float32)[splits.val.y]
    average = WeightAverage.for_run(config.weight_average, model, checkpoints, resuming, log)
    weights_by_class = class_weights(splits.train.y) if spec.class_weighted else None
    steps = int(np.ceil(len(splits.train) / config.batch_size))
    log(f"Training {spec.name}: {len(splits.train)} training, {len(splits.val)} validation images; "
        f"{precision}; weights {weights_label(config.weights)}; {replicas} replica(s); up to {last_epoch} epochs"
        + (f" in {len(runs)} runs (planned warm restarts)." if len(runs) > 1 else "."))

    last_phase = _phase_for(last_epoch - 1, pretrained, spec.head_epochs, weights_from)
    tensorboard = keras.callbacks.TensorBoard(log_dir=str(tensorboard_dir(model_dir)), write_graph=False)
    while state.epoch < last_epoch and not state.stopped_early:
        phase = _phase_for(state.epoch, pretrained, spec.head_epochs, weights_from)
        if phase != state.phase:
            state.phase, state.epochs_since_best = phase, 0
            if phase == "reweighted":  # weights kept from before the switch would undo it: choose anew
                state.best_val_accuracy = -1.0
            else:  # frozen head done: unfreeze the top of the base
                with scope:
                    set_base_trainable(model, spec, phase)
                    compile_model(model, state.learning_rate, spec.label_smoothing, config.optimizer, spec.weight_decay)
        run_epoch = state.epoch - state.first_epoch
        run_start, run_epochs, run_peak = run_at(run_epoch, runs)
        if run_epoch == run_start and run_start:  # a planned warm restart: patience counts within the new run
            state.epochs_since_best = 0
        peak = run_peak * (FINETUNE_LR_FACTOR if pretrained and phase != "head" else 1.0)
        if config.schedule == "plateau" and run_epoch >= WARMUP_EPOCHS:
            state.learning_rate = peak * state.plateau_scale
        else:
            state.learning_rate = scheduled_learning_rate(run_epoch - run_start, run_epochs, peak)
        model.optimizer.learning_rate.assign(state.learning_rate)
        reseed(model, config.seed, state.epoch)
        progress = make_progress_bar(state.epoch, last_epoch, steps, [h["seconds"] for h in state.history])
        started = time.perf_counter()
        result = model.fit(splits.train.x, y_train, batch_size=config.batch_size, epochs=state.epoch + 1,
                           initial_epoch=state.epoch, validation_data=(splits.val.x, y_val),
                           class_weight=weights_by_class if state.epoch >= (weights_from or 0) else None,
                           callbacks=[progress, tensorboard, *([average] if average else [])], verbose=0,
                           shuffle=True)
        seconds = time.perf_counter() - started
        logs = {key: float(values[-1]) for key, values in result.history.items()}
        if not all(math.isfinite(logs[k]) for k in ("loss", "val_loss")):
            raise TrainError(f"Training diverged in epoch {state.epoch + 1} (loss {logs['loss']}, validation loss "
                             f"{logs['val_loss']}); the checkpoint after epoch {state.epoch} is kept. Try a lower "
                             "--lr.")
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
            with average.applied(model) if average else nullcontext():
                artifacts.save_keras_weights(model, checkpoints / BEST_WEIGHTS)
        else:
            state.epochs_since_best += 1
        if config.schedule == "plateau" and run_epoch >= WARMUP_EPOCHS:
            state.plateau_scale, state.plateau_stalled = plateau_step(state.plateau_scale, state.plateau_stalled,
                                                                      improved)
        last_run = run_start + run_epochs == last_epoch - state.first_epoch
        if phase == last_phase and last_run and state.epochs_since_best >= config.patience:
            state.stopped_early = True
        save_checkpoint(model, state, checkpoints)
        if average:  # after the state: a crash between the two costs the average an epoch, never counts one twice
            average.save(checkpoints)
        if sys.stdout.isatty():
            sys.stdout.write("\r")
        log(f"epoch {state.epoch}/{last_epoch} [{phase}] loss {logs['loss']:.4f} acc {logs['accuracy']:.4f} "
            f"val_loss {logs['val_loss']:.4f} val_acc {logs['val_accuracy']:.4f} lr {state.learning_rate:.2e} "
            f"{seconds:.0f}s{'  *best' if improved else ''}{'  (stopping early)' if state.stopped_early else ''}")

    if (checkpoints / BEST_WEIGHTS).is_file():
        model.load_weights(checkpoints / BEST_WEIGHTS)
    else:  # lost, and no epoch ran since: the last epoch's weights are what there is
        state.best_epoch, state.best_val_accuracy = state.epoch, state.history[-1]["val_accuracy"]
        if average:
            average.apply(model)
    staged = staging_dir(model_dir.parent, spec.name)
    try:
        card = export_and_evaluate(model, state, config, precision, splits, staged, log)
        swap_in(model_dir.parent, spec.name)
    except OSError as error:
        raise TrainError(
            f"Cannot write the finished model into {staged} ({error.strerror or error}). Its checkpoint "
            f"in {checkpoints} is kept: free some space, then run the same command with --resume."
        ) from error
    log(f"{spec.name}: artifacts in {model_dir}")
    return card
