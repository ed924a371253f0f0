"""The four models train on tiny data, write artifacts that reload exactly, and resume when interrupted."""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from core import artifacts
from core.__main__ import main
from core.data import class_counts, class_weights, load_dataset, make_splits
from core.inference import TTA_MODES, predict
from core.models import REGISTRY, TRAINED_MODELS
from core.train import TrainConfig, TrainError, plateau_step, scheduled_learning_rate, train
from tests.conftest import write_folder


@pytest.mark.parametrize("name", TRAINED_MODELS)
def test_each_model_trains_and_its_artifacts_reload_to_the_same_probabilities(trained_root, name):
    folder = trained_root / "artifacts" / name
    assert artifacts.missing_files(folder) == []
    model = artifacts.load_model(folder / artifacts.MODEL)
    saved = artifacts.read_npz(folder / artifacts.PREDICTIONS)
    test = make_splits(load_dataset(trained_root / "fer", cache_dir=trained_root / "cache")).test
    metrics = artifacts.read_json(folder / artifacts.METRICS)
    assert metrics["tta"] in TTA_MODES  # chosen on validation; the saved scores use it
    probabilities = predict(model, test.x, tta=metrics["tta"])
    assert probabilities.dtype == np.float32 and probabilities.shape == (len(test), 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, saved["probabilities"], atol=1e-6)
    assert metrics["accuracy"] == pytest.approx(float(np.mean(probabilities.argmax(1) == test.y)))
    assert metrics["tta_effect"][metrics["tta"]]["test_accuracy"] == pytest.approx(metrics["accuracy"])
    assert metrics["test_split"] == "PublicTest (14) + PrivateTest (7)"


@pytest.mark.parametrize("name", TRAINED_MODELS)
def test_the_card_tells_how_the_model_was_made(trained_root, name):
    folder = trained_root / "artifacts" / name
    card = artifacts.read_json(folder / artifacts.CARD)
    assert card["initial_weights"] == "none" and card["initial_weights_label"] == "random init"
    assert card["epochs_run"] == 1 and card["best_epoch"] == 1
    assert card["file_size_bytes"] == (folder / artifacts.MODEL).stat().st_size
    assert card["parameters"] > 0 and card["train_images_per_second"] > 0
    assert card["data"]["totals"]["test"] == 21
    assert (card["class_weights"] is not None) == REGISTRY[name].class_weighted
    layers = card["augmentation_layers"]
    assert bool(layers) == bool(REGISTRY[name].augmentation) and all(layer.startswith("Random") for layer in layers)
    history = (folder / artifacts.HISTORY).read_text().splitlines()
    assert history[0] == ",".join(artifacts.HISTORY_COLUMNS) and len(history) == 2
    assert not (folder / "checkpoint").exists()  # a finished run leaves no checkpoint behind


def test_the_saved_model_has_no_optimizer_and_no_augmentation(trained_root):
    folder = trained_root / "artifacts" / "cnn_aug"
    with zipfile.ZipFile(folder / artifacts.MODEL) as saved:
        assert not json.loads(saved.read("config.json")).get("compile_config")  # never compiled: no optimizer
    model = artifacts.load_model(folder / artifacts.MODEL)
    assert not any(layer.name.startswith("aug_") for layer in model.layers)


class Interrupt(Exception):
    pass


@pytest.mark.slow
def test_limit_trains_on_that_many_training_faces_and_the_card_says_so(tmp_path):
    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    card = train(TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=1, batch_size=16,
                             limit=10), splits=splits, log=lambda *_: None)
    assert len(splits.train) > 10 and card["data"]["totals"]["train"] == 10 and card["command"]["limit"] == 10
    drawn = np.random.default_rng(card["seed"]).permutation(len(splits.train))[:10]  # not the first ten
    assert card["data"]["counts"]["train"] == class_counts(splits.train.y[drawn])
    assert card["data"]["totals"]["val"] == len(splits.val)  # validation is never cut


