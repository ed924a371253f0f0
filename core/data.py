"""FER-2013 in any of the three forms users have: the Kaggle folders, their zip, or ``fer2013.csv``.

    from core.data import load_dataset, make_splits, split_summary
    dataset = load_dataset("../shared/fer2013")      # decoded once, then cached
    splits = make_splits(dataset, val_fraction=0.1, seed=1234)
    print(split_summary(splits)["splits"]["train"]["counts"])

Validation is carved from the training images only (stratified, seeded); the test images are
never used to train, stop early or pick a checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core import artifacts
from core.classes import CLASS_NAMES, CSV_CODE_TO_CLASS, IMAGE_SIZE, NUM_CLASSES
from core.images import decode_image

CACHE_VERSION = 1
# FER-2013's own split names, as found in the CSV's Usage column or in Kaggle file names.
ORIGINS = ("Training", "PublicTest", "PrivateTest", "unknown")
CSV_COLUMNS = ("emotion", "pixels", "Usage")
MAX_NAMED_PROBLEMS = 50  # the load report names this many skipped files, and counts the rest


class DataError(Exception):
    """A problem with the user's data, told in words they can act on."""


@dataclass
class LoadReport:
    """What happened while loading: which files were skipped and why, what was converted."""

    source: str
    form: str  # "folder", "zip" or "csv"
    loaded: int = 0
    skipped: int = 0
    skipped_examples: list = field(default_factory=list)  # [name, reason] pairs
    converted: int = 0
    converted_examples: list = field(default_factory=list)

    def skip(self, name: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < MAX_NAMED_PROBLEMS:
            self.skipped_examples.append([name, reason])

    def convert(self, name: str, how: str) -> None:
        self.converted += 1
        if len(self.converted_examples) < MAX_NAMED_PROBLEMS:
            self.converted_examples.append([name, how])


@dataclass
class Split:
    """Images (N, 48, 48, 1) uint8, labels (N,) in ``CLASS_NAMES`` order, FER-2013 origin codes."""

    x: np.ndarray
    y: np.ndarray
    origin: np.ndarray  # index into ORIGINS

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    """FER-2013 as found on disk: its training pool and its test images."""

    pool: Split
    test: Split
    report: LoadReport


@dataclass
class Splits:
    train: Split
    val: Split
    test: Split
    report: LoadReport
    val_fraction: float
    seed: int


# --- file names --------------------------------------------------------------------------------


def origin_of(file_name: str) -> int:
    """FER-2013 split name from a Kaggle file name such as ``PublicTest_123.jpg``."""
    prefix = Path(file_name).name.split("_", 1)[0]
    return ORIGINS.index(prefix) if prefix in ORIGINS[:-1] else ORIGINS.index("unknown")


# --- the three forms ----------------------------------------------------------------------------


def detect_form(path: Path) -> str:
    if not path.exists():
        raise DataError(f"Data path '{path}' does not exist. Point --data at the FER-2013 folder "
                        "(with train/ and test/), its Kaggle zip, or fer2013.csv.")
    if path.is_dir():
        if (path / "train").is_dir() or (path / "test").is_dir():
            return "folder"
        raise DataError(f"'{path}' is a folder but holds no train/ or test/ folder. Expected the Kaggle "
                        "layout train/<class>/*.jpg and test/<class>/*.jpg.")
    if zipfile.is_zipfile(path):
        return "zip"
    with open(path, "rb") as handle:
        signature = handle.read(2)
    if path.suffix.lower() == ".zip" or signature == b"PK":
        raise DataError(f"'{path}' looks like a zip file but cannot be opened: truncated or damaged (an "
                        "interrupted download?). Download it again.")
    if path.suffix.lower() == ".csv":
        return "csv"
    raise DataError(f"'{path}' is neither a folder, a zip file nor a .csv file.")


_ENTRY = re.compile(r"^(.*/)?(train|test)/([^/]+)/([^/]+)$")


def _group_entries(names: list[str], where: str) -> dict[tuple[str, str], list[str]]:
    """Group paths like ``[prefix/]train/happy/x.jpg`` by (split, class folder); check the classes."""
    groups: dict[tuple[str, str], list[str]] = {}
    roots = set()
    for name in names:
        match = _ENTRY.match(name)
        if match and not match.group(4).startswith("."):
            roots.add(match.group(1) or "")
            groups.setdefault((match.group(2), match.group(3)), []).append(name)
    if len(roots) > 1:
        raise DataError(f"{where} holds the train/ and test/ layout more than once (under "
                        f"{', '.join(sorted(r or 'its top level' for r in roots))}): every image would count twice. "
                        "Keep one copy.")
    if not groups:
        raise DataError(f"No images found in {where}: expected train/<class>/*.jpg and test/<class>/*.jpg.")
    for split in ("train", "test"):
        found = sorted(folder for (s, folder) in groups if s == split)
        if not found:
            raise DataError(f"No {split}/ images found in {where}. Expected {split}/<class>/ folders "
                            f"for the classes {', '.join(CLASS_NAMES)}.")
        unknown = [f for f in found if f not in CLASS_NAMES]
        missing = [c for c in CLASS_NAMES if c not in found]
        if unknown or missing:
            problem = []
            if unknown:
                problem.append(f"unexpected folder(s) {', '.join(unknown)}")
            if missing:
                problem.append(f"missing class folder(s) {', '.join(missing)}")
            raise DataError(f"{where}/{split}: {'; '.join(problem)}. Expected exactly the classes "
                            f"{', '.join(CLASS_NAMES)}; found {', '.join(found)}.")
    return groups


def _decode_groups(groups, read_bytes, report: LoadReport, workers: int) -> tuple[Split, Split]:
    """Decode every grouped file (in parallel threads: OpenCV releases the GIL) into two splits."""
    parts: dict[str, list] = {"train": [], "test": []}
    for (split, folder), names in sorted(groups.items()):
        for name in sorted(names):
            parts[split].append((name, CLASS_NAMES.index(folder)))

    def decode(name):
        try:
            return decode_image(read_bytes(name))
        except OSError as error:
            return None, f"cannot be read ({error.strerror or error})"

    out = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for split, items in parts.items():
            images, labels, origins = [], [], []
            for (name, label), (image, note) in zip(items, pool.map(decode, [n for n, _ in items])):
                if image is None:
                    report.skip(name, note)
                    continue
                if note:
                    report.convert(name, note)
                images.append(image)
                labels.append(label)
                origins.append(origin_of(name))
            out[split] = _make_split(images, labels, origins)
    report.loaded = len(out["train"]) + len(out["test"])
    return out["train"], out["test"]


def _make_split(images, labels, origins) -> Split:
    x = np.stack(images)[..., None] if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.uint8)
    return Split(x=x, y=np.asarray(labels, np.int8), origin=np.asarray(origins, np.int8))


