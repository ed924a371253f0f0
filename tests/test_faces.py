"""Reading users' photos: every bad file gets a PhotoError that says why, odd ones are converted and said so."""

from __future__ import annotations

import io
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core import faces
from core.faces import Detection, PhotoError, read_photo

PHOTO = Path(__file__).resolve().parents[1] / "dashboard" / "astronaut.jpg"  # the sample photo


def encoded(image: Image.Image, format_: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format_, **options)
    return buffer.getvalue()


def bad_png_checksum() -> bytes:
    data = bytearray(encoded(Image.new("RGB", (64, 64), (10, 20, 30)), "PNG"))
    data[29] ^= 0xFF  # inside the IHDR chunk's CRC
    return bytes(data)


def huge_png() -> bytes:
    return encoded(Image.new("1", (7000, 7000)), "PNG")  # 49 megapixels in a few kilobytes


def exif_with_orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


def exif_orientation(value: int) -> bytes:
    return encoded(Image.open(PHOTO), "JPEG", exif=exif_with_orientation(value))


BAD = {  # name: (bytes, words the message must hold)
    "empty": (lambda: b"", "empty"),
    "text": (lambda: b"just some text", "not an image"),
    "truncated jpeg": (lambda: PHOTO.read_bytes()[:2000], "corrupt or truncated"),
    "png with a bad checksum": (bad_png_checksum, "starts like a PNG image but is corrupt"),
    "49-megapixel png": (huge_png, "7000x7000 pixels (49 megapixels)"),
    "2000x1 strip": (lambda: encoded(Image.new("RGB", (2000, 1)), "PNG"), "too thin to hold a face"),
    "20000x16 strip, 1280x1 once scaled": (lambda: encoded(Image.new("L", (20000, 16)), "PNG"),
                                           "20000x16 pixels (scaled to at most 1280 pixels a side: 1280x1)"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_file_is_refused_with_a_message_that_says_why(name):
    make, words = BAD[name]
    with pytest.raises(PhotoError, match=re.escape(words)):
        read_photo(make())


def float_tiff(values: np.ndarray) -> bytes:
    return encoded(Image.fromarray(values.astype(np.float32), mode="F"), "TIFF")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 64), (v, v, v)) for v in (40, 200)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])


ODD = {  # name: (bytes, a note that must be there, or None for no note at all)
    "exif orientation 6": (lambda: exif_orientation(6), "rotated upright"),
    "exif orientation 0 (invalid)": (lambda: exif_orientation(0), None),
    "float tiff with NaN and negatives": (
        lambda: float_tiff(np.where(np.eye(64) > 0, np.nan, np.linspace(-3, 5, 64 * 64).reshape(64, 64))),
        "64 NaN or infinite pixel(s), shown black",
    ),
    "animated gif": (animated_gif, "the first of its 2 frames"),
    "4000x3000 jpeg": (lambda: encoded(Image.new("L", (4000, 3000)), "JPEG"), "scaled down from 4000x3000 to 1280x960"),
}


@pytest.mark.parametrize("name", list(ODD))
def test_an_odd_file_is_converted_and_the_notes_say_so(name):
    make, note = ODD[name]
    photo = read_photo(make())
    assert photo.rgb.dtype == np.uint8 and photo.rgb.ndim == 3
    if note is None:
        assert photo.notes == []
    else:
        assert any(note in n for n in photo.notes), photo.notes


def test_exif_orientation_turns_the_pixels_upright():
    data = encoded(Image.open(PHOTO).crop((0, 0, 300, 200)), "JPEG", exif=exif_with_orientation(6))
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # as stored: 300 wide, 200 high
    assert np.array_equal(read_photo(data).rgb, np.rot90(decoded, k=-1))  # 6: turn 90 degrees clockwise to show


def test_a_large_jpeg_is_decoded_at_a_reduced_size_before_it_is_scaled(monkeypatch):
    from PIL import JpegImagePlugin

    sizes = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(image, mode, size):
        result = draft(image, mode, size)
        sizes.append(image.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    photo = read_photo(encoded(Image.new("L", (4000, 3000)), "JPEG"))
    assert sizes == [(2000, 1500)] and photo.rgb.shape == (960, 1280, 3)


def test_a_float_image_is_stretched_over_its_finite_range():
    values = np.linspace(-3, 5, 64 * 64).reshape(64, 64)
    values[5, 5] = np.nan
    gray = read_photo(float_tiff(values)).rgb[..., 0]
    assert gray[5, 5] == 0 and gray[0, 0] == 0 and gray[-1, -1] == 255  # NaN black, -3 black, 5 white
    assert any("values -3 to 5" in n for n in read_photo(float_tiff(values)).notes)


def test_a_16_bit_gray_image_keeps_its_brightness_like_the_dataset_loader():
    dim = np.linspace(0, 30000, 64 * 64).reshape(64, 64).astype(np.uint16)  # uses under half the range
    gray = read_photo(cv2.imencode(".png", dim)[1].tobytes()).rgb[..., 0]
    assert gray.max() == 117  # not stretched to 255
    assert np.array_equal(gray, (dim / 65535 * 255).round().astype(np.uint8))  # as core.images.to_gray48 divides


FUZZ = settings(max_examples=150, deadline=2000, derandomize=True)
SEEDS = [PHOTO.read_bytes()[:6000], encoded(Image.open(PHOTO).resize((64, 64)), "PNG")]


def read_or_refuse(data: bytes) -> None:
    """Read, or refused with a PhotoError, nothing else, and in bounded time (the deadline)."""
    try:
        read_photo(data)
    except PhotoError:
        pass


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_anything_but_a_photo_error(data):
    read_or_refuse(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                                        min_size=1, max_size=12), st.floats(0, 1))