@pytest.mark.slow
def test_a_finished_run_continues_with_a_warm_restart_and_its_history_carries_on(tmp_path):
    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    first = train(TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "first"), epochs=2, batch_size=16),
                  splits=splits, log=lambda *_: None)
    finished = tmp_path / "first" / "cnn"
    config = TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "more"), epochs=2, batch_size=16,
                         learning_rate=5e-4, continue_from=str(finished))
    with pytest.raises(TrainError, match="holds 'cnn', not 'cnn_aug'"):
        train(replace(config, model="cnn_aug"), splits=splits, log=lambda *_: None)
    with pytest.raises(TrainError, match="needs --epochs"):
        train(replace(config, epochs=None), splits=splits, log=lambda *_: None)
    with pytest.raises(TrainError, match="needs a finished model folder.*missing model.keras"):
        train(replace(config, continue_from=str(tmp_path / "first")), splits=splits, log=lambda *_: None)

    def stop_after_first_new_epoch(message):
        if message.startswith("epoch 3/4"):
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_after_first_new_epoch)
    with pytest.raises(TrainError, match="holds an unfinished run: finish it with --resume"):
        train(replace(config, out=str(tmp_path / "third"), continue_from=str(tmp_path / "more" / "cnn")),
              splits=splits, log=lambda *_: None)
    messages = []
    card = train(replace(config, resume=True), splits=splits, log=messages.append)
    assert messages[0].startswith("Resuming cnn after epoch 3")
    assert [m.split()[1] for m in messages if m.startswith("epoch")] == ["4/4"]
    history = artifacts.read_model_artifacts(tmp_path / "more" / "cnn").history
    assert history["epoch"].tolist() == [1, 2, 3, 4]
    assert history["learning_rate"].tolist()[2:] == pytest.approx([5e-4 / 3, 2 * 5e-4 / 3])  # warm-up anew
    assert history.iloc[:2].to_dict("records") == artifacts.read_model_artifacts(finished).history.to_dict("records")
    assert card["epochs_run"] == 4 and card["epochs_max"] == 4 and card["learning_rate"] == 5e-4
    assert card["continued_from"]["folder"] == str(finished) and card["continued_from"]["epochs"] == 2
    assert card["continued_from"]["command"] == first["command"]
    assert card["training_seconds"] > first["training_seconds"] and card["initial_weights"] == "none"
    # the earlier kept weights stay unless beaten: the kept epoch is the first to reach the best val accuracy
    assert card["best_epoch"] == int(history.loc[history["val_accuracy"].idxmax(), "epoch"])
    assert card["best_val_accuracy"] == pytest.approx(history["val_accuracy"].max())


@pytest.mark.slow
def test_deferred_class_weights_switch_on_late_and_the_kept_weights_come_from_after_the_switch(tmp_path, monkeypatch):
    import keras

    from core import models

    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    monkeypatch.setitem(models.REGISTRY, "cnn", replace(models.REGISTRY["cnn"], class_weighted=True))
    class_weight_per_epoch = []
    fit = keras.Model.fit

    def recording_fit(self, *args, **kwargs):
        class_weight_per_epoch.append(kwargs.get("class_weight"))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    card = train(TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=4, batch_size=16,
                             class_weights_from_epoch=2, patience=0), splits=splits, log=lambda *_: None)
    assert class_weight_per_epoch[:2] == [None, None] and class_weight_per_epoch[2] == class_weights(splits.train.y)
    history = (tmp_path / "out" / "cnn" / artifacts.HISTORY).read_text().splitlines()
    phases = [dict(zip(history[0].split(","), row.split(",")))["phase"] for row in history[1:]]
    assert phases == ["full", "full", "reweighted"]  # no early stop before the switch, the first one after it
    assert card["stopped_early"] and card["best_epoch"] == 3 and card["class_weights_from_epoch"] == 2


def test_the_learning_rate_warms_up_then_follows_a_cosine():
    rates = [scheduled_learning_rate(epoch, 12, 1e-3) for epoch in range(12)]
    assert rates[:3] == pytest.approx([1e-3 / 3, 2e-3 / 3, 1e-3])
    assert rates[2:] == sorted(rates[2:], reverse=True)  # then only down
    assert rates[-1] == pytest.approx(1e-5)  # to a hundredth of the peak
    assert rates[7] == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 5 / 9)))


def test_every_warm_restart_of_a_chain_of_continuations_is_found_in_the_learning_rate_column():
    import pandas as pd

    runs = ((6, 1e-3), (5, 5e-4), (4, 5e-4))  # a run from scratch, then two continuations (epochs, peak rate)
    rates = [scheduled_learning_rate(epoch, epochs, peak) for epochs, peak in runs for epoch in range(epochs)]
    history = pd.DataFrame({"epoch": range(1, len(rates) + 1), "learning_rate": rates})
    assert artifacts.warm_restarts(history) == [6, 11]
    assert artifacts.warm_restarts(history.iloc[:6]) == []  # the first warm-up is not a restart
    assert artifacts.warm_restarts(history.assign(learning_rate=[1e-3] * 3 + [1e-4] * 12)) == []  # fine-tuning's drop


