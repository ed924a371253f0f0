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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import charts
from core.artifacts import ArtifactError, ModelArtifacts
from core.classes import CLASS_NAMES
from core.models import TRANSFER_ARCHITECTURES

MISSING = "–"  # how tables show a figure a model lacks (the ensemble has no training time)


QUALITY_COLUMNS = ("title", "test accuracy", "macro F1", "weighted F1", "disgust recall", "macro ROC AUC", "ECE", "TTA")
COST_COLUMNS = ("title", "latency ms", "file MB", "parameters", "initial weights", "epochs", "training min",
                "train img/s")


def leaderboard(models: dict[str, ModelArtifacts], photo_benchmark: dict | None = None) -> pd.DataFrame:
    """One row per model: the headline scores, calibration, how it was made, and (from photo_benchmark.json) the
    time one face takes through it as the try-it page runs it."""
    latency = (photo_benchmark or {}).get("face_ms") or {}
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
            "latency ms": latency.get(name),
        })
    return pd.DataFrame(rows)


TIE_WITHIN = 0.05  # latencies this close (relative) are the same within the machine's noise


def fastest(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows with the lowest latency, every model within TIE_WITHIN of it counted as tied (the
    same network with the same views, such as cnn and cnn_aug, differs only by noise)."""
    timed = board.dropna(subset=["latency ms"])
    return timed[timed["latency ms"] <= timed["latency ms"].min() * (1 + TIE_WITHIN)].sort_values("latency ms")


def best_first(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's rows by test accuracy, ties (the same count of faces) broken by macro F1."""
    return board.sort_values(["test accuracy", "macro F1"], ascending=False, kind="stable")


def random_init_note(models: dict[str, ModelArtifacts]) -> str:
    """A sentence naming the transfer models trained from random initialisation instead of ImageNet weights,
    or "" where there are none."""
    titles = [m.title for m in models.values()
              if m.card.get("initial_weights") == "none" and m.card.get("architecture") in TRANSFER_ARCHITECTURES]
    if not titles:
        return ""
    many = len(titles) > 1
    named = f"{', '.join(titles[:-1])} and {titles[-1]}" if many else titles[0]
    return (f"{named} {'were' if many else 'was'} trained from random initialisation (`--weights none`, the "
            "default: the ImageNet weights that transfer learning starts from cannot be downloaded offline), so "
            f"{'they' if many else 'it'} learned from FER-2013 alone; `--weights imagenet` or a weights file starts "
            "from ImageNet.")


def ensemble_note(model: ModelArtifacts, titles: dict[str, str]) -> str:
    """An ensemble's members and weights, and which members weigh nothing (they are not run); ``titles``: how
    the pages name each model (a member without one is named by its folder)."""
    def title(member: str) -> str:
        return titles.get(member, member)

    weighed = ", ".join(f"{title(n)} {w:.2f}" for n, w in model.members.items())
    idle = [title(n) for n, w in model.ensemble.get("members", {}).items() if not w]
    one = len(idle) == 1
    return (f"{model.title}: {weighed} (weights chosen on validation)"
            + (f"; {' and '.join(idle)} weigh{'s' if one else ''} 0 and {'is' if one else 'are'} not run, so the "
               f"ensemble's latency and parameters leave {'it' if one else 'them'} out." if idle else "."))


def cost_points(board: pd.DataFrame, cost: str) -> pd.DataFrame:
    """The leaderboard's models that have ``cost`` (a column: "latency ms" or "file MB"), as chart points."""
    points = board[["model", "title", "test accuracy", cost]].dropna()
    return points.rename(columns={"test accuracy": "accuracy", cost: "cost"})


def per_class_table(models: dict[str, ModelArtifacts]) -> pd.DataFrame:
    """Long form: model, class, precision, recall, f1, support."""
    return pd.DataFrame([{"model": name, "class": c, **model.metrics["per_class"][c]}
                         for name, model in models.items() for c in CLASS_NAMES])


def per_class_wide(models: dict[str, ModelArtifacts], score: str = "f1") -> pd.DataFrame:
    """One score (precision, recall or f1): a row per class, a column per model title."""
    wide = per_class_table(models).pivot(index="class", columns="model", values=score).reindex(list(CLASS_NAMES))
    return wide[list(models)].rename(columns={n: m.title for n, m in models.items()})


def comparison_csv(models: dict[str, ModelArtifacts], photo_benchmark: dict | None = None) -> str:
    """The leaderboard with every per-class precision, recall and F1 as extra columns."""
    wide = leaderboard(models, photo_benchmark).set_index("model")
    per_class = per_class_table(models).set_index(["model", "class"])[["precision", "recall", "f1"]].unstack("class")
    per_class.columns = [f"{score}_{name}" for score, name in per_class.columns]
    ordered = [f"{score}_{name}" for name in CLASS_NAMES for score in ("precision", "recall", "f1")]
    return wide.join(per_class[ordered]).reset_index().to_csv(index=False, float_format="%.6g")


def confusion(model: ModelArtifacts, normalised: bool = True) -> np.ndarray:
    """The test confusion matrix (rows: true class), as counts or as each true class's shares."""
    counts = np.asarray(model.metrics["confusion_matrix"], dtype=float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalised else counts


def roc_curves(model: ModelArtifacts) -> dict:
    """The per-class one-vs-rest curves and the micro and macro averages, by label (None: undefined)."""
    roc = model.metrics["roc"]
    return {**roc["per_class"], "micro average": roc["micro"], "macro average": roc["macro"]}


def calibration_table(models: dict[str, ModelArtifacts]) -> pd.DataFrame:
    """ECE and log-loss before and after the temperature, mean confidence and accuracy, per calibrated model."""
    rows = []
    for model in models.values():
        calibration = model.metrics.get("calibration")
        if not calibration:
            continue
        test = calibration["test"]
        rows.append(
            {
                "model": model.title,
                "ECE": test["ece"],
                "ECE with T": calibration["test_with_temperature"]["ece"],
                "T": calibration["temperature"],
                "log-loss": calibration["nll"],
                "log-loss with T": calibration["nll_with_temperature"],
                "mean confidence": sum(c * n for c, n in zip(test["confidence"], test["count"]) if n)
                / max(sum(test["count"]), 1),
                "accuracy": model.metrics["accuracy"],
            }
        )
    return pd.DataFrame(rows)


def tta_table(models: dict[str, ModelArtifacts]) -> pd.DataFrame:
    """Accuracy per test-time augmentation mode on test and validation, one row per trained model."""
    measured = {
        m.title: m.metrics["tta_effect"] for m in models.values() if m.metrics.get("tta_effect") and not m.ensemble
    }
    if not measured:
        return pd.DataFrame()
    test = pd.DataFrame(
        {t: {mode: e["test_accuracy"] for mode, e in effect.items()} for t, effect in measured.items()}
    ).T
    val = pd.DataFrame({t: {mode: e["val_accuracy"] for mode, e in effect.items()} for t, effect in measured.items()}).T
    return pd.concat([test.add_suffix(" (test)"), val.add_suffix(" (validation)")], axis=1)


@dataclass
class Mistakes:
    """A model's kept confident mistakes that pass a filter, the surest first."""

    pixels: np.ndarray  # (K, 48, 48) uint8
    true: np.ndarray  # (K,) class indices
    predicted: np.ndarray
    probabilities: np.ndarray  # (K, 7)
    kept: int  # mistakes the artifacts keep for the model, before the filter
    made: int  # all the model's mistakes on the test split


def mistakes(model: ModelArtifacts, true_class: str | None = None, predicted_class: str | None = None) -> Mistakes:
    """The confident mistakes saved in predictions.npz, filtered by true and predicted class (None: any)."""
    saved = model.predictions
    index = saved["mistake_index"]
    probabilities = saved["probabilities"][index]
    truth, predicted = saved["y_true"][index], probabilities.argmax(axis=1)
    keep = np.ones(len(index), bool)
    if true_class is not None:
        keep &= truth == CLASS_NAMES.index(true_class)
    if predicted_class is not None:
        keep &= predicted == CLASS_NAMES.index(predicted_class)
    order = np.flatnonzero(keep)[np.argsort(-probabilities[keep].max(axis=1), kind="stable")]
    made = int(np.sum(saved["y_true"] != saved["probabilities"].argmax(axis=1)))
    return Mistakes(saved["mistake_pixels"][order], truth[order], predicted[order], probabilities[order], len(index),
                    made)


def report_html(models: dict[str, ModelArtifacts], broken: dict[str, str] | None = None,
                photo_benchmark: dict | None = None) -> str:
    """The whole report as one HTML page with plotly.js inlined."""
    if not models:
        raise ArtifactError("There are no trained models to report on.")
    palette, titles = {n: charts.model_colour(n) for n in models}, {n: m.title for n, m in models.items()}
    figures = [("Per-class F1", charts.per_class_bars(per_class_table(models), "f1", palette, titles))]
    for model in models.values():
        figures.append((f"{model.title}: confusion matrix (row-normalised)",
                        charts.confusion_heatmap(confusion(model), model.title, True)))
    for model in models.values():
        figures.append((f"{model.title}: ROC curves", charts.roc_figure(roc_curves(model), model.title)))
    calibrated = {n: m.metrics["calibration"] for n, m in models.items() if m.metrics.get("calibration")}
    if calibrated:
        figures.append(("Reliability on the test split", charts.reliability_diagram(calibrated, palette, titles)))
    board = best_first(leaderboard(models, photo_benchmark).drop(columns="model"))
    per_class = per_class_wide(models, "f1")
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
    random_init = random_init_note(models)
    if random_init:
        parts.append(f"<p>{html.escape(random_init)}</p>")
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


def write_report(models: dict[str, ModelArtifacts], broken: dict[str, str], html_path, csv_path,
                 photo_benchmark: dict | None = None) -> list[Path]:
    """Write the HTML report and the CSV of ``read_all_models(root)``'s models."""
    text = report_html(models, broken, photo_benchmark)
    written = []
    for path, content in ((Path(html_path), text), (Path(csv_path), comparison_csv(models, photo_benchmark))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