def test_damaged_real_photos_never_raise_anything_but_a_photo_error(seed, changes, keep):
    """A real JPEG or PNG with some bytes changed and its tail cut off."""
    data = bytearray(seed)
    for where, value in changes:
        data[int(where * len(data))] = value
    read_or_refuse(bytes(data[: max(1, int(keep * len(data)))]))


def test_a_thin_image_is_refused_before_detection(monkeypatch):
    monkeypatch.setattr(faces, "MIN_SIDE", 40)
    with pytest.raises(PhotoError, match="at least 40 pixels"):
        read_photo(encoded(Image.new("RGB", (300, 30)), "PNG"))


@pytest.mark.parametrize(("height", "width", "taken_as_a_crop"), [
    (48, 48, True), (96, 96, True), (96, 77, True),  # small and at most 1.25 times as long as wide
    (97, 97, False), (96, 76, False), (40, 20, False),
])
def test_a_small_square_image_is_taken_as_a_face_crop_as_it_is(monkeypatch, height, width, taken_as_a_crop):
    monkeypatch.setattr(faces, "search", lambda rgb, detector: ([], ""))  # no detector: only a crop gives a face
    found = faces.find_faces(np.full((height, width, 3), 90, np.uint8), "mtcnn")
    assert [f.found_by for f in found] == ([faces.FACE_CROP] if taken_as_a_crop else [])


def test_transparency_is_flattened_on_white_and_cmyk_converted_to_rgb():
    clear = Image.new("RGBA", (64, 64), (200, 0, 0, 0))
    clear.paste((0, 0, 255, 255), (0, 0, 32, 64))  # left half opaque blue, right half transparent red
    rgb = read_photo(encoded(clear, "PNG")).rgb
    assert rgb[:, :32].tolist() == [[[0, 0, 255]] * 32] * 64 and rgb[:, 32:].tolist() == [[[255, 255, 255]] * 32] * 64
    cyan = read_photo(encoded(Image.new("CMYK", (64, 64), (255, 0, 0, 0)), "TIFF")).rgb
    assert cyan[0, 0].tolist() == [0, 255, 255]


