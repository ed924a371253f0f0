"""How each chosen model trained: one panel per model, each on its own epoch scale."""

import streamlit as st

from core import charts
from dashboard.common import colour, page_models

st.title("Training")
chosen_models = page_models()
models = {name: model for name, model in chosen_models.items() if model.history is not None}
for name in set(chosen_models) - set(models):
    st.caption(f"{chosen_models[name].title} is not trained (it combines other models), so it has no curves.")
if models:
    show_events = st.toggle("Mark phase changes and warm restarts", value=False,
                            help="A dashed line after each epoch where the phase changed (fine-tuning, class weights "
                                 "on or off) or a warm restart began; hover its ▼ to see which.")
    st.caption("Accuracy per epoch: dotted on the training images (as trained: with the model's augmentation, if "
               "any, and dropout), solid on validation; "
               "the star is the epoch whose weights were kept, the best on validation (for a model whose class "
               "weights switch on late, the best after the switch). Below, the learning rate: a warm-up, then a "
               "cosine (or a fall by a quarter whenever validation stalls, for the plateau schedule); a run continued "
               "from a finished one starts a new warm-up (a warm restart).")
    for index, (name, model) in enumerate(models.items()):
        if index % 2 == 0:
            columns = st.columns(2)  # a row a pair, so that the charts side by side start at one height
        card = model.card
        with columns[index % 2]:
            st.markdown(f"**{model.title}**")
            st.plotly_chart(charts.training_panel(model.history, colour(name), model.title, card.get("best_epoch"),
                                                  show_events), width="stretch", key=f"training-{name}")
            events = charts.training_events(model.history) if show_events else {}
            st.caption(f"Kept epoch {card.get('best_epoch')} of {card.get('epochs_run')}, validation accuracy "
                       f"{card.get('best_val_accuracy') or 0:.4f}; {(card.get('wall_seconds') or 0) / 60:.0f} min, "
                       f"{card.get('train_images_per_second')} img/s, "
                       f"{card.get('dtype_policy')}, {card.get('initial_weights_label')}"
                       + "".join(f"; after epoch {epoch}: {label}" for epoch, label in events.items()))