@pytest.mark.slow
def test_a_model_over_the_size_limit_is_stored_in_float16_and_the_cost_measured(tmp_path, monkeypatch):
    import core.export

    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    monkeypatch.setattr(core.export, "MAX_MODEL_BYTES", 1_000_000)  # the CNN's float32 file is about 5 MB
    train(TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=1, batch_size=16),
          splits=splits, log=lambda *_: None)
    folder = tmp_path / "out" / "cnn"
    storage = artifacts.read_json(folder / artifacts.CARD)["storage"]
    assert storage["weights_dtype"] == "float16"
    assert storage["bytes"] == (folder / artifacts.MODEL).stat().st_size < 0.6 * storage["float32_bytes"]
    assert storage["test_max_probability_change"] < 0.05
    # predictions that changed bound how far the accuracy can move
    accuracy_moved = abs(storage["test_accuracy_float32"] - storage["test_accuracy_float16"])
    assert accuracy_moved <= 1 - storage["test_same_prediction"] + 1e-9
    model = artifacts.load_model(folder / artifacts.MODEL)
    metrics = artifacts.read_json(folder / artifacts.METRICS)
    saved = artifacts.read_npz(folder / artifacts.PREDICTIONS)
    np.testing.assert_allclose(predict(model, splits.test.x, tta=metrics["tta"]), saved["probabilities"], atol=1e-6)
    assert storage["test_accuracy_float16"] == pytest.approx(
        float(np.mean(predict(model, splits.test.x).argmax(1) == splits.test.y))
    )


def test_cli_evaluate_with_a_chosen_tta_reports_every_mode(tmp_path, capsys, trained_root):
    import shutil

    root = tmp_path / "artifacts"
    shutil.copytree(trained_root / "artifacts" / "cnn_aug", root / "cnn_aug")
    argv = ["evaluate", "cnn_aug", "--data", str(trained_root / "fer"), "--val-fraction", "0.3", "--seed", "1",
            "--out", str(root), "--tta", "flip"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "TTA flip;" in out and all(f"TTA {mode}" in out for mode in TTA_MODES)
    metrics = artifacts.read_json(root / "cnn_aug" / artifacts.METRICS)
    assert metrics["tta"] == "flip" and metrics["accuracy"] == metrics["tta_effect"]["flip"]["test_accuracy"]


CLI_BAD_INPUTS = [  # (arguments, with {data} the fixture data and {tmp} a scratch folder; what the error says)
    ("train transformer --data {data} --out {tmp}/o", "Unknown model 'transformer'. Known models: cnn, cnn_aug"),
    ("train cnn --data {tmp}/missing --out {tmp}/o", "does not exist"),
    ("train cnn --data {data} --out {tmp}/a_file/out", "Cannot write to the output folder"),
    ("train vgg16 --data {data} --weights {tmp}/none.h5 --out {tmp}/o", "does not exist"),
    ("evaluate cnn --data {data} --out {tmp}/corrupt", "could not be loaded as a Keras model"),
    ("evaluate cnn --data {data} --out {tmp}/empty", "model.keras is missing"),
    ("train ensemble --data {data} --out {tmp}/o", "is not trained but combined from the others"),
    ("train cnn --data {data} --class-weights-from 3 --out {tmp}/o", "cnn trains without class weights"),
]


@pytest.mark.parametrize("command, expected", CLI_BAD_INPUTS, ids=[c for c, _ in CLI_BAD_INPUTS])
def test_cli_bad_inputs_get_clear_messages(tmp_path, capsys, command, expected):
    data = write_folder(tmp_path / "fer")
    (tmp_path / "a_file").write_text("")
    (tmp_path / "corrupt" / "cnn").mkdir(parents=True)
    (tmp_path / "corrupt" / "cnn" / "model.keras").write_bytes(b"this is not a keras file")
    assert main(command.format(data=data, tmp=tmp_path).split()) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_the_plateau_schedule_cuts_the_rate_after_five_epochs_without_progress():
    rate, stalled, rates = 0.01, 0, []
    for improved in [True, False, False, False, False, False, True, False]:
        rate, stalled = plateau_step(rate, stalled, improved)
        rates.append(rate)
    assert rates == pytest.approx([0.01] * 5 + [0.0075] * 3)  # the fifth epoch without progress cuts it by 0.75
    assert stalled == 1


@pytest.mark.slow
def test_sgd_with_the_plateau_schedule_trains_records_itself_and_writes_tensorboard_logs(tmp_path):
    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    card = train(TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=12, batch_size=16,
                             learning_rate=0.01, optimizer="sgd", schedule="plateau", patience=12),
                 splits=splits, log=lambda *_: None)
    assert (card["optimizer"], card["schedule"], card["weight_decay"]) == ("sgd", "plateau", 1e-4)
    history = artifacts.read_model_artifacts(tmp_path / "out" / "cnn").history
    # replay the schedule on the recorded validation accuracies: warm-up, then the plateau rule
    rate, stalled, best, expected = 0.01, 0, -1.0, []
    for epoch, accuracy in enumerate(history["val_accuracy"]):
        expected.append(scheduled_learning_rate(epoch, 12, 0.01) if epoch < 2 else rate)
        improved, best = accuracy > best, max(best, accuracy)
        if epoch >= 2:
            rate, stalled = plateau_step(rate, stalled, improved)
    assert history["learning_rate"].tolist() == pytest.approx(expected)
    assert min(expected[2:]) < 0.01  # the rate was cut at least once
    assert list((tmp_path / "out" / "tensorboard" / "cnn").rglob("events.out.tfevents.*"))


