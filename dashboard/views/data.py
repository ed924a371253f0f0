"""The data: class distribution per split, the imbalance, example faces, the class weights."""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core import charts
from core.classes import CLASS_NAMES
from dashboard.common import TRAIN_HINT, load_shared

st.title("Data")
summary, problem = load_shared("dataset.json")
if problem:
    st.error(f"The dataset summary cannot be shown: {problem}. Write it again with `python -m core data --data "
             "PATH --out artifacts`.")
    st.stop()
if summary is None:
    st.info(f"No dataset summary yet (`artifacts/dataset.json`). {TRAIN_HINT}")
    st.stop()
st.caption(
    f"Source: FER-2013, {summary['source']['form']} `{Path(summary['source']['path']).name}`; validation carved "
    "from the "
    f"training images ({summary['val_fraction']:.0%}, seed {summary['seed']}); test split: {summary['test_split']}."
)
st.plotly_chart(charts.class_distribution(summary), width="stretch")
train = summary["splits"]["train"]["counts"]
largest, smallest = max(train, key=train.get), min(train, key=train.get)
if train[largest] >= 2 * train[smallest]:
    st.warning(
        f"Imbalance: **{largest}** has {train[largest] / max(train[smallest], 1):.0f}x as many training images "
        f"as **{smallest}** ({train[smallest]} images, {summary['splits']['train']['fractions'][smallest]:.1%})."
    )
table = pd.DataFrame({
    **{f"{s} count": [summary["splits"][s]["counts"][c] for c in CLASS_NAMES] for s in ("train", "val", "test")},
    "train share": [summary["splits"]["train"]["fractions"][c] for c in CLASS_NAMES],
    "class weight": [summary["class_weights"].get(c) for c in CLASS_NAMES],
}, index=list(CLASS_NAMES))
counts, faces_column = st.columns([3, 2])
counts.subheader("Counts and class weights")
counts.dataframe(table, width="stretch", column_config={"train share": st.column_config.NumberColumn(format="%.3f"),
                                                        "class weight": st.column_config.NumberColumn(format="%.3f")})
counts.caption("Class weights: scikit-learn's balanced weights (n / (7 · count)) from the training counts; "
               "the class-weighted model multiplies each face's loss by its class's weight.")
report = summary.get("load_report", {})
if report.get("skipped") or report.get("converted"):
    counts.caption(
        f"Loading skipped {report.get('skipped', 0)} unreadable file(s) and converted {report.get('converted', 0)}."
    )
examples, problem = load_shared("dataset_examples.npz")
if problem:
    faces_column.warning(f"No example faces: {problem}")
if examples is not None:
    faces_column.subheader("Example faces")
    for label, name in enumerate(CLASS_NAMES):
        faces = examples["images"][examples["labels"] == label]
        if len(faces):
            faces_column.image(np.hstack(list(faces)), caption=name, width="stretch")
