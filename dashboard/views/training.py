"""Training curves of the chosen models, overlaid."""

import streamlit as st

from core import charts
from dashboard.common import colour, page_models


def events_caption(history) -> str:
    """'; after epoch 16: class weights on; after epoch 20: class weights off, warm restart' (or empty)."""
    return "".join(f"; after epoch {epoch}: {label}" for epoch, label in charts.training_events(history).items())


st.title("Training")
chosen_models = page_models()
models = {name: model for name, model in chosen_models.items() if model.history is not None}
for name in set(chosen_models) - set(models):
    st.caption(f"{chosen_models[name].title} is not trained (it combines other models), so it has no curves.")
if models:
    st.plotly_chart(charts.training_curves({n: m.history for n, m in models.items()},
                                           {n: colour(n) for n in models}, {n: m.title for n, m in models.items()},
                                           {n: m.card.get("best_epoch") for n, m in models.items()}),
                    width="stretch")
    st.caption("Dotted: training; solid: validation; star: the epoch whose weights were kept, the best on "
               "validation (after the switch, for a model whose class weights switch on late: the weights from "
               "before it would undo them). Dashed lines in the model's colour: a change of phase or a warm "
               "restart; hover the ▼ above the accuracy panel to see which, and each model's line below lists "
               "them. The learning rate warms up, then follows a cosine over the epoch budget; a run "
               "continued from a finished one starts a new warm-up and cosine (a warm restart). Validation alone "
               "chose the kept epoch and early stopping.")
    cols = st.columns(len(models))
    for col, model in zip(cols, models.values()):
        card = model.card
        col.metric(
            model.title, f"kept epoch {card.get('best_epoch')}", f"of {card.get('epochs_run')} run", delta_color="off"
        )
        col.caption(f"{(card.get('wall_seconds') or 0) / 60:.1f} min, {card.get('train_images_per_second')} img/s, "
                    f"{card.get('dtype_policy')}, {card.get('initial_weights_label')}"
                    + events_caption(model.history))
