"""Precision, recall and F1 per class and model."""

import streamlit as st

from core import charts
from core.report import per_class_table, per_class_wide
from dashboard.common import colour, page_models

st.title("Per-class scores")
models = page_models()
if models:
    table = per_class_table(models)
    metric = st.radio("Score", ["f1", "precision", "recall"], horizontal=True)
    st.plotly_chart(
        charts.per_class_bars(table, metric, {n: colour(n) for n in models}, {n: m.title for n, m in models.items()}),
        width="stretch",
    )
    wide = per_class_wide(models, metric)
    st.subheader(f"{metric.capitalize()} by class (click a column to sort)")
    st.dataframe(
        wide, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in wide.columns}
    )
    st.subheader("Classification reports")
    for model in models.values():
        with st.expander(model.title):
            st.code(model.metrics["classification_report"], language=None)
