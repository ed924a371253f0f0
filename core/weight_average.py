"""Weight averaging: an exponential moving average of a model's weights, validated and kept instead of them.

The average follows every training step; validation, the best epoch's saved weights and so the exported model
use it, while training goes on from the raw weights. Keras's own ``use_ema`` cannot serve here: each one-epoch
``fit`` call of ``core.train`` ends by overwriting the weights with their average, and training would go on from
there. The average is kept beside the checkpoint, so ``--resume`` continues it.

    average = WeightAverage(0.999)               # a keras callback: fit(..., callbacks=[average])
    with average.applied(model):                 # the averaged weights in place, the raw ones back afterwards
        model.save_weights("best.weights.h5")
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np

from core import artifacts

AVERAGE_FILE = "weight_average.npz"  # beside the checkpoint
WARMUP = 10  # the decay starts low, (1 + n) / (WARMUP + n) after n steps, so the random start fades quickly


def averaged_variables(model) -> list:
    """The variables averaged: every floating-point weight, batch-norm statistics included (not the random
    layers' seed states)."""
    return [v for v in model.weights if "float" in str(v.dtype)]


class WeightAverage(keras.callbacks.Callback):
    def __init__(self, decay: float):
        super().__init__()
        self.decay, self.steps, self.average = decay, 0, None

    @classmethod
    def for_run(cls, decay: float, model, checkpoints: Path, resuming: bool, log) -> WeightAverage | None:
        """The average a run with this decay keeps (None for 0), continued from its checkpoint when resuming."""
        if not decay:
            return None
        average = cls(decay)
        if resuming and not average.load(checkpoints, model):
            log("warning: the checkpoint keeps no weight average; it starts again from the current weights.")
        return average

    def on_train_begin(self, logs=None):
        self._start(self.model)
        self._variables = averaged_variables(self.model)  # once per fit call, not per step

    def _start(self, model) -> None:
        if self.average is None:  # no step averaged yet: the weights are their own average
            self.average = [np.array(v.numpy(), dtype=np.float32) for v in averaged_variables(model)]

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (WARMUP + self.steps))
        for mean, variable in zip(self.average, self._variables):
            mean *= decay
            mean += (1 - decay) * variable.numpy()

    def on_test_begin(self, logs=None):  # validation inside fit scores the average
        self._raw = self.apply(self.model)

    def on_test_end(self, logs=None):
        self._swap(self.model, self._raw)

    def apply(self, model) -> list[np.ndarray]:
        """Put the averaged weights into ``model``; returns the raw ones they replace."""
        self._start(model)
        return self._swap(model, self.average)

    @contextmanager
    def applied(self, model):
        """The averaged weights in ``model`` for the block, its raw ones back afterwards."""
        raw = self.apply(model)
        try:
            yield
        finally:
            self._swap(model, raw)

    @staticmethod
    def _swap(model, values) -> list[np.ndarray]:
        variables = averaged_variables(model)
        before = [v.numpy() for v in variables]
        for variable, value in zip(variables, values):
            variable.assign(value.astype(variable.dtype))
        return before

    def save(self, folder: Path) -> None:
        artifacts.write_npz(Path(folder) / AVERAGE_FILE, steps=np.array(self.steps),
                            **{f"w{i}": mean for i, mean in enumerate(self.average)})

    def load(self, folder: Path, model) -> bool:
        """Continue the average kept in ``folder``; False (starting afresh) where there is none that fits."""
        path = Path(folder) / AVERAGE_FILE
        if not path.is_file():
            return False
        saved = artifacts.read_npz(path)
        means = [saved.get(f"w{i}") for i in range(len(saved) - 1)]
        if [m.shape if m is not None else None for m in means] != [tuple(v.shape) for v in averaged_variables(model)]:
            return False
        self.steps, self.average = int(saved["steps"]), [m.astype(np.float32) for m in means]
        return True
