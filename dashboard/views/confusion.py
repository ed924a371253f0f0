"""Confusion matrices, two models side by side, and their difference."""

import streamlit as st

from core import charts
from core.report import confusion
from dashboard.common import page_models

st.title("Confusion matrices")
models = page_models()
if models:
    names = list(models)
    normalised = st.toggle("Row-normalised (share of each true class)", value=True)

    def matrix(name):
        return confusion(models[name], normalised)

    left, right = st.columns(2)
    first = left.selectbox("Model", names, index=0, format_func=lambda n: models[n].title)
    second = right.selectbox(
        "Compared with", names, index=min(1, len(names) - 1), format_func=lambda n: models[n].title
    )
    left.plotly_chart(
        charts.confusion_heatmap(matrix(first), models[first].title, normalised), width="stretch", key="first"
    )
    right.plotly_chart(
        charts.confusion_heatmap(matrix(second), models[second].title, normalised), width="stretch", key="second"
    )
    if first != second:
        st.plotly_chart(
            charts.confusion_heatmap(
                matrix(second) - matrix(first),
                f"{models[second].title} minus {models[first].title}",
                normalised,
                diverging=True,
            ),
            width="stretch",
            key="difference",
        )
        st.caption("Blue: more faces in that cell for the second model; red: fewer. On the diagonal, blue is better.")
