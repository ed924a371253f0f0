"""What every page shares: reading the artifact files (cached), the chosen models, their colours.

Pages read artifacts only through ``load_models()`` and ``load_shared()``; a model whose files are
missing or damaged is listed in ``broken`` with the reason, and the others still show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core import artifacts
from core.classes import CLASS_NAMES
from core.models import REGISTRY

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
TRAIN_HINT = ("Train models with `python -m core all --data PATH/TO/fer2013` (see the README); "
              "their files appear in `artifacts/` and here.")


def artifacts_root() -> Path:
    """The artifact folder: $FER_LAB_ARTIFACTS, or the repository's artifacts/."""
    return Path(os.environ.get("FER_LAB_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


@dataclass
class ModelArtifacts:
    name: str
    title: str
    metrics: dict
    card: dict
    history: pd.DataFrame
    predictions: dict


def _stamp(folder: Path) -> tuple:
    """Changes when any artifact file changes, so cached reads are refreshed."""
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.glob("*")) if f.is_file())


@st.cache_data(show_spinner=False)
def _read_model(folder: str, _stamp: tuple) -> ModelArtifacts | str:
    folder = Path(folder)
    missing = artifacts.missing_files(folder)
    if missing:
        return f"missing {', '.join(missing)}"
    try:
        metrics = artifacts.read_json(folder / artifacts.METRICS)
        card = artifacts.read_json(folder / artifacts.CARD)
        predictions = artifacts.read_npz(folder / artifacts.PREDICTIONS)
        history = pd.read_csv(folder / artifacts.HISTORY)
        lacking = [k for k in ("accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "roc", "n_test")
                   if k not in metrics]
        if lacking:
            return f"metrics.json lacks {', '.join(lacking)}"
        if predictions["probabilities"].shape != (metrics["n_test"], len(CLASS_NAMES)):
            return "predictions.npz does not match metrics.json"
    except (artifacts.ArtifactError, KeyError, ValueError, pd.errors.ParserError) as error:
        return f"unreadable: {error}"
    return ModelArtifacts(folder.name, card.get("title", folder.name), metrics, card, history, predictions)


def model_order(name: str) -> tuple:
    names = list(REGISTRY)
    return (names.index(name) if name in names else len(names), name)


def load_models() -> tuple[dict[str, ModelArtifacts], dict[str, str]]:
    """(models that load, {name: reason} for those that do not), in registry order."""
    good, broken = {}, {}
    for name, folder in sorted(artifacts.list_model_dirs(artifacts_root()).items(), key=lambda item: model_order(item[0])):
        result = _read_model(str(folder), _stamp(folder))
        if isinstance(result, str):
            broken[name] = result
        else:
            good[name] = result
    return good, broken


@st.cache_data(show_spinner=False)
def _read_shared(path: str, _stamp: tuple) -> dict | None:
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return artifacts.read_npz(path) if path.suffix == ".npz" else artifacts.read_json(path)
    except artifacts.ArtifactError:
        return None


def load_shared(file_name: str) -> dict | None:
    """dataset.json, dataset_examples.npz or benchmark.json; None if absent or unreadable."""
    path = artifacts_root() / file_name
    stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.is_file() else ()
    return _read_shared(str(path), stamp)


@st.cache_resource(show_spinner="Loading model…")
def load_keras_model(path: str, _stamp: tuple):
    return artifacts.load_model(path)


def keras_model(name: str):
    path = artifacts_root() / name / artifacts.MODEL
    return load_keras_model(str(path), (path.stat().st_mtime_ns, path.stat().st_size))


def colour(name: str) -> str:
    return PALETTE[model_order(name)[0] % len(PALETTE)]


def model_picker(models: dict[str, ModelArtifacts]) -> list[str]:
    """The sidebar's choice of models to compare; every page reads it through ``chosen()``.

    The choice lives under a plain session key: Streamlit forgets a widget's own state on a page switch.
    """
    if not models:
        return []
    names = list(models)
    state = st.session_state
    if "chosen" not in state or not set(state.chosen) <= set(names):
        state.chosen = names
    state.chosen_widget = state.chosen
    return st.sidebar.multiselect("Models to compare", names, key="chosen_widget", format_func=lambda n: models[n].title,
                                  on_change=lambda: state.update(chosen=state.chosen_widget))


def chosen(models: dict[str, ModelArtifacts]) -> dict[str, ModelArtifacts]:
    picked = st.session_state.get("chosen", list(models))
    return {name: models[name] for name in picked if name in models}


def warn_broken(broken: dict[str, str]) -> None:
    for name, reason in broken.items():
        st.warning(f"**{name}** is left out: its artifacts are incomplete or damaged ({reason}).")


def page_models() -> dict[str, ModelArtifacts]:
    """The chosen models for a comparison page; says how to train, or what is broken, when needed."""
    models, broken = load_models()
    warn_broken(broken)
    if not models:
        st.info(f"No trained models in `{artifacts_root()}` yet. {TRAIN_HINT}")
        return {}
    picked = chosen(models)
    if not picked:
        st.info("No model is chosen: pick some in the sidebar.")
    return picked

