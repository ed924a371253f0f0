"""What every page shares: reading the artifact files (cached), the chosen models, their colours.

Pages read artifacts only through ``load_models()`` and ``load_shared()``; a model whose files are
missing or damaged is listed in ``broken`` with the reason, and the others still show.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from core import artifacts, charts
from core.artifacts import ModelArtifacts, model_order
from core.ensemble import combine
from core.evaluate import predict
from core.explain import GradCam, ensemble_heatmaps

# (file under views/, title, icon, section): the navigation, the benchmark and the tests read this one list.
PAGES = (
    ("overview", "Overview", ":material/leaderboard:", "Compare"),
    ("data", "Data", ":material/dataset:", "Compare"),
    ("training", "Training", ":material/show_chart:", "Compare"),
    ("per_class", "Per-class", ":material/bar_chart:", "Compare"),
    ("confusion", "Confusion", ":material/grid_on:", "Compare"),
    ("roc", "ROC", ":material/ssid_chart:", "Compare"),
    ("calibration", "Calibration", ":material/tune:", "Compare"),
    ("mistakes", "Mistakes", ":material/error:", "Compare"),
    ("try_it", "Try it", ":material/photo_camera:", "Try"),
)
TRAIN_HINT = ("Train models with `python -m core all --data PATH/TO/fer2013` (see the README); "
              "their files appear in `artifacts/` and here.")


def view_path(file: str) -> str:
    """A page's script, relative to app.py, as st.Page and AppTest.switch_page take it."""
    return f"views/{file}.py"


def artifacts_root() -> Path:
    """The artifact folder: $FER_LAB_ARTIFACTS, or the repository's artifacts/."""
    return Path(os.environ.get("FER_LAB_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


def _stamp(folder: Path) -> tuple:
    """Changes when any artifact file changes, so cached reads are refreshed."""
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.glob("*")) if f.is_file())


@st.cache_data(show_spinner=False)
def _read_model(folder: str, _stamp: tuple) -> ModelArtifacts | str:
    try:
        return artifacts.read_model_artifacts(folder)
    except artifacts.ArtifactError as error:
        return str(error)


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


def _file_stamp(path: Path) -> tuple:
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.is_file() else ()


def keras_model(name: str):
    path = artifacts_root() / name / artifacts.MODEL
    return load_keras_model(str(path), _file_stamp(path))


@st.cache_resource(show_spinner="Preparing Grad-CAM…")
def _gradcam(path: str, _stamp: tuple):
    return GradCam(load_keras_model(path, _stamp))


def gradcam(name: str) -> GradCam:
    path = artifacts_root() / name / artifacts.MODEL
    return _gradcam(str(path), _file_stamp(path))


def members(model: ModelArtifacts) -> dict[str, float]:
    """An ensemble's members with a weight above zero; empty for a single network."""
    return {name: weight for name, weight in (model.ensemble or {}).get("members", {}).items() if weight}


def predict_faces(models: dict[str, ModelArtifacts], faces: np.ndarray, tta: str | None) -> dict[str, np.ndarray]:
    """Probabilities (N, 7) per model for faces (N, 48, 48); ``tta`` None: each model's validated choice.

    An ensemble combines its members' probabilities (each member loaded even if not chosen).
    Raises ArtifactError naming a model file that cannot be loaded.
    """
    pixels = faces[..., None].astype(np.float32)

    def single(name: str, validated: str) -> np.ndarray:
        return predict(keras_model(name), pixels, tta=tta or validated)

    return {name: combine({m: single(m, model.ensemble["members_tta"][m]) for m in members(model)}, members(model))
            if model.ensemble else single(name, model.metrics.get("tta", "none"))
            for name, model in models.items()}


def explain_faces(model: ModelArtifacts, faces: np.ndarray, class_index=None) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM heatmaps (N, 48, 48) and probabilities for one model, or an ensemble through its members."""
    if model.ensemble:
        weights = members(model)
        return ensemble_heatmaps({m: gradcam(m) for m in weights}, weights, faces, class_index)
    return gradcam(model.name)(faces, class_index)


def colour(name: str) -> str:
    return charts.model_colour(name)


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

