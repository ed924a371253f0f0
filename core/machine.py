"""What the machine offers training: the precision its CPU or GPU runs fastest, the distribution
strategy, and the description of machine and libraries that a model card records."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from pathlib import Path

import numpy as np

PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def cpu_supports_bf16() -> bool:
    """True where the CPU has AMX or AVX-512 BF16, which make mixed_bfloat16 pay off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def choose_precision(request: str) -> str:
    """``request`` unless it is "auto": then mixed_bfloat16 on a GPU or a CPU with bf16 units, else float32."""
    if request not in PRECISIONS:
        raise ValueError(f"Unknown precision '{request}': use {', '.join(PRECISIONS)}.")
    if request != "auto":
        return request
    return "mixed_bfloat16" if has_gpu() or cpu_supports_bf16() else "float32"


def prefer_eigen_for_inference() -> None:
    """Call first in a process that only predicts (the dashboard, ``core predict``, the photo benchmark), before
    TensorFlow is imported: TensorFlow's own kernels, not its oneDNN rewrites, unless TF_ENABLE_ONEDNN_OPTS is set.

    On an Intel Xeon with AMX one face's views through the four networks took 2-3x less time so, with the same
    probabilities (``docs/studies/inference_paths.py``); the photo benchmark's MTCNN pass was not slower (148 ->
    107 ms). Training keeps oneDNN, which its bf16 needs (``docs/experiments.md``, "The photo path on an Intel
    Xeon").
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def has_gpu() -> bool:
    """A GPU the Keras backend will use."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    return False


def distribution_scope():
    """(scope, replicas): the tf.distribute strategy training runs under: MirroredStrategy over every GPU when
    there are several, or over several logical CPU devices when the process made them (as the test does); the
    default strategy otherwise."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext(), 1
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU")
    devices = devices if len(devices) > 1 else tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        return tf.distribute.get_strategy().scope(), 1
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    return strategy.scope(), strategy.num_replicas_in_sync


def cluster_tasks() -> int:
    """How many machines (tasks) the TF_CONFIG environment variable names; 0 without it. ValueError when it is not
    the JSON TensorFlow reads."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return 0
    try:
        cluster = json.loads(text).get("cluster", {})
        return sum(len(tasks) for tasks in cluster.values())
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not a JSON cluster description ({error}).") from error


def machine_description() -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    used = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "cores_used": used, "platform": platform.platform(),
            "python": platform.python_version()}


def library_versions() -> dict:
    import keras
    import sklearn

    versions = {"keras": keras.__version__, "backend": keras.backend.backend(), "numpy": np.__version__,
                "scikit-learn": sklearn.__version__}
    with contextlib.suppress(ImportError):
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    return versions
