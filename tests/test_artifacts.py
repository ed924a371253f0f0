"""The artifact files are read through one schema: a file that is readable but not what the format says
marks its model broken with the reason, and every other model still shows, in the pages, verify and the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import artifacts, verify
from core.report import report_html
from dashboard.common import view_path
from tests.conftest import COMMITTED

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


def edit_npz(path: Path, change) -> None:
    arrays = artifacts.read_npz(path)
    change(arrays)
    np.savez(path, **arrays)


def edit_csv(path: Path, change) -> None:
    change(pd.read_csv(path)).to_csv(path, index=False)


def without(data: dict, *keys):
    inner = data
    for key in keys[:-1]:
        inner = inner[key]
    del inner[keys[-1]]
    return data


def nan_at_epoch_two(history):
    history.loc[1, "val_loss"] = np.nan
    return history


# (case, model folder, file, change, the page the damage used to crash, what the reason says)
BAD_FILES = [
    (
        "card is a list",
        "cnn",
        "card.json",
        lambda f: f.write_text("[]"),
        "overview",
        "card.json is list [], not an object",
    ),
    (
        "metrics lack a class",
        "cnn",
        "metrics.json",
        lambda f: edit_json(f, lambda m: without(m, "per_class", "fear")),
        "per_class",
        "metrics.json.per_class lacks 'fear'",
    ),
    (
        "accuracy is text",
        "vgg16",
        "metrics.json",
        lambda f: edit_json(f, lambda m: {**m, "accuracy": "high"}),
        "overview",
        "metrics.json.accuracy is 'high', not a number from 0 to 1",
    ),
    (
        "history lacks the learning rate",
        "cnn_aug",
        "history.csv",
        lambda f: edit_csv(f, lambda h: h.drop(columns="learning_rate")),
        "training",
        "history.csv lacks the column(s) learning_rate",
    ),
    (
        "NaN in the history",
        "cnn_aug",
        "history.csv",
        lambda f: edit_csv(f, nan_at_epoch_two),
        "training",
        "history.csv's val_loss is not a finite number at epoch(s) 2",
    ),
    (
        "NaN among the probabilities",
        "resnet50v2",
        "predictions.npz",
        lambda f: edit_npz(f, lambda a: a["probabilities"].__setitem__((3, 2), np.nan)),
        "roc",
        "predictions.npz holds 1 probabilities that are not finite numbers",
    ),
    (
        "ensemble weights all zero",
        "ensemble",
        "ensemble.json",
        lambda f: edit_json(f, lambda e: {**e, "members": {m: 0 for m in e["members"]}}),
        "overview",
        "ensemble.json gives every member weight zero",
    ),
    (
        "a distilled model's teacher half recorded",
        "cnn_aug",
        "card.json",
        lambda f: edit_json(f, lambda c: {**c, "teacher": {"folder": "artifacts"}}),
        "overview",
        "card.json.teacher lacks 'answered_by'",
    ),
    (
        "ensemble members not weights",
        "ensemble",
        "ensemble.json",
        lambda f: edit_json(f, lambda e: {**e, "members": ["cnn", "cnn_aug"]}),
        "overview",
        "ensemble.json.members is list ['cnn', 'cnn_aug'], not dict",
    ),
]


@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "artifacts"
    shutil.copytree(COMMITTED, root, ignore=shutil.ignore_patterns("model.keras"))
    for name in ("cnn", "cnn_aug", "vgg16", "resnet50v2"):  # links: the readers check the file's kind only
        (root / name / "model.keras").symlink_to(COMMITTED / name / "model.keras")
    return root


@pytest.mark.parametrize("case, name, file, change, page, reason", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_malformed_file_marks_its_model_broken_and_the_rest_still_show(copy, monkeypatch, case, name, file, change,
                                                                          page, reason):
    change(copy / name / file)
    models, broken = artifacts.read_all_models(copy)
    assert set(broken) == {name} and reason in broken[name]
    assert len(models) == 4
    monkeypatch.setenv("FER_LAB_ARTIFACTS", str(copy))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page(view_path(page)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert f"**{name}** is left out" in " ".join(w.value for w in app.warning)


def test_verify_and_the_report_name_a_broken_model_and_go_on(copy):
    (copy / "cnn" / "card.json").write_text("[]")
    models, broken = artifacts.read_all_models(copy)
    problems = verify.verify_artifacts(copy, log=lambda *_: None)
    assert problems == ["cnn: card.json is list [], not an object."]
    assert "Left out:</b> cnn (card.json is list [], not an object)" in report_html(models, broken)


def test_an_ensemble_without_its_members_tta_still_reads(copy):
    edit_json(copy / "ensemble" / "ensemble.json", lambda e: without(e, "members_tta"))
    models, broken = artifacts.read_all_models(copy)
    assert not broken and "ensemble" in models


def test_an_invalid_dataset_summary_is_named_on_the_data_page(copy, monkeypatch):
    edit_json(copy / "dataset.json", lambda d: without(d, "splits", "val"))
    monkeypatch.setenv("FER_LAB_ARTIFACTS", str(copy))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page(view_path("data")).run()
    assert not app.exception
    assert "dataset.json is not a dataset summary: dataset.json.splits lacks 'val'" in app.error[0].value


def test_a_copy_of_a_model_folder_under_a_new_name_stays_on_every_run(copy, monkeypatch):
    shutil.copytree(copy / "cnn", copy / "my_model", symlinks=True)
    monkeypatch.setenv("FER_LAB_ARTIFACTS", str(copy))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.run()  # a rerun once dropped the copy: the model picker matched it to the original by title
    assert "Custom CNN (my_model)" in list(app.dataframe[0].value["model"])
    assert "my_model" in app.session_state["chosen"]


def test_the_validation_split_is_read_from_the_cards_and_must_be_one(copy, tmp_path):
    """Studies and --teacher take the held-out split from the models' cards, never from a constant."""
    assert artifacts.validation_split(copy) == (1234, 0.1)
    edit_json(copy / "vgg16" / "card.json", lambda card: {**card, "seed": 7})
    assert artifacts.validation_split(copy, ["cnn", "cnn_aug"]) == (1234, 0.1)
    with pytest.raises(artifacts.ArtifactError, match=r"different validation splits.*'vgg16': \(7, 0.1\)"):
        artifacts.validation_split(copy)
    with pytest.raises(artifacts.ArtifactError, match="no trained model with a card"):
        artifacts.validation_split(tmp_path / "empty")


def test_a_write_cut_short_keeps_the_old_file_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "card.json"
    artifacts.write_json(path, {"epoch": 1})

    def dies_half_way(temporary: Path) -> None:
        temporary.write_text('{"epo')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        artifacts._replace_atomically(path, dies_half_way)
    assert artifacts.read_json(path) == {"epoch": 1} and [p.name for p in tmp_path.iterdir()] == ["card.json"]


def test_json_is_written_strict_nan_and_infinity_as_null_numpy_as_plain_values(tmp_path):
    path = tmp_path / "metrics.json"
    artifacts.write_json(path, {"ece": np.float32(0.25), "counts": np.arange(3), "auc": float("nan"),
                                "loss": -np.inf, 7: (np.int64(2), np.bool_(True))})
    assert json.loads(path.read_text()) == {"ece": 0.25, "counts": [0, 1, 2], "auc": None, "loss": None,
                                            "7": [2, True]}
    path.write_text('{"ece": 0.25')
    with pytest.raises(artifacts.ArtifactError, match="metrics.json"):
        artifacts.read_json(path)
