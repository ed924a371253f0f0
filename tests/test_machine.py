"""What training takes from the machine (the precision its CPU runs fastest, data-parallel training), and the
kernels prediction uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import machine

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("has_bf16, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_follows_the_cpu(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(machine, "cpu_supports_bf16", lambda: has_bf16)
    monkeypatch.setattr(machine, "has_gpu", lambda: False)
    assert machine.choose_precision("auto") == expected
    monkeypatch.setattr(machine, "has_gpu", lambda: True)
    assert machine.choose_precision("auto") == "mixed_bfloat16"  # a GPU has bf16 units
    assert machine.choose_precision("float32") == "float32"
    with pytest.raises(ValueError, match="Unknown precision"):
        machine.choose_precision("float8")


DATA_PARALLEL = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from pathlib import Path
from core.data import load_dataset, make_splits
from core.train import TrainConfig, train
from tests.conftest import write_folder
root = Path(sys.argv[1])
data = write_folder(root / "fer")
splits = make_splits(load_dataset(data, cache_dir=root / "cache"), val_fraction=0.3, seed=1)
card = train(TrainConfig(model="cnn_aug", data=str(data), out=str(root / "out"), epochs=2, batch_size=16),
             splits=splits)
print("epochs run", card["epochs_run"])
"""


@pytest.mark.slow
def test_training_runs_data_parallel_over_two_devices(tmp_path):
    """MirroredStrategy over two logical CPU devices: the same code path as several GPUs."""
    result = subprocess.run([sys.executable, "-c", DATA_PARALLEL, str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 replica(s)" in result.stdout and "epochs run 2" in result.stdout
    assert (tmp_path / "out" / "cnn_aug" / "model.keras").is_file()


@pytest.mark.parametrize("tf_config, expected", [
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}', "a cluster of 2 machines"),
    ("{not json", "TF_CONFIG is not a JSON cluster description"),
])
def test_a_tf_config_cluster_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys, tf_config, expected):
    """Keras 3's fit does not run under MultiWorkerMirroredStrategy: training each machine alone would be worse."""
    from core.__main__ import main
    from tests.conftest import write_folder

    data = write_folder(tmp_path / "fer")
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert main(["train", "cnn", "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}')
    assert machine.cluster_tasks() == 1  # one machine: trains as usual


def test_processes_that_only_predict_use_tensorflows_own_kernels_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    machine.prefer_eigen_for_inference()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # a user's choice stands
    machine.prefer_eigen_for_inference()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
