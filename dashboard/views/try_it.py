"""Try the models on a photo: find the faces, frame each as FER-2013 frames its faces, show every model's
probabilities (all through core.predictor, the same path as ``python -m core predict``) and, on request,
Grad-CAM."""

import weakref

import numpy as np
import pandas as pd
import streamlit as st

from core import charts
from core.artifacts import ArtifactError
from core.classes import CLASS_NAMES
from core.explain import ExplainError, overlay
from core.faces import FACE_CROP, WHOLE_IMAGE, draw_boxes
from core.inference import TTA_MODES
from core.predictor import UNSURE_BELOW
from dashboard.common import (
    SAMPLE_PHOTO,
    TRAIN_HINT,
    chosen,
    colour,
    explain_faces,
    load_models,
    predictor,
    warn_broken,
)

DETECTOR_LABELS = {"mtcnn": "MTCNN (finds more faces)", "haar": "OpenCV Haar cascade (misses more faces)"}
TTA_LABELS = {"validated": "each model's choice (made on validation)", "none": "none", "flip": "mirror",
              "flip+shift": "mirror x 2-pixel shifts (10 views)"}
PHOTO_WIDTH = 480


def kept(key: str, default) -> dict:
    """A widget's key and callback that keep its value across a visit to another page, under a plain session key
    (Streamlit forgets a widget's own state when its page is left)."""
    state = st.session_state
    state[key] = state.get(f"kept_{key}", default)
    return {"key": key, "on_change": lambda: state.__setitem__(f"kept_{key}", state[key])}


def show_input(source: str, label: str, data: bytes) -> None:
    """Makes a photo the newest input (its source, label and bytes), kept in the session, where it outlives the
    widgets when the user visits another page; its answer is computed afresh."""
    st.session_state.newest_input = (source, label, data)
    st.session_state.pop("photo_result", None)


def remember(widget: str) -> None:
    """Shows a widget's new input; clearing a widget forgets its input."""
    value = st.session_state.get(widget)
    if value is not None:
        show_input(widget, "camera shot" if widget == "camera" else value.name, value.getvalue())
    elif st.session_state.get("newest_input", ("",))[0] == widget:
        forget_photo()


def use_sample() -> None:
    """Shows the sample photo (for a first look without a photo of one's own), unless it is already shown."""
    if st.session_state.get("newest_input", ("",))[0] != "sample":
        show_input("sample", SAMPLE_PHOTO.name, SAMPLE_PHOTO.read_bytes())


def forget_photo() -> None:
    """Drops the kept photo and its answer from the session."""
    st.session_state.pop("newest_input", None)
    st.session_state.pop("photo_result", None)


def photo_result(engine, data: bytes, label: str, detector: str, names: list[str], tta: str | None, whole: bool):
    """The photo path's answer, computed once per photo (dropped when another photo comes) and choice: a
    click elsewhere on the page (Grad-CAM, the class to explain) reuses it rather than running detection and the
    models again."""
    key = (detector, tuple(names), tta, whole)
    cached = st.session_state.get("photo_result")
    if cached is None or cached[0] != key or cached[1]() is not engine:  # new models (artifacts changed) answer anew
        result = engine.predict_photo(data, detector, names=names, tta=tta, use_whole_image=whole, file=label)
        st.session_state.photo_result = cached = (key, weakref.ref(engine), result)
    return cached[2]


st.title("Try it")
st.caption("Upload a photo or take one with your camera. Each face is found, framed as FER-2013 frames its faces "
           "and turned into the 48x48 grayscale the models were trained on. Nothing is written to disk: the photo is "
           "kept in the server's memory for this browser tab until you replace or forget it, or the session ends.")
models, broken = load_models()
warn_broken(broken)
if not models:
    st.info(f"No trained models yet. {TRAIN_HINT}")
    st.stop()
engine = predictor()
for name, reason in engine.broken.items():
    if name not in broken:
        st.warning(f"**{name}** is left out: {reason}")
picked = chosen(models)
if not picked:
    st.info("No model is chosen: tick some in the sidebar.")
    st.stop()
names = [n for n in picked if n in engine.names]
if not names:
    st.info("None of the chosen models can run here: pick others in the sidebar.")
    st.stop()

detector = st.radio("Face detector", list(DETECTOR_LABELS), format_func=DETECTOR_LABELS.get, horizontal=True,
                    **kept("detector", "mtcnn"))
tta_choice = st.radio("Test-time augmentation (probabilities averaged over views of the face)",
                      ["validated", *TTA_MODES], format_func=TTA_LABELS.get, horizontal=True,
                      **kept("tta", "validated"))
# drawn on every run, before anything can stop the page, so that it keeps its state from photo to photo
show_gradcam = st.toggle("Why? Show Grad-CAM under the answers (a second pass over each face)",
                         **kept("show_gradcam", False))
upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a photo"])
uploaded = upload_tab.file_uploader("Photo (JPEG, PNG, WebP, BMP, TIFF…)", key="photo",
                                    on_change=remember, args=("photo",))
upload_tab.button("No photo at hand? Try a sample: the astronaut Eileen Collins (NASA, public domain)",
                  key="sample", on_click=use_sample)
shot = camera_tab.camera_input("Camera", key="camera", on_change=remember, args=("camera",))
if "newest_input" not in st.session_state:  # the newest was cleared: whichever input is left, if any
    for widget, value in (("photo", uploaded), ("camera", shot)):
        if value is not None:
            remember(widget)
            break
