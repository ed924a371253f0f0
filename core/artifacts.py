"""The artifact files: the one contract between ``core`` and the dashboard (see artifacts/README.md).

Every file is written to a temporary name and renamed, so a crash never leaves half a file.
This module imports neither TensorFlow nor Streamlit, so the dashboard reads through it cheaply:

    from core.artifacts import METRICS, list_model_dirs, read_json
    for name, folder in list_model_dirs("artifacts").items():
        print(name, read_json(folder / METRICS)["accuracy"])
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import schema
from core.models import REGISTRY

MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
PREDICTIONS = "predictions.npz"
CARD = "card.json"
ENSEMBLE = "ensemble.json"
MODEL_FILES = (MODEL, HISTORY, METRICS, PREDICTIONS, CARD)
ENSEMBLE_FILES = (ENSEMBLE, METRICS, PREDICTIONS, CARD)  # an ensemble has members instead of a network
DATASET = "dataset.json"
DATASET_EXAMPLES = "dataset_examples.npz"
BENCHMARK = "benchmark.json"
PHOTO_BENCHMARK = "photo_benchmark.json"
MISTAKES_PER_CLASS = 12  # predictions.npz keeps the most confident mistakes, with their pixels, per true class
HISTORY_COLUMNS = ("epoch", "phase", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


class ArtifactError(Exception):
    """An artifact file is missing, unreadable or not what the format says."""


def _replace_atomically(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".partial-{os.getpid()}-{path.name}")  # per process; keeps the suffix Keras wants
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


def write_text(path, text: str) -> None:
    _replace_atomically(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


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


def file_sha256(path) -> str:
    """The SHA-256 of a file, as a card records its model.keras's."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    # a hidden folder is a training run's staging folder, or the folder it replaced: not a model
    return {d.name: d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")
            and any((d / f).exists() for f in MODEL_FILES + ENSEMBLE_FILES)}


def validation_split(root, names=None) -> tuple[int, float]:
    """The validation split, (seed, fraction), that the trained models under ``root`` (or those of them in
    ``names``) held out, read from their cards; an ArtifactError where none has a card or they differ."""
    splits = {}
    for name, folder in list_model_dirs(root).items():
        if (names is None or name in names) and not is_ensemble(folder) and (folder / CARD).is_file():
            card = read_json(folder / CARD)
            splits[name] = (card.get("seed"), (card.get("data") or {}).get("val_fraction"))
    if not splits:
        raise ArtifactError(f"{root} holds no trained model with a card.")
    if len(set(splits.values())) > 1:
        raise ArtifactError(f"The models in {root} held out different validation splits (seed, fraction): {splits}.")
    return next(iter(splits.values()))


def is_ensemble(folder) -> bool:
    return (Path(folder) / ENSEMBLE).is_file()


def missing_files(folder) -> list[str]:
    needed = ENSEMBLE_FILES if is_ensemble(folder) else MODEL_FILES
    return [name for name in needed if not (Path(folder) / name).is_file()]


@dataclass
class ModelArtifacts:
    """One model folder, read and checked: what the dashboard and the report show."""

    name: str
    title: str
    metrics: dict
    card: dict
    history: pd.DataFrame | None  # None for the ensemble, which is not trained
    predictions: dict
    ensemble: dict | None  # ensemble.json: {"members": {name: weight}, ...}

    @property
    def members(self) -> dict[str, float]:
        """An ensemble's members with a weight above zero; empty for a single network."""
        return {name: weight for name, weight in (self.ensemble or {}).get("members", {}).items() if weight}


