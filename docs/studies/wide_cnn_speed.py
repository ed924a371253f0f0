"""What the published recipe's width would cost here: training images/second of `cnn_aug` against the same CNN at
Khaireddin & Chen's widths (four blocks of 64, 128, 256, 512 filters instead of 32 to 256).

    python docs/studies/wide_cnn_speed.py [--rounds 3] [--steps 20]

Registers the wide CNN for this process only (``cnn_aug``'s recipe with other ``widths``), then, alternating
``--rounds`` times, times ``--steps`` training steps of each at batch 64 under the precision ``--precision auto``
chooses (``core.benchmark.measure``, as ``python -m core benchmark`` does). Prints each model's median img/s and
the hours one epoch and a 300-epoch run would take at that rate. Run it with nothing else busy on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import numpy as np

from core import models
from core.benchmark import measure
from core.machine import choose_precision

TRAINING_FACES = 25_837  # FER-2013's training images less the 10 % validation split

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--steps", type=int, default=20)
args = parser.parse_args()

models.REGISTRY["cnn_wide"] = dataclasses.replace(models.REGISTRY["cnn_aug"], name="cnn_wide",
                                                  widths=(64, 128, 256, 512))
models.TRAINED_MODELS = (*models.TRAINED_MODELS, "cnn_wide")  # build_model builds only trained models
precision = choose_precision("auto")
rates = {"cnn_aug": [], "cnn_wide": []}
rng = np.random.default_rng(0)
for _ in range(args.rounds):
    for name in rates:
        rates[name].append(measure(name, precision, args.steps, 64, rng, {})["train_images_per_second"])
for name, found in rates.items():
    rate = statistics.median(found)
    print(f"{name} ({precision}): {rate:.1f} img/s (rounds: {', '.join(f'{r:.1f}' for r in found)}); an epoch "
          f"{TRAINING_FACES / rate / 3600:.2f} h, 300 epochs {300 * TRAINING_FACES / rate / 3600:.0f} h")