if "newest_input" not in st.session_state:
    st.stop()
source, label, data = st.session_state.newest_input
if source == "sample" or (uploaded or shot) is None:  # the sample, or back from another page with the photo kept
    note, forget = st.columns([4, 1], vertical_alignment="center")
    yours = " (or forget it to go back to yours)" if (uploaded or shot) is not None else ""
    note.caption(f"Showing the sample photo, **{label}**; upload or take a photo to try your own{yours}."
                 if source == "sample" else
                 f"Still showing **{label}** from your last visit; upload or take another photo to replace it.")
    if forget.button("Forget this photo", key="forget"):
        forget_photo()
        st.rerun()
whole = st.session_state.get("whole_image", False)
result = photo_result(engine, data, label, detector, names, None if tta_choice == "validated" else tta_choice, whole)
if result.error:
    st.error(f"Cannot use **{label}**: {result.error}")
    st.stop()
for note in result.notes:
    st.caption(f"The photo was {note}.")
timing = result.timing_ms
models_part = f"{len(names)} model(s) {timing['models']:.0f} ms · " if result.faces else ""
st.caption(f"Read {timing['read']:.0f} ms · detection {timing['detect']:.0f} ms ({detector}) · {models_part}"
           f"total {timing['total']:.0f} ms on this machine.")

found = [r for r in result.faces if r.face.box is not None or r.face.found_by == FACE_CROP]
if found and found[0].face.box is not None:
    st.image(draw_boxes(result.rgb, [r.face for r in found]), caption=f"{label}: {len(found)} face(s) found",
             width=min(PHOTO_WIDTH, result.rgb.shape[1]))
if not found:
    shown = ("the answer below is about its centre square, not a face" if whole else "no expression is shown")
    st.warning(f"**No face was found in {label}**, so {shown}. Use a photo where the face is large, "
               "frontal and well lit, or try the other detector.")
    st.image(result.rgb, caption=f"{label}: no face found", width=min(PHOTO_WIDTH, max(96, result.rgb.shape[1])))
    st.toggle("Show the models the whole image anyway", key="whole_image",
              help="Its centre square, as 48x48: the answer is then about the image, not a face, and is labelled so.")

titles = {n: m.title for n, m in models.items()}
for number, face_result in enumerate(result.faces, start=1):
    face = face_result.face
    heading = {FACE_CROP: "The image, taken as a face crop (it is small)",
               WHOLE_IMAGE: "Whole image: no face was found, so this is not a face's expression"}
    st.subheader(heading.get(face.found_by, f"Face {number}"))
    verdict = f"**{face_result.label}**, p = {face_result.probabilities[face_result.headline].max():.2f} by " \
              f"{titles.get(face_result.headline, face_result.headline)}"
    if face_result.doubts:
        st.warning(f"Uncertain: {verdict}. " + "; ".join(face_result.doubts) + ".")
    else:
        agree = "every model agrees and " if len(face_result.probabilities) > 1 else ""
        st.success(f"{verdict}; {agree}p ≥ {UNSURE_BELOW}.")
    left, right = st.columns([1, 4])
    turned = f", turned {abs(face.levelled):.0f}° to level the eyes" if face.levelled else ""
    left.image(face.pixels, caption=f"what the models see (48x48{turned})", width=144)
    per_model = face_result.probabilities
    right.plotly_chart(charts.probability_bars(per_model, {n: colour(n) for n in per_model}, titles),
                       width="stretch", key=f"face{number}")
    table = pd.DataFrame(per_model, index=list(CLASS_NAMES)).T
    table.insert(0, "says", [CLASS_NAMES[int(np.argmax(v))] for v in per_model.values()])
    table.index = [titles.get(n, n) for n in table.index]
    right.dataframe(
        table, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in CLASS_NAMES}
    )

if not result.faces or not show_gradcam:
    st.stop()
st.caption("Where each model looked: the last convolutional feature maps weighted by how much they raise the "
           "class's score (its logit before the softmax). It explains the face as it is, one view, without the "
           "test-time augmentation the bars above average over, so its class can differ from the bars. The maps "
           "are coarse at 48x48 input (CNN 6x6, VGG16 3x3, ResNet50V2 2x2) and smoothed up; the ensemble shows its "
           "members' maps averaged with its weights.")
target = st.selectbox("Explain", ["what each model predicted", *CLASS_NAMES])
class_index = None if target not in CLASS_NAMES else CLASS_NAMES.index(target)
for number, face_result in enumerate(result.faces, start=1):
    if len(result.faces) > 1:
        st.markdown(f"**Face {number}**")
    columns = st.columns(len(face_result.probabilities) or 1)
    for column, name in zip(columns, face_result.probabilities):
        try:
            heatmap, explained = explain_faces(models[name], face_result.face.pixels[None], class_index)
        except (ArtifactError, ExplainError) as error:
            column.warning(f"{titles[name]}: no Grad-CAM ({error})")
            continue
        explained_label = CLASS_NAMES[int(np.argmax(explained[0]))] if class_index is None else target
        column.image(overlay(face_result.face.pixels, heatmap[0]), width=168)
        blank = "; no region raises its score here, so the map is blank (a known limit of Grad-CAM)" \
            if heatmap[0].max() == 0 else ""
        column.caption(f"**{titles[name]}**: evidence for *{explained_label}* "
                       f"(p = {explained[0][CLASS_NAMES.index(explained_label)]:.2f}, one view){blank}")