def test_overlap_is_intersection_over_union():
    assert faces.overlap((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert faces.overlap((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert faces.overlap((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


@pytest.mark.parametrize(
    ("haar_box", "expected"), [((42, 38, 60, 60), [Detection((40, 40, 60, 60), 0.7, 0.0)]), ((200, 200, 50, 50), [])]
)
def test_an_unsure_mtcnn_box_counts_only_where_haar_sees_a_face_too(monkeypatch, haar_box, expected):
    """MTCNN at 0.7 on every pass (under the 0.9 it needs alone): the face is the box only if Haar overlaps it."""

    def fake_detect(rgb, detector="mtcnn", floor=faces.MTCNN_MIN_CONFIDENCE, lenient=False):
        if detector == "haar":
            assert lenient
            return [Detection(haar_box)]
        assert floor == faces.MTCNN_CONFIRMED_CONFIDENCE
        return [Detection((40, 40, 60, 60), 0.7, 0.0)]  # MTCNN always gives the eye line

    monkeypatch.setattr(faces, "detect", fake_detect)
    boxes, found_by = faces.search(np.zeros((300, 300, 3), np.uint8), "mtcnn")
    assert boxes == expected
    assert found_by == ("unsure, confirmed by Haar" if expected else "")


def test_a_sure_mtcnn_box_needs_no_confirmation(monkeypatch):
    sure, unsure = Detection((10, 10, 80, 80), 0.95), Detection((0, 0, 20, 20), 0.6)
    monkeypatch.setattr(faces, "detect", lambda rgb, detector="mtcnn", floor=0.9, lenient=False:
                        [] if detector == "haar" else [sure, unsure])
    assert faces.search(np.zeros((300, 300, 3), np.uint8), "mtcnn") == ([sure], "")


@pytest.mark.parametrize(("finding_pass", "name", "box", "expected"), [
    (0, "", (30, 36, 75, 75), (80, 96, 200, 200)),  # on the photo at DETECT_SIDE: 0.375 of its size
    (1, "equalised", (30, 36, 75, 75), (80, 96, 200, 200)),
    (2, "full size", (100, 120, 60, 60), (100, 120, 60, 60)),
])
def test_a_box_comes_back_in_the_photos_own_pixels_from_the_pass_that_found_it(monkeypatch, finding_pass, name, box,
                                                                               expected):
    seen = []  # the size of the image each upright pass searched

    def fake_detect(rgb, detector="mtcnn", floor=faces.MTCNN_MIN_CONFIDENCE, lenient=False):
        seen.append(rgb.shape[:2])
        return [Detection(box, 0.99, 0.0)] if len(seen) - 1 == finding_pass else []

    monkeypatch.setattr(faces, "detect", fake_detect)
    found, found_by = faces.search(np.zeros((960, 1280, 3), np.uint8), "mtcnn")
    assert found == [Detection(expected, 0.99, 0.0)] and found_by == name
    assert seen == [(360, 480), (360, 480), (960, 1280)][:finding_pass + 1]  # no pass after the one that found it


def test_an_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="Unknown detector 'dlib': use one of mtcnn, haar"):
        faces.detect(np.zeros((64, 64, 3), np.uint8), "dlib")


def test_a_face_found_only_in_the_turned_photo_comes_back_levelled(monkeypatch):
    """No pass finds a face upright; the photo turned 25 degrees does (MTCNN only), and the crop is levelled by the
    eye line's tilt against the photo's own horizontal."""
    turned_by = []

    def fake_turned(rgb, angle, floor):
        turned_by.append(angle)
        return [Detection((100, 80, 90, 110), 0.97, 31.0)] if angle == faces.TURNED_DEGREES[-1] else []

    monkeypatch.setattr(faces, "detect", lambda rgb, detector="mtcnn", floor=0.9, lenient=False: [])
    monkeypatch.setattr(faces, "_detect_turned", fake_turned)
    rgb = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
    assert faces.search(rgb, "haar") == ([], "") and turned_by == []
    face, = faces.find_faces(rgb, "mtcnn")
    assert turned_by == list(faces.TURNED_DEGREES)
    assert face.found_by == f"mtcnn (turned {faces.TURNED_DEGREES[-1]:g}°)" and face.levelled == 31.0


@pytest.mark.parametrize("degrees", faces.TURNED_DEGREES)
def test_a_turned_pass_gives_the_face_where_it_is_in_the_photo(degrees):
    """The real MTCNN on the astronaut turned both ways: the same face, box centre and eye line as found upright."""
    rgb = read_photo(PHOTO.read_bytes()).rgb
    upright, = faces.detect(rgb, "mtcnn")
    turned = faces._detect_turned(rgb, degrees, faces.MTCNN_MIN_CONFIDENCE)
    assert turned and turned[0].score >= faces.MTCNN_MIN_CONFIDENCE
    (x, y, w, h), (tx, ty, tw, th) = upright.box, turned[0].box
    assert abs((x + w / 2) - (tx + tw / 2)) < 8 and abs((y + h / 2) - (ty + th / 2)) < 8
    assert turned[0].tilt == pytest.approx(upright.tilt, abs=4)


def test_a_tilted_face_is_turned_by_its_eye_line_and_says_so(monkeypatch):
    rgb = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
    monkeypatch.setattr(faces, "search", lambda rgb, detector: ([Detection((100, 80, 90, 110), 0.99, 20.0)], ""))
    face, = faces.find_faces(rgb, "mtcnn")
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    frame = faces.frame_of((100, 80, 90, 110), "mtcnn")
    assert face.levelled == 20.0
    assert np.array_equal(face.pixels, faces.crop_square(gray, *frame, angle=20.0))
    assert not np.array_equal(face.pixels, faces.crop_square(gray, *frame))
    monkeypatch.setattr(faces, "search", lambda rgb, detector: ([Detection((100, 80, 90, 110), 0.99, -4.0)], ""))
    face, = faces.find_faces(rgb, "mtcnn")  # a slight lean: left as it is
    assert face.levelled == 0.0 and np.array_equal(face.pixels, faces.crop_square(gray, *frame))


@pytest.mark.parametrize("side, box, expected", [(512, (200, 150, 90, 110), 2), (4000, (1000, 900, 800, 900), 16),
                                                 (4000, (10, 10, 40, 40), 5), (60, (5, 5, 40, 40), 2)])
def test_boxes_are_drawn_as_thick_as_the_photo_is_large(side, box, expected):
    photo = np.zeros((side, side, 3), np.uint8)
    drawn = faces.draw_boxes(photo, [faces.Face(box, np.zeros((48, 48), np.uint8))])
    x, y, w, h = box
    lit = drawn[y + h // 2, max(0, x - 30): x + w // 2].any(axis=1).sum()  # the left edge, in the box's middle row
    assert expected <= lit <= expected + 2  # OpenCV centres the line on the edge, rounding outwards
