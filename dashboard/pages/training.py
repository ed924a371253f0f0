"""Training curves of the chosen models, overlaid."""

import streamlit as st

from dashboard import charts
from dashboard.common import colour, page_models

st.title("Training")
models = page_models()
if models:
    st.plotly_chart(charts.training_curves({n: m.history for n, m in models.items()},
                                           {n: colour(n) for n in models}, {n: m.title for n, m in models.items()}),
                    width="stretch")
    st.caption("Dotted: training; solid: validation; star: the best validation epoch, whose weights were kept. "
               "Validation alone chose the learning-rate drops, early stopping and the kept epoch.")
    cols = st.columns(len(models))
    for col, (name, model) in zip(cols, models.items()):
        card = model.card
        col.metric(model.title, f"best epoch {card.get('best_epoch')}", f"of {card.get('epochs_run')} run", delta_color="off")
        col.caption(f"{(card.get('wall_seconds') or 0) / 60:.1f} min, {card.get('train_images_per_second')} img/s, "
                    f"{card.get('dtype_policy')}, {card.get('initial_weights_label')}")
