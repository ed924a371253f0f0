"""Does another trained network lift the ensemble? Validation only.

    python docs/studies/extra_member.py --extra NAME=FOLDER [--extra ...] [--artifacts artifacts] [--halvings 100]

Reads the validation probabilities (``predictions.npz``, each with its own test-time augmentation) of the
registry's members in ``--artifacts`` and of each extra model folder, which must have held out the same
validation faces. Then, many times over, halves the validation faces at random, chooses the ensemble's weights
(``core.ensemble.choose_weights``) on one half with and without the extra members, and scores both choices'
accuracy on the other half. Prints the held-out gain and what each set chooses on all of validation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core import artifacts
from core.ensemble import choose_weights
from core.inference import combine
from core.models import TRAINED_MODELS

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--artifacts", default="artifacts")
parser.add_argument("--extra", action="append", required=True, metavar="NAME=FOLDER",
                    help="a trained model folder to add as a member under NAME")
parser.add_argument("--halvings", type=int, default=100)
args = parser.parse_args()

split = artifacts.validation_split(args.artifacts)
folders = {name: Path(args.artifacts) / name for name in TRAINED_MODELS}
for extra in args.extra:
    name, _, folder = extra.partition("=")
    folders[name] = Path(folder)
    if artifacts.validation_split(Path(folder).parent, [Path(folder).name]) != split:
        raise SystemExit(f"{folder} held out other validation faces than the models in {args.artifacts}.")
saved = {name: artifacts.read_npz(folder / artifacts.PREDICTIONS) for name, folder in folders.items()}
y = saved[TRAINED_MODELS[0]]["val_y_true"]
probabilities = {name: found["val_probabilities"] for name, found in saved.items()}
members = {"registry's": list(TRAINED_MODELS), "with the extra": list(folders)}


def held_out_accuracy(names: list[str], chosen_on: np.ndarray) -> float:
    weights = choose_weights(y[chosen_on], {n: probabilities[n][chosen_on] for n in names})
    mixed = combine({n: probabilities[n][~chosen_on] for n in names}, weights)
    return float(np.mean(mixed.argmax(1) == y[~chosen_on]))


rng = np.random.default_rng(0)
scores = {label: [] for label in members}
for _ in range(args.halvings):
    chosen_on = rng.permutation(len(y)) < len(y) // 2
    for label, names in members.items():
        scores[label].append(held_out_accuracy(names, chosen_on))
for label, names in members.items():
    print(f"{label} members ({', '.join(names)}): held-out accuracy {np.mean(scores[label]):.4f} "
          f"(sd {np.std(scores[label]):.4f})")
    weights = choose_weights(y, {n: probabilities[n] for n in names})
    mixed = combine({n: probabilities[n] for n in names}, weights)
    print(f"  on all of validation: {weights}, accuracy {np.mean(mixed.argmax(1) == y):.4f}")
gain = np.array(scores["with the extra"]) - np.array(scores["registry's"])
print(f"gain: mean {gain.mean():+.4f}; better in {np.mean(gain > 0):.0%} of {args.halvings} halvings, "
      f"worse in {np.mean(gain < 0):.0%}")
