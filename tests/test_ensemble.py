"""The ensemble checked against a hand computation, and built from trained members into its own artifacts."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core import artifacts
from core.data import load_dataset, make_splits
from core.ensemble import build_ensemble, choose_weights, weight_grid
from core.inference import EnsembleError, combine
from core.models import TRAINED_MODELS


def test_the_weight_grid_covers_the_simplex():
    grid = list(weight_grid(["a", "b", "c", "d"], 0.1))
    assert len(grid) == 286  # C(13, 3): ten tenths shared among four members
    assert all(sum(w.values()) == pytest.approx(1.0) for w in grid)
    assert {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.0} in grid and {"a": 0.3, "b": 0.3, "c": 0.2, "d": 0.2} in grid


def test_the_weights_favour_the_member_that_is_right_on_validation():
    y_val = np.array([0, 1, 2, 3])
    right = np.eye(7, dtype=np.float32)[y_val] * 0.6 + 0.4 / 7
    wrong = np.eye(7, dtype=np.float32)[[1, 2, 3, 0]] * 0.9 + 0.1 / 7
    weights = choose_weights(y_val, {"good": right, "bad": wrong})
    assert weights["good"] > weights["bad"]
    assert (combine({"good": right, "bad": wrong}, weights).argmax(1) == y_val).all()


def test_the_weights_are_the_grid_weighting_with_the_lowest_validation_log_loss():
    rng = np.random.default_rng(5)
    y_val = rng.integers(0, 7, 60)
    members = {name: rng.dirichlet(np.full(7, 0.5), 60).astype(np.float32) for name in ("a", "b", "c")}
    members["a"][np.arange(60), y_val] += 0.3  # a is right more often, b and c add little
    members["a"] /= members["a"].sum(axis=1, keepdims=True)

    def log_loss(weights):
        return -np.mean(np.log(combine(members, weights)[np.arange(60), y_val]))

    lowest = min(weight_grid(list(members)), key=log_loss)
    assert choose_weights(y_val, members) == lowest and lowest["a"] > 0.5


def test_the_ensemble_artifacts_match_a_hand_computation(trained_root):
    root = trained_root / "artifacts"
    folder = root / "ensemble"
    assert artifacts.missing_files(folder) == [] and artifacts.is_ensemble(folder)
    weights = artifacts.read_json(folder / artifacts.ENSEMBLE)["members"]
    assert set(weights) == set(TRAINED_MODELS) and sum(weights.values()) == pytest.approx(1.0)
    members = {m: artifacts.read_npz(root / m / artifacts.PREDICTIONS) for m in TRAINED_MODELS}
    by_hand = sum(w * members[m]["probabilities"].astype(np.float64) for m, w in weights.items())
    saved = artifacts.read_npz(folder / artifacts.PREDICTIONS)
    np.testing.assert_allclose(saved["probabilities"], by_hand, atol=1e-6)
    metrics = artifacts.read_json(folder / artifacts.METRICS)
    assert metrics["accuracy"] == pytest.approx(float(np.mean(by_hand.argmax(1) == saved["y_true"])))
    model = artifacts.read_model_artifacts(folder)
    assert model.history is None and model.ensemble["chosen_on"] == "validation"


def test_the_ensemble_needs_its_members_evaluated_on_the_same_data(trained_root, tmp_path):
    dataset = load_dataset(trained_root / "fer", cache_dir=trained_root / "cache")
    splits = make_splits(dataset, val_fraction=0.3, seed=1)  # as the members were trained
    root = tmp_path / "artifacts"
    shutil.copytree(trained_root / "artifacts" / "cnn", root / "cnn")
    with pytest.raises(EnsembleError, match="Member cnn_aug is not trained"):
        build_ensemble(splits, root, ["cnn", "cnn_aug"], log=lambda *_: None)
    shutil.copytree(trained_root / "artifacts" / "cnn_aug", root / "cnn_aug")
    other = make_splits(dataset, val_fraction=0.2, seed=9)
    with pytest.raises(EnsembleError, match="other validation or test images"):
        build_ensemble(other, root, ["cnn", "cnn_aug"], log=lambda *_: None)
    with pytest.raises(EnsembleError, match="at least two"):
        build_ensemble(splits, root, ["cnn"], log=lambda *_: None)
