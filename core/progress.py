"""The training progress bar: epoch, bar, loss, accuracy, and the time left in the epoch and the run."""

from __future__ import annotations

import sys
import time

import numpy as np


def clock(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def make_progress_bar(epoch: int, epochs: int, steps: int, past_epoch_seconds: list[float], stream=None):
    """A Keras callback drawing the bar on a terminal (nothing elsewhere); it also times the epoch's training."""
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
            stream.write(
                f"\repoch {epoch + 1}/{epochs} [{bar:<24}] {done}/{steps} loss {logs.get('loss', 0):.4f} "
                f"acc {logs.get('accuracy', 0):.4f}  epoch left {clock(epoch_left)}  run left ≤{clock(run_left)} "
            )
            stream.flush()

    return ProgressBar()
