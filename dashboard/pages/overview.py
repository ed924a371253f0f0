"""Leaderboard: the chosen models' headline numbers, side by side."""

import pandas as pd
import streamlit as st

from dashboard.common import load_shared, page_models

st.title("FER-2013 model lab")
st.caption("Facial-expression classifiers trained on FER-2013, compared on the same test split. "
           "Pick the models to compare in the sidebar; every page follows that choice.")
models = page_models()
if models:
    benchmark = load_shared("benchmark.json") or {}
    latency = {(r["model"], r["precision"]): r for r in benchmark.get("results", [])}
    rows = []
    for name, model in models.items():
        card, metrics = model.card, model.metrics
        speed = latency.get((name, "float32"), {})
        rows.append({
            "model": model.title, "test accuracy": metrics["accuracy"], "macro F1": metrics["macro_f1"],
            "weighted F1": metrics["weighted_f1"], "disgust recall": metrics["per_class"]["disgust"]["recall"],
            "initial weights": card.get("initial_weights_label"), "parameters": card.get("parameters"),
            "file MB": card.get("file_size_bytes", 0) / 1e6, "epochs": card.get("epochs_run"),
            "training min": (card.get("wall_seconds") or 0) / 60, "train img/s": card.get("train_images_per_second"),
            "latency ms (1 image)": speed.get("latency_ms_batch1"),
        })
    table = pd.DataFrame(rows).sort_values("test accuracy", ascending=False)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "test accuracy": st.column_config.ProgressColumn(format="%.4f", min_value=0, max_value=1),
        "macro F1": st.column_config.NumberColumn(format="%.4f"),
        "weighted F1": st.column_config.NumberColumn(format="%.4f"),
        "disgust recall": st.column_config.NumberColumn(format="%.3f"),
        "file MB": st.column_config.NumberColumn(format="%.1f"),
        "training min": st.column_config.NumberColumn(format="%.1f"),
        "parameters": st.column_config.NumberColumn(format="%d"),
    })
    splits = {m.metrics.get("test_split") for m in models.values()}
    st.caption(f"Test split: {', '.join(sorted(s for s in splits if s))}. Latency: float32 inference model, "
               "batch of 1, median (from `python -m core benchmark`).")
    random_init = [m.title for m in models.values() if m.card.get("initial_weights") == "none" and m.card.get("architecture") != "cnn"]
    if random_init:
        st.info(f"Trained from random initialisation, not ImageNet: {', '.join(random_init)}.")
    for name, model in models.items():
        with st.expander(f"{model.title}: how it was made"):
            st.write(model.card.get("description", ""))
            st.json(model.card, expanded=False)
