"""Plotly figures for the dashboard and the report: each takes plain data and returns a figure."""

from __future__ import annotations

import math

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
    of phase (fine-tuning, class weights on or off) or a warm restart (planned, or a continued run's)."""
    events: dict[int, list[str]] = {}
    previous = history["phase"].shift()
    changes = history[history["phase"] != previous].iloc[1:]
    for epoch, before, after in zip(changes["epoch"], previous[changes.index], changes["phase"]):
        events.setdefault(int(epoch) - 1, []).append(phase_change_label(before, after))
    for epoch in warm_restarts(history):
        events.setdefault(epoch, []).append("warm restart")
    return {epoch: ", ".join(labels) for epoch, labels in sorted(events.items())}


def training_panel(history, colour: str, title: str, kept_epoch: int | None, show_events: bool = False) -> go.Figure:
    """One model's training: accuracy above (training dotted, validation solid, the kept epoch starred), the
    learning rate below; with ``show_events``, a dashed line after each epoch in ``training_events`` and a
    marker whose hover text says what changed."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    figure.add_scatter(x=history["epoch"], y=history["accuracy"], mode="lines", line=dict(color=colour, dash="dot"),
                       name="training", row=1, col=1)
    figure.add_scatter(x=history["epoch"], y=history["val_accuracy"], mode="lines", line=dict(color=colour),
                       name="validation", row=1, col=1)
    kept = history[history["epoch"] == kept_epoch]
    figure.add_scatter(x=kept["epoch"], y=kept["val_accuracy"], mode="markers", name="kept epoch",
                       marker=dict(symbol="star", size=14, color=colour), row=1, col=1,
                       hovertemplate=f"{title}: kept epoch %{{x}}, val accuracy %{{y:.4f}}<extra></extra>")
    figure.add_scatter(x=history["epoch"], y=history["learning_rate"], mode="lines", line=dict(color="gray"),
                       name="learning rate", showlegend=False, row=2, col=1,
                       hovertemplate="epoch %{x}: learning rate %{y:.1e}<extra></extra>")
    if show_events:
        for epoch, label in training_events(history).items():
            figure.add_vline(x=epoch + 0.5, line=dict(color=colour, dash="dash", width=1))
            figure.add_annotation(x=epoch + 0.5, y=1, xref="x", yref="y domain", yanchor="bottom", text="▼",
                                  showarrow=False, font=dict(color=colour, size=11),
                                  hovertext=f"{title}, after epoch {epoch}: {label}")
    figure.update_yaxes(title_text="accuracy", row=1, col=1)
    figure.update_yaxes(title_text="rate", type="log", tickformat=".0e", nticks=3, row=2, col=1)
    figure.update_xaxes(title_text="epoch", row=2, col=1)
    figure.update_layout(height=360, margin=dict(t=30, b=10, l=10, r=10), legend=dict(orientation="h", y=1.12))
    return figure


def per_class_bars(table, metric: str, colours: dict, titles: dict) -> go.Figure:
    figure = go.Figure()
    for name, rows in table.groupby("model", sort=False):
        figure.add_bar(name=titles[name], x=rows["class"], y=rows[metric], marker_color=colours[name],
                       hovertemplate="%{x}: %{y:.3f}<extra>" + titles[name] + "</extra>")
    figure.update_layout(barmode="group", yaxis=dict(title=metric, range=[0, 1]), height=400, margin=dict(t=30))
    return figure


def _digits(normalised: bool) -> int:
    """Decimals a confusion cell is shown with: shares to two, counts whole."""
    return 2 if normalised else 0


def _cell_text(value: float, normalised: bool, signed: bool) -> str:
    """A cell's figure: shares to two decimals, counts whole; a difference signed, and one that rounds to
    nothing written 0 (never "-0.00")."""
    digits = _digits(normalised)
    if round(value, digits) == 0:
        return "0"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def confusion_heatmap(matrix: np.ndarray, title: str, normalised: bool) -> go.Figure:
    text = [[_cell_text(v, normalised, signed=False) for v in row] for row in matrix]
    figure = go.Figure(go.Heatmap(
        z=matrix, x=list(CLASS_NAMES), y=list(CLASS_NAMES), text=text, texttemplate="%{text}", colorscale="Blues",
        zmin=0, hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    figure.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", height=430,
                         yaxis=dict(autorange="reversed"), margin=dict(t=50))
    return figure


def confusion_difference(difference: np.ndarray, title: str, normalised: bool) -> go.Figure:
    """The second model's matrix minus the first's, coloured by what the change means: blue where the second is
    better (more faces on the diagonal, fewer off it), red where it is worse, white where the shown change is 0;
    the cells show the change itself."""
    better = np.round(difference, _digits(normalised)) * (2 * np.eye(len(difference)) - 1)
    limit = float(np.abs(better).max()) or 1.0
    text = [[_cell_text(v, normalised, signed=True) for v in row] for row in difference]
    figure = go.Figure(go.Heatmap(
        z=better, x=list(CLASS_NAMES), y=list(CLASS_NAMES), text=text, texttemplate="%{text}", colorscale="RdBu",
        zmid=0, zmin=-limit, zmax=limit, hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        colorbar=dict(tickvals=[-limit, 0, limit], ticktext=["worse", "same", "better"])))
    figure.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", height=430,
                         yaxis=dict(autorange="reversed"), margin=dict(t=50))
    return figure


AVERAGE_LINES = {"micro average": dict(color="black", dash="dash"), "macro average": dict(color="black", dash="dot")}


def roc_figure(curves: dict, title: str, colours: dict | None = None) -> go.Figure:
    """``curves``: {label: {"fpr", "tpr", "auc"} or None}, drawn in ``colours[label]`` where given; the legend
    gives each curve's AUC; the micro and macro averages in black, dashed and dotted; the chance diagonal in grey."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="lightgray", dash="dash"), name="chance")
    for label, curve in curves.items():
        if curve is None:
            continue
        line = AVERAGE_LINES.get(label, {}) | ({"color": colours[label]} if label in (colours or {}) else {})
        figure.add_scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", name=f"{label} (AUC {curve['auc']:.3f})",
                           line=line)
    figure.update_layout(
        title=title,
        xaxis_title="false positive rate",
        yaxis_title="true positive rate",
        height=440,
        margin=dict(t=50),
        xaxis=dict(range=[0, 1.02]),
        yaxis=dict(range=[0, 1.02]),
        legend=dict(x=0.98, xanchor="right", y=0.02, yanchor="bottom", bgcolor="rgba(255,255,255,0.8)"),
    )
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
    """Accuracy against mean confidence per confidence bin, one line per model, each point sized by its faces;
    below, the faces in each bin. The diagonal is perfect calibration; points below it are over-confident.
    ``calibrations``: {name: metrics["calibration"]}."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.05)
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="lightgray", dash="dash"), name="perfect",
                       row=1, col=1)
    largest = max((max(c[key]["count"]) for c in calibrations.values() if c[key]["count"]), default=1) or 1
    for name, calibration in calibrations.items():
        bins = calibration[key]
        sizes = [6 + 18 * (n / largest) ** 0.5 for n in bins["count"]]
        figure.add_scatter(x=bins["confidence"], y=bins["accuracy"], mode="lines+markers", name=titles[name],
                           legendgroup=name, line=dict(color=colours[name]), marker=dict(size=sizes),
                           customdata=bins["count"], row=1, col=1,
                           hovertemplate="confidence %{x:.2f}: accuracy %{y:.2f} (%{customdata} faces)"
                                         "<extra>" + titles[name] + "</extra>")
        edges = bins.get("edges") or np.linspace(0, 1, len(bins["count"]) + 1)
        centres = [(low + high) / 2 for low, high in zip(edges[:-1], edges[1:])]
        figure.add_bar(x=centres, y=bins["count"], marker_color=colours[name], name=titles[name], legendgroup=name,
                       showlegend=False, row=2, col=1,
                       hovertemplate="confidence %{x:.2f}: %{y} faces<extra>" + titles[name] + "</extra>")
    figure.update_xaxes(range=[0, 1], row=1, col=1)
    figure.update_xaxes(title_text="mean confidence in bin", range=[0, 1], row=2, col=1)
    figure.update_yaxes(title_text="accuracy in bin", range=[0, 1.02], row=1, col=1)
    figure.update_yaxes(title_text="faces", row=2, col=1)
    figure.update_layout(height=520, margin=dict(t=30), barmode="group")
    return figure


def accuracy_against_cost(points, colours: dict) -> go.Figure:
    """One point per model: test accuracy against a cost (latency or file size), named in the legend.
    ``points``: a DataFrame with model, title, accuracy, cost; the cost axis is logarithmic, as costs span
    orders of magnitude."""
    figure = go.Figure()
    for row in points.itertuples():
        figure.add_scatter(x=[row.cost], y=[row.accuracy], mode="markers", name=row.title,
                           marker=dict(size=14, color=colours[row.model]),
                           hovertemplate=f"{row.title}: accuracy %{{y:.4f}}, %{{x:.3g}}<extra></extra>")
    low, high = float(points["cost"].min()), float(points["cost"].max())
    ticks = [m * 10.0**k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
             for m in (1, 2, 5) if low / 2 <= m * 10.0**k <= high * 2]
    figure.update_xaxes(type="log", range=[math.log10(low) - 0.15, math.log10(high) + 0.15], tickvals=ticks,
                        ticktext=[f"{t:g}" for t in ticks])
    worst, best = float(points["accuracy"].min()), float(points["accuracy"].max())
    pad = max(0.01, 0.1 * (best - worst))  # one point alone gets a narrow band, not the default 0 to 1.5
    figure.update_layout(height=420, margin=dict(t=30, l=10, r=10), yaxis=dict(title="test accuracy",
                         range=[worst - pad, best + pad]), legend=dict(orientation="h", y=-0.25))
    return figure


def score_heatmap(table, title: str) -> go.Figure:
    """A model x class table of one score (rows: model titles), each cell written out."""
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=list(table.columns), y=list(table.index),
                                  text=[[f"{v:.2f}" for v in row] for row in table.to_numpy()], texttemplate="%{text}",
                                  colorscale="Blues", zmin=0, zmax=1, colorbar=dict(title=title),
                                  hovertemplate="%{y}, %{x}: %{z:.3f}<extra></extra>"))
    figure.update_layout(height=max(200, 80 + 40 * len(table)), margin=dict(t=20, l=10, r=10),
                         yaxis=dict(autorange="reversed"))
    return figure
