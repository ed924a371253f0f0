"""Plotly figures for the dashboard and the report: each takes plain data and returns a figure."""

from __future__ import annotations

from collections import Counter

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.artifacts import model_order, warm_restarts
from core.classes import CLASS_NAMES

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


PHASE_LABELS = {"finetune": "fine-tuning", "reweighted": "class weights on"}


def phase_change_label(before: str, after: str) -> str:
    """What a change of training phase did: leaving the class-weighted phase switches the weights off."""
    return "class weights off" if before == "reweighted" else PHASE_LABELS.get(after, after)


def model_colour(name: str) -> str:
    """One colour per model, the same on every page and in the report (by registry position)."""
    return PALETTE[model_order(name)[0] % len(PALETTE)]


def class_distribution(summary: dict) -> go.Figure:
    figure = go.Figure()
    for split in ("train", "val", "test"):
        entry = summary["splits"][split]
        figure.add_bar(name=f"{split} ({entry['total']})", x=list(CLASS_NAMES),
                       y=[entry["counts"][c] for c in CLASS_NAMES],
                       customdata=[100 * entry["fractions"][c] for c in CLASS_NAMES],
                       hovertemplate="%{x}: %{y} images (%{customdata:.1f} %)<extra>" + split + "</extra>")
    figure.update_layout(barmode="group", yaxis_title="images", height=380, margin=dict(t=30))
    return figure


def training_events(history) -> dict[int, str]:
    """What changed after each epoch where something did, e.g. {20: "class weights off, warm restart"}: a change
    of phase (fine-tuning, class weights on or off) or a continued run's warm restart."""
    events: dict[int, list[str]] = {}
    previous = history["phase"].shift()
    changes = history[history["phase"] != previous].iloc[1:]
    for epoch, before, after in zip(changes["epoch"], previous[changes.index], changes["phase"]):
        events.setdefault(int(epoch) - 1, []).append(phase_change_label(before, after))
    for epoch in warm_restarts(history):
        events.setdefault(epoch, []).append("warm restart")
    return {epoch: ", ".join(labels) for epoch, labels in sorted(events.items())}


def training_curves(histories: dict, colours: dict, titles: dict, kept_epochs: dict) -> go.Figure:
    """Loss, accuracy and learning rate per epoch; training dotted, validation solid, the kept epoch
    starred, and a dashed line after each epoch in ``training_events``, with a marker above the accuracy
    panel whose hover text says what changed (text labels on the plot crowd out the curves)."""
    figure = make_subplots(rows=1, cols=3, subplot_titles=("loss", "accuracy", "learning rate"))
    figure.update_annotations(yshift=14)  # the panel titles, raised above the row of markers
    markers_at = Counter()  # markers already at an x, so that a second model's marker sits beside the first
    for name, history in histories.items():
        colour, title = colours[name], titles[name]
        for column, col in (("loss", 1), ("accuracy", 2)):
            figure.add_scatter(x=history["epoch"], y=history[column], mode="lines", line=dict(color=colour, dash="dot"),
                               name=f"{title} train", legendgroup=name, showlegend=col == 1, row=1, col=col)
            figure.add_scatter(x=history["epoch"], y=history[f"val_{column}"], mode="lines", line=dict(color=colour),
                               name=f"{title} val", legendgroup=name, showlegend=col == 1, row=1, col=col)
        kept = history[history["epoch"] == kept_epochs[name]]
        figure.add_scatter(x=kept["epoch"], y=kept["val_accuracy"], mode="markers",
                           marker=dict(symbol="star", size=14, color=colour), name=f"{title} kept epoch",
                           legendgroup=name, showlegend=False, row=1, col=2,
                           hovertemplate=f"{title}: kept epoch %{{x}}, val accuracy %{{y:.4f}}<extra></extra>")
        figure.add_scatter(
            x=history["epoch"],
            y=history["learning_rate"],
            mode="lines+markers",
            line=dict(color=colour),
            name=f"{title} lr",
            legendgroup=name,
            showlegend=False,
            row=1,
            col=3,
        )
        for epoch, label in training_events(history).items():
            x = epoch + 0.5
            figure.add_vline(x=x, line=dict(color=colour, dash="dash", width=1))
            figure.add_annotation(x=x, y=1, xref="x2", yref="y2 domain", yanchor="bottom", text="▼", showarrow=False,
                                  xshift=10 * markers_at[x], font=dict(color=colour, size=11),
                                  hovertext=f"{title}, after epoch {epoch}: {label}")
            markers_at[x] += 1
    figure.update_yaxes(type="log", row=1, col=3)
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(height=430, margin=dict(t=55), legend=dict(orientation="h", y=-0.25))
    return figure


