"""The misclassified test faces the models were surest about, and with Grad-CAM where the model looked."""

import numpy as np
import pandas as pd
import streamlit as st

from core.artifacts import MISTAKES_PER_CLASS, ArtifactError
from core.classes import CLASS_NAMES
from core.explain import ExplainError, overlay
from core.report import mistakes
from dashboard.common import explain_faces, page_models

st.title("Mistakes")
models = page_models()
if models:
    a, b, c = st.columns(3)
    name = a.selectbox("Model", list(models), format_func=lambda n: models[n].title)
    true_class = b.selectbox("True class", ["any", *CLASS_NAMES])
    predicted_class = c.selectbox("Predicted class", ["any", *CLASS_NAMES])
    found = mistakes(models[name], None if true_class == "any" else true_class,
                     None if predicted_class == "any" else predicted_class)
    truth, predicted, probabilities = found.true, found.predicted, found.probabilities
    st.caption(f"{len(truth)} of the {found.kept} most confident mistakes kept for this model "
               f"(at most {MISTAKES_PER_CLASS} per true class), surest first.")
    if len(truth) == 0:
        st.info("No mistake matches these filters.")
    explain = st.radio("Grad-CAM over each face", ["off", "evidence for what it said", "evidence for the true class"],
                       horizontal=True)
    faces = found.pixels
    if explain != "off" and len(faces):
        try:
            targets = (predicted if explain == "evidence for what it said" else truth).astype(np.int64)
            heatmaps, _ = explain_faces(models[name], faces, targets)
            faces = np.stack([overlay(face, heat, size=96) for face, heat in zip(faces, heatmaps)])
            blank = int((heatmaps.max(axis=(1, 2)) == 0).sum())
            st.caption(f"Grad-CAM, {explain}: red marks the regions that raised that class's score most."
                       + (f" {blank} face(s) show no region raising it (a blank map, a known limit of Grad-CAM)."
                          if blank else ""))
        except (ArtifactError, ExplainError) as error:
            st.warning(f"No Grad-CAM for this model: {error}")
    per_row = 6
    for start in range(0, len(faces), per_row):
        for column, i in zip(st.columns(per_row), range(start, min(start + per_row, len(faces)))):
            column.image(faces[i], width=96)
            column.caption(f"true **{CLASS_NAMES[truth[i]]}**, said **{CLASS_NAMES[predicted[i]]}** "
                           f"({probabilities[i].max():.0%})")
    if len(faces):
        st.subheader("Their probabilities")
        table = pd.DataFrame(probabilities, columns=list(CLASS_NAMES))
        table.insert(0, "predicted", [CLASS_NAMES[p] for p in predicted])
        table.insert(0, "true", [CLASS_NAMES[t] for t in truth])
        st.dataframe(table, width="stretch", hide_index=True,
                     column_config={n: st.column_config.NumberColumn(format="%.3f") for n in CLASS_NAMES})
