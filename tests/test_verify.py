"""The artifact checks: the committed artifacts pass them, and each kind of damage is caught."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core import artifacts, verify
from core.__main__ import main
from core.data import load_dataset, make_splits
from tests.conftest import COMMITTED


def _splits(trained_root):
    return make_splits(load_dataset(trained_root / "fer", cache_dir=trained_root / "cache"), val_fraction=0.3, seed=1)


def test_the_committed_artifacts_are_within_budget_and_consistent():
    models, broken = artifacts.read_all_models(COMMITTED)
    assert models and not broken
    assert verify.verify_artifacts(COMMITTED, log=lambda *_: None) == []


def test_the_size_budget_counts_what_git_keeps_and_not_a_runs_own_files(tmp_path, monkeypatch):
    monkeypatch.setattr(verify, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(verify, "MAX_TOTAL_BYTES", 250)
    for ignored in ("cnn/checkpoint/last.keras", "tensorboard/cnn/events", "cnn/.partial-7-model.keras",
                    ".cnn.staging/model.keras"):  # all in .gitignore
        (tmp_path / ignored).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ignored).write_bytes(b"x" * 1000)
    (tmp_path / "cnn" / "model.keras").write_bytes(b"x" * 90)
    assert verify.size_problems(tmp_path) == []
    (tmp_path / "cnn_aug").mkdir()
    (tmp_path / "cnn_aug" / "model.keras").write_bytes(b"x" * 101)
    (tmp_path / "cnn_aug" / "checkpoint.md").write_bytes(b"x" * 60)  # a file so named is kept
    problems = verify.size_problems(tmp_path)
    assert len(problems) == 2 and "cnn_aug/model.keras is 0.0 MB, over" in problems[0]
    assert f"{tmp_path} holds 0.0 MB, over" in problems[1]


def test_trained_models_and_the_ensemble_reproduce_their_metrics_from_the_data(trained_root):
    lines = []
    assert verify.verify_artifacts(trained_root / "artifacts", _splits(trained_root), log=lines.append) == []
    assert len(lines) == 5 and all("OK (consistent, reproduced from the data" in line for line in lines)


def test_a_changed_model_file_is_caught_by_its_checksum_and_by_reproduction(trained_root, tmp_path):
    root = shutil.copytree(trained_root / "artifacts", tmp_path / "artifacts")
    folder = root / "cnn"
    model = artifacts.load_model(folder / artifacts.MODEL)
    predicted = artifacts.read_npz(folder / artifacts.PREDICTIONS)["probabilities"].argmax(1)
    kernel, bias = model.get_layer("probabilities").get_weights()
    bias[(np.bincount(predicted).argmax() + 1) % len(bias)] += 100.0  # now always says another class
    model.get_layer("probabilities").set_weights([kernel, bias])
    artifacts.save_keras_model(model, folder / artifacts.MODEL)
    card = {
        **artifacts.read_json(folder / artifacts.CARD),
        "file_size_bytes": (folder / artifacts.MODEL).stat().st_size,
    }
    artifacts.write_json(folder / artifacts.CARD, card)
    assert verify.verify_artifacts(root, log=lambda *_: None) == [
        "cnn: model.keras is not the file its card and metrics describe (its SHA-256 differs from card.json's "
        "model_sha256)."]
    # a card edited to match the new file passes every check that does not run the model
    artifacts.write_json(
        folder / artifacts.CARD, {**card, "model_sha256": artifacts.file_sha256(folder / artifacts.MODEL)}
    )
    assert verify.verify_artifacts(root, log=lambda *_: None) == []
    problems = verify.verify_artifacts(root, _splits(trained_root), log=lambda *_: None)
    assert any(p.startswith("cnn: metrics.json confusion_matrix") for p in problems)
    assert any(p.startswith("cnn:") and "test predictions differ" in p for p in problems)
    # the ensemble is re-run through its members (core.predictor), so a changed member may show there too
    assert {p.split(":")[0] for p in problems} <= {"cnn", "ensemble"}


def test_edited_metrics_a_wrong_card_and_an_oversized_file_are_each_reported(trained_root, tmp_path, monkeypatch):
    root = shutil.copytree(trained_root / "artifacts", tmp_path / "artifacts")
    metrics = artifacts.read_json(root / "cnn" / artifacts.METRICS)
    five_more_right = metrics["accuracy"] + 5 / metrics["n_test"]
    artifacts.write_json(root / "cnn" / artifacts.METRICS, {**metrics, "accuracy": five_more_right})
    card = artifacts.read_json(root / "vgg16" / artifacts.CARD)
    artifacts.write_json(root / "vgg16" / artifacts.CARD, {**card, "file_size_bytes": 1})
    monkeypatch.setattr(verify, "MAX_FILE_BYTES", (root / "resnet50v2" / artifacts.MODEL).stat().st_size - 1)
    problems = verify.verify_artifacts(root, log=lambda *_: None)
    assert any(p.startswith("cnn: metrics.json accuracy") for p in problems)
    assert any(p.startswith("cnn: the TTA table's test accuracy") for p in problems)
    assert any(p.startswith("vgg16: card.json says the model file has 1 bytes") for p in problems)
    assert any("resnet50v2" in p and "over the" in p and "limit per file" in p for p in problems)


def test_cli_verify_fails_with_the_problems_listed(trained_root, tmp_path, capsys):
    root = shutil.copytree(trained_root / "artifacts", tmp_path / "artifacts")
    assert main(["verify", "--artifacts", str(root)]) == 0
    (root / "cnn" / artifacts.PREDICTIONS).write_bytes(b"not an npz")
    assert main(["verify", "--artifacts", str(root)]) == 2
    error = capsys.readouterr().err
    assert "the artifacts do not check out" in error and "cnn:" in error and "predictions.npz" in error


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short"])
def test_an_empty_or_truncated_model_file_marks_only_that_model_broken(trained_root, tmp_path, content):
    root = shutil.copytree(trained_root / "artifacts", tmp_path / "artifacts")
    (root / "vgg16" / artifacts.MODEL).write_bytes(content)
    models, broken = artifacts.read_all_models(root)
    assert list(broken) == ["vgg16"] and "is not a Keras file" in broken["vgg16"]
    assert "cnn" in models and "ensemble" in models
