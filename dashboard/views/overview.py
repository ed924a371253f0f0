"""Leaderboard: the chosen models' headline numbers side by side, and the comparison to download."""

import streamlit as st

from core.models import REGISTRY, TRAINED_MODELS
from core.report import MISSING, best_first, comparison_csv, leaderboard, random_init_titles, report_html, tta_table
from dashboard.common import TRAIN_HINT, ModelArtifacts, load_models, load_shared, page_models

st.title("FER-2013 model lab")
st.caption("Facial-expression classifiers trained on FER-2013, compared on the same test split. "
           "Pick the models to compare in the sidebar; every page follows that choice.")


@st.cache_data(show_spinner="Writing the report…")
def downloads(_models: dict[str, ModelArtifacts], _broken: dict, signature: tuple) -> tuple[str, str]:
    return comparison_csv(_models), report_html(_models, _broken)


models = page_models()
if models:
    benchmark = load_shared("benchmark.json")[0] or {}
    latency = {
        r["model"]: r.get("latency_ms_batch1") for r in benchmark.get("results", []) if r["precision"] == "float32"
    }
    table = leaderboard(models)
    table.insert(len(table.columns), "latency ms (1 image)", [latency.get(name) for name in table["model"]])
    table = best_first(table.drop(columns="model").rename(columns={"title": "model"}))
    number = st.column_config.NumberColumn
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder=MISSING,
        column_config={
            "model": st.column_config.TextColumn(pinned=True),  # stays in view when the wide table scrolls
            "test accuracy": st.column_config.ProgressColumn(format="%.4f", min_value=0, max_value=1),
            **{
                c: number(format="%.4f")
                for c in ("macro F1", "weighted F1", "macro ROC AUC", "ECE", "ECE after temperature")
            },
            "disgust recall": number(format="%.3f"),
            "temperature": number(format="%.2f"),
            "file MB": number(format="%.1f"),
            "training min": number(format="%.1f"),
            "train img/s": number(format="%.1f"),
            "parameters": number(format="%,d"),
        },
    )
    splits = {m.metrics.get("test_split") for m in models.values()}
    st.caption(f"Test split: {', '.join(sorted(s for s in splits if s))}. TTA: the test-time augmentation each "
               "model's scores use, chosen on validation. Latency: float32 inference model, batch of 1, median "
               "(from `python -m core benchmark`).")
    random_init = random_init_titles(models)
    if random_init:
        st.info(f"Trained from random initialisation, not ImageNet: {', '.join(random_init)}.")
    all_models, broken = load_models()
    untrained = [REGISTRY[name].title for name in TRAINED_MODELS if name not in all_models and name not in broken]
    if untrained:
        st.info(f"Not trained yet: {', '.join(untrained)}. {TRAIN_HINT}")

    both = tta_table(models)
    if not both.empty:
        st.subheader("Test-time augmentation, measured")
        st.dataframe(
            both, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.4f") for c in both.columns}
        )
        st.caption("Accuracy with the probabilities averaged over: the face alone, the face and its mirror image, "
                   "and those two each shifted by 2 pixels four ways. Validation picks; test only measures.")

    signature = tuple(sorted((n, m.card.get("trained_at"), m.metrics["accuracy"]) for n, m in models.items()))
    csv_text, html_text = downloads(models, broken, signature)
    left, right = st.columns(2)
    left.download_button("Download the comparison (CSV)", csv_text, "fer-lab-metrics.csv", "text/csv",
                         help="Every chosen model's scores and per-class precision, recall and F1.")
    right.download_button("Download the report (HTML)", html_text, "fer-lab-report.html", "text/html",
                          help="Leaderboard, per-class table, confusion matrices, ROC curves and reliability "
                               "diagrams; opens offline. `python -m core report` writes the same.")
    for model in models.values():
        with st.expander(f"{model.title}: how it was made"):
            st.write(model.card.get("description", ""))
            if model.ensemble:
                st.write("Weights, chosen on validation: " + ", ".join(
                    f"{member} {weight:.1f}" for member, weight in model.members.items()))
            st.json(model.card, expanded=False)
