"""Precision, recall and F1 per class and model."""

import pandas as pd
import streamlit as st

from core.classes import CLASS_NAMES
from core import charts
from dashboard.common import colour, page_models

st.title("Per-class scores")
models = page_models()
if models:
    rows = [{"model": name, "class": c, **model.metrics["per_class"][c]} for name, model in models.items() for c in CLASS_NAMES]
    table = pd.DataFrame(rows)
    metric = st.radio("Score", ["f1", "precision", "recall"], horizontal=True)
    st.plotly_chart(charts.per_class_bars(table, metric, {n: colour(n) for n in models}, {n: m.title for n, m in models.items()}),
                    width="stretch")
    wide = table.pivot(index="class", columns="model", values=metric).reindex(list(CLASS_NAMES))[list(models)]
    wide.columns = [models[n].title for n in wide.columns]
    st.subheader(f"{metric} by class (click a column to sort)")
    st.dataframe(wide, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f") for c in wide.columns})
    st.subheader("Classification reports")
    for name, model in models.items():
        with st.expander(model.title):
            st.code(model.metrics["classification_report"], language=None)