def per_class_bars(table, metric: str, colours: dict, titles: dict) -> go.Figure:
    figure = go.Figure()
    for name, rows in table.groupby("model", sort=False):
        figure.add_bar(name=titles[name], x=rows["class"], y=rows[metric], marker_color=colours[name],
                       hovertemplate="%{x}: %{y:.3f}<extra>" + titles[name] + "</extra>")
    figure.update_layout(barmode="group", yaxis=dict(title=metric, range=[0, 1]), height=400, margin=dict(t=30))
    return figure


def confusion_heatmap(matrix: np.ndarray, title: str, normalised: bool, diverging: bool = False) -> go.Figure:
    text = np.vectorize(lambda v: f"{v:.2f}" if normalised else f"{int(v)}")(matrix)
    limit = float(np.abs(matrix).max()) or 1.0
    figure = go.Figure(go.Heatmap(
        z=matrix, x=list(CLASS_NAMES), y=list(CLASS_NAMES), text=text, texttemplate="%{text}",
        colorscale="RdBu" if diverging else "Blues", zmid=0 if diverging else None,
        zmin=-limit if diverging else 0, zmax=limit,
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    figure.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", height=430,
                         yaxis=dict(autorange="reversed"), margin=dict(t=50))
    return figure


def roc_figure(curves: dict, title: str) -> go.Figure:
    """``curves``: {label: {"fpr", "tpr", "auc"} or None}; the chance diagonal for reference."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="lightgray", dash="dash"), name="chance")
    for label, curve in curves.items():
        if curve is None:
            continue
        dash = "dash" if label.endswith("average") else None
        figure.add_scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", line=dict(dash=dash),
                           name=f"{label} (AUC {curve['auc']:.3f})")
    figure.update_layout(title=title, xaxis_title="false positive rate", yaxis_title="true positive rate",
                         height=420, margin=dict(t=50), xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1.02]))
    return figure


def probability_bars(probabilities: dict, colours: dict, titles: dict) -> go.Figure:
    """One face's seven probabilities, one bar group per model."""
    figure = go.Figure()
    for name, values in probabilities.items():
        figure.add_bar(name=titles[name], x=list(CLASS_NAMES), y=values, marker_color=colours[name],
                       hovertemplate="%{x}: %{y:.3f}<extra>" + titles[name] + "</extra>")
    figure.update_layout(barmode="group", yaxis=dict(range=[0, 1], title="probability"), height=300,
                         margin=dict(t=10, b=10), legend=dict(orientation="h", y=1.15))
    return figure


def reliability_diagram(calibrations: dict, colours: dict, titles: dict, key: str = "test") -> go.Figure:
    """Accuracy against mean confidence per confidence bin, one line per model; the diagonal is perfect
    calibration, points below it are over-confident. ``calibrations``: {name: metrics["calibration"]}."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="lightgray", dash="dash"), name="perfect")
    for name, calibration in calibrations.items():
        bins = calibration[key]
        figure.add_scatter(x=bins["confidence"], y=bins["accuracy"], mode="lines+markers", name=titles[name],
                           line=dict(color=colours[name]), customdata=bins["count"],
                           hovertemplate="confidence %{x:.2f}: accuracy %{y:.2f} (%{customdata} faces)"
                                         "<extra>" + titles[name] + "</extra>")
    figure.update_layout(xaxis=dict(title="mean confidence in bin", range=[0, 1]),
                         yaxis=dict(title="accuracy in bin", range=[0, 1.02]), height=420, margin=dict(t=30))
    return figure
