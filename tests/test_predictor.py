"""The one inference path: core.predictor against the models called one view at a time, the photo path's
framing, and ``python -m core predict`` on photos good and bad."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from core import artifacts, faces
from core import predictor as predictor_module
from core.__main__ import main
from core.classes import CLASS_NAMES
from core.inference import TTA_MODES, combine, tta_views
from core.models import TRAINED_MODELS
from core.photo_set import compose_photo
from core.predictor import Predictor, doubts

PHOTO = Path(__file__).resolve().parents[1] / "dashboard" / "astronaut.jpg"  # the sample photo


@pytest.fixture(scope="module")
def predictor(trained_root) -> Predictor:
    return Predictor(trained_root / "artifacts")


def some_faces(count: int = 3) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, 48, 48)).astype(np.uint8)


@pytest.mark.parametrize("tta", TTA_MODES)
def test_the_predictor_gives_what_the_models_give_one_view_at_a_time(predictor, tta):
    batch = some_faces()
    found = predictor.predict_faces(batch, tta=tta)
    reference = {}
    for name, network in predictor.networks.items():
        views = tta_views(batch[..., None].astype(np.float32), tta)
        reference[name] = np.mean([network.predict(view, verbose=0) for view in views], axis=0)
        np.testing.assert_allclose(found[name], reference[name], atol=1e-5)
    np.testing.assert_allclose(found["ensemble"], combine(reference, predictor.weights["ensemble"]), atol=1e-5)


def test_each_network_uses_its_validated_tta_and_the_ensemble_reuses_its_members(predictor, trained_root,
                                                                                 monkeypatch):
    for name in predictor.networks:
        assert predictor.tta[name] == artifacts.read_json(trained_root / "artifacts" / name / artifacts.METRICS).get(
            "tta", "none")
    for i, name in enumerate(predictor.networks):  # every mode, whatever the one-epoch models chose
        monkeypatch.setitem(predictor.tta, name, TTA_MODES[-1 - i % len(TTA_MODES)])
    assert set(predictor.tta.values()) == set(TTA_MODES)
    batch = some_faces(2)
    found = predictor.predict_faces(batch)
    for name, mode in predictor.tta.items():
        np.testing.assert_allclose(found[name], predictor.predict_faces(batch, [name], mode)[name], atol=1e-6)
    assert list(found) == predictor.names == ["cnn", "cnn_aug", "vgg16", "resnet50v2", "ensemble"]
    only = predictor.predict_faces(batch, names=["ensemble"])
    assert list(only) == ["ensemble"]
    np.testing.assert_allclose(only["ensemble"], found["ensemble"], atol=1e-6)


def test_a_predictor_for_the_ensemble_alone_loads_and_runs_its_members(trained_root, predictor):
    alone = Predictor(trained_root / "artifacts", names=["ensemble"], warm_detector=False)
    assert alone.names == ["ensemble"] and set(alone.networks) == set(predictor.weights["ensemble"])
    batch = some_faces(2)
    np.testing.assert_allclose(
        alone.predict_faces(batch)["ensemble"], predictor.predict_faces(batch)["ensemble"], atol=1e-6
    )


def test_a_model_that_cannot_load_is_named_and_takes_its_ensemble_with_it(trained_root, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(trained_root / "artifacts", root)
    weights = artifacts.read_json(root / "ensemble" / artifacts.ENSEMBLE)["members"]
    member = max(weights, key=weights.get)  # a member the ensemble cannot do without
    (root / member / "model.keras").write_bytes(b"not a model")
    engine = Predictor(root)
    assert "could not be loaded" in engine.broken[member]
    assert member in engine.broken["ensemble"]
    assert engine.names == [name for name in TRAINED_MODELS if name != member]


def test_a_member_the_ensemble_gives_no_weight_is_not_needed_and_without_it_the_first_model_answers(
        trained_root, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(trained_root / "artifacts", root)
    ensemble = artifacts.read_json(root / "ensemble" / artifacts.ENSEMBLE)
    ensemble["members"] = {"cnn": 0.6, "cnn_aug": 0.4, "vgg16": 0.0, "resnet50v2": 0.0}
    artifacts.write_json(root / "ensemble" / artifacts.ENSEMBLE, ensemble)
    (root / "resnet50v2" / "model.keras").write_bytes(b"not a model")
    engine = Predictor(root, warm_detector=False)
    assert set(engine.broken) == {"resnet50v2"} and engine.weights["ensemble"] == {"cnn": 0.6, "cnn_aug": 0.4}
    assert engine.headline(engine.names) == "ensemble" and engine.headline(["vgg16", "cnn"]) == "vgg16"
    result = engine.predict_photo(PHOTO.read_bytes(), names=["vgg16", "cnn"])
    face, = result.faces
    assert list(face.probabilities) == ["cnn", "vgg16"]  # in the registry's order
    assert face.headline == "cnn" and face.label == CLASS_NAMES[int(np.argmax(face.probabilities["cnn"]))]


def test_doubts_name_a_low_top_probability_and_the_models_that_disagree():
    sure = np.eye(7)[3] * 0.9 + 0.1 / 7
    assert doubts({"cnn": sure, "ensemble": sure}, "ensemble") == []
    split = np.full(7, 0.1)
    split[3], split[4] = 0.25, 0.15
    other = np.eye(7)[5]
    found = doubts({"cnn": other, "ensemble": split}, "ensemble")
    assert found == ["happy has only p = 0.25", "the other model disagrees (cnn: sad)"]
    three = {"cnn": other, "cnn_aug": sure, "vgg16": other, "ensemble": sure}
    assert doubts(three, "ensemble", titles={"cnn": "Custom CNN"})[-1] == \
        "2 of the 3 other models disagree (Custom CNN: sad, vgg16: sad)"
    assert doubts({**three, "vgg16": sure}, "ensemble")[-1] == "1 of the 3 other models disagrees (cnn: sad)"


def test_doubts_name_a_face_the_detector_was_unsure_of():
    sure = np.eye(7)[3] * 0.9 + 0.1 / 7
    pixels = np.zeros((48, 48), np.uint8)
    assert doubts({"cnn": sure}, "cnn", faces.Face((0, 0, 50, 50), pixels, score=0.95)) == []
    assert doubts({"cnn": sure}, "cnn", faces.Face((0, 0, 50, 50), pixels, score=None)) == []
    unsure = doubts({"cnn": sure}, "cnn", faces.Face((0, 0, 50, 50), pixels, score=0.62))
    assert unsure == ["the detector was unsure this is a face (confidence 0.62; a second detector agreed)"]


def test_a_face_placed_in_a_photo_is_cut_back_out_by_its_frame():
    face = (np.random.default_rng(3).random((48, 48)) * 255).astype(np.uint8)
    face = np.asarray(Image.fromarray(face).resize((12, 12)).resize((48, 48), Image.BILINEAR))  # smooth, as faces are
    jpeg, (x, y, side) = compose_photo(face, np.random.default_rng(5))
    gray = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"))
    cut = faces.crop_square(gray, x + side / 2, y + side / 2, side)
    assert np.abs(cut.astype(int) - face).mean() < 6  # JPEG and two resizes, nothing more


@pytest.mark.parametrize("degrees", [25, -15])
def test_a_face_turned_in_the_photo_is_cut_back_out_level(degrees):
    face = (np.random.default_rng(3).random((48, 48)) * 255).astype(np.uint8)
    face = np.asarray(Image.fromarray(face).resize((12, 12)).resize((48, 48), Image.BILINEAR))
    jpeg, (x, y, side) = compose_photo(face, np.random.default_rng(5))
    gray = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"))
    centre = (x + side / 2, y + side / 2)
    turned = cv2.warpAffine(gray, cv2.getRotationMatrix2D(centre, degrees, 1.0), gray.shape[::-1],
                            borderMode=cv2.BORDER_REFLECT)  # counter-clockwise: the eye line now rises to the right
    tilt = faces.eye_tilt({"left_eye": (0.0, 0.0), "right_eye": (np.cos(np.radians(degrees)),
                                                                 -np.sin(np.radians(degrees)))})
    assert tilt == pytest.approx(-degrees)
    level = faces.crop_square(turned, *centre, side, angle=tilt)
    as_is = faces.crop_square(turned, *centre, side)
    assert np.abs(level.astype(int) - face).mean() < 8 < np.abs(as_is.astype(int) - face).mean()


def test_the_crop_stands_where_the_calibration_puts_the_frame(monkeypatch):
    monkeypatch.setattr(faces, "framing", lambda: {"mtcnn": {"scale": 1.2, "dx": 0.1, "dy": -0.05}})
    centre_x, centre_y, side = faces.frame_of((100, 50, 40, 90), "mtcnn")  # sqrt(40 * 90) = 60
    assert (centre_x, centre_y, side) == pytest.approx((120 + 6, 95 - 3, 72))


def test_the_committed_framing_covers_every_detector():
    assert set(faces.framing()) == set(faces.DETECTORS)
    for calibrated in faces.framing().values():
        assert 0.8 < calibrated["scale"] < 1.6 and abs(calibrated["dx"]) < 0.2 and abs(calibrated["dy"]) < 0.2


def image_file(folder: Path, name: str, image: Image.Image) -> Path:
    path = folder / name
    image.save(path)
    return path


def test_core_predict_json_lines_for_a_face_no_face_a_crop_and_a_corrupt_file(trained_root, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a_face.jpg").write_bytes(PHOTO.read_bytes())
    image_file(folder, "b_wall.png", Image.new("RGB", (300, 200), (128, 128, 128)))
    image_file(folder, "c_crop.png", Image.open(PHOTO).convert("L").crop((170, 50, 280, 180)).resize((48, 48)))
    (folder / "d_broken.jpg").write_bytes(PHOTO.read_bytes()[:2000])
    assert main(["predict", str(folder), "--json", "--artifacts", str(trained_root / "artifacts")]) == 1  # d_broken
    out, err = capsys.readouterr()
    assert "1 of 4 file(s) could not be used" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["a_face.jpg", "b_wall.png", "c_crop.png", "d_broken.jpg"]
    face, wall, crop, broken = lines
    assert face["error"] is None and len(face["faces"]) == 1 and len(face["faces"][0]["box"]) == 4
    probabilities = face["faces"][0]["probabilities"]
    assert list(probabilities) == ["cnn", "cnn_aug", "vgg16", "resnet50v2", "ensemble"]
    assert all(len(p) == len(CLASS_NAMES) and abs(sum(p) - 1) < 1e-4 for p in probabilities.values())
    assert face["faces"][0]["label"] == CLASS_NAMES[int(np.argmax(probabilities["ensemble"]))]  # the ensemble's
    assert set(face["timing_ms"]) == {"read", "detect", "models", "total"}
    assert wall["error"] is None and wall["faces"] == []
    assert crop["faces"][0]["box"] is None and crop["faces"][0]["found_by"] == "face crop"
    assert "corrupt or truncated" in broken["error"] and broken["faces"] == []


def test_core_predict_says_plainly_when_no_face_is_found(trained_root, tmp_path, capsys):
    wall = image_file(tmp_path, "wall.png", Image.new("RGB", (300, 200), (128, 128, 128)))
    assert main(["predict", str(wall), "--artifacts", str(trained_root / "artifacts")]) == 0
    assert "wall.png: no face(s)" in capsys.readouterr().out
    assert main(["predict", str(wall), "--whole-image", "--json", "--artifacts", str(trained_root / "artifacts")]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["faces"][0]["found_by"] == "whole image"


def test_core_predict_says_so_when_a_folder_holds_no_image(trained_root, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no photos here")
    assert main(["predict", str(tmp_path), "--artifacts", str(trained_root / "artifacts")]) == 1
    assert "No image files in" in capsys.readouterr().err


def test_a_detector_or_model_failing_on_one_image_gives_that_image_an_error(predictor, monkeypatch):
    def fail(rgb, detector):
        raise cv2.error("OpenCV(4.12) resize.cpp: error: (-215:Assertion failed) !dsize.empty()")

    with monkeypatch.context() as patch:
        patch.setattr(predictor_module, "find_faces", fail)
        result = predictor.predict_photo(PHOTO.read_bytes(), file="astronaut.jpg")
    assert result.faces == [] and "Finding or reading the faces failed on this image (error: " in result.error
    assert result.to_json()["error"] == result.error

    def out_of_memory(*args):
        raise MemoryError("cannot allocate 3.2 GiB")

    monkeypatch.setattr(predictor_module, "predict_together", out_of_memory)
    result = predictor.predict_photo(PHOTO.read_bytes(), file="astronaut.jpg")
    assert result.faces == [] and "(MemoryError: cannot allocate 3.2 GiB)" in result.error


def test_a_damaged_ensemble_file_breaks_the_ensemble_alone(trained_root, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(trained_root / "artifacts", root)
    (root / "ensemble" / artifacts.ENSEMBLE).write_text('{"members": {"cnn": 0.5,')
    engine = Predictor(root, warm_detector=False)
    assert set(engine.broken) == {"ensemble"} and artifacts.ENSEMBLE in engine.broken["ensemble"]
    assert engine.names == list(TRAINED_MODELS) and engine.headline(engine.names) == "cnn"


def test_core_predict_without_models_fails_with_a_message(tmp_path, capsys):
    assert main(["predict", str(PHOTO), "--artifacts", str(tmp_path)]) == 2
    assert "No usable model" in capsys.readouterr().err


def astronaut_split(count: int = 4):
    """The fixture photo's face as a tiny 'test split' of 48x48 faces, all labelled happy."""
    from core.data import Split

    face = np.asarray(Image.open(PHOTO).convert("L").crop((165, 45, 285, 185)).resize((48, 48)), np.uint8)
    return Split(
        x=np.repeat(face[None, :, :, None], count, axis=0), y=np.full(count, 3), origin=np.zeros(count, np.int8)
    )


