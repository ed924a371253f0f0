"""The generated documents: the committed ones are up to date, and they say what the artifacts say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from core import model_card
from core.train import scheduled_learning_rate
from tests.conftest import COMMITTED

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_cards_results_and_readme_table_are_what_the_artifacts_give(committed):
    for name, model in committed.items():
        card = (COMMITTED / name / model_card.MODEL_CARD).read_text(encoding="utf-8")
        assert card == model_card.model_card_markdown(model), f"{name}: run `python -m core cards`"
    results = (COMMITTED / model_card.RESULTS).read_text(encoding="utf-8")
    assert results == model_card.results_markdown(committed, COMMITTED), "run `python -m core cards`"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == model_card.readme_with_results(readme, committed), "run `python -m core cards`"


def test_a_card_gives_the_figures_of_its_metrics_and_flags_random_init(committed):
    text = model_card.model_card_markdown(committed["vgg16"])
    metrics = committed["vgg16"].metrics
    assert f"| {metrics['accuracy']:.4f} | {metrics['macro_f1']:.4f} |" in text
    disgust = metrics["per_class"]["disgust"]
    assert f"| disgust | {disgust['precision']:.3f} | {disgust['recall']:.3f} |" in text
    assert "Trained from random initialisation, not ImageNet weights" in text
    assert "random initialisation" not in model_card.model_card_markdown(committed["cnn"])
    ensemble = model_card.model_card_markdown(committed["ensemble"])
    assert all(f"| {committed[m].title} (`{m}`) | {w:.1f} |" in ensemble
               for m, w in committed["ensemble"].ensemble["members"].items())


def test_the_runs_of_a_chain_of_continuations_are_read_from_the_learning_rate():
    runs = ((4, 1e-3), (3, 5e-4))  # a run from scratch, then one continuation with a warm restart
    rates = [scheduled_learning_rate(epoch, epochs, peak) for epochs, peak in runs for epoch in range(epochs)]
    history = pd.DataFrame({"epoch": range(1, 8), "learning_rate": rates, "phase": ["full"] * 7,
                            "val_accuracy": [0.3, 0.4, 0.5, 0.45, 0.44, 0.52, 0.51]})
    found = model_card.training_runs(history)
    assert [r["epochs"] for r in found] == [(1, 4), (5, 7)]
    assert [r["best_val_accuracy"] for r in found] == [0.5, 0.52]
    assert found[1]["peak_learning_rate"] == pytest.approx(5e-4)


def test_the_readme_without_its_markers_is_refused(committed):
    with pytest.raises(ValueError, match="lacks the markers"):
        model_card.readme_with_results("# a README\n", committed)


def test_the_recorded_command_repeats_the_recipe_augmentation_included():
    command = {"model": "cnn_aug", "data": "fer", "epochs": 40, "optimizer": "adamw", "augmentation": ["flip", "zoom"]}
    assert model_card._command_line(command) == (
        "`python -m core train cnn_aug --data fer --epochs 40 --optimizer adamw --augmentation flip zoom`")
    assert model_card._command_line({**command, "augmentation": []}).endswith("--augmentation none`")


def test_a_card_says_whether_its_runs_were_one_command_or_continued_by_hand(committed):
    one_run = model_card.model_card_markdown(committed["cnn_aug"])  # its recipe, run once from scratch
    assert "It was trained in one run:" in one_run and "One command makes it again: `python -m core train" in one_run
    chained = model_card.model_card_markdown(committed["resnet50v2"])
    assert "It was trained in 3 runs; each after the first continued" in chained and "The last run: `" in chained
    model = committed["resnet50v2"]
    planned = model_card.model_card_markdown(replace(model, card={**model.card, "continued_from": None}))
    assert "It was trained in 3 runs, the warm restarts after the first planned by its recipe:" in planned
    assert "One command ran them all: `" in planned


def test_the_leaderboard_says_where_each_model_trained(committed):
    note = model_card.training_machines_note(committed)
    groups = {cpu: names.split(", ") for names, cpu in (part.split(" on ", 1) for part in
                                                          note.split(": ", 1)[1].rstrip(".").split("; "))}
    for name, model in committed.items():
        if not model.ensemble:
            assert any(cpu.startswith(model.card["machine"]["cpu"]) and name in names for cpu, names in groups.items())
    moved = {**committed, "cnn": replace(committed["cnn"], card={**committed["cnn"].card,
                                                                 "machine": {"cpu": "Elsewhere", "cores": 8}})}
    assert "cnn on Elsewhere (8 cores)" in model_card.training_machines_note(moved)
    assert model_card.training_machines_note({"ensemble": committed["ensemble"]}) == ""