def read_model_artifacts(folder) -> ModelArtifacts:
    """Read a model folder, or raise ArtifactError saying what is missing or damaged."""
    folder = Path(folder)
    missing = missing_files(folder)
    if missing:
        raise ArtifactError(f"missing {', '.join(missing)}")
    if not is_ensemble(folder) and not zipfile.is_zipfile(folder / MODEL):  # a .keras file is a zip archive
        raise ArtifactError(f"{MODEL} is not a Keras file ({(folder / MODEL).stat().st_size} bytes: empty, "
                            "truncated or something else)")
    metrics = read_json(folder / METRICS)
    card = read_json(folder / CARD)
    predictions = read_npz(folder / PREDICTIONS)
    ensemble = read_ensemble(folder) if is_ensemble(folder) else None
    try:
        history = None if ensemble else pd.read_csv(folder / HISTORY)
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{folder / HISTORY} is not readable CSV ({error})") from error
    try:
        schema.check(card, schema.CARD, CARD)
        schema.check(metrics, schema.METRICS, METRICS)
        schema.check_predictions(predictions, metrics["n_test"])
        if history is not None:
            schema.check_history(history, HISTORY_COLUMNS)
    except schema.SchemaError as error:
        raise ArtifactError(str(error)) from error
    return ModelArtifacts(folder.name, model_title(card, folder.name), metrics, card, history, predictions, ensemble)


def model_title(card: dict, folder_name: str) -> str:
    """How pages name a model: its card's title, with the folder's name where it is a copy under another name."""
    title = card.get("title") or folder_name
    if card.get("model", folder_name) != folder_name:  # a copy under another name: tell it from the original
        title = f"{title} ({folder_name})"
    return title


def read_ensemble(folder) -> dict:
    """An ensemble's ensemble.json, checked: its members and their weights, not all zero."""
    path = Path(folder) / ENSEMBLE
    ensemble = read_json(path)
    try:
        schema.check(ensemble, schema.ENSEMBLE, ENSEMBLE)
    except schema.SchemaError as error:
        raise ArtifactError(str(error)) from error
    if not any(ensemble["members"].values()):
        raise ArtifactError(f"{path} gives every member weight zero")
    return ensemble


def read_shared(path) -> dict:
    """One of the artifact root's own files (dataset.json, dataset_examples.npz, benchmark.json, ...), checked
    against the format where it has one; ArtifactError says what is wrong."""
    path = Path(path)
    if path.suffix == ".npz":
        return read_npz(path)
    data = read_json(path)
    spec = {DATASET: (schema.DATASET, "a dataset summary"), BENCHMARK: (schema.BENCHMARK, "a benchmark"),
            PHOTO_BENCHMARK: (schema.PHOTO_BENCHMARK, "a photo benchmark")}.get(path.name)
    if spec:
        try:
            schema.check(data, spec[0], path.name)
        except schema.SchemaError as error:
            raise ArtifactError(f"{path} is not {spec[1]}: {error}") from error
    return data


def read_shared_if_present(path) -> tuple[dict | None, str | None]:
    """(contents, None) of a shared file; (None, None) when it is absent; (None, what is wrong) when unreadable."""
    if not Path(path).is_file():
        return None, None
    try:
        return read_shared(path), None
    except ArtifactError as error:
        return None, str(error)


def warm_restarts(history: pd.DataFrame) -> list[int]:
    """The epochs after which a warm restart began (planned by the recipe, or a continued run's): where the
    learning rate, having fallen, rises again (a new warm-up). Every level of a chain of continuations shows."""
    rate, epochs = history["learning_rate"].to_numpy(), history["epoch"].to_numpy()
    return [int(epochs[i]) for i in range(1, len(rate) - 1) if rate[i - 1] > rate[i] < rate[i + 1]]


def model_order(name: str) -> tuple:
    """Registry order first, then any other folder by name."""
    names = list(REGISTRY)
    return (names.index(name) if name in names else len(names), name)


def read_all_models(root) -> tuple[dict[str, ModelArtifacts], dict[str, str]]:
    """(models that read, {name: reason} for those that do not), in registry order."""
    good, broken = {}, {}
    for name, folder in sorted(list_model_dirs(root).items(), key=lambda item: model_order(item[0])):
        try:
            good[name] = read_model_artifacts(folder)
        except ArtifactError as error:
            broken[name] = str(error)
    return good, broken


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
