"""Tiny FER-2013 fixtures, made on the fly in each of the three forms users have.

Images are generated, not copied: each class has its own pattern so a model can tell them apart.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.classes import CLASS_NAMES, CSV_CODE_TO_CLASS

TRAIN_PER_CLASS = 6
TEST_PER_CLASS = 3
CLASS_TO_CSV_CODE = {name: code for code, name in CSV_CODE_TO_CLASS.items()}
COMMITTED = Path(__file__).resolve().parents[1] / "artifacts"  # the artifacts this repository ships


def face_like(label: int, index: int) -> np.ndarray:
    """A 48x48 uint8 image whose stripes and brightness depend on the class."""
    rng = np.random.default_rng(1000 * label + index)
    ramp = np.linspace(0, 1, 48)
    image = 60 + 120 * np.outer(np.sin(ramp * (label + 1) * 3) ** 2, np.ones(48)) + rng.normal(0, 8, (48, 48))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_folder(root: Path, train_per_class=TRAIN_PER_CLASS, test_per_class=TEST_PER_CLASS) -> Path:
    for label, name in enumerate(CLASS_NAMES):
        for split, count, prefix in (("train", train_per_class, "Training"), ("test", test_per_class, "PublicTest")):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                # one PrivateTest image per class, as in Kaggle's test folder
                file_prefix = "PrivateTest" if split == "test" and i == count - 1 else prefix
                cv2.imwrite(str(folder / f"{file_prefix}_{label}{i:03d}.png"), face_like(label, i))
    return root


def write_zip(folder: Path, zip_path: Path) -> Path:
    with zipfile.ZipFile(zip_path, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, Path("fer2013") / file.relative_to(folder))  # a top folder, as Kaggle zips have
    return zip_path


def write_csv(path: Path, extra_rows: list[str] = ()) -> Path:
    lines = ["emotion,pixels,Usage"]
    for label, name in enumerate(CLASS_NAMES):
        for i, usage in enumerate(["Training"] * TRAIN_PER_CLASS + ["PublicTest", "PublicTest", "PrivateTest"]):
            pixels = " ".join(map(str, face_like(label, i).ravel()))
            lines.append(f"{CLASS_TO_CSV_CODE[name]},{pixels},{usage}")
    lines.extend(extra_rows)
    path.write_text("\n".join(lines) + "\n")
    return path


def pytest_collection_modifyitems(items):
    """A test that needs ``trained_root`` (four models trained, about a minute) is slow wherever it is."""
    for item in items:
        if "trained_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets its own decoded-data cache, never the user's."""
    monkeypatch.setenv("FER_LAB_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def fer_folder(tmp_path) -> Path:
    return write_folder(tmp_path / "fer")


@pytest.fixture
def fer_zip(fer_folder, tmp_path) -> Path:
    return write_zip(fer_folder, tmp_path / "fer2013.zip")


@pytest.fixture
def fer_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "fer2013.csv")


@pytest.fixture(scope="session")
def trained_root(tmp_path_factory) -> Path:
    """All four models trained for one epoch on tiny data (random init), with their artifacts, and the ensemble."""
    from core.data import load_dataset, make_splits, write_dataset_artifacts
    from core.ensemble import build_ensemble
    from core.models import TRAINED_MODELS
    from core.train import TrainConfig, train

    root = tmp_path_factory.mktemp("trained")
    os.environ.setdefault("FER_LAB_CACHE_DIR", str(root / "cache"))
    data = write_folder(root / "fer")
    splits = make_splits(load_dataset(data, cache_dir=root / "cache"), val_fraction=0.3, seed=1)
    write_dataset_artifacts(splits, root / "artifacts")
    for name in TRAINED_MODELS:
        train(TrainConfig(model=name, data=str(data), out=str(root / "artifacts"), epochs=1, batch_size=16),
              splits=splits, log=lambda *_: None)
    build_ensemble(splits, root / "artifacts", log=lambda *_: None)
    return root


@pytest.fixture(scope="session")
def committed():
    """The committed artifacts' models, read and checked (none of them may be broken)."""
    from core import artifacts

    models, broken = artifacts.read_all_models(COMMITTED)
    assert not broken
    return models