@pytest.mark.slow
def test_a_recipes_planned_warm_restarts_run_in_one_command(tmp_path, monkeypatch):
    from core import models
    from core.model_card import training_runs

    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    monkeypatch.setitem(models.REGISTRY, "cnn", replace(models.REGISTRY["cnn"], restarts=((2, 5e-4),)))
    config = TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=5, batch_size=16, patience=9)
    card = train(config, splits=splits, log=lambda *_: None)
    history = artifacts.read_model_artifacts(tmp_path / "out" / "cnn").history
    first = [scheduled_learning_rate(epoch, 5, 1e-3) for epoch in range(5)]
    again = [scheduled_learning_rate(epoch, 2, 5e-4) for epoch in range(2)]  # a new warm-up from a lower peak
    assert history["learning_rate"].tolist() == pytest.approx(first + again)
    assert card["epochs_max"] == 7 and card["command"]["restarts"] == [[2, 5e-4]]
    assert [run["epochs"] for run in training_runs(history)] == [(1, 5), (6, 7)]
    # early stopping waits for the last run: patience 0 stops after its first epoch, not in the first run
    stopped = train(replace(config, out=str(tmp_path / "stop"), patience=0), splits=splits, log=lambda *_: None)
    assert stopped["epochs_run"] == 6 and stopped["stopped_early"]
    with pytest.raises(TrainError, match="Planned warm restarts follow the cosine schedule"):
        train(replace(config, schedule="plateau"), splits=splits, log=lambda *_: None)


def test_a_student_learns_from_the_teachers_answers_mixed_with_the_labels(tmp_path, trained_root, monkeypatch):
    """--teacher: the targets are 0.5 x the teacher ensemble's probabilities + 0.5 x the one-hot label; computed
    once, kept for --resume; a teacher that held out another validation split is refused."""
    import keras

    from core import predictor as predictor_module
    from core.model_card import _command_line, model_card_markdown

    data, teacher = trained_root / "fer", trained_root / "artifacts"
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    config = TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=2, batch_size=16,
                         val_fraction=0.3, teacher=str(teacher))
    with pytest.raises(TrainError, match="another validation split"):
        train(replace(config, seed=7), splits=splits, log=lambda *_: None)

    targets, fit = [], keras.Model.fit

    def recording_fit(self, x, y, **options):
        targets.append(np.array(y))
        return fit(self, x, y, **options)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)

    def stop_after_first_epoch(message):
        if message.startswith("epoch 1/2"):
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_after_first_epoch)
    answers = predictor_module.Predictor(teacher, warm_detector=False).predict_faces(splits.train.x[..., 0])["ensemble"]
    expected = 0.5 * answers + 0.5 * np.eye(7)[splits.train.y]
    assert np.allclose(targets[0], expected, atol=1e-5) and np.allclose(targets[0].sum(axis=1), 1, atol=1e-5)

    monkeypatch.setattr(predictor_module, "Predictor", None)  # resuming must not ask the teacher again
    card = train(replace(config, resume=True), splits=splits, log=lambda *_: None)
    assert np.allclose(targets[1], expected, atol=1e-5)
    assert (card["command"]["teacher"], card["command"]["teacher_weight"]) == (str(teacher), 0.5)
    assert f"--teacher {teacher} --teacher-weight 0.5" in _command_line(card["command"])
    # the teacher's networks as they were when it answered
    shas = {n: json.loads((teacher / n / "card.json").read_text())["model_sha256"] for n in TRAINED_MODELS}
    assert card["teacher"] == {"folder": str(teacher), "answered_by": "ensemble", "model_sha256": shas}
    assert all(shas.values())
    student = artifacts.read_model_artifacts(tmp_path / "out" / "cnn")
    assert f"the ensemble of `{teacher}`" in model_card_markdown(student)