def test_the_photo_benchmark_measures_found_faces_agreement_and_time(predictor, monkeypatch):
    from core import photo_benchmark

    monkeypatch.setattr(photo_benchmark, "EMPTY_PHOTOS", 3)
    split = astronaut_split()
    result = photo_benchmark.run_photo_benchmark(predictor, split, count=4, log=lambda *_: None)
    mtcnn = result["detectors"]["mtcnn"]
    assert mtcnn["found"] >= 3 and mtcnn["empty_photos_with_a_face"] == 0
    original = predictor.predict_faces(split.x[:, :, :, 0])  # every copy of the face, as the benchmark runs them
    for name, figures in mtcnn["models"].items():  # one face, one label: the original is all right or all wrong
        right = float(original[name][0].argmax() == split.y[0])
        assert figures["accuracy_original"] == right
        # agreeing with a right original is being right; with a wrong one, at most as often as wrong
        if right:
            assert figures["agreement"] == figures["accuracy_photo"]
        else:
            assert figures["agreement"] <= 1 - figures["accuracy_photo"]
    assert mtcnn["median_ms"]["total"] >= mtcnn["median_ms"]["detect"] > 0 and mtcnn["median_ms_without_a_face"] > 0
    assert set(result["face_ms"]) == set(predictor.names) and min(result["face_ms"].values()) > 0
    table = photo_benchmark.summary_markdown(result)
    assert "| " + " | ".join(f"{ms:g}" for ms in result["face_ms"].values()) + " |" in table
    assert f"| mtcnn | {mtcnn['found']} of 4" in table and "| haar | ensemble |" in table
    assert f"**{mtcnn['median_ms']['total']}** | {mtcnn['median_ms_without_a_face']:g} |" in table


def test_the_framing_calibration_finds_the_frame_around_the_box():
    from core.photo_benchmark import calibrate_framing

    measured = calibrate_framing(astronaut_split(6), count=6, log=lambda *_: None)["detectors"]["mtcnn"]
    assert measured["faces"] >= 5
    assert 0.9 < measured["scale"] < 1.5 and abs(measured["dx"]) < 0.15 and abs(measured["dy"]) < 0.2
