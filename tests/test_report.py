"""The comparison's arithmetic (shared by the pages and the report), on the committed artifacts, and the
report files."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pandas as pd
import pytest

from core import artifacts, report
from core.classes import CLASS_NAMES
from core.models import TRAINED_MODELS


def test_confusion_rows_are_each_true_class_shares(committed):
    model = committed["cnn_aug"]
    counts = report.confusion(model, normalised=False)
    shares = report.confusion(model)
    assert counts.sum() == model.metrics["n_test"]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares[1], counts[1] / counts[1].sum())
    assert shares[1, 1] == pytest.approx(model.metrics["per_class"]["disgust"]["recall"])


def test_per_class_tables_long_and_wide_agree_with_the_metrics(committed):
    long = report.per_class_table(committed).set_index(["model", "class"])
    assert len(long) == len(committed) * len(CLASS_NAMES)
    wide = report.per_class_wide(committed, "recall")
    assert list(wide.index) == list(CLASS_NAMES) and list(wide.columns) == [m.title for m in committed.values()]
    for name, model in committed.items():
        for c in CLASS_NAMES:
            scores = model.metrics["per_class"][c]
            assert long.loc[(name, c)].to_dict() == scores
            assert wide.loc[c, model.title] == scores["recall"]


def test_roc_curves_are_the_classes_and_both_averages(committed):
    curves = report.roc_curves(committed["cnn"])
    assert list(curves) == [*CLASS_NAMES, "micro average", "macro average"]
    for curve in curves.values():  # each a whole rising curve from fpr 0 to (1, 1), its AUC the area under it
        fpr, tpr = np.asarray(curve["fpr"]), np.asarray(curve["tpr"])
        assert (fpr[0], fpr[-1], tpr[-1]) == (0, 1, 1) and (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all()
        assert np.trapezoid(tpr, fpr) == pytest.approx(curve["auc"], abs=1e-3)
    roc = committed["cnn"].metrics["roc"]
    assert curves["disgust"] == roc["per_class"]["disgust"]
    assert curves["micro average"] == roc["micro"] and curves["macro average"] == roc["macro"]


def test_the_calibration_table_weighs_each_bin_by_its_faces(committed):
    table = report.calibration_table(committed).set_index("model")
    calibration = committed["cnn"].metrics["calibration"]["test"]
    counts = np.array(calibration["count"], float)
    expected = np.nansum(np.array(calibration["confidence"], float) * counts) / counts.sum()
    assert table.loc[committed["cnn"].title, "mean confidence"] == pytest.approx(expected)
    assert table.loc[committed["cnn"].title, "T"] == committed["cnn"].metrics["calibration"]["temperature"]


def test_mistakes_filter_by_true_and_predicted_class_surest_first(committed):
    model = committed["cnn_aug"]
    every = report.mistakes(model)
    assert len(every.true) == every.kept == len(model.predictions["mistake_index"])
    n_test = model.metrics["n_test"]
    assert every.made == n_test - round(model.metrics["accuracy"] * n_test) > every.kept  # all, not just those kept
    assert (every.true != every.predicted).all()
    confidence = every.probabilities.max(axis=1)
    assert (np.diff(confidence) <= 0).all()
    sad_as_neutral = report.mistakes(model, "sad", "neutral")
    assert len(sad_as_neutral.true) > 0
    assert set(sad_as_neutral.true) == {CLASS_NAMES.index("sad")} and set(sad_as_neutral.predicted) == {
        CLASS_NAMES.index("neutral")
    }
    assert len(sad_as_neutral.true) == int(((every.true == 5) & (every.predicted == 4)).sum())


def test_the_tta_table_has_test_and_validation_for_each_network(committed):
    table = report.tta_table(committed)
    assert list(table.index) == [committed[n].title for n in TRAINED_MODELS]
    assert (
        table.loc[committed["cnn_aug"].title, "flip (test)"]
        == committed["cnn_aug"].metrics["tta_effect"]["flip"]["test_accuracy"]
    )


def test_the_report_holds_every_model(trained_root, tmp_path, capsys):
    from core.__main__ import main

    html, csv = tmp_path / "out" / "report.html", tmp_path / "out" / "metrics.csv"
    assert main(["report", "--artifacts", str(trained_root / "artifacts"), "--html", str(html), "--csv", str(csv)]) == 0
    printed = capsys.readouterr().out
    assert all(f"| {name} | " in printed for name in (*TRAINED_MODELS, "ensemble"))  # the summary table
    text = html.read_text()
    titles = [
        artifacts.read_json(trained_root / "artifacts" / m / artifacts.CARD)["title"]
        for m in (*TRAINED_MODELS, "ensemble")
    ]
    assert all(title in text for title in titles)
    assert text.count("Plotly.newPlot") >= 2 * 5 + 2  # confusion and ROC per model, F1 and reliability
    assert "<script src=" not in text and len(text) > 3_000_000  # plotly.js inlined: the file opens offline
    import pandas as pd

    table = pd.read_csv(csv)
    assert list(table["model"]) == [*TRAINED_MODELS, "ensemble"]
    assert {"test accuracy", "ECE", "f1_disgust", "recall_angry", "precision_surprise"} <= set(table.columns)
    metrics = artifacts.read_json(trained_root / "artifacts" / "cnn" / artifacts.METRICS)
    assert table.set_index("model").loc["cnn", "f1_happy"] == pytest.approx(
        metrics["per_class"]["happy"]["f1"], abs=1e-5
    )
    assert main(["report", "--artifacts", str(tmp_path / "empty"), "--html", str(html), "--csv", str(csv)]) == 2
    assert "no trained models" in capsys.readouterr().err


def test_the_report_carries_the_photo_benchmarks_latencies_and_is_written_without_a_readable_one(
        trained_root, tmp_path, capsys):
    from core.__main__ import main

    root, csv = tmp_path / "artifacts", tmp_path / "metrics.csv"
    shutil.copytree(trained_root / "artifacts", root)
    timed = {"cnn": 3.5, "cnn_aug": 3.4, "vgg16": 9.0, "resnet50v2": 7.0, "ensemble": 20.0}
    artifacts.write_json(root / artifacts.PHOTO_BENCHMARK, {"face_ms": timed, "detectors": {}})
    assert main(["report", "--artifacts", str(root), "--html", str(tmp_path / "r.html"), "--csv", str(csv)]) == 0
    assert pd.read_csv(csv).set_index("model")["latency ms"].to_dict() == timed
    (root / artifacts.PHOTO_BENCHMARK).write_text("{ truncated")
    assert main(["report", "--artifacts", str(root), "--html", str(tmp_path / "r.html"), "--csv", str(csv)]) == 0
    assert "No latencies in the report" in capsys.readouterr().err
    assert pd.read_csv(csv)["latency ms"].isna().all()


def test_latencies_come_from_the_photo_benchmark_into_the_csv_and_ties_are_within_noise(committed):
    timed = {"cnn": 21.1, "cnn_aug": 20.8, "vgg16": 81.1, "resnet50v2": 42.6, "ensemble": 111.6}
    table = pd.read_csv(io.StringIO(report.comparison_csv(committed, {"face_ms": timed}))).set_index("model")
    assert table["latency ms"].to_dict() == timed
    assert pd.read_csv(io.StringIO(report.comparison_csv(committed)))["latency ms"].isna().all()  # none measured
    board = report.leaderboard(committed, {"face_ms": timed})
    assert list(report.fastest(board)["model"]) == ["cnn_aug", "cnn"]  # 1.4 % apart: one network, noise
    slower_cnn = board.assign(**{"latency ms": board["model"].map({**timed, "cnn": 30.0})})
    assert list(report.fastest(slower_cnn)["model"]) == ["cnn_aug"]


def test_leaderboard_ties_go_to_the_higher_macro_f1():
    from core.report import best_first

    board = pd.DataFrame({"model": ["cnn", "cnn_aug", "ensemble"], "test accuracy": [0.6358, 0.6790, 0.6790],
                          "macro F1": [0.6104, 0.6558, 0.6609]})
    assert list(best_first(board)["model"]) == ["ensemble", "cnn_aug", "cnn"]


def test_the_ensemble_note_names_every_member_and_those_that_weigh_nothing(committed):
    ensemble = committed["ensemble"]
    weights = ensemble.ensemble["members"]
    note = report.ensemble_note(ensemble, {name: model.title for name, model in committed.items()})
    weighed, _, idle = note.partition("; ")
    for name, weight in weights.items():
        assert (committed[name].title in weighed) == bool(weight) and (committed[name].title in idle) == (not weight)
    assert f"{committed['cnn_aug'].title} {weights['cnn_aug']:.2f}" in weighed
