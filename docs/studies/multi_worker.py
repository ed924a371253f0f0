"""Does Keras's model.fit train under tf.distribute.MultiWorkerMirroredStrategy here? Two local workers try.

    python docs/studies/multi_worker.py

Each worker gets a TF_CONFIG naming both (localhost ports), builds a small model in the strategy's scope and
fits it on arrays for two epochs. With Keras 3.15 and TensorFlow 2.21 both fail inside fit ("Attempt to convert
a value (PerReplica ...) to a Tensor"), as reported upstream (keras-team/keras#20585); ``core.machine`` therefore
refuses a TF_CONFIG cluster instead of training each machine on its own. Prints each worker's outcome.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

WORKER = """
import json, os, sys
import numpy as np
import keras
import tensorflow as tf
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adamw", loss="categorical_crossentropy")
x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
y = np.eye(2, dtype="float32")[np.arange(64) % 2]
try:
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    print("RESULT trained", strategy.num_replicas_in_sync, "replicas; losses", history.history["loss"])
except Exception as error:
    print("RESULT failed:", type(error).__name__, str(error).splitlines()[0][:100])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def main() -> None:
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        workers.append(subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True))
    for index, worker in enumerate(workers):
        output, _ = worker.communicate(timeout=300)
        results = [line for line in output.splitlines() if line.startswith("RESULT")]
        print(f"worker {index}: {results[-1][7:] if results else 'no result; last output: ' + output[-300:]}")


if __name__ == "__main__":
    main()
