"""Try the models on a photo: find the faces, crop them to 48x48 grayscale, show every model's probabilities."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from core.artifacts import ArtifactError
from core.classes import CLASS_NAMES
from core.faces import Face, PhotoError, centre_crop, draw_boxes, find_faces, read_photo
from dashboard import charts
from dashboard.common import TRAIN_HINT, colour, keras_model, load_models, warn_broken

DETECTOR_LABELS = {"mtcnn": "MTCNN (~180 ms, a confidence per face)", "haar": "OpenCV Haar cascade (~80 ms)"}

st.title("Try it")
st.caption("Upload a photo or take one with your camera. Faces are found, cropped and turned into the 48x48 "
           "grayscale the models were trained on. Nothing is stored.")
models, broken = load_models()
warn_broken(broken)
if not models:
    st.info(f"No trained models yet. {TRAIN_HINT}")
    st.stop()

detector = st.radio("Face detector", list(DETECTOR_LABELS), format_func=DETECTOR_LABELS.get, horizontal=True)
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

batch = np.stack([face.pixels for face in faces])[..., None].astype(np.float32)
probabilities, started = {}, time.perf_counter()
for name in models:
    try:
        probabilities[name] = np.asarray(keras_model(name).predict_on_batch(batch), np.float32)
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
