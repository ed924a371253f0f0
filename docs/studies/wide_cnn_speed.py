"""Training speed of `cnn_aug` against the same CNN at Khaireddin & Chen's widths (64-512 filters).

    python docs/studies/wide_cnn_speed.py [--rounds 3] [--steps 20]

Registers, for this process only, `cnn_aug`'s recipe with four conv blocks of 64, 128, 256 and 512 filters instead of
32 to 256 (its global pooling and dense head kept: the paper's own head is not measured). Then, alternating
``--rounds`` times, times ``--steps`` training steps of each at the registry's batch size under the precision
``--precision auto`` chooses (``core.benchmark.measure``, as ``python -m core benchmark`` does). Prints each model's
median img/s and what one epoch and EPOCHS epochs of FER-2013's training faces would take at that rate. Run it with
nothing else busy on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import numpy as np

from core import models
from core.benchmark import EPOCH_TRAIN_IMAGES, measure
from core.machine import choose_precision

WIDE = (64, 128, 256, 512)
EPOCHS = 300  # the paper's run

parser = argparse.ArgumentParser(description="Training speed of cnn_aug against the same CNN at 64-512 filters.")
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--steps", type=int, default=20)
args = parser.parse_args()

models.REGISTRY["cnn_wide"] = dataclasses.replace(models.REGISTRY["cnn_aug"], name="cnn_wide", widths=WIDE)
models.TRAINED_MODELS = (*models.TRAINED_MODELS, "cnn_wide")  # build_model builds only trained models
precision = choose_precision("auto")
batch_size = models.REGISTRY["cnn_aug"].batch_size
rng = np.random.default_rng(0)
latencies = {}  # measured once per architecture (the first round), as the benchmark does
per_round = {"cnn_aug": [], "cnn_wide": []}
for _ in range(args.rounds):
    for name, rates in per_round.items():
        rates.append(measure(name, precision, args.steps, batch_size, rng, latencies)["train_images_per_second"])
for name, rates in per_round.items():
    rate = statistics.median(rates)
    hours = EPOCH_TRAIN_IMAGES / rate / 3600
    rounds = ", ".join(f"{r:.1f}" for r in rates)
    print(f"{name} ({precision}, batch {batch_size}): {rate:.1f} img/s (rounds: {rounds}); an epoch {hours:.2f} h, "
          f"{EPOCHS} epochs {EPOCHS * hours:.0f} h (training steps only)")
