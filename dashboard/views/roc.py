"""One-vs-rest ROC curves: every chosen model on one class, or one model on every class."""

import streamlit as st

from core import charts
from core.classes import CLASS_NAMES
from core.report import roc_curves
from dashboard.common import colour, page_models

st.title("ROC curves")
models = page_models()
if models:
    by_class, by_model = st.tabs(["Models on one class", "One model, every class"])
    with by_class:
        label = st.segmented_control("Class", [*CLASS_NAMES, "micro average", "macro average"], default="disgust")
        label = label or "disgust"
        curves = {model.title: roc_curves(model)[label] for model in models.values()}
        missing = [title for title, curve in curves.items() if curve is None]
        st.plotly_chart(charts.roc_figure(curves, f"{label}: every chosen model",
                                          {m.title: colour(n) for n, m in models.items()}), width="stretch")
        if missing:
            st.caption(f"No curve for {', '.join(missing)}: the class is absent from its test split.")
    with by_model:
        name = st.selectbox("Model", list(models), format_func=lambda n: models[n].title)
        st.plotly_chart(charts.roc_figure(roc_curves(models[name]), models[name].title), width="stretch")
    st.caption("One class against the rest, from the test probabilities; the legend gives each curve's area under "
               "it (AUC: 0.5 is chance, 1 is perfect). Micro: every decision pooled; macro: the mean of the "
               "per-class curves.")
