"""Try the models on a photo: find the faces, crop them to 48x48 grayscale, show every model's probabilities
and, with Grad-CAM, where on the face each model looked."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from core import charts
from core.artifacts import ArtifactError
from core.classes import CLASS_NAMES
from core.evaluate import TTA_MODES
from core.explain import ExplainError, overlay
from core.faces import Face, PhotoError, centre_crop, draw_boxes, find_faces, read_photo
from dashboard.common import TRAIN_HINT, chosen, colour, explain_faces, load_models, predict_faces, warn_broken

DETECTOR_LABELS = {"mtcnn": "MTCNN (~180 ms, a confidence per face)", "haar": "OpenCV Haar cascade (~80 ms)"}
TTA_LABELS = {"validated": "each model's choice (made on validation)", "none": "none", "flip": "mirror",
              "flip+shift": "mirror x 2-pixel shifts (10 views)"}

st.title("Try it")
st.caption("Upload a photo or take one with your camera. Faces are found, cropped and turned into the 48x48 "
           "grayscale the models were trained on. Nothing is stored.")
models, broken = load_models()
warn_broken(broken)
if not models:
    st.info(f"No trained models yet. {TRAIN_HINT}")
    st.stop()

models = chosen(models) or models
detector = st.radio("Face detector", list(DETECTOR_LABELS), format_func=DETECTOR_LABELS.get, horizontal=True)
tta_choice = st.radio("Test-time augmentation (probabilities averaged over views of the face)",
                      ["validated", *TTA_MODES], format_func=TTA_LABELS.get, horizontal=True)
upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a photo"])
uploaded = upload_tab.file_uploader("Photo (JPEG, PNG, WebP, BMP, TIFF…)", key="photo")
shot = camera_tab.camera_input("Camera", key="camera")
source = uploaded or shot
if source is None:
    st.stop()

try:
    photo = read_photo(source.getvalue())
except PhotoError as error:
    st.error(f"Cannot use **{getattr(source, 'name', 'this file')}**: {error}")
    st.stop()
for note in photo.notes:
    st.caption(f"The photo was {note}.")

started = time.perf_counter()
faces = find_faces(photo.rgb, detector)
detect_ms = (time.perf_counter() - started) * 1000
if not faces:
    st.warning("No face was found in this photo. Showing the models the whole image, centre-cropped, instead; "
               "for better results use a photo where the face is large, frontal and well lit, or try the other detector.")
    faces = [Face(box=None, pixels=centre_crop(photo.rgb))]
    st.image(photo.rgb, caption="No face found", width=360)
else:
    st.image(draw_boxes(photo.rgb, faces), caption=f"{len(faces)} face(s) found", width=480)

batch = np.stack([face.pixels for face in faces])
probabilities, started = {}, time.perf_counter()
for name, model in models.items():
    try:
        probabilities.update(predict_faces({name: model}, batch, None if tta_choice == "validated" else tta_choice))
    except ArtifactError as error:
        st.warning(f"**{name}** is left out: {error}")
predict_ms = (time.perf_counter() - started) * 1000
st.caption(f"Detection {detect_ms:.0f} ms ({detector}); {len(probabilities)} model(s) {predict_ms:.0f} ms.")

titles = {n: m.title for n, m in models.items()}
for number, face in enumerate(faces, start=1):
    st.subheader(f"Face {number}" if face.box else "Whole image (centre crop)")
    left, right = st.columns([1, 4])
    left.image(face.pixels, caption="what the models see (48x48)", width=144)
    per_model = {name: p[number - 1] for name, p in probabilities.items()}
    right.plotly_chart(charts.probability_bars(per_model, {n: colour(n) for n in per_model}, titles),
                       width="stretch", key=f"face{number}")
    table = pd.DataFrame(per_model, index=list(CLASS_NAMES)).T
    table.insert(0, "says", [CLASS_NAMES[int(np.argmax(v))] for v in per_model.values()])
    table.index = [titles[n] for n in table.index]
    right.dataframe(table, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in CLASS_NAMES})

st.header("Why? Grad-CAM")
st.caption("Where each model looked: the last convolutional feature maps weighted by how much they raise the "
           "class's score (its logit before the softmax). The maps are coarse at 48x48 input (CNN 6x6, VGG16 3x3, ResNet50V2 2x2) and are "
           "smoothed up; the ensemble shows its members' maps averaged with its weights. Computed on the face "
           "itself, without test-time augmentation.")
target = st.selectbox("Explain", ["what each model predicted", *CLASS_NAMES])
class_index = None if target not in CLASS_NAMES else CLASS_NAMES.index(target)
for number, face in enumerate(faces, start=1):
    if len(faces) > 1:
        st.markdown(f"**Face {number}**")
    columns = st.columns(len(probabilities) or 1)
    for column, name in zip(columns, probabilities):
        try:
            heatmap, explained = explain_faces(models[name], face.pixels[None], class_index)
        except (ArtifactError, ExplainError) as error:
            column.warning(f"{titles[name]}: no Grad-CAM ({error})")
            continue
        label = CLASS_NAMES[int(np.argmax(explained[0]))] if class_index is None else target
        column.image(overlay(face.pixels, heatmap[0]), width=168)
        blank = "; no region raises its score here, so the map is blank (a known limit of Grad-CAM)" \
            if heatmap[0].max() == 0 else ""
        column.caption(f"**{titles[name]}**: evidence for *{label}* "
                       f"(p = {explained[0][CLASS_NAMES.index(label)]:.2f}){blank}")
