"""Should the ensemble's weights maximise validation accuracy or minimise validation log-loss? Validation only.

    python docs/studies/ensemble_weights.py [--artifacts artifacts] [--halvings 200]

Reads the members' validation probabilities (``predictions.npz``, each with its own test-time augmentation),
then, many times over, halves the validation faces at random, chooses the grid weights (``core.ensemble``)
on one half by each criterion and scores the choice's accuracy on the other half. Prints the held-out
accuracy of each criterion and how often one beats the other, and what each chooses on all of validation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core import artifacts
from core.ensemble import weight_grid
from core.models import TRAINED_MODELS

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--artifacts", default="artifacts")
parser.add_argument("--halvings", type=int, default=200)
args = parser.parse_args()

saved = {m: artifacts.read_npz(Path(args.artifacts) / m / artifacts.PREDICTIONS) for m in TRAINED_MODELS}
y = saved[TRAINED_MODELS[0]]["val_y_true"]
grid = list(weight_grid(list(TRAINED_MODELS)))
mixed = np.stack([sum(w[m] * saved[m]["val_probabilities"].astype(np.float64) for m in TRAINED_MODELS)
                  for w in grid])  # (weightings, faces, classes)
right = mixed.argmax(2) == y
loss = -np.log(np.clip(mixed[:, np.arange(len(y)), y], 1e-12, 1.0))


def by_accuracy(faces) -> int:
    """The weighting with the best accuracy on these faces, ties to the lower log-loss (the former rule)."""
    return int(np.lexsort((loss[:, faces].mean(1), -right[:, faces].mean(1)))[0])


def by_log_loss(faces) -> int:
    """The weighting with the lowest log-loss on these faces (``core.ensemble.choose_weights``)."""
    return int(loss[:, faces].mean(1).argmin())


rng = np.random.default_rng(0)
held_out = {"accuracy": [], "log-loss": []}
for _ in range(args.halvings):
    chosen_on = rng.permutation(len(y)) < len(y) // 2
    held_out["accuracy"].append(right[by_accuracy(chosen_on), ~chosen_on].mean())
    held_out["log-loss"].append(right[by_log_loss(chosen_on), ~chosen_on].mean())
for criterion, scores in held_out.items():
    print(f"weights chosen by {criterion} on half the validation faces: accuracy on the other half "
          f"{np.mean(scores):.4f} (sd {np.std(scores):.4f})")
gain = np.array(held_out["log-loss"]) - np.array(held_out["accuracy"])
print(f"log-loss minus accuracy: mean {gain.mean():+.4f}; log-loss better in {np.mean(gain > 0):.0%} of "
      f"{args.halvings} halvings, worse in {np.mean(gain < 0):.0%}")
every_face = np.ones(len(y), bool)
print("on all of validation, by accuracy:", grid[by_accuracy(every_face)], "by log-loss:",
      grid[by_log_loss(every_face)])
