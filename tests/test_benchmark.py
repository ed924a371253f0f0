"""The speed benchmark's epoch breakdown: every part of an epoch timed, per precision and batch size."""

from __future__ import annotations

import pytest

from core import artifacts
from core.benchmark import EPOCH_PARTS, EPOCH_TIME, EPOCH_TRAIN_IMAGES, PRECISIONS, run_benchmark, run_epoch_breakdown
from core.model_card import _epoch_section


@pytest.mark.slow
def test_the_epoch_breakdown_times_each_part_for_each_batch_size(tmp_path):
    result = run_epoch_breakdown(["cnn_aug"], tmp_path, precisions=("float32",), batch_sizes=(8, 16), rounds=1,
                                 sample=32, steps=1, log=lambda *_: None)
    assert artifacts.read_json(tmp_path / EPOCH_TIME) == result
    assert [(r["model"], r["batch_size"]) for r in result["results"]] == [("cnn_aug", 8), ("cnn_aug", 16)]
    for row in result["results"]:
        parts = row["seconds"]
        assert set(parts) == set(EPOCH_PARTS)
        assert parts["network"] > 0 and parts["validation"] > 0 and parts["checkpoint"] > 0
        assert row["epoch_seconds"] == pytest.approx(sum(parts.values()), abs=0.1)
        training = parts["network"] + parts["augmentation"] + parts["input_and_callbacks"]
        assert row["train_images_per_second"] == pytest.approx(EPOCH_TRAIN_IMAGES / training, rel=0.01)
    section = "\n".join(_epoch_section(result))
    assert "| cnn_aug | float32 | 8 |" in section and "| cnn_aug | float32 | 16 |" in section


@pytest.mark.slow
def test_models_of_one_architecture_share_one_latency(tmp_path):
    result = run_benchmark(["cnn", "cnn_aug"], tmp_path, train_steps=1, batch_size=8, log=lambda *_: None)
    assert artifacts.read_json(tmp_path / artifacts.BENCHMARK) == result
    rows = {(r["model"], r["precision"]): r for r in result["results"]}
    assert set(rows) == {(m, p) for m in ("cnn", "cnn_aug") for p in PRECISIONS}
    for precision in PRECISIONS:  # the same inference network: one measurement, not two that differ by noise
        cnn, cnn_aug = rows["cnn", precision], rows["cnn_aug", precision]
        assert cnn["latency_ms_batch1"] == cnn_aug["latency_ms_batch1"] > 0
        assert cnn["train_images_per_second"] > 0 and cnn_aug["train_images_per_second"] > 0
