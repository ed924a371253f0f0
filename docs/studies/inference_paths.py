"""How fast one face's test-time-augmentation views go through every network: per network or in one compiled call,
with TensorFlow's oneDNN rewrites on or off.

    python docs/studies/inference_paths.py [--artifacts artifacts] [--rounds 20] [--processes 2]

Each oneDNN setting needs its own process (TF_ENABLE_ONEDNN_OPTS is read when TensorFlow loads), so the study
starts ``--processes`` pairs of them, on then off, one after another. In each, the models are loaded once
(``core.predictor.Predictor``), and then, alternating ``--rounds`` times: a ``predict_on_batch`` per network
(``core.inference.predict``, the path before 2026-12-03) and the predictor's one compiled call for all networks
(``core.inference.predict_together``). Prints the medians in ms, their ratio and the largest difference between
the two paths' probabilities. Run it with nothing else busy on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def measure(root: str, rounds: int) -> dict:
    import numpy as np

    from core.inference import predict
    from core.predictor import Predictor

    predictor = Predictor(root, warm_detector=False)
    face = np.load(Path(root) / "dataset_examples.npz")["images"][:1]
    pixels = face.reshape(-1, 48, 48, 1).astype(np.float32)

    def per_network():
        return {n: predict(network, pixels, predictor.tta[n]) for n, network in predictor.networks.items()}

    separate, together = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        per_network()
        separate.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        predictor.predict_faces(face)
        together.append((time.perf_counter() - started) * 1000)
    one, other = per_network(), predictor.predict_faces(face)
    return {"separate_ms": float(np.median(separate)), "together_ms": float(np.median(together)),
            "max_difference": max(float(np.abs(one[n] - other[n]).max()) for n in one)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default="artifacts")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.artifacts, args.rounds)))
        return
    print(f"{'oneDNN':<8}{'per network ms':>16}{'one call ms':>13}{'ratio':>7}{'max difference':>16}")
    for _ in range(args.processes):
        for onednn in ("1", "0"):
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
            out = subprocess.run([sys.executable, __file__, "--child", "--artifacts", args.artifacts,
                                  "--rounds", str(args.rounds)], env=env, capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{'on' if onednn == '1' else 'off':<8}{row['separate_ms']:>16.1f}{row['together_ms']:>13.1f}"
                  f"{row['separate_ms'] / row['together_ms']:>7.2f}{row['max_difference']:>16.1e}", flush=True)


if __name__ == "__main__":
    main()
