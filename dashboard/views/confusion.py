"""Confusion matrices, two models side by side, and what changes from one to the other."""

import streamlit as st

from core import charts
from core.report import confusion
from dashboard.common import page_models

st.title("Confusion matrices")
models = page_models()
if models:
    names = list(models)
    normalised = st.toggle("Row-normalised (share of each true class)", value=True)
    left, right = st.columns(2)
    first = left.selectbox("Model", names, index=0, format_func=lambda n: models[n].title)
    second = right.selectbox("Compared with", names, index=min(1, len(names) - 1),
                             format_func=lambda n: models[n].title)
    left.plotly_chart(charts.confusion_heatmap(confusion(models[first], normalised), models[first].title, normalised),
                      width="stretch", key="first")
    right.plotly_chart(charts.confusion_heatmap(confusion(models[second], normalised), models[second].title,
                                                normalised), width="stretch", key="second")
    if first != second:
        difference = confusion(models[second], normalised) - confusion(models[first], normalised)
        st.plotly_chart(charts.confusion_difference(difference, f"{models[second].title} minus {models[first].title}",
                                                    normalised), width="stretch", key="difference")
        st.caption(f"Each cell: {models[second].title}'s figure minus {models[first].title}'s. Blue where the second "
                   "model is better (more faces on the diagonal, fewer in a wrong cell), red where it is worse.")