def _load_folder(path: Path, report: LoadReport, workers: int) -> tuple[Split, Split]:
    names = [str(p.relative_to(path)) for p in path.glob("*/*/*") if p.is_file()]
    groups = _group_entries(names, str(path))
    return _decode_groups(groups, lambda name: (path / name).read_bytes(), report, workers)


def _load_zip(path: Path, report: LoadReport, workers: int) -> tuple[Split, Split]:
    contents: dict[str, bytes | Exception] = {}
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        groups = _group_entries(names, str(path))
        for name in (name for group in groups.values() for name in group):
            try:
                contents[name] = archive.read(name)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
                contents[name] = error

    def read(name: str) -> bytes:
        value = contents[name]
        if isinstance(value, Exception):
            raise OSError(f"damaged in the zip ({value})")
        return value

    return _decode_groups(groups, read, report, workers)


def _load_csv(path: Path, report: LoadReport) -> tuple[Split, Split]:
    usage_to_split = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
    parts = {"train": ([], [], []), "test": ([], [], [])}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:  # -sig: spreadsheets write a BOM
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise DataError(f"{path}: the CSV lacks the column(s) {', '.join(missing)}. Expected the columns "
                            f"{','.join(CSV_COLUMNS)} of the original fer2013.csv; found {','.join(header) or 'none'}.")
        column = {name: header.index(name) for name in CSV_COLUMNS}
        for line_number, row in enumerate(reader, start=2):
            name = f"{path.name} line {line_number}"
            if len(row) != len(header):
                report.skip(name, f"{len(row)} fields instead of {len(header)}")
                continue
            emotion, pixels, usage = (row[column[c]].strip() for c in CSV_COLUMNS)
            if not (emotion.isascii() and emotion.isdigit()) or int(emotion) not in CSV_CODE_TO_CLASS:
                report.skip(name, f"unknown emotion code {emotion!r}")
                continue
            if usage not in usage_to_split:
                report.skip(name, f"unknown Usage {usage!r}")
                continue
            try:
                values = np.array(pixels.split(), dtype=np.int64)
            except ValueError:
                report.skip(name, "non-numeric pixel values")
                continue
            except OverflowError:
                report.skip(name, "pixel values outside 0-255")
                continue
            if values.size != IMAGE_SIZE * IMAGE_SIZE:
                report.skip(name, f"{values.size} pixels instead of {IMAGE_SIZE * IMAGE_SIZE}")
                continue
            if values.min() < 0 or values.max() > 255:
                report.skip(name, "pixel values outside 0-255")
                continue
            images, labels, origins = parts[usage_to_split[usage]]
            images.append(values.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
            labels.append(CLASS_NAMES.index(CSV_CODE_TO_CLASS[int(emotion)]))
            origins.append(ORIGINS.index(usage))
    train, test = (_make_split(*parts[s]) for s in ("train", "test"))
    for usage, split in (("Training", train), ("PublicTest or PrivateTest", test)):
        missing = [name for label, name in enumerate(CLASS_NAMES) if not np.any(split.y == label)]
        if missing and len(split):
            raise DataError(f"{path}: no usable {usage} row for the class(es) {', '.join(missing)}. FER-2013 has all "
                            "seven classes in both splits: is the file complete?")
    report.loaded = len(train) + len(test)
    return train, test


# --- caching ------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    return Path(os.environ.get("FER_LAB_CACHE_DIR", Path.home() / ".cache" / "fer-lab"))


def fingerprint(path: Path) -> str:
    """Changes whenever a file under ``path`` is added, removed, resized or rewritten."""
    digest = hashlib.sha1(f"v{CACHE_VERSION}".encode())
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                stat = os.stat(os.path.join(root, name))
                digest.update(
                    f"{os.path.relpath(os.path.join(root, name), path)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
                )
    else:
        stat = path.stat()
        digest.update(f"{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _cache_file(path: Path, cache_dir: Path) -> Path:
    return cache_dir / f"{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]}.npz"


def _read_cache(cache_file: Path, source_fingerprint: str) -> Dataset | None:
    try:
        with np.load(cache_file, allow_pickle=False) as saved:
            if str(saved["fingerprint"]) != source_fingerprint:
                return None
            report = LoadReport(**json.loads(str(saved["report"])))
            return Dataset(
                pool=Split(saved["pool_x"], saved["pool_y"], saved["pool_origin"]),
                test=Split(saved["test_x"], saved["test_y"], saved["test_origin"]),
                report=report,
            )
    except (OSError, KeyError, ValueError, TypeError):
        return None  # missing, stale or damaged cache: decode again


def _write_cache(cache_file: Path, source_fingerprint: str, dataset: Dataset) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, fingerprint=source_fingerprint, report=json.dumps(asdict(dataset.report)),
                 pool_x=dataset.pool.x, pool_y=dataset.pool.y, pool_origin=dataset.pool.origin,
                 test_x=dataset.test.x, test_y=dataset.test.y, test_origin=dataset.test.origin)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")  # two loads at once each write their own
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, cache_file)
    except OSError:
        pass  # a read-only cache folder only costs speed


