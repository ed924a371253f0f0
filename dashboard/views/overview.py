"""Overview: which model is best, what it costs, where each is strong, and how each was made."""

import math

import streamlit as st

from core import artifacts, charts
from core.models import REGISTRY, TRAINED_MODELS
from core.report import (
    COST_COLUMNS,
    MISSING,
    QUALITY_COLUMNS,
    TIE_WITHIN,
    best_first,
    comparison_csv,
    cost_points,
    ensemble_note,
    fastest,
    leaderboard,
    per_class_wide,
    random_init_note,
    report_html,
    tta_table,
)
from dashboard.common import TRAIN_HINT, colour, load_models, load_shared, model_card_text, page_models

st.title("FER-2013 model lab")
st.caption("Facial-expression classifiers trained on FER-2013, compared on the same test split. "
           "Pick the models to compare in the sidebar; every page follows that choice.")


models = page_models()
if not models:
    st.stop()
photo_benchmark, problem = load_shared(artifacts.PHOTO_BENCHMARK)
if problem:
    st.warning(f"No latencies: {problem}")
board = best_first(leaderboard(models, photo_benchmark))
best = board.iloc[0]
quickest = fastest(board)
left, middle, right = st.columns(3)
left.metric("Most accurate", f"{best['test accuracy']:.1%}", best["title"], delta_color="off", delta_arrow="off",
            border=True, help="Share of the test faces it labels right.")
top_f1 = board.loc[board["macro F1"].idxmax()]
middle.metric("Best macro F1", f"{top_f1['macro F1']:.3f}", top_f1["title"], delta_color="off", delta_arrow="off",
              border=True, help="F1 averaged over the seven classes, each counting alike: rare disgust as much as "
                                "common happy.")
if len(quickest):
    titles = list(quickest["title"])
    tied = f" Tied: {', '.join(titles)}." if len(titles) > 1 else ""
    right.metric("Fastest", f"{quickest.iloc[0]['latency ms']:.1f} ms a face",
                 titles[0] + (f" and {len(titles) - 1} more" if tied else ""),  # the names in full would be cut off
                 delta_color="off", delta_arrow="off", border=True,
                 help="One face through the model as the Try it page runs it, with the test-time augmentation "
                      f"validation chose, median (`python -m core photo-benchmark`); models within {TIE_WITHIN:.0%} "
                      f"of it tie.{tied}")

number = st.column_config.NumberColumn
# the bars span the models' range, in steps of 0.05, so that 0.63 and 0.69 look apart
low = math.floor(board["test accuracy"].min() * 20) / 20
high = max(math.ceil(board["test accuracy"].max() * 20) / 20, low + 0.05)
st.subheader("Quality")
st.dataframe(board[list(QUALITY_COLUMNS)].rename(columns={"title": "model"}), hide_index=True, width="stretch",
             placeholder=MISSING, column_config={
    "test accuracy": st.column_config.ProgressColumn(format="%.4f", min_value=low, max_value=high),
    **{c: number(format="%.3f") for c in ("macro F1", "weighted F1", "disgust recall", "macro ROC AUC", "ECE")},
})
st.caption(f"Test split: {', '.join(sorted({m.metrics.get('test_split') or MISSING for m in models.values()}))}; "
           f"the accuracy bars run from {low:.2f} to {high:.2f}. TTA: the test-time augmentation each model's "
           "scores use, "
           "chosen on validation. ECE: expected calibration error (Calibration page).")
st.subheader("Cost")
st.dataframe(board[list(COST_COLUMNS)].rename(columns={"title": "model"}), hide_index=True, width="stretch",
             placeholder=MISSING, column_config={
    "latency ms": number(format="%.1f"),
    "file MB": number(format="%.1f"), "parameters": number(format="%,d"), "training min": number(format="%.0f"),
    "train img/s": number(format="%.0f"),
})
detection = (photo_benchmark or {}).get("detectors", {}).get("mtcnn", {}).get("median_ms", {}).get("detect")
st.caption("Latency: one face through the model as the Try it page runs it (the views of its validated test-time "
           "augmentation in one call; the ensemble with its members), median, from `python -m core photo-benchmark`"
           + (f"; finding the face comes on top ({detection:.0f} ms a photo with MTCNN)" if detection else "")
           + ". Training minutes (validation included) and img/s (training steps only) as measured on the machine "
           "each model trained on.")
all_models, broken = load_models()
for model in (m for m in models.values() if m.ensemble):
    st.caption(ensemble_note(model, {name: m.title for name, m in all_models.items()}))
random_init = random_init_note(models)
if random_init:
    st.info(random_init)
untrained = [REGISTRY[name].title for name in TRAINED_MODELS if name not in all_models and name not in broken]
if untrained:
    st.info(f"Not trained yet: {', '.join(untrained)}. {TRAIN_HINT}")

chart, heatmap = st.columns(2)
with chart:
    cost = st.radio("Accuracy against", ["latency ms", "file MB"], horizontal=True,
                    format_func={"latency ms": "latency", "file MB": "file size"}.get)
    points = cost_points(board, cost)
    if len(points):
        figure = charts.accuracy_against_cost(points, {n: colour(n) for n in points["model"]})
        figure.update_xaxes(title_text="latency for one face (ms, log scale)" if cost == "latency ms"
                            else "model file (MB, log scale)")
        st.plotly_chart(figure, width="stretch")
    else:
        st.info("No model has that measured yet: run `python -m core photo-benchmark --data PATH` "
                "(latency) or train one (file size).")
with heatmap:
    st.markdown("**F1 per class** (rows: models)")
    st.plotly_chart(charts.score_heatmap(per_class_wide(models, "f1").T, "F1"), width="stretch")

tta = tta_table(models)
if not tta.empty:
    with st.expander("Test-time augmentation, measured on validation and test"):
        st.dataframe(tta, width="stretch", column_config={c: number(format="%.4f") for c in tta.columns})
        st.caption("Accuracy with the probabilities averaged over: the face alone, the face and its mirror image, "
                   "and those two each shifted by 2 pixels four ways. Validation picks; test only measures.")

st.subheader("How each model was made")
for model in models.values():
    with st.expander(model.title):
        card = model_card_text(model.name)
        st.markdown(card or f"{model.card.get('description', '')}\n\nNo model card yet: run `python -m core cards`.")

left, right = st.columns(2)  # each file is written when its button is clicked, not with every run of the page
left.download_button("Download the comparison (CSV)", lambda: comparison_csv(models, photo_benchmark),
                     "fer-lab-metrics.csv", "text/csv",
                     help="Every chosen model's scores and per-class precision, recall and F1.")
right.download_button("Download the report (HTML)", lambda: report_html(models, broken, photo_benchmark),
                      "fer-lab-report.html", "text/html",
                      help="Leaderboard, per-class table, confusion matrices, ROC curves and reliability "
                           "diagrams of the chosen models; opens offline. `python -m core report` writes it for "
                           "every model.")
