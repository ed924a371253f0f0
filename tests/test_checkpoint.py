"""A training run loses nothing: finished models are replaced only on request and in one step, runs into one
folder exclude each other, a resume checks its settings and repeats the uninterrupted run exactly."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core import artifacts, checkpoint
from core.__main__ import main
from core.checkpoint import RunLock, TrainError
from core.data import load_dataset, make_splits
from core.train import TrainConfig, train
from tests.conftest import write_folder

pytestmark = pytest.mark.slow  # every test here trains a model or starts a process


class Interrupt(Exception):
    pass


def stop_at(prefix: str):
    def log(message):
        if message.startswith(prefix):
            raise Interrupt  # as if killed right after that epoch's checkpoint

    return log


def quiet(*_):
    pass


@pytest.fixture
def setup(tmp_path):
    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    config = TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=2, batch_size=16)
    return config, splits


def folder_contents(folder):
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.is_file()}


def test_a_finished_model_is_replaced_only_with_restart_and_only_once_the_new_one_is_done(setup):
    config, splits = setup
    first = train(config, splits=splits, log=quiet)
    folder = artifacts.read_model_artifacts(Path(config.out) / "cnn")
    finished = folder_contents(Path(config.out) / "cnn")
    with pytest.raises(TrainError, match="holds a finished model. Add --restart"):
        train(config, splits=splits, log=quiet)
    with pytest.raises(Interrupt):  # a replacement cut short during its training ...
        train(replace(config, restart=True, seed=7), splits=splits, log=stop_at("epoch 1/2"))
    assert folder_contents(Path(config.out) / "cnn") == finished  # ... leaves the finished model as it was
    assert artifacts.read_model_artifacts(Path(config.out) / "cnn").card == folder.card

    import core.export

    def killed_during_export(model, name, path, *args):  # the new model.keras written, nothing else
        raise Interrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core.export, "evaluate_saved_model", killed_during_export)
        with pytest.raises(Interrupt):
            train(replace(config, resume=True, seed=7), splits=splits, log=quiet)
    assert folder_contents(Path(config.out) / "cnn") == finished
    second = train(replace(config, resume=True, seed=7), splits=splits, log=quiet)
    assert second["seed"] == 7 and second["trained_at"] >= first["trained_at"]
    replaced = artifacts.read_model_artifacts(Path(config.out) / "cnn")
    assert replaced.card == second and replaced.card["model_sha256"] == artifacts.file_sha256(
        Path(config.out) / "cnn" / artifacts.MODEL)
    assert not (Path(config.out) / ".cnn.staging").exists()


def test_a_second_run_into_the_same_folder_is_refused_naming_the_first(setup):
    config, splits = setup
    with RunLock(Path(config.out), "cnn"):
        with pytest.raises(TrainError, match=r"Another training run is writing to .*cnn: process \d+ since"):
            train(config, splits=splits, log=quiet)
    train(config, splits=splits, log=quiet)  # the lock goes with the run that held it


def test_resume_refuses_other_settings_and_names_them(setup, tmp_path):
    config, splits = setup
    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_at("epoch 1/2"))
    with pytest.raises(TrainError, match="--resume"):  # nor does it start again over the unfinished run
        train(config, splits=splits, log=quiet)
    with pytest.raises(TrainError, match=r"other settings .*seed: 1234 -> 5; batch_size: 16 -> 32"):
        train(replace(config, resume=True, seed=5, batch_size=32), splits=splits, log=quiet)
    with pytest.raises(TrainError, match=r"other settings .*augmentation: \[\] -> \['flip', 'zoom'\]"):
        train(replace(config, resume=True, augmentation=["flip", "zoom"]), splits=splits, log=quiet)
    other_data = write_folder(tmp_path / "other")
    with pytest.raises(TrainError, match="data: .*fer -> .*other"):
        train(replace(config, resume=True, data=str(other_data)), splits=splits, log=quiet)
    messages = []
    card = train(replace(config, resume=True, epochs=3), splits=splits, log=messages.append)  # a longer budget is fine
    assert messages[0].startswith("Resuming cnn after epoch 1")
    assert [m.split()[1] for m in messages if m.startswith("epoch")] == ["2/3", "3/3"] and card["epochs_run"] == 3


def test_an_interrupted_and_resumed_run_repeats_the_uninterrupted_one_exactly(setup, tmp_path):
    config, splits = setup
    config = replace(config, model="cnn_aug", epochs=3)  # augmentation and dropout: random every step
    train(replace(config, out=str(tmp_path / "whole")), splits=splits, log=quiet)
    with pytest.raises(Interrupt):
        train(replace(config, out=str(tmp_path / "parts")), splits=splits, log=stop_at("epoch 1/3"))
    train(replace(config, out=str(tmp_path / "parts"), resume=True), splits=splits, log=quiet)
    whole = artifacts.read_model_artifacts(tmp_path / "whole" / "cnn_aug").history.drop(columns="seconds")
    parts = artifacts.read_model_artifacts(tmp_path / "parts" / "cnn_aug").history.drop(columns="seconds")
    assert whole.to_dict("records") == parts.to_dict("records")


def test_a_checkpoint_without_its_best_weights_resumes_and_says_so(setup):
    config, splits = setup
    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_at("epoch 1/2"))
    (checkpoint.checkpoint_dir(Path(config.out) / "cnn") / checkpoint.BEST_WEIGHTS).unlink()
    messages = []
    card = train(replace(config, resume=True), splits=splits, log=messages.append)
    assert any("best.weights.h5 is gone, and with it the weights of epoch 1" in m for m in messages)
    assert card["best_epoch"] == 2  # the best of the epochs trained after the loss


def test_a_checkpoint_without_its_best_weights_and_no_epoch_left_keeps_the_last_epochs_weights(setup):
    config, splits = setup
    with pytest.raises(Interrupt):  # killed after the last epoch's checkpoint, before the export
        train(config, splits=splits, log=stop_at("epoch 2/2"))
    folder = checkpoint.checkpoint_dir(Path(config.out) / "cnn")
    (folder / checkpoint.BEST_WEIGHTS).unlink()
    last, state = checkpoint.load_checkpoint(folder)
    messages = []
    card = train(replace(config, resume=True), splits=splits, log=messages.append)
    assert any("is gone" in m and "the last one's, if none is left to run" in m for m in messages)
    assert not any(m.startswith("epoch") for m in messages)
    assert card["best_epoch"] == 2 and card["best_val_accuracy"] == pytest.approx(state.history[-1]["val_accuracy"])
    kept = artifacts.load_model(Path(config.out) / "cnn" / artifacts.MODEL)
    assert len(kept.weights) == len(last.weights)
    for exported, trained in zip(kept.weights, last.weights):
        np.testing.assert_array_equal(np.asarray(exported), np.asarray(trained))


def test_continuing_a_finished_run_in_its_own_folder_replaces_it_only_when_done(setup):
    config, splits = setup
    train(config, splits=splits, log=quiet)
    model_dir = Path(config.out) / "cnn"
    finished = folder_contents(model_dir)
    more = replace(config, epochs=2, continue_from=str(model_dir))
    with pytest.raises(Interrupt):
        train(more, splits=splits, log=stop_at("epoch 3/4"))
    assert folder_contents(model_dir) == finished  # the finished model stays until the continuation is done
    card = train(replace(more, resume=True), splits=splits, log=quiet)
    history = artifacts.read_model_artifacts(model_dir).history
    assert history["epoch"].tolist() == [1, 2, 3, 4] and card["epochs_run"] == 4
    assert card["continued_from"]["folder"] == str(model_dir) and card["continued_from"]["epochs"] == 2
    assert not checkpoint.checkpoint_dir(model_dir).exists() and not (Path(config.out) / ".cnn.staging").exists()


def test_a_full_disk_while_saving_keeps_the_last_checkpoint(setup, monkeypatch):
    config, splits = setup
    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_at("epoch 1/2"))
    state = artifacts.read_json(checkpoint.checkpoint_dir(Path(config.out) / "cnn") / checkpoint.STATE)

    def disk_full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "save_keras_model", disk_full)
    with pytest.raises(TrainError, match="No space left on device.*last complete checkpoint is kept"):
        train(replace(config, resume=True), splits=splits, log=quiet)
    assert artifacts.read_json(checkpoint.checkpoint_dir(Path(config.out) / "cnn") / checkpoint.STATE) == state
    monkeypatch.undo()
    assert train(replace(config, resume=True), splits=splits, log=quiet)["epochs_run"] == 2


def test_too_little_data_for_a_validation_split_gets_a_message(tmp_path, capsys):
    csv = tmp_path / "tiny.csv"
    pixels = " ".join(["128"] * 48 * 48)
    csv.write_text("emotion,pixels,Usage\n" + "".join(f"{c},{pixels},{u}\n" for c in range(7)
                                                      for u in ("Training", "PublicTest")))
    assert main(["train", "cnn", "--data", str(csv), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "validate on" in err and "0 validation images" in err and "Traceback" not in err


def test_training_does_not_write_the_data_pages_files_but_core_data_does(setup, capsys):
    config, splits = setup
    train(replace(config, epochs=1), splits=splits, log=quiet)
    root = Path(config.out)
    assert not (root / artifacts.DATASET).exists()
    assert main(["data", "--data", config.data, "--out", str(root)]) == 0
    assert artifacts.read_json(root / artifacts.DATASET)["training_pool"] == 42
    examples = artifacts.read_npz(root / artifacts.DATASET_EXAMPLES)
    assert examples["images"].shape[1:] == (48, 48) and set(examples["labels"].tolist()) == set(range(7))


def test_a_run_killed_between_the_two_renames_is_completed_and_its_folders_never_show(setup):
    config, splits = setup
    card = train(config, splits=splits, log=quiet)
    root = Path(config.out)
    (root / "cnn").rename(root / ".cnn.staging")  # as if killed after moving the old folder aside
    (root / ".cnn.replaced").mkdir()
    (root / ".cnn.replaced" / "card.json").write_text("{}")
    models, broken = artifacts.read_all_models(root)
    assert not models and not broken  # a run's own folders are not models
    messages = []
    assert train(replace(config, resume=True), splits=splits, log=messages.append) == card
    assert "its training is done" in messages[0]
    assert set(artifacts.read_all_models(root)[0]) == {"cnn"} and not (root / ".cnn.staging").exists()


def test_a_diverging_run_stops_with_a_message_and_keeps_its_last_checkpoint(setup, monkeypatch):
    config, splits = setup
    import core.train

    scheduled = core.train.scheduled_learning_rate
    monkeypatch.setattr(core.train, "scheduled_learning_rate",  # a sane first epoch, then a rate that blows up
                        lambda epoch, epochs, peak: scheduled(epoch, epochs, peak) if epoch == 0 else 1e30)
    with pytest.raises(TrainError, match=r"diverged in epoch 2 \(loss .*\); the checkpoint after epoch 1 is kept"):
        train(replace(config, optimizer="sgd", epochs=4), splits=splits, log=quiet)
    state = artifacts.read_json(Path(config.out) / "cnn" / "checkpoint" / checkpoint.STATE)
    assert state["epoch"] == 1 and len(state["history"]) == 1  # the last good epoch's checkpoint


def test_a_damaged_checkpoint_is_named_and_restart_starts_over_from_scratch(setup):
    config, splits = setup
    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_at("epoch 1/2"))
    folder = checkpoint.checkpoint_dir(Path(config.out) / "cnn")
    (folder / checkpoint.LAST_MODEL).write_bytes(b"cut short")
    with pytest.raises(TrainError, match=r"checkpoint in .* is damaged .*Start over with --restart"):
        train(replace(config, resume=True), splits=splits, log=quiet)
    messages = []
    card = train(replace(config, restart=True), splits=splits, log=messages.append)
    assert not any(m.startswith("Resuming") for m in messages) and card["epochs_run"] == 2
    assert [m.split()[1] for m in messages if m.startswith("epoch")] == ["1/2", "2/2"] and not folder.exists()


def test_the_lock_of_a_killed_run_is_free_again(tmp_path):
    hold = ("import sys, time; from pathlib import Path; from core.checkpoint import RunLock; "
            "lock = RunLock(Path(sys.argv[1]), 'cnn').__enter__(); print('held', flush=True); time.sleep(120)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], cwd=Path(__file__).resolve().parents[1],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TrainError, match=rf"is writing to .*cnn: process {holder.pid} since"):
            RunLock(tmp_path, "cnn").__enter__()
    finally:
        holder.send_signal(signal.SIGKILL)  # as a crash or `kill -9` ends a run: no cleanup
        holder.wait()
    with RunLock(tmp_path, "cnn"):
        assert f"process {os.getpid()} since" in checkpoint.lock_path(tmp_path, "cnn").read_text()
