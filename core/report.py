"""The comparison to take away: a CSV of every model's scores and a self-contained HTML report.

    from core.artifacts import read_all_models
    from core.report import write_report
    write_report(*read_all_models("artifacts"), "report.html", "metrics.csv")   # or: python -m core report

The HTML holds the leaderboard, the per-class table, and the confusion matrices, ROC curves and
reliability diagrams as interactive Plotly figures, with plotly.js inlined: it opens offline.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core import charts
from core.artifacts import ArtifactError, ModelArtifacts
from core.classes import CLASS_NAMES

MISSING = "–"  # how tables show a figure a model lacks (the ensemble has no training time)


def leaderboard(models: dict[str, ModelArtifacts]) -> pd.DataFrame:
    """One row per model: the headline scores, calibration, and how it was made."""
    rows = []
    for name, model in models.items():
        metrics, card = model.metrics, model.card
        calibration = metrics.get("calibration") or {}
        rows.append({
            "model": name, "title": model.title, "test accuracy": metrics["accuracy"], "macro F1": metrics["macro_f1"],
            "weighted F1": metrics["weighted_f1"], "disgust recall": metrics["per_class"]["disgust"]["recall"],
            "macro ROC AUC": (metrics["roc"].get("macro") or {}).get("auc"),
            "ECE": calibration.get("test", {}).get("ece"),
            "ECE after temperature": calibration.get("test_with_temperature", {}).get("ece"),
            "temperature": calibration.get("temperature"), "TTA": metrics.get("tta", "none"),
            "initial weights": card.get("initial_weights_label"), "parameters": card.get("parameters"),
            "epochs": card.get("epochs_run"), "training min": (card.get("wall_seconds") or 0) / 60 or None,
            "train img/s": card.get("train_images_per_second"),
            "file MB": (card.get("file_size_bytes") or 0) / 1e6 or None,  # None: the ensemble has no file
        })
    return pd.DataFrame(rows)


def best_first(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows by test accuracy, ties (the same count of faces) broken by macro F1."""
    return board.sort_values(["test accuracy", "macro F1"], ascending=False, kind="stable")


def random_init_titles(models: dict[str, ModelArtifacts]) -> list[str]:
    """Titles of the transfer models trained from random initialisation instead of ImageNet weights."""
    return [m.title for m in models.values()
            if m.card.get("initial_weights") == "none" and m.card.get("architecture") not in ("cnn", "ensemble")]


def per_class_table(models: dict[str, ModelArtifacts]) -> pd.DataFrame:
    """Long form: model, class, precision, recall, f1, support."""
    return pd.DataFrame([{"model": name, "class": c, **model.metrics["per_class"][c]}
                         for name, model in models.items() for c in CLASS_NAMES])


def comparison_csv(models: dict[str, ModelArtifacts]) -> str:
    """The leaderboard with every per-class precision, recall and F1 as extra columns."""
    wide = leaderboard(models).set_index("model")
    per_class = per_class_table(models).set_index(["model", "class"])[["precision", "recall", "f1"]].unstack("class")
    per_class.columns = [f"{score}_{name}" for score, name in per_class.columns]
    ordered = [f"{score}_{name}" for name in CLASS_NAMES for score in ("precision", "recall", "f1")]
    return wide.join(per_class[ordered]).reset_index().to_csv(index=False, float_format="%.6g")


def _row_normalised(matrix) -> np.ndarray:
    counts = np.asarray(matrix, dtype=float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def report_html(models: dict[str, ModelArtifacts], broken: dict[str, str] | None = None) -> str:
    """The whole report as one HTML page with plotly.js inlined."""
    if not models:
        raise ArtifactError("There are no trained models to report on.")
    palette, titles = {n: charts.model_colour(n) for n in models}, {n: m.title for n, m in models.items()}
    figures = [("Per-class F1", charts.per_class_bars(per_class_table(models), "f1", palette, titles))]
    for name, model in models.items():
        figures.append((f"{model.title}: confusion matrix (row-normalised)",
                        charts.confusion_heatmap(_row_normalised(model.metrics["confusion_matrix"]), model.title, True)))
    for name, model in models.items():
        roc = model.metrics["roc"]
        curves = {**roc["per_class"], "micro average": roc["micro"], "macro average": roc["macro"]}
        figures.append((f"{model.title}: ROC curves", charts.roc_figure(curves, model.title)))
    calibrated = {n: m.metrics["calibration"] for n, m in models.items() if m.metrics.get("calibration")}
    if calibrated:
        figures.append(("Reliability on the test split", charts.reliability_diagram(calibrated, palette, titles)))
    board = best_first(leaderboard(models).drop(columns="model"))
    per_class = per_class_table(models).pivot(index="class", columns="model", values="f1").reindex(list(CLASS_NAMES))
    per_class = per_class[list(models)].rename(columns=titles)
    splits = sorted({m.metrics.get("test_split") or "" for m in models.values()} - {""})
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>FER-2013 model lab report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f4f4f4}"
        "</style></head><body>",
        "<h1>FER-2013 model lab: comparison report</h1>",
        f"<p>Generated {html.escape(time.strftime('%Y-%m-%d %H:%M'))} from the artifact files. "
        f"Test split: {html.escape(', '.join(splits))}.</p>",
    ]
    random_init = random_init_titles(models)
    if random_init:
        parts.append(f"<p><b>Trained from random initialisation, not ImageNet:</b> {html.escape(', '.join(random_init))}.</p>")
    for name, reason in (broken or {}).items():
        parts.append(f"<p><b>Left out:</b> {html.escape(name)} ({html.escape(reason)}).</p>")
    parts += ["<h2>Leaderboard</h2>", board.to_html(index=False, float_format=lambda v: f"{v:.4f}", na_rep=MISSING),
              "<h2>F1 per class</h2>", per_class.to_html(float_format=lambda v: f"{v:.3f}")]
    for index, (heading, figure) in enumerate(figures):
        parts += [f"<h2>{html.escape(heading)}</h2>",
                  figure.to_html(full_html=False, include_plotlyjs=index == 0, default_width="100%")]
    parts.append("</body></html>")
    return "\n".join(parts)


SUMMARY_COLUMNS = ("test accuracy", "macro F1", "disgust recall", "ECE", "TTA", "epochs", "training min",
                   "train img/s", "file MB")


def summary_markdown(models: dict[str, ModelArtifacts]) -> str:
    """The leaderboard's main columns as a Markdown table (what the README quotes)."""
    board = leaderboard(models)
    lines = ["| model | " + " | ".join(SUMMARY_COLUMNS) + " |", "| --- |" + " ---: |" * len(SUMMARY_COLUMNS)]
    for _, row in board.iterrows():
        cells = []
        for column in SUMMARY_COLUMNS:
            value = row[column]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                cells.append(MISSING)
            elif column in ("test accuracy", "macro F1", "disgust recall", "ECE"):
                cells.append(f"{value:.4f}")
            elif column == "epochs":
                cells.append(f"{value:.0f}")  # a float column where the ensemble has none
            elif isinstance(value, float):
                cells.append(f"{value:.1f}")
            else:
                cells.append(str(value))
        lines.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(models: dict[str, ModelArtifacts], broken: dict[str, str], html_path, csv_path) -> list[Path]:
    """Write the HTML report and the CSV of ``read_all_models(root)``'s models."""
    text = report_html(models, broken)
    written = []
    for path, content in ((Path(html_path), text), (Path(csv_path), comparison_csv(models))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