@pytest.mark.slow
def test_a_run_with_a_weight_average_keeps_the_average_and_trains_on_from_the_raw_weights(tmp_path):
    """--weight-average: the best epoch's saved weights are the average, the checkpoint's model the raw weights;
    the average is kept beside the checkpoint for --resume, and the card records it."""
    import keras

    from core.checkpoint import BEST_WEIGHTS, LAST_MODEL, checkpoint_dir
    from core.model_card import model_card_markdown
    from core.weight_average import AVERAGE_FILE, averaged_variables

    data = write_folder(tmp_path / "fer")
    splits = make_splits(load_dataset(data), val_fraction=0.3, seed=1)
    config = TrainConfig(model="cnn", data=str(data), out=str(tmp_path / "out"), epochs=2, batch_size=16,
                         precision="float32", weight_average=0.9)

    def stop_after_first_epoch(message):
        if message.startswith("epoch 1/2"):
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, splits=splits, log=stop_after_first_epoch)
    checkpoints = checkpoint_dir(tmp_path / "out" / "cnn")
    kept = artifacts.read_npz(checkpoints / AVERAGE_FILE)
    assert int(kept["steps"]) == math.ceil(len(splits.train) / 16)  # every step of the epoch
    model = keras.saving.load_model(checkpoints / LAST_MODEL)
    raw = [v.numpy() for v in averaged_variables(model)]
    model.load_weights(checkpoints / BEST_WEIGHTS)  # epoch 1, the best so far
    best = [v.numpy() for v in averaged_variables(model)]
    for i, saved in enumerate(best):
        np.testing.assert_array_equal(kept[f"w{i}"], saved)
    assert not all(np.array_equal(r, b) for r, b in zip(raw, best))

    messages = []
    card = train(replace(config, resume=True), splits=splits, log=messages.append)
    assert not [m for m in messages if "no weight average" in m]
    assert card["weight_average"] == 0.9 and card["command"]["weight_average"] == 0.9
    markdown = model_card_markdown(artifacts.read_model_artifacts(tmp_path / "out" / "cnn"))
    assert "--weight-average 0.9" in markdown and "moving average (decay 0.9 per step)" in markdown
    with pytest.raises(TrainError, match="--weight-average"):
        train(replace(config, out=str(tmp_path / "bad"), weight_average=1.0), splits=splits, log=lambda *_: None)


def test_a_checkpoint_from_before_a_setting_was_recorded_resumes_under_the_default_it_ran_with(tmp_path):
    from dataclasses import asdict

    from core.train import SETTINGS_BEFORE_THEY_WERE_RECORDED, resolved_config, settings_differing

    config = resolved_config(TrainConfig(model="cnn_aug", data=str(tmp_path), optimizer="adamw", schedule="cosine",
                                         augmentation=["flip", "shift"], weight_average=0.0))
    saved = {k: v for k, v in asdict(config).items() if k not in {*SETTINGS_BEFORE_THEY_WERE_RECORDED, "augmentation"}}
    assert settings_differing(saved, config, continued=False) == []  # the old run's settings were these
    assert settings_differing(saved, replace(config, schedule="plateau", augmentation=["flip"]), continued=False) == [
        "schedule: cosine -> plateau", "augmentation: ['flip', 'shift'] -> ['flip']"]