def load_dataset(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                 use_cache: bool = True, workers: int = 4) -> Dataset:
    """Load FER-2013 from a folder, zip or CSV, using a cache that notices when the source changes."""
    path = Path(path).expanduser()
    form = detect_form(path)
    cache_file = _cache_file(path, Path(cache_dir) if cache_dir else default_cache_dir())
    source_fingerprint = fingerprint(path)
    if use_cache and (cached := _read_cache(cache_file, source_fingerprint)) is not None:
        return cached
    report = LoadReport(source=str(path.resolve()), form=form)
    if form == "folder":
        pool, test = _load_folder(path, report, workers)
    elif form == "zip":
        pool, test = _load_zip(path, report, workers)
    else:
        pool, test = _load_csv(path, report)
    if len(pool) == 0 and len(test) == 0:
        raise DataError(f"No readable images in '{path}' ({report.skipped} file(s) skipped, e.g. "
                        f"{report.skipped_examples[:3]}).")
    if len(pool) == 0 or len(test) == 0:
        which = "training" if len(pool) == 0 else "test"
        raise DataError(f"'{path}' holds no readable {which} images.")
    dataset = Dataset(pool=pool, test=test, report=report)
    if use_cache:
        _write_cache(cache_file, source_fingerprint, dataset)
    return dataset


