"""The artifact files: the one contract between ``core`` and the dashboard (see artifacts/README.md).

Every file is written to a temporary name and renamed, so a crash never leaves half a file.
This module imports neither TensorFlow nor Streamlit, so the dashboard reads through it cheaply:

    from core.artifacts import list_model_dirs, read_json
    for name, folder in list_model_dirs("artifacts").items():
        print(name, read_json(folder / METRICS)["accuracy"])
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
PREDICTIONS = "predictions.npz"
CARD = "card.json"
MODEL_FILES = (MODEL, HISTORY, METRICS, PREDICTIONS, CARD)
DATASET = "dataset.json"
DATASET_EXAMPLES = "dataset_examples.npz"
BENCHMARK = "benchmark.json"
HISTORY_COLUMNS = ("epoch", "phase", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


class ArtifactError(Exception):
    """An artifact file is missing, unreadable or not what the format says."""


def _replace_atomically(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".partial-{path.name}")  # keeps the suffix Keras insists on
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _json_ready(value):
    """NaN and infinity become null, NumPy scalars and arrays plain Python: strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data) -> None:
    text = json.dumps(_json_ready(data), indent=1, allow_nan=False)
    _replace_atomically(Path(path), lambda tmp: tmp.write_text(text + "\n"))


def write_npz(path, **arrays) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    _replace_atomically(Path(path), lambda tmp: tmp.write_bytes(buffer.getvalue()))


def write_history(path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    _replace_atomically(Path(path), lambda tmp: tmp.write_text(buffer.getvalue()))


def save_keras_model(model, path) -> None:
    _replace_atomically(Path(path), lambda tmp: model.save(tmp))


def save_keras_weights(model, path) -> None:
    _replace_atomically(Path(path), lambda tmp: model.save_weights(tmp))


def read_json(path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise ArtifactError(f"{path} is missing.") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArtifactError(f"{path} is not readable JSON ({error}).") from error


def read_npz(path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    except FileNotFoundError as error:
        raise ArtifactError(f"{path} is missing.") from error
    except (OSError, ValueError, EOFError) as error:
        raise ArtifactError(f"{path} is not a readable .npz file ({error}).") from error


def list_model_dirs(root) -> dict[str, Path]:
    """Every folder under ``root`` that holds at least one model artifact file, by model name."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {d.name: d for d in sorted(root.iterdir()) if d.is_dir() and any((d / f).exists() for f in MODEL_FILES)}


def missing_files(folder) -> list[str]:
    return [name for name in MODEL_FILES if not (Path(folder) / name).is_file()]


def load_model(path):
    """Load a ``model.keras`` for inference, or raise ArtifactError saying what is wrong with it."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path} is missing.")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a damaged or foreign file
        raise ArtifactError(f"{path} could not be loaded as a Keras model ({type(error).__name__}: "
                            f"{str(error)[:200]}). Retrain it, or restore the file.") from error
