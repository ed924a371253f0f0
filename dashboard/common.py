"""What every page shares: reading the artifact files (cached), the chosen models, their colours.

Pages read artifacts only through the cached readers here (``load_models()``, ``load_shared()``,
``model_card_text()``, ``predictor()``, ``gradcam()``); a model whose files are missing or damaged is listed in
``broken`` with the reason, and the others still show.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import streamlit as st

from core import artifacts, charts
from core.artifacts import ArtifactError, ModelArtifacts, model_order
from core.explain import GradCam, ensemble_heatmaps
from core.predictor import Predictor

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
SAMPLE_PHOTO = Path(__file__).with_name("astronaut.jpg")  # Eileen Collins, NASA (public domain), from scikit-image
TRAIN_HINT = ("Train models with `python -m core all --data PATH/TO/fer2013` (see the README); "
              "their files appear in `artifacts/` and here.")


def keep_keras_session() -> None:
    """Stop Streamlit from clearing the Keras session after every script run.

    Streamlit 1.67 calls ``keras.backend.clear_session()`` after each run (``_clean_problem_modules`` in its
    script runner), which empties TensorFlow's kernel cache: every upload on the Try-it page then rebuilt
    every model's kernels, 0.6-0.9 s of its time. The dashboard loads its models once per process
    (``st.cache_resource``) and builds none per run, so that clean-up has nothing to free here.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = lambda: None


def favicon():
    """A smiling face drawn here (an RGBA PIL image), so that the browser fetches no icon from a font server."""
    import cv2
    from PIL import Image

    icon = np.zeros((64, 64, 4), np.uint8)
    cv2.circle(icon, (32, 32), 30, (31, 119, 180, 255), -1, cv2.LINE_AA)
    for x in (22, 42):
        cv2.circle(icon, (x, 25), 4, (255, 255, 255, 255), -1, cv2.LINE_AA)
    cv2.ellipse(icon, (32, 36), (15, 12), 0, 20, 160, (255, 255, 255, 255), 4, cv2.LINE_AA)
    return Image.fromarray(icon, "RGBA")


def view_path(file: str) -> str:
    """A page's script, relative to app.py, as st.Page and AppTest.switch_page take it."""
    return f"views/{file}.py"


def artifacts_root() -> Path:
    """The artifact folder: $FER_LAB_ARTIFACTS, or the repository's artifacts/."""
    return Path(os.environ.get("FER_LAB_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


def files_signature(files, relative_to: Path | None = None) -> tuple:
    """(name, modification time, size) of each file that exists: a cache key that changes whenever one does,
    so what was read from the files is read again."""
    signature = []
    for f in files:
        try:
            stat = f.stat()
        except OSError:  # gone since it was listed (a training run swapping its folder in)
            continue
        signature.append((str(f.relative_to(relative_to)) if relative_to else f.name, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


@st.cache_data(show_spinner=False)
def _read_model(folder: str, signature: tuple) -> ModelArtifacts | str:
    try:
        return artifacts.read_model_artifacts(folder)
    except artifacts.ArtifactError as error:
        return str(error)


def load_models() -> tuple[dict[str, ModelArtifacts], dict[str, str]]:
    """(models that load, {name: reason} for those that do not), in registry order."""
    good, broken = {}, {}
    for name, folder in sorted(
        artifacts.list_model_dirs(artifacts_root()).items(), key=lambda item: model_order(item[0])
    ):
        result = _read_model(str(folder), files_signature(sorted(folder.glob("*"))))
        if isinstance(result, str):
            broken[name] = result
        else:
            good[name] = result
    return good, broken


@st.cache_data(show_spinner=False)
def _read_shared(path: str, signature: tuple) -> tuple[dict | None, str | None]:
    return artifacts.read_shared_if_present(path)


def load_shared(file_name: str) -> tuple[dict | None, str | None]:
    """(contents, None) of dataset.json, dataset_examples.npz or photo_benchmark.json; (None, None) when absent,
    (None, what is wrong) when unreadable or not what the format says."""
    path = artifacts_root() / file_name
    return _read_shared(str(path), files_signature([path]))


def _models_signature(root: Path) -> tuple:
    """Changes when a file the predictor reads changes (not a model card or a run's checkpoint), so the cached
    predictor is rebuilt then and only then."""
    read = (artifacts.MODEL, artifacts.METRICS, artifacts.CARD, artifacts.ENSEMBLE)
    return files_signature([folder / name for folder in artifacts.list_model_dirs(root).values() for name in read],
                           relative_to=root)


@st.cache_resource(show_spinner="Loading and warming the models (once)…", max_entries=1)  # one set of models in memory
def _predictor(root: str, signature: tuple) -> Predictor:
    return Predictor(root)


def predictor() -> Predictor:
    """Every model under the artifact root, loaded and warmed once per process: the one inference path."""
    root = artifacts_root()
    return _predictor(str(root), _models_signature(root))


@st.cache_resource(show_spinner="Preparing Grad-CAM…", max_entries=8)  # a few networks; old ones let go
def _gradcam(root: str, signature: tuple, name: str) -> GradCam:
    network = _predictor(root, signature).networks.get(name)
    if network is None:
        raise ArtifactError(f"{name}'s model file cannot be loaded.")
    return GradCam(network)


def gradcam(name: str) -> GradCam:
    root = artifacts_root()
    return _gradcam(str(root), _models_signature(root), name)


def explain_faces(model: ModelArtifacts, faces: np.ndarray, class_index=None) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM heatmaps (N, 48, 48) and probabilities for one model, or an ensemble through its members."""
    if model.ensemble:
        weights = model.members
        return ensemble_heatmaps({m: gradcam(m) for m in weights}, weights, faces, class_index)
    return gradcam(model.name)(faces, class_index)


def model_card_text(name: str) -> str | None:
    """A model's MODEL_CARD.md (``python -m core cards``) without its title line, its sections' headings two levels
    down so that they sit below the page's own inside an expander; None if it has none."""
    path = artifacts_root() / name / "MODEL_CARD.md"
    text = _read_text(str(path), files_signature([path]))
    if not text:
        return text
    if text.startswith("# "):
        text = text.split("\n", 1)[1].lstrip()
    return re.sub(r"^(#{2,4}) ", r"\1## ", text, flags=re.MULTILINE)


@st.cache_data(show_spinner=False)
def _read_text(path: str, signature: tuple) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def colour(name: str) -> str:
    return charts.model_colour(name)


def model_picker(models: dict[str, ModelArtifacts]) -> None:
    """The sidebar's choice of models to compare, a checkbox per model with its whole title; every page reads it
    through ``chosen()``. The choice lives under a plain session key: Streamlit forgets a widget's own state on
    a page switch."""
    if not models:
        return
    state = st.session_state
    if "chosen" not in state or not set(state.chosen) <= set(models):
        state.chosen = list(models)

    def toggle(name: str) -> None:
        ticked = state[f"pick_{name}"]
        state.chosen = [n for n in models if (n == name and ticked) or (n != name and n in state.chosen)]

    st.sidebar.markdown("**Models to compare**")
    for name, model in models.items():
        state[f"pick_{name}"] = name in state.chosen
        st.sidebar.checkbox(model.title, key=f"pick_{name}", on_change=toggle, args=(name,))


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