# --- splits and summaries ------------------------------------------------------------------------


def _subset(split: Split, index: np.ndarray) -> Split:
    return Split(split.x[index], split.y[index], split.origin[index])


def make_splits(dataset: Dataset, val_fraction: float = 0.1, seed: int = 1234) -> Splits:
    """Carve a stratified, seeded validation split from the training pool; the test split is untouched."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"The validation fraction must lie between 0 and 1, not {val_fraction}.")
    rng = np.random.default_rng(seed)
    val_index = []
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(dataset.pool.y == label)
        take = int(round(len(members) * val_fraction))
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)  # every class in both parts where possible
        val_index.append(rng.choice(members, size=take, replace=False))
    val_index = np.sort(np.concatenate(val_index)).astype(np.int64)
    train_mask = np.ones(len(dataset.pool), bool)
    train_mask[val_index] = False
    train_index = np.flatnonzero(train_mask)
    return Splits(train=_subset(dataset.pool, train_index), val=_subset(dataset.pool, val_index),
                  test=dataset.test, report=dataset.report, val_fraction=val_fraction, seed=seed)


def class_counts(y: np.ndarray) -> dict[str, int]:
    counts = np.bincount(np.asarray(y, np.int64), minlength=NUM_CLASSES)
    return {name: int(counts[i]) for i, name in enumerate(CLASS_NAMES)}


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Balanced class weights (scikit-learn's formula: n / (k * count)) from training labels."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y)
    weights = compute_class_weight("balanced", classes=present, y=y)
    return {int(c): float(w) for c, w in zip(present, weights)}


def _split_entry(split: Split) -> dict:
    counts = class_counts(split.y)
    total = int(len(split))
    origins = np.bincount(np.asarray(split.origin, np.int64), minlength=len(ORIGINS))
    return {
        "total": total,
        "counts": counts,
        "fractions": {name: (count / total if total else 0.0) for name, count in counts.items()},
        "origins": {ORIGINS[i]: int(n) for i, n in enumerate(origins) if n},
    }


def split_summary(splits: Splits) -> dict:
    """Counts and shares per split and class; the data page and the class weights both use it."""
    return {
        "classes": list(CLASS_NAMES),
        "source": {"path": splits.report.source, "form": splits.report.form},
        "val_fraction": splits.val_fraction,
        "seed": splits.seed,
        "splits": {name: _split_entry(getattr(splits, name)) for name in ("train", "val", "test")},
        "training_pool": len(splits.train) + len(splits.val),
        "test_split": describe_test_split(splits.test),
        "class_weights": {CLASS_NAMES[c]: w for c, w in class_weights(splits.train.y).items()},
        "load_report": asdict(splits.report),
    }


def describe_test_split(test: Split) -> str:
    """Which of FER-2013's test sets the test images are, in words (e.g. 'PublicTest (3589)')."""
    origins = _split_entry(test)["origins"]
    return " + ".join(f"{name} ({count})" for name, count in origins.items())


def examples_per_class(split: Split, per_class: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A handful of faces per class, for showing (not the dataset)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(split.y == label)
        chosen.extend(rng.choice(members, size=min(per_class, len(members)), replace=False))
    chosen = np.asarray(chosen, np.int64)
    return split.x[chosen], split.y[chosen]


def write_dataset_artifacts(splits: Splits, root: Path) -> None:
    """The Data page's files: the split summary and a few example faces per class."""
    artifacts.write_json(Path(root) / artifacts.DATASET, split_summary(splits))
    images, labels = examples_per_class(splits.train)
    artifacts.write_npz(Path(root) / artifacts.DATASET_EXAMPLES, images=images[..., 0], labels=labels.astype(np.int8))
