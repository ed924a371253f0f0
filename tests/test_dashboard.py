"""Every dashboard page under AppTest with four models, one, none, and a broken one; the try-it page
driven with real image files, good and bad."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import artifacts
from core.predictor import Predictor
from core.report import TIE_WITHIN
from dashboard.common import PAGES as PAGE_TABLE
from dashboard.common import SAMPLE_PHOTO, view_path
from tests.conftest import COMMITTED

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = [file for file, *_ in PAGE_TABLE]
PHOTO = SAMPLE_PHOTO


def run_page(root: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("FER_LAB_ARTIFACTS", str(root))
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page(view_path(page))
    app.run()
    return app


def texts(app: AppTest, kind: str) -> str:
    return " | ".join(str(element.value) for element in getattr(app, kind))


@pytest.fixture(scope="module")
def roots(trained_root, tmp_path_factory) -> dict[str, Path]:
    """Artifact folders with four models, one model, none, and three good models plus a broken one."""
    four = trained_root / "artifacts"
    base = tmp_path_factory.mktemp("dashboards")
    one = base / "one"
    one.mkdir()
    shutil.copytree(four / "cnn", one / "cnn")
    none = base / "none"
    none.mkdir()
    broken = base / "broken"
    shutil.copytree(four, broken)
    (broken / "vgg16" / "metrics.json").write_text("{ truncated")
    (broken / "resnet50v2" / "predictions.npz").unlink()
    return {"four": four, "one": one, "none": none, "broken": broken}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("which", ["four", "one", "none", "broken"])
def test_every_page_runs_without_an_exception(roots, which, page, monkeypatch):
    app = run_page(roots[which], page, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    if which == "none" and page != "data":
        assert "python -m core all" in texts(app, "info")
    if which == "broken" and page != "data":
        warnings = texts(app, "warning")
        assert (
            "vgg16** is left out" in warnings and "resnet50v2** is left out: its artifacts are incomplete" in warnings
        )


COMPARISON_PAGES = [page for page in PAGES if page != "try_it"]  # Try it loads every model: see the slow tests


@pytest.mark.parametrize("page", COMPARISON_PAGES)
def test_every_comparison_page_shows_the_committed_artifacts(page, monkeypatch):
    app = run_page(COMMITTED, page, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    assert "left out" not in texts(app, "warning") and not texts(app, "error")  # every model read, nothing failed
    assert app.title[0].value


def test_the_overview_shows_each_model_card_with_its_sections_below_the_pages_headings(committed, monkeypatch):
    app = run_page(COMMITTED, "overview", monkeypatch)
    cards = [element.value for element in app.markdown if "Intended use" in element.value]
    assert len(cards) == len(committed)
    for card in cards:
        assert "#### Intended use" in card and "#### Limits" in card  # h4: smaller than the page's subheaders
        assert not re.search(r"^#{1,3} ", card, flags=re.MULTILINE)


def test_the_roc_page_puts_every_model_on_one_class(committed, monkeypatch):
    app = run_page(COMMITTED, "roc", monkeypatch)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["chance"] + [f"{m.title} (AUC {m.metrics['roc']['per_class']['disgust']['auc']:.3f})"
                                  for m in committed.values()]


def test_the_mistakes_page_pages_through_a_models_mistakes(monkeypatch):
    app = run_page(COMMITTED, "mistakes", monkeypatch)
    app.selectbox[0].set_value("cnn_aug").run()
    kept = len(artifacts.read_npz(COMMITTED / "cnn_aug" / artifacts.PREDICTIONS)["mistake_index"])
    assert len(app.get("image")) == 18 and app.number_input[0].max == -(-kept // 18)
    app.number_input[0].set_value(app.number_input[0].max).run()
    assert len(app.get("image")) == kept - 18 * (app.number_input[0].max - 1)
    app.selectbox[1].set_value("sad").run()
    app.selectbox[2].set_value("neutral").run()
    captions = [c.value for c in app.caption if c.value.startswith("true **")]
    assert captions and all(c.startswith("true **sad**, said **neutral**") for c in captions)


# What the dashboard may load: reading artifacts, the run-time path (predictor, faces, inference, explain) and charts.
TRAINING_MODULES = ("core.train", "core.data", "core.ensemble", "core.evaluate", "core.export", "core.checkpoint",
                    "core.benchmark", "core.photo_benchmark", "core.photo_set", "sklearn")


def test_the_dashboard_imports_no_training_or_data_loading_code():
    views = sorted((Path(APP).parent / "views").glob("*.py"))
    program = "\n".join(["import ast, sys", *(
        f"exec(compile(ast.Module([n for n in ast.parse(open({str(f)!r}).read()).body "
        "if isinstance(n, (ast.Import, ast.ImportFrom))], []), 'imports', 'exec'))" for f in [Path(APP), *views]),
        "print(' '.join(sorted(sys.modules)))"])
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                            cwd=Path(APP).parents[1]).stdout.split()
    assert "dashboard.common" in loaded and "core.predictor" in loaded  # the imports did run
    assert [m for m in loaded if m.split(".")[0] == "sklearn" or m in TRAINING_MODULES] == []


def test_the_leaderboard_shows_each_model_with_its_initial_weights(roots, monkeypatch):
    app = run_page(roots["four"], "overview", monkeypatch)
    table = app.dataframe[0].value
    assert sorted(table["model"]) == sorted(["Custom CNN", "Custom CNN + augmentation", "VGG16 transfer",
                                             "ResNet50V2 + class weights", "Ensemble (weighted average)"])
    assert list(table["test accuracy"]) == sorted(table["test accuracy"], reverse=True)  # best first
    cost = app.dataframe[1].value  # the second table: what each model costs, in the same order
    assert list(cost["model"]) == list(table["model"])
    assert set(cost["initial weights"]) == {"random init", "its members'"}
    ensemble = cost[cost["model"] == "Ensemble (weighted average)"].iloc[0]
    assert pd.isna(ensemble["epochs"]) and app.dataframe[1].proto.placeholder == "–"  # a dash, not "None"
    assert "random initialisation" in texts(app, "info")
    assert len(app.get("download_button")) == 2  # the CSV and the HTML report


def test_the_overview_names_the_models_not_trained_yet(roots, monkeypatch):
    info = texts(run_page(roots["one"], "overview", monkeypatch), "info")
    assert "Not trained yet: Custom CNN + augmentation, VGG16 transfer, ResNet50V2 + class weights." in info
    assert "python -m core all" in info
    for which in ("four", "broken"):  # the broken ones are named by their warnings instead
        assert "Not trained yet" not in texts(run_page(roots[which], "overview", monkeypatch), "info")


def test_the_sidebar_choice_narrows_every_page(roots, monkeypatch):
    monkeypatch.setenv("FER_LAB_ARTIFACTS", str(roots["four"]))
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    assert [box.label for box in app.sidebar.checkbox] == ["Custom CNN", "Custom CNN + augmentation", "VGG16 transfer",
                                                           "ResNet50V2 + class weights", "Ensemble (weighted average)"]
    for name in ("cnn_aug", "resnet50v2", "ensemble"):
        app.checkbox(key=f"pick_{name}").uncheck().run()
    app.switch_page(view_path("roc")).run()
    assert app.session_state["chosen"] == ["cnn", "vgg16"]
    app.switch_page(view_path("overview")).run()
    assert sorted(app.dataframe[0].value["model"]) == ["Custom CNN", "VGG16 transfer"]
    assert app.checkbox(key="pick_cnn").value and not app.checkbox(key="pick_ensemble").value


def image_bytes(image: Image.Image, format_: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format_, **options)
    return buffer.getvalue()


def upload(roots, monkeypatch, name: str, data: bytes, detector: str = "mtcnn") -> AppTest:
    app = run_page(roots["four"], "try_it", monkeypatch)
    app.radio[0].set_value(detector)
    app.file_uploader[0].set_value((name, data, "application/octet-stream"))
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("detector", ["haar", "mtcnn"])
def test_a_photo_gets_every_models_probabilities_and_the_real_timings(roots, monkeypatch, detector):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes(), detector)
    assert app.subheader[0].value == "Face 1" and len(app.subheader) == 1
    table = app.dataframe[0].value
    assert len(table) == 5  # four networks and the ensemble
    probabilities = table.drop(columns="says").to_numpy(dtype=float)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    timings = texts(app, "caption")
    shown = re.search(r"Read (\d+) ms · detection (\d+) ms \((\w+)\) · "
                      r"5 model\(s\) (\d+) ms · total (\d+) ms", timings)
    assert shown, timings
    read, detect, used, models, total = shown.groups()
    assert used == detector and int(detect) > 0 and int(models) > 0
    assert int(read) + int(detect) + int(models) - 2 <= int(total)  # each rounded to the millisecond
    assert "evidence for" not in timings  # Grad-CAM waits until asked for
    app.toggle(key="show_gradcam").set_value(True).run()
    assert texts(app, "caption").count("evidence for") == 5  # a heatmap per model, the ensemble's too


def test_the_newest_input_is_the_one_shown(roots, monkeypatch):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    assert app.subheader[0].value == "Face 1"
    app.camera_input[0].set_value(
        ("shot.jpg", image_bytes(Image.new("RGB", (320, 240), (90, 90, 90)), "JPEG"), "image/jpeg")
    )
    app.run()
    assert "No face was found in camera shot" in texts(app, "warning")
    assert not app.dataframe


def test_the_photo_is_still_there_after_a_visit_to_another_page(roots, monkeypatch):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    app.switch_page(view_path("overview")).run()
    app.switch_page(view_path("try_it")).run()
    assert not app.exception and app.subheader[0].value == "Face 1"
    assert "Still showing **astronaut.jpg**" in texts(app, "caption")
    app.button(key="forget").click().run()
    assert not app.subheader and "Still showing" not in texts(app, "caption")
    assert "newest_input" not in app.session_state and "photo_result" not in app.session_state


def test_the_sample_photo_gets_answers_without_a_photo_of_ones_own_and_an_upload_replaces_it(roots, monkeypatch):
    app = run_page(roots["four"], "try_it", monkeypatch)
    app.button(key="sample").click().run()
    assert not app.exception and app.subheader[0].value == "Face 1" and len(app.dataframe[0].value) == 5
    assert "Showing the sample photo, **astronaut.jpg**" in texts(app, "caption")
    app.file_uploader[0].set_value(("wall.png", image_bytes(Image.new("RGB", (300, 200)), "PNG"), "image/png")).run()
    assert "No face was found in wall.png" in texts(app, "warning") and "sample" not in texts(app, "caption")


def test_the_sample_photo_outlives_a_visit_to_another_page_and_can_be_forgotten(roots, monkeypatch):
    app = run_page(roots["four"], "try_it", monkeypatch)
    app.button(key="sample").click().run()
    app.switch_page(view_path("overview")).run()
    app.switch_page(view_path("try_it")).run()
    assert app.subheader[0].value == "Face 1" and "Showing the sample photo" in texts(app, "caption")
    assert "Still showing" not in texts(app, "caption")
    app.button(key="forget").click().run()
    assert not app.subheader and "newest_input" not in app.session_state


def test_the_pages_choices_are_still_there_after_a_visit_to_another_page(roots, monkeypatch):
    app = run_page(roots["four"], "try_it", monkeypatch)
    app.radio(key="detector").set_value("haar")
    app.radio(key="tta").set_value("flip")
    app.toggle(key="show_gradcam").set_value(True).run()
    app.switch_page(view_path("overview")).run()
    app.switch_page(view_path("try_it")).run()
    assert app.radio(key="detector").value == "haar" and app.radio(key="tta").value == "flip"
    assert app.toggle(key="show_gradcam").value


def test_clearing_the_upload_forgets_the_photo_and_shows_the_camera_shot_if_there_is_one(roots, monkeypatch):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    app.file_uploader[0].set_value(None).run()
    assert not app.exception and not app.subheader and "photo_result" not in app.session_state
    app.camera_input[0].set_value(("shot.jpg", PHOTO.read_bytes(), "image/jpeg")).run()
    app.file_uploader[0].set_value(("wall.png", image_bytes(Image.new("RGB", (300, 200)), "PNG"), "image/png")).run()
    assert "No face was found in wall.png" in texts(app, "warning")
    app.file_uploader[0].set_value(None).run()  # the upload, the newest, is cleared: the shot is left
    assert app.subheader[0].value == "Face 1" and "No face was found" not in texts(app, "warning")


def test_a_click_elsewhere_on_the_page_does_not_run_the_photo_path_again(roots, monkeypatch):
    calls = []
    original = Predictor.predict_photo
    monkeypatch.setattr(Predictor, "predict_photo", lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    app.toggle(key="show_gradcam").set_value(True).run()
    app.selectbox[0].set_value("disgust").run()
    assert len(calls) == 1 and texts(app, "caption").count("evidence for *disgust*") == 5
    app.radio[0].set_value("haar").run()  # another detector is another answer
    assert len(calls) == 2


def test_a_face_crop_is_used_as_it_is(roots, monkeypatch):
    face = Image.open(PHOTO).convert("L").crop((170, 50, 280, 180)).resize((48, 48))
    app = upload(roots, monkeypatch, "crop.png", image_bytes(face, "PNG"))
    assert app.subheader[0].value.startswith("The image, taken as a face crop")
    assert len(app.dataframe[0].value) == 5


def photo() -> Image.Image:
    return Image.open(PHOTO).convert("RGB")


def rotated_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    return image_bytes(photo().rotate(90, expand=True), "JPEG", exif=exif)


def two_faces() -> bytes:
    canvas = Image.new("RGB", (1024, 512))
    canvas.paste(photo(), (0, 0))
    canvas.paste(photo().transpose(Image.Transpose.FLIP_LEFT_RIGHT), (512, 0))
    return image_bytes(canvas, "PNG")


GOOD_INPUTS = {
    "huge.jpg": (lambda: image_bytes(photo().resize((4096, 4096)), "JPEG"), "scaled down"),
    "alpha.png": (lambda: image_bytes(photo().convert("RGBA"), "PNG"), "transparency flattened"),
    "cmyk.jpg": (lambda: image_bytes(photo().convert("CMYK"), "JPEG"), "CMYK converted"),
    "sixteen.png": (
        lambda: image_bytes(Image.fromarray(np.asarray(photo().convert("L"), np.uint16) * 257), "PNG"),
        "16-bit",
    ),
    "gray.png": (lambda: image_bytes(photo().convert("L"), "PNG"), None),
    "exif.jpg": (rotated_with_exif, "rotated upright"),
}


@pytest.mark.parametrize("name", list(GOOD_INPUTS))
def test_unusual_photos_are_converted_and_said_so(roots, monkeypatch, name):
    make, note = GOOD_INPUTS[name]
    app = upload(roots, monkeypatch, name, make())
    assert not app.error
    if note:
        assert note in texts(app, "caption")
    assert len(app.dataframe[0].value) == 5  # every model answered


def test_several_faces_are_each_classified(roots, monkeypatch):
    app = upload(roots, monkeypatch, "two.png", two_faces())
    assert [s.value for s in app.subheader] == ["Face 1", "Face 2"]
    assert len(app.dataframe) == 2


def test_no_face_shows_no_expression_unless_the_whole_image_is_asked_for(roots, monkeypatch):
    app = upload(roots, monkeypatch, "wall.png", image_bytes(Image.new("RGB", (300, 200), (128, 128, 128)), "PNG"))
    assert "No face was found in wall.png" in texts(app, "warning")
    assert not app.dataframe and not app.subheader
    app.toggle(key="whole_image").set_value(True).run()
    assert app.subheader[0].value.startswith("Whole image: no face was found, so this is not a face's expression")
    assert len(app.dataframe[0].value) == 5


def test_the_gradcam_switch_keeps_its_state_from_photo_to_photo(roots, monkeypatch):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    app.toggle(key="show_gradcam").set_value(True).run()
    wall = image_bytes(Image.new("RGB", (300, 200), (128, 128, 128)), "PNG")
    app.file_uploader[0].set_value(("wall.png", wall, "image/png")).run()
    assert app.toggle(key="show_gradcam").value  # still drawn, and on, with no face to explain
    app.toggle(key="whole_image").set_value(True).run()
    assert app.toggle(key="show_gradcam").value and texts(app, "caption").count("evidence for") == 5


@pytest.mark.parametrize("name, data, message", [
    ("notes.txt", b"just some text, not a picture", "not an image"),
    ("empty.jpg", b"", "The file is empty"),
    ("truncated.jpg", PHOTO.read_bytes()[:2000], "corrupt or truncated"),
])
def test_bad_files_get_a_clear_message(roots, monkeypatch, name, data, message):
    app = upload(roots, monkeypatch, name, data)
    assert message in texts(app, "error") and name in texts(app, "error")
    assert not app.dataframe


def test_test_time_augmentation_and_a_chosen_class_on_the_try_it_page(roots, monkeypatch):
    app = upload(roots, monkeypatch, "astronaut.jpg", PHOTO.read_bytes())
    plain = app.dataframe[0].value.drop(columns="says").to_numpy(dtype=float)
    app.radio[1].set_value("flip").run()
    flipped = app.dataframe[0].value.drop(columns="says").to_numpy(dtype=float)
    assert not app.exception and not np.allclose(plain, flipped)
    app.toggle(key="show_gradcam").set_value(True).run()
    app.selectbox[0].set_value("disgust").run()
    assert texts(app, "caption").count("evidence for *disgust*") == 5


def test_calibration_page_lists_ece_and_temperature(committed, monkeypatch):
    app = run_page(COMMITTED, "calibration", monkeypatch)
    table = app.dataframe[0].value.set_index("model")
    for model in committed.values():
        calibration = model.metrics["calibration"]
        assert table.loc[model.title, "ECE"] == calibration["test"]["ece"]
        assert table.loc[model.title, "ECE with T"] == calibration["test_with_temperature"]["ece"]
        assert table.loc[model.title, "T"] == calibration["temperature"]
    before = json.loads(app.get("plotly_chart")[0].proto.spec)["data"]
    app.toggle[0].set_value(True).run()
    after = json.loads(app.get("plotly_chart")[0].proto.spec)["data"]
    assert not app.exception and [t["name"] for t in after] == [t["name"] for t in before]
    assert [t["y"] for t in after] != [t["y"] for t in before]  # the diagram redrawn with the temperature


@pytest.mark.parametrize("model", ["vgg16", "ensemble"])
def test_mistakes_page_overlays_gradcam(roots, monkeypatch, model):
    app = run_page(roots["four"], "mistakes", monkeypatch)
    app.selectbox[0].set_value(model).run()
    app.radio[0].set_value("evidence for the true class").run()
    assert not app.exception and not app.warning
    assert "Grad-CAM, evidence for the true class" in texts(app, "caption")
    assert len(app.get("image")) > 0


def test_the_training_page_gives_each_models_kept_epoch_under_its_chart_in_rows_of_two(committed, monkeypatch):
    app = run_page(COMMITTED, "training", monkeypatch)
    trained = [model for model in committed.values() if model.history is not None]
    captions = texts(app, "caption")
    for model in trained:
        card = model.card
        assert (f"Kept epoch {card['best_epoch']} of {card['epochs_run']}, validation accuracy "
                f"{card['best_val_accuracy']:.4f}") in captions
    assert len(app.columns) == 2 * math.ceil(len(trained) / 2)


def test_the_training_page_says_where_each_warm_restart_of_a_continued_run_began(roots, tmp_path, monkeypatch):
    import pandas as pd

    root = tmp_path / "continued"
    shutil.copytree(roots["one"], root)
    history = pd.read_csv(root / "cnn" / artifacts.HISTORY)
    rates = [3e-4, 1e-3, 1e-5, 2e-4, 1e-6, 1e-4, 1e-6]  # warm-up, cosine, restart after 3, restart after 5
    chain = pd.concat([history] * len(rates), ignore_index=True).assign(epoch=range(1, 8), learning_rate=rates)
    chain.to_csv(root / "cnn" / artifacts.HISTORY, index=False)
    app = run_page(root, "training", monkeypatch)
    assert "after epoch" not in texts(app, "caption")  # the changes show on request
    app.toggle[0].set_value(True).run()
    assert "random init; after epoch 3: warm restart; after epoch 5: warm restart" in texts(app, "caption")
    one = run_page(roots["one"], "training", monkeypatch)
    one.toggle[0].set_value(True).run()
    assert "after epoch" not in texts(one, "caption")


def test_a_script_run_keeps_the_keras_session_so_models_stay_compiled(roots, monkeypatch):
    """Streamlit clears the Keras session after every run unless told not to; that emptied TensorFlow's
    kernel cache and cost every upload 0.6-0.9 s of rebuilding (dashboard.common.keep_keras_session)."""
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("fer_lab_probe", "kept")
    run_page(roots["one"], "overview", monkeypatch)
    assert global_state.get_global_attribute("fer_lab_probe") == "kept"


def test_an_edited_artifact_shows_on_the_next_run(roots, tmp_path, monkeypatch):
    root = tmp_path / "edited"
    shutil.copytree(roots["one"], root)
    app = run_page(root, "overview", monkeypatch)
    assert list(app.dataframe[0].value["model"]) == ["Custom CNN"]
    card = artifacts.read_json(root / "cnn" / artifacts.CARD)
    artifacts.write_json(root / "cnn" / artifacts.CARD, {**card, "title": "Custom CNN, retitled"})
    app.run()
    assert list(app.dataframe[0].value["model"]) == ["Custom CNN, retitled"]


@pytest.mark.parametrize("cnn_aug_ms, delta", [(20.5, "Custom CNN and 1 more"), (25.0, "Custom CNN")])
def test_the_fastest_card_names_the_model_the_photo_benchmark_timed_fastest_and_counts_ties(
        tmp_path, monkeypatch, cnn_aug_ms, delta):
    root = tmp_path / "timed"
    shutil.copytree(COMMITTED, root, copy_function=os.symlink)  # the benchmark file alone is rewritten below
    timed = artifacts.read_json(COMMITTED / artifacts.PHOTO_BENCHMARK)
    timed["face_ms"] = {"cnn": 20.0, "cnn_aug": cnn_aug_ms, "vgg16": 80.0, "resnet50v2": 40.0, "ensemble": 110.0}
    (root / artifacts.PHOTO_BENCHMARK).unlink()
    artifacts.write_json(root / artifacts.PHOTO_BENCHMARK, timed)
    app = run_page(root, "overview", monkeypatch)
    fastest = next(m for m in app.metric if m.label == "Fastest")
    assert fastest.value == "20.0 ms a face" and fastest.delta == delta
    tied = cnn_aug_ms <= 20.0 * (1 + TIE_WITHIN)
    assert ("Tied: Custom CNN, Custom CNN + augmentation." in fastest.help) == tied


def test_a_damaged_photo_benchmark_costs_the_latencies_only(tmp_path, monkeypatch):
    root = tmp_path / "damaged"
    shutil.copytree(COMMITTED, root)
    artifacts.write_json(root / artifacts.PHOTO_BENCHMARK, {"face_ms": {"cnn": "fast"}})
    app = run_page(root, "overview", monkeypatch)
    assert not app.exception and "No latencies" in texts(app, "warning")
    assert "is not a photo benchmark" in texts(app, "warning")
    assert app.dataframe[0].value["model"].size == 5
