"""The test faces each model got wrong most confidently, a page at a time, with Grad-CAM on request."""

import math

import numpy as np
import streamlit as st

from core.artifacts import MISTAKES_PER_CLASS, ArtifactError
from core.classes import CLASS_NAMES
from core.explain import ExplainError, overlay
from core.report import mistakes
from dashboard.common import explain_faces, page_models

PER_PAGE = 18
PER_ROW = 6
GRADCAM_CHOICES = ["off", "evidence for what it said", "evidence for the true class"]

st.title("Mistakes")
models = page_models()
if not models:
    st.stop()
a, b, c = st.columns(3)
name = a.selectbox("Model", list(models), format_func=lambda n: models[n].title)
true_class = b.selectbox("True class", ["any", *CLASS_NAMES])
predicted_class = c.selectbox("Predicted class", ["any", *CLASS_NAMES])
found = mistakes(models[name], None if true_class == "any" else true_class,
                 None if predicted_class == "any" else predicted_class)
pages = max(1, math.ceil(len(found.true) / PER_PAGE))
left, right = st.columns([1, 2])
page = left.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1) if pages > 1 else 1
explain = right.radio("Grad-CAM over each face", GRADCAM_CHOICES, horizontal=True)
shown = slice((page - 1) * PER_PAGE, page * PER_PAGE)
truth, predicted, probabilities = found.true[shown], found.predicted[shown], found.probabilities[shown]
if not len(found.true):
    st.info("No mistake matches these filters.")
    st.stop()
filtered = "" if len(found.true) == found.kept else f", {len(found.true)} of which match the filters"
st.caption(f"{models[name].title} gets {found.made:,} of the {len(models[name].predictions['y_true']):,} test faces "
           f"wrong; its {found.kept} surest mistakes are kept (at most {MISTAKES_PER_CLASS} per true class){filtered}. "
           f"Surest first: faces {shown.start + 1}–{shown.start + len(truth)} here.")
faces = found.pixels[shown]
if explain != "off":
    try:
        targets = (predicted if explain == GRADCAM_CHOICES[1] else truth).astype(np.int64)
        heatmaps, _ = explain_faces(models[name], faces, targets)
        faces = np.stack([overlay(face, heat, size=96) for face, heat in zip(faces, heatmaps)])
        blank = int((heatmaps.max(axis=(1, 2)) == 0).sum())
        st.caption(f"Grad-CAM, {explain}: red marks the regions that raised that class's score most."
                   + (f" {blank} face(s) show no region raising it (a blank map, a known limit of Grad-CAM)."
                      if blank else ""))
    except (ArtifactError, ExplainError) as error:
        st.warning(f"No Grad-CAM for this model: {error}")
for start in range(0, len(faces), PER_ROW):
    for column, i in zip(st.columns(PER_ROW), range(start, min(start + PER_ROW, len(faces)))):
        top = np.argsort(-probabilities[i])[:3]
        column.image(faces[i], width=96)
        column.caption(f"true **{CLASS_NAMES[truth[i]]}**, said **{CLASS_NAMES[predicted[i]]}**  \n"
                       # lines break only after a dot, never inside "sad 0.02"
                       + "\u00a0· ".join(f"{CLASS_NAMES[k]}\u00a0{probabilities[i][k]:.2f}" for k in top))
