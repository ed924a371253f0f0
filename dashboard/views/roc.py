"""One-vs-rest ROC curves per class, with AUC, and the micro and macro averages."""

import streamlit as st

from core import charts
from core.report import roc_curves
from dashboard.common import page_models

st.title("ROC curves")
models = page_models()
if models:
    columns = st.columns(min(2, len(models)))
    for index, (name, model) in enumerate(models.items()):
        columns[index % len(columns)].plotly_chart(
            charts.roc_figure(roc_curves(model), model.title), width="stretch", key=f"roc-{name}"
        )
    st.caption("One class against the rest, from the test probabilities. Micro: every decision pooled; "
               "macro: the mean of the per-class curves. A class absent from the test split has no curve.")
