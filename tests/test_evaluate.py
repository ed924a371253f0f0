"""Metrics checked against values computed by hand on small inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core.evaluate import (
    apply_temperature,
    calibration_bins,
    calibration_report,
    choose_tta,
    compute_metrics,
    fit_temperature,
    most_confident_mistakes,
)


def one_hot_probabilities(predicted, confidence=0.9):
    probabilities = np.full((len(predicted), 7), (1 - confidence) / 6, np.float32)
    probabilities[np.arange(len(predicted)), predicted] = confidence
    return probabilities


def test_accuracy_f1_and_confusion_match_a_hand_computation():
    # true:      angry angry angry disgust disgust happy
    # predicted: angry angry happy disgust angry   happy
    y_true = np.array([0, 0, 0, 1, 1, 3])
    y_pred = np.array([0, 0, 3, 1, 0, 3])
    metrics = compute_metrics(y_true, one_hot_probabilities(y_pred))
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    # angry: P 2/3 R 2/3 F1 2/3; disgust: P 1 R 1/2 F1 2/3; happy: P 1/2 R 1 F1 2/3
    for name in ("angry", "disgust", "happy"):
        assert metrics["per_class"][name]["f1"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["disgust"]["precision"] == 1.0
    assert metrics["per_class"]["disgust"]["recall"] == 0.5
    assert metrics["per_class"]["angry"]["support"] == 3
    assert metrics["macro_f1"] == pytest.approx((3 * 2 / 3) / 7)  # four classes absent from both: F1 0
    assert metrics["weighted_f1"] == pytest.approx(2 / 3)
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix[0].tolist() == [2, 0, 0, 1, 0, 0, 0]
    assert matrix[1].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert matrix.sum() == 6
    assert "disgust" in metrics["classification_report"]


def test_roc_is_perfect_for_a_separable_class_and_undefined_for_an_absent_one():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.zeros((6, 7), np.float32)
    probabilities[:, 0] = [0.9, 0.8, 0.1, 0.2, 0.3, 0.05]  # every angry face above every other
    probabilities[:, 1] = [0.05, 0.1, 0.6, 0.3, 0.5, 0.4]  # disgust: 0.6 > all, 0.3 < 0.4, 0.5 -> AUC 6/8
    probabilities[:, 2] = 1 - probabilities[:, 0] - probabilities[:, 1]
    roc = compute_metrics(y_true, probabilities)["roc"]
    assert roc["per_class"]["angry"]["auc"] == pytest.approx(1.0)
    assert roc["per_class"]["disgust"]["auc"] == pytest.approx(6 / 8)
    assert roc["per_class"]["happy"] is None  # no happy face in the test data
    assert roc["macro"]["auc"] == pytest.approx(
        np.mean([roc["per_class"][c]["auc"] for c in ("angry", "disgust", "fear")])
    )
    one_hot = np.eye(7)[y_true]  # micro: every (face, class) decision pooled
    assert roc["micro"]["auc"] == pytest.approx(roc_auc_score(one_hot.ravel(), probabilities.ravel()))
    assert roc["micro"]["fpr"][0] == 0.0 and roc["micro"]["tpr"][-1] == 1.0


def test_most_confident_mistakes_come_first_and_per_class_capped():
    y_true = np.array([0, 0, 0, 1, 1])
    probabilities = one_hot_probabilities([3, 3, 0, 2, 1])
    probabilities[0, 3], probabilities[1, 3], probabilities[3, 2] = 0.6, 0.95, 0.8
    assert most_confident_mistakes(y_true, probabilities).tolist() == [1, 3, 0]
    assert most_confident_mistakes(y_true, probabilities, per_class=1).tolist() == [1, 3]


def test_ece_matches_a_hand_computation():
    # four faces at confidence 0.75 (two right) and two at 0.625 (one right), 10 bins:
    # ECE = 4/6 * |0.5 - 0.75| + 2/6 * |0.5 - 0.625| = 5/24
    y_true = np.array([0, 0, 1, 1, 2, 2])
    probabilities = one_hot_probabilities([0, 0, 0, 0, 2, 1], confidence=0.75)
    probabilities[4:] = one_hot_probabilities([2, 1], confidence=0.625)
    bins = calibration_bins(y_true, probabilities, bins=10)
    assert bins["ece"] == pytest.approx(5 / 24)
    assert sum(bins["count"]) == 6 and bins["count"][7] == 4 and bins["count"][6] == 2
    assert bins["accuracy"][7] == pytest.approx(0.5) and bins["confidence"][7] == pytest.approx(0.75)
    assert np.isnan(bins["accuracy"][0])  # an empty bin has no accuracy


def test_a_perfectly_calibrated_model_has_near_zero_ece_and_temperature_one():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (20000, 7))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_true = np.array([rng.choice(7, p=p) for p in probabilities])  # labels drawn from the model's own beliefs
    assert calibration_bins(y_true, probabilities)["ece"] < 0.02
    assert fit_temperature(y_true, probabilities) == pytest.approx(1.0, abs=0.05)


def test_the_temperature_undoes_known_over_confidence():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, (20000, 7))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_true = np.array([rng.choice(7, p=p) for p in truth])
    over_confident = apply_temperature(truth, 0.5)  # logits doubled
    temperature = fit_temperature(y_true, over_confident)
    assert temperature == pytest.approx(2.0, rel=0.05)
    report = calibration_report(y_true, over_confident, y_true, over_confident)
    assert report["test_with_temperature"]["ece"] < report["test"]["ece"] / 3
    assert report["nll_with_temperature"] < report["nll"]
    np.testing.assert_allclose(apply_temperature(truth, 1.0), truth, atol=1e-6)
    assert (apply_temperature(truth, 3.0).argmax(1) == truth.argmax(1)).all()  # the predictions never change


def test_tta_is_chosen_on_validation_and_ties_go_to_fewer_views():
    y_val = np.array([0, 1, 2])
    right, wrong = one_hot_probabilities([0, 1, 2]), one_hot_probabilities([0, 1, 1])
    assert choose_tta(y_val, {"none": wrong, "flip": right, "flip+shift": right}) == "flip"
    assert choose_tta(y_val, {"none": right, "flip": right, "flip+shift": right}) == "none"
