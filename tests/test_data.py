"""The data layer: three forms, the split rules, the cache, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.data as data
from core.__main__ import main
from core.classes import CLASS_NAMES, CSV_CODE_TO_CLASS, class_index
from core.data import DataError, load_dataset, make_splits, split_summary
from tests.conftest import TEST_PER_CLASS, TRAIN_PER_CLASS, face_like, write_csv


def test_class_order_is_the_kaggle_folder_order():
    assert CLASS_NAMES == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert [CSV_CODE_TO_CLASS[c] for c in range(7)] == [
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
        "neutral",
    ]


@pytest.mark.parametrize("form", ["fer_folder", "fer_zip", "fer_csv"])
def test_each_form_loads_the_same_images(form, request):
    dataset = load_dataset(request.getfixturevalue(form))
    assert dataset.pool.x.shape == (7 * TRAIN_PER_CLASS, 48, 48, 1) and dataset.pool.x.dtype == np.uint8
    assert len(dataset.test) == 7 * TEST_PER_CLASS
    assert np.bincount(dataset.pool.y, minlength=7).tolist() == [TRAIN_PER_CLASS] * 7
    happy = dataset.pool.x[dataset.pool.y == class_index("happy")][0, :, :, 0]
    assert np.array_equal(happy, face_like(class_index("happy"), 0))  # the right label on the right pixels
    assert dataset.report.form == {"fer_folder": "folder", "fer_zip": "zip", "fer_csv": "csv"}[form]
    assert dataset.report.skipped == 0 and dataset.report.converted == 0


def test_csv_codes_are_mapped_to_the_project_order(fer_csv):
    dataset = load_dataset(fer_csv)
    for label in range(7):  # the CSV's sad (4) and neutral (6) land on the folder order's 5 and 4
        image = dataset.pool.x[dataset.pool.y == label][0, :, :, 0]
        assert np.array_equal(image, face_like(label, 0))


def test_test_split_names_fer2013s_own_split(fer_folder, fer_csv):
    for source in (fer_folder, fer_csv):
        summary = split_summary(make_splits(load_dataset(source)))
        assert summary["splits"]["test"]["origins"] == {"PublicTest": 14, "PrivateTest": 7}
        assert summary["test_split"] == "PublicTest (14) + PrivateTest (7)"


def test_validation_is_stratified_seeded_and_only_from_training(fer_folder):
    dataset = load_dataset(fer_folder)
    splits = make_splits(dataset, val_fraction=0.34, seed=7)
    assert len(splits.train) + len(splits.val) == len(dataset.pool)
    assert np.bincount(splits.val.y, minlength=7).tolist() == [2] * 7  # round(6 * 0.34) per class
    assert splits.test is dataset.test
    pool_rows = {row.tobytes() for row in dataset.pool.x}
    assert all(row.tobytes() in pool_rows for row in splits.val.x)
    train_rows = {row.tobytes() for row in splits.train.x}
    assert not any(row.tobytes() in train_rows for row in splits.val.x)
    again = make_splits(dataset, val_fraction=0.34, seed=7)
    other = make_splits(dataset, val_fraction=0.34, seed=8)
    assert np.array_equal(again.val.x, splits.val.x)
    assert not np.array_equal(other.val.x, splits.val.x)


def test_bad_validation_fraction_is_refused(fer_folder):
    with pytest.raises(DataError, match="between 0 and 1"):
        make_splits(load_dataset(fer_folder), val_fraction=1.5)


def test_cache_serves_the_second_load_and_notices_changes(fer_folder, monkeypatch):
    first = load_dataset(fer_folder)
    monkeypatch.setattr(data, "decode_image", lambda _: pytest.fail("decoded again despite the cache"))
    second = load_dataset(fer_folder)
    assert np.array_equal(first.pool.x, second.pool.x)
    monkeypatch.undo()
    cv2.imwrite(str(fer_folder / "train" / "happy" / "Training_new.png"), face_like(3, 99))
    third = load_dataset(fer_folder)
    assert len(third.pool) == len(first.pool) + 1


def test_a_damaged_cache_is_rebuilt(fer_folder, tmp_path):
    first = load_dataset(fer_folder)
    for file in (tmp_path / "cache").glob("*.npz"):
        file.write_bytes(b"garbage")
    assert np.array_equal(load_dataset(fer_folder).pool.x, first.pool.x)


def test_corrupt_and_empty_files_are_skipped_and_named(fer_folder):
    (fer_folder / "train" / "sad" / "Training_corrupt.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (fer_folder / "test" / "fear" / "PublicTest_empty.jpg").write_bytes(b"")
    dataset = load_dataset(fer_folder)
    assert dataset.report.skipped == 2
    named = dict((name.split("/")[-1], reason) for name, reason in dataset.report.skipped_examples)
    assert named == {"Training_corrupt.jpg": "not a readable image (corrupt or not an image file)",
                     "PublicTest_empty.jpg": "empty file"}
    assert len(dataset.pool) == 7 * TRAIN_PER_CLASS


def test_colour_alpha_16bit_and_odd_sizes_are_converted_and_counted(fer_folder):
    colour = np.dstack([face_like(0, 50)] * 3)
    alpha = np.dstack([colour, np.full((48, 48), 255, np.uint8)])
    cv2.imwrite(str(fer_folder / "train" / "angry" / "Training_colour.jpg"), cv2.resize(colour, (96, 96)))
    cv2.imwrite(str(fer_folder / "train" / "angry" / "Training_alpha.png"), alpha)
    cv2.imwrite(str(fer_folder / "train" / "angry" / "Training_16bit.png"), face_like(0, 51).astype(np.uint16) * 257)
    cv2.imwrite(str(fer_folder / "train" / "angry" / "Training_wide.png"), np.zeros((40, 60), np.uint8))
    dataset = load_dataset(fer_folder)
    assert dataset.report.converted == 4
    assert dataset.pool.x.shape[1:] == (48, 48, 1)
    notes = dict((name.split("/")[-1], how) for name, how in dataset.report.converted_examples)
    assert "resized to 48x48" in notes["Training_colour.jpg"] and "colour to gray" in notes["Training_colour.jpg"]
    assert "alpha" in notes["Training_alpha.png"]
    assert "uint16 to 8-bit" in notes["Training_16bit.png"]
    assert "centre-cropped" in notes["Training_wide.png"]
    sixteen = dataset.pool.x[np.flatnonzero(dataset.pool.y == 0)]
    assert any(np.array_equal(image[:, :, 0], face_like(0, 51)) for image in sixteen)  # 16-bit scaled back exactly


def test_an_unknown_class_folder_is_a_clear_error(fer_folder):
    (fer_folder / "train" / "contempt").mkdir()
    cv2.imwrite(str(fer_folder / "train" / "contempt" / "x.png"), face_like(0, 0))
    with pytest.raises(DataError, match="unexpected folder.*contempt.*Expected exactly the classes angry, disgust"):
        load_dataset(fer_folder)


def test_a_missing_class_is_a_clear_error(fer_folder):
    for file in (fer_folder / "test" / "disgust").iterdir():
        file.unlink()
    (fer_folder / "test" / "disgust").rmdir()
    with pytest.raises(DataError, match="missing class folder.*disgust"):
        load_dataset(fer_folder)


def test_bad_csv_rows_are_skipped_and_counted(tmp_path):
    good = " ".join(["7"] * 2304)
    path = write_csv(tmp_path / "bad.csv", [
        f"3,{' '.join(['1'] * 100)},Training",      # too few pixels
        f"3,{good.replace('7', 'x', 1)},Training",  # non-numeric
        f"9,{good},Training",                       # unknown emotion code
        f"3,{good},Validation",                     # unknown Usage
        f"3,{good}",                                # missing field
        f"3,{good.replace('7', '300', 1)},Training",  # out of range
    ])
    dataset = load_dataset(path)
    assert dataset.report.skipped == 6
    assert len(dataset.pool) == 7 * TRAIN_PER_CLASS
    reasons = " | ".join(reason for _, reason in dataset.report.skipped_examples)
    for expected in ("100 pixels instead of 2304", "non-numeric", "unknown emotion code '9'",
                     "unknown Usage 'Validation'", "2 fields instead of 3", "outside 0-255"):
        assert expected in reasons


def test_a_csv_without_its_columns_is_a_clear_error(tmp_path):
    path = tmp_path / "no_usage.csv"
    path.write_text("emotion,pixels\n3," + " ".join(["0"] * 2304) + "\n")
    with pytest.raises(DataError, match="lacks the column.*Usage"):
        load_dataset(path)


def test_missing_paths_and_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(DataError, match="no train/ or test/"):
        load_dataset(tmp_path)
    (tmp_path / "train" / "happy").mkdir(parents=True)
    with pytest.raises(DataError, match="No images found"):
        load_dataset(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="neither a folder, a zip"):
        load_dataset(tmp_path / "notes.txt")


def test_a_folder_of_only_unreadable_files_is_a_clear_error(fer_folder):
    for file in fer_folder.rglob("*.png"):
        file.write_bytes(b"junk")
    with pytest.raises(DataError, match="No readable images"):
        load_dataset(fer_folder)


def test_class_weights_follow_sklearn_balanced_formula():
    y = np.array([0] * 8 + [1] * 2 + [2] * 10)
    weights = data.class_weights(y)
    assert weights == pytest.approx({0: 20 / (3 * 8), 1: 20 / (3 * 2), 2: 20 / (3 * 10)})


def test_cli_prints_the_summary_as_json(fer_zip, capsys):
    assert main(["data", "--data", str(fer_zip), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["training_pool"] == 7 * TRAIN_PER_CLASS
    assert summary["splits"]["test"]["total"] == 7 * TEST_PER_CLASS
    assert summary["splits"]["test"]["counts"] == {name: TEST_PER_CLASS for name in CLASS_NAMES}
    assert sum(summary["splits"]["train"]["counts"].values()) + summary["splits"]["val"]["total"] == 7 * TRAIN_PER_CLASS


def test_cli_says_what_is_wrong_without_a_traceback(tmp_path, capsys):
    assert main(["data", "--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Data path") and "Traceback" not in err


def test_a_csv_written_with_a_byte_order_mark_loads(tmp_path):
    path = write_csv(tmp_path / "fer2013.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # what spreadsheet programs write
    assert len(load_dataset(path).pool) == 7 * TRAIN_PER_CLASS


def test_a_csv_without_one_class_is_refused_as_a_folder_is(tmp_path):
    path = write_csv(tmp_path / "fer2013.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("1,")) + "\n")  # no disgust at all
    with pytest.raises(DataError, match="no usable Training row for the class\\(es\\) disgust"):
        load_dataset(path)


def test_a_zip_with_a_damaged_member_skips_it_and_says_so(fer_folder, tmp_path):
    import zipfile

    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for file in sorted(fer_folder.rglob("*.png")):
            archive.write(file, file.relative_to(fer_folder))
        victim = sorted(archive.namelist())[0]
        offset = archive.getinfo(victim).header_offset
    data = bytearray(path.read_bytes())
    start = offset + 30 + len(victim) + 40  # inside the first member's stored bytes
    data[start : start + 8] = bytes(8 * [0x55])
    path.write_bytes(bytes(data))
    dataset = load_dataset(path)
    assert dataset.report.skipped == 1
    assert "damaged in the zip" in dataset.report.skipped_examples[0][1]


def test_a_truncated_zip_is_called_a_damaged_zip(fer_zip, tmp_path):
    path = tmp_path / "fer2013.zip"
    path.write_bytes(fer_zip.read_bytes()[: len(fer_zip.read_bytes()) // 2])
    with pytest.raises(DataError, match="looks like a zip file but cannot be opened"):
        load_dataset(path)


def test_a_zip_holding_the_layout_twice_is_refused(fer_folder, tmp_path):
    import zipfile

    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for copy in ("fer2013", "fer2013/fer2013"):
            for file in sorted(fer_folder.rglob("*.png")):
                archive.write(file, Path(copy) / file.relative_to(fer_folder))
    with pytest.raises(DataError, match="more than once"):
        load_dataset(path)


VALID_PIXELS = " ".join(["128"] * 48 * 48)
EMOTIONS = st.one_of(
    st.sampled_from(["0", "1", "6", "7", "-1", " 3", "²", "٣", "99999999999999999999"]), st.text(max_size=4)
)
PIXELS = st.one_of(
    st.sampled_from(
        [
            VALID_PIXELS,
            VALID_PIXELS.replace("128", "256", 1),
            VALID_PIXELS[:-4],
            VALID_PIXELS.replace("128", "1e3", 1),
            VALID_PIXELS.replace("128", "-0", 1),
            VALID_PIXELS.replace("128", "99999999999999999999", 1),
        ]
    ),
    st.text(max_size=12),
)
USAGES = st.one_of(st.sampled_from(["Training", "PublicTest", "PrivateTest", "training", ""]), st.text(max_size=12))
CSV_ROWS = st.one_of(st.tuples(EMOTIONS, PIXELS, USAGES), st.lists(st.text(max_size=12), max_size=4)).map(",".join)
CSV_FILES = st.lists(CSV_ROWS, max_size=12).map(lambda rows: "\n".join(["emotion,pixels,Usage", *rows]))


@settings(max_examples=120, deadline=3000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(CSV_FILES, st.text(max_size=300)))
def test_any_csv_text_loads_or_is_refused_with_a_data_error(tmp_path, text):
    path = tmp_path / "fer2013.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        dataset = load_dataset(path, use_cache=False)
    except DataError:
        return
    assert len(dataset.pool) + len(dataset.test) == dataset.report.loaded  # whatever loaded is counted
