"""A training run's folder while it is unfinished: its checkpoint, its lock, and the swap that
replaces a finished model folder (two renames; one cut short is completed by the next run).

``<root>/<model>/checkpoint/`` holds ``last.keras`` (model and optimizer after the last epoch),
``best.weights.h5`` (the weights validation keeps so far) and ``state.json`` (a ``TrainState``); with
``--weight-average`` also ``weight_average.npz``, with ``--teacher`` ``teacher_targets.npz``.
``<root>/.<model>.lock`` is held (``flock``) while a run writes; it names the process holding it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import artifacts

LAST_MODEL = "last.keras"
BEST_WEIGHTS = "best.weights.h5"
STATE = "state.json"


class TrainError(Exception):
    """A training run cannot start or go on; the message says what to do."""


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
    plateau_scale: float = 1.0  # the "plateau" schedule's rate as a share of the phase's peak rate
    plateau_stalled: int = 0  # its epochs since validation accuracy last improved
    teacher: dict | None = None  # distillation: the teacher's folder, the model that answered, its networks' SHA-256

    @property
    def first_epoch(self) -> int:
        """Epochs done before this run's schedule began: 0, or those of the run it continues."""
        return self.continued_from["epochs"] if self.continued_from else 0


def checkpoint_dir(model_dir: Path) -> Path:
    return Path(model_dir) / "checkpoint"


def tensorboard_root(out: Path) -> Path:
    """Where every run into ``out`` writes its TensorBoard logs (``tensorboard --logdir <out>/tensorboard``)."""
    return Path(out) / "tensorboard"


def tensorboard_dir(model_dir: Path) -> Path:
    """Where a run writes its TensorBoard logs: ``<out>/tensorboard/<model>/``, beside the model's folder, kept
    after the run."""
    return tensorboard_root(Path(model_dir).parent) / Path(model_dir).name


def has_checkpoint(model_dir: Path) -> bool:
    return (checkpoint_dir(model_dir) / STATE).is_file()


def save_checkpoint(model, state: TrainState, folder: Path) -> None:
    """The model (with its optimizer) first, then the state that points at it: each file atomically."""
    try:
        artifacts.save_keras_model(model, folder / LAST_MODEL)
        artifacts.write_json(folder / STATE, asdict(state))
    except OSError as error:
        raise TrainError(f"Cannot write the checkpoint in {folder} ({error.strerror or error}). The last complete "
                         "checkpoint is kept: free some space (or make the folder writable), then --resume.") from error


def load_checkpoint(folder: Path):
    """(model with optimizer, TrainState), or TrainError saying what is damaged."""
    import keras

    try:
        state = TrainState(**artifacts.read_json(folder / STATE))
    except (artifacts.ArtifactError, TypeError) as error:
        raise TrainError(
            f"The checkpoint's {STATE} in {folder} is damaged ({error}). Start over with --restart."
        ) from error
    try:
        model = keras.saving.load_model(folder / LAST_MODEL)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise TrainError(f"The checkpoint in {folder} is damaged ({error}). Start over with --restart.") from error
    return model, state


def lock_path(root: Path, name: str) -> Path:
    return Path(root) / f".{name}.lock"


class RunLock:
    """An exclusive lock on one model's run folder, released when the process ends however it ends."""

    def __init__(self, root: Path, name: str):
        self.path = lock_path(root, name)
        self.folder = Path(root) / name
        self.handle = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise TrainError(f"Another training run is writing to {self.folder}: "
                             f"{holder}. Wait for it to finish, or stop it, or choose another --out.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')} "
                     f"({' '.join(sys.argv) or 'python'})\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *_):
        handle, self.handle = self.handle, None
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def staging_dir(root: Path, name: str) -> Path:
    return Path(root) / f".{name}.staging"


def swap_in(root: Path, name: str) -> None:
    """Replace ``<root>/<name>`` (finished model and checkpoint alike) by the staging folder.

    Two renames: the old folder aside, the staged one in; a run killed between them is completed by
    ``finish_swap`` when the next run of the model starts.
    """
    root, staged = Path(root), staging_dir(root, name)
    old = root / f".{name}.replaced"
    if old.exists():
        shutil.rmtree(old)
    if (root / name).exists():
        os.replace(root / name, old)
    os.replace(staged, root / name)
    shutil.rmtree(old, ignore_errors=True)


def finish_swap(root: Path, name: str) -> bool:
    """Complete a swap that a killed run left half done; True if there was one."""
    root, staged = Path(root), staging_dir(root, name)
    if (root / name).exists() or not (staged / artifacts.CARD).is_file():
        return False
    swap_in(root, name)
    return True


def is_up_to_date(name: str, root: Path) -> bool:
    """True when a model's artifacts are complete and no interrupted run is waiting to resume."""
    model_dir = Path(root) / name
    return not artifacts.missing_files(model_dir) and not has_checkpoint(model_dir)
