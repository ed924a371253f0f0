"""Faces in a user's photo: read any image safely, find the faces, frame each as FER-2013 frames its faces.

    from core.faces import read_photo, find_faces
    photo = read_photo(uploaded_bytes)           # RGB, EXIF-upright, at most MAX_SIDE pixels a side
    faces = find_faces(photo.rgb, "mtcnn")       # [] when there is no face; a small image is taken as a face crop

Two detectors: MTCNN (the ``mtcnn`` package ships its weights and runs on TensorFlow; finds more faces, and
almost none in objects) and OpenCV's Haar cascade (ships with opencv-python-headless 4.x; misses more faces
and sees some in textures such as coins). A detector's box is not a FER-2013 frame: FRAMING_FILE holds,
for each detector, where FER-2013's frame sits around its box, measured on training faces by
``python -m core framing --data PATH`` (``core.photo_benchmark``), and ``crop_face`` cuts that frame, turned
so that MTCNN's eye keypoints are level where they tilt more than a few degrees.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.classes import IMAGE_SIZE
from core.images import to_gray48

MAX_SIDE = 1280  # larger photos are scaled down, not refused
MAX_PIXELS = 40_000_000  # larger images are refused from their header, before decoding (JPEG: after draft)
MIN_SIDE = 16  # a thinner image cannot hold a face (and cannot be drawn)
DETECT_SIDE = 480  # the first search runs on the photo scaled to this longer side: MTCNN's time grows with area
FACE_CROP_SIDE = 2 * IMAGE_SIZE  # a square-ish image this small is taken as a face crop as it is
MTCNN_MIN_CONFIDENCE = 0.9
MTCNN_CONFIRMED_CONFIDENCE = 0.5  # a face this unsure counts only where a lenient Haar cascade sees one too
CONFIRM_OVERLAP = 0.3  # intersection over union of the MTCNN and Haar boxes
DETECTORS = ("mtcnn", "haar")
LEVEL_ABOVE_DEGREES = 5.0  # a steeper eye line is levelled (chosen on validation: docs/studies/photo_framing.py)
TURNED_DEGREES = (25.0, -25.0)  # MTCNN's last passes: the photo turned, for heads tilted too far for it upright
FRAMING_FILE = Path(__file__).with_name("framing.json")
FACE_CROP, WHOLE_IMAGE = "face crop", "whole image"  # a Face's found_by where no detector boxed it


class PhotoError(Exception):
    """A file that cannot be used as a photo; the message says why."""


@dataclass
class Photo:
    rgb: np.ndarray  # (H, W, 3) uint8
    notes: list = field(default_factory=list)  # what was done to it: rotated, scaled down, converted


class Detection(NamedTuple):
    box: tuple  # x, y, width, height in the image's pixels
    score: float | None = None  # the detector's confidence (MTCNN); Haar has none
    tilt: float | None = None  # the eye line's angle in degrees, positive when the right eye is lower (MTCNN)


@dataclass
class Face:
    box: tuple | None  # x, y, width, height in the photo's pixels; None when the whole image is the face
    pixels: np.ndarray  # (48, 48) uint8 grayscale, what the models see
    score: float | None = None  # the detector's confidence, where it has one
    found_by: str = ""  # the detector and pass that found it, FACE_CROP or WHOLE_IMAGE
    levelled: float = 0.0  # degrees the crop was turned to level the eyes (0: not turned)


# The first bytes of the formats people upload: a file that starts like one but fails is corrupt, not "not an image".
IMAGE_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF8": "GIF", b"BM": "BMP",
                    b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"RIFF": "WebP"}


def _format_of(data: bytes) -> str | None:
    return next((name for signature, name in IMAGE_SIGNATURES.items() if data.startswith(signature)), None)


def _to_8_bits(image: Image.Image, notes: list) -> Image.Image:
    """16-bit images divided by 257, as the dataset loader reads any 16-bit file (and Pillow, near enough, 16-bit
    colour); 32-bit and float images, whose range no type tells, stretched to 8 bits over their finite range, NaN
    and infinity made black."""
    array = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        notes.append("a 16-bit image, scaled to 8 bits")
        return Image.fromarray((array / 257).round().astype(np.uint8))
    depth = "floating-point" if image.mode == "F" else "32-bit"
    finite = np.isfinite(array)
    if not finite.all():
        notes.append(f"{depth} image had {int((~finite).sum())} NaN or infinite pixel(s), shown black")
    low, high = (float(array[finite].min()), float(array[finite].max())) if finite.any() else (0.0, 0.0)
    scaled = np.where(finite, (array - low) / ((high - low) or 1.0) * 255, 0)
    notes.append(f"{depth} image scaled to 8 bits (its values {low:g} to {high:g})")
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))


def read_photo(data: bytes) -> Photo:
    """Decode an uploaded file: any mode Pillow reads (CMYK, 16-bit, palette, alpha), EXIF-rotated.

    Refused with a PhotoError saying why: empty, not an image, corrupt, over MAX_PIXELS (judged from the
    header, before decoding; a JPEG is first decoded at a reduced size), or too thin to hold a face once
    scaled to at most MAX_SIDE pixels a side.
    """
    if not data:
        raise PhotoError("The file is empty.")
    kind = _format_of(data)
    notes = []
    try:
        image = Image.open(io.BytesIO(data))
        original = image.size
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode huge photos at a reduced size
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise PhotoError(f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); at most "
                             f"{MAX_PIXELS / 1e6:.0f} megapixels are read. Scale it down and try again.")
        image.load()
        image = _upright_rgb(image, notes)
    except Image.DecompressionBombError as error:
        raise PhotoError(f"The image is too large to open safely ({error}).") from error
    except UnidentifiedImageError as error:
        if kind:
            raise PhotoError(f"The file starts like a {kind} image but is corrupt, so it cannot be read.") from error
        raise PhotoError("This file is not an image (or not a format Pillow can read: try JPEG or PNG).") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise PhotoError(f"The image is corrupt or truncated ({error}).") from error
    scaled = max(image.size) > MAX_SIDE
    if scaled:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        notes.append(f"scaled down from {original[0]}x{original[1]} to {image.size[0]}x{image.size[1]}")
    if min(image.size) < MIN_SIDE:
        shown = f" (scaled to at most {MAX_SIDE} pixels a side: {image.size[0]}x{image.size[1]})" if scaled else ""
        raise PhotoError(f"The image is {original[0]}x{original[1]} pixels{shown}: too thin to hold a face "
                         f"(at least {MIN_SIDE} pixels a side).")
    return Photo(rgb=np.asarray(image, dtype=np.uint8), notes=notes)


def _upright_rgb(image: Image.Image, notes: list) -> Image.Image:
    """The decoded image's first frame, turned upright from its EXIF orientation, as 8-bit RGB; ``notes`` say
    what was done."""
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notes.append(f"the first of its {frames} frames (an animation or a multi-page file)")
    if image.getexif().get(0x0112, 1) in range(2, 9):  # the EXIF orientation tag says the pixels are turned
        notes.append("rotated upright from its EXIF orientation")
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = _to_8_bits(image, notes)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
        notes.append("transparency flattened on white")
    if image.mode == "CMYK":
        notes.append("CMYK converted to RGB")
    return image.convert("RGB")


@lru_cache(maxsize=1)
def _haar():
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's Haar cascade file is missing (opencv-python-headless 5.0 dropped it; use 4.x).")
    return cascade


@lru_cache(maxsize=1)
def _mtcnn():
    import tensorflow as tf
    from mtcnn import MTCNN

    detector = MTCNN()
    # mtcnn 1.0 calls its three Keras networks eagerly, once per pyramid scale; compiled, the same boxes come
    # 2.6x faster (107 -> 41 ms on a 320-pixel photo here). reduce_retracing: one graph for every image size.
    for stage in detector.stages:
        stage._model = tf.function(stage._model, reduce_retracing=True)
    # Trace now for any image size (P-net) and any number of candidates (R-net, O-net): a blank warm-up image
    # gives R-net and O-net no candidates, so the first real photo used to trace them (0.4 s of the page's first).
    for stage, side in zip(detector.stages, (None, 24, 48)):
        for n in (1, 2):
            stage._model(tf.zeros((1, 20 + 8 * n, 24 + 8 * n, 3) if side is None else (n, side, side, 3)))
    return detector


def eye_tilt(keypoints: dict) -> float:
    """The angle in degrees of the line from MTCNN's left eye to its right eye (image left to right)."""
    (left_x, left_y), (right_x, right_y) = keypoints["left_eye"], keypoints["right_eye"]
    return float(np.degrees(np.arctan2(right_y - left_y, right_x - left_x)))


def detect(rgb: np.ndarray, detector: str = "mtcnn", floor: float = MTCNN_MIN_CONFIDENCE,
           lenient: bool = False) -> list[Detection]:
    """The faces' detections, largest box first, in one pass over the image as it is.

    ``floor``: MTCNN's lowest confidence kept. ``lenient``: Haar with fewer neighbours and finer scales (used
    only to confirm an unsure MTCNN box).
    """
    if detector == "haar":
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        side = min(gray.shape)
        settings = (dict(scaleFactor=1.05, minNeighbors=3, minSize=(24, 24)) if lenient else
                    dict(scaleFactor=1.1, minNeighbors=5, minSize=(max(24, side // 20),) * 2))
        boxes = [Detection(tuple(int(v) for v in box)) for box in _haar().detectMultiScale(gray, **settings)]
    elif detector == "mtcnn":
        found = _mtcnn().detect_faces(rgb, threshold_onet=min(floor, 0.8))  # 0.8: mtcnn's own default
        boxes = [Detection(tuple(int(v) for v in f["box"]), float(f["confidence"]), eye_tilt(f["keypoints"]))
                 for f in found if f["confidence"] >= floor]
    else:
        raise ValueError(f"Unknown detector '{detector}': use one of {', '.join(DETECTORS)}.")
    return sorted(boxes, key=lambda item: -item.box[2] * item.box[3])


def overlap(a: tuple, b: tuple) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    width = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    height = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _scaled(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, side / max(rgb.shape[:2]))
    return (cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb), scale


def _equalised(rgb: np.ndarray) -> np.ndarray:
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def _turned(rgb: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The image turned ``angle`` degrees counter-clockwise about its centre (same size, edges repeated), and the
    affine matrix taking its points back to the image's."""
    height, width = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(rgb, turn, (width, height), borderMode=cv2.BORDER_REPLICATE), cv2.invertAffineTransform(turn)


def _detect_turned(rgb: np.ndarray, angle: float, floor: float) -> list[Detection]:
    """MTCNN's detections in the image turned by ``angle``, in the image's own coordinates: each box's centre
    taken back (its size kept), the eye line's tilt measured against the image's own horizontal."""
    turned, back = _turned(rgb, angle)
    found = []
    for d in detect(turned, "mtcnn", floor=floor):
        x, y, w, h = d.box
        centre_x, centre_y = back @ (x + w / 2, y + h / 2, 1.0)
        box = (int(round(centre_x - w / 2)), int(round(centre_y - h / 2)), w, h)
        found.append(d._replace(box=box, tilt=d.tilt + angle))
    return found


def search(rgb: np.ndarray, detector: str = "mtcnn") -> tuple[list[Detection], str]:
    """Detections in the photo's pixels and the pass that found them, trying until one finds a face: the photo at
    DETECT_SIDE, then contrast-equalised (CLAHE: dim and washed-out faces), then at full size (small faces),
    then, for MTCNN, turned by each of TURNED_DEGREES (heads tilted too far for it upright). Last, for MTCNN: a
    box the upright passes were unsure of (MTCNN_CONFIRMED_CONFIDENCE or more) where a lenient Haar cascade
    sees a face too."""
    small, scale = _scaled(rgb, DETECT_SIDE)
    floor = MTCNN_CONFIRMED_CONFIDENCE
    passes = [("", lambda: detect(small, detector, floor), scale, True),
              ("equalised", lambda: detect(_equalised(small), detector, floor), scale, True)]
    if scale < 1:
        passes.append(("full size", lambda: detect(rgb, detector, floor), 1.0, True))
    if detector == "mtcnn":
        passes += [(f"turned {angle:g}°", lambda angle=angle: _detect_turned(small, angle, floor), scale, False)
                   for angle in TURNED_DEGREES]
    unsure = []  # the upright passes' MTCNN boxes under MTCNN_MIN_CONFIDENCE (Haar's have no score: all sure)
    for name, run, factor, upright in passes:  # each pass runs only when the passes before it found nothing
        boxes = [d._replace(box=tuple(int(round(v / factor)) for v in d.box)) for d in run()]
        sure = [d for d in boxes if d.score is None or d.score >= MTCNN_MIN_CONFIDENCE]
        if sure:
            return sure, name
        if upright:
            unsure += boxes
    if unsure:
        haar = [tuple(v / scale for v in d.box) for d in detect(small, "haar", lenient=True)]
        confirmed = []
        for d in sorted(unsure, key=lambda item: -item.score):  # one box per face: the passes repeat them
            seen_by_haar = any(overlap(d.box, h) > CONFIRM_OVERLAP for h in haar)
            if seen_by_haar and all(overlap(d.box, kept.box) <= 0.5 for kept in confirmed):
                confirmed.append(d)
        if confirmed:
            return sorted(confirmed, key=lambda item: -item.box[2] * item.box[3]), "unsure, confirmed by Haar"
    return [], ""


@lru_cache(maxsize=1)
def framing() -> dict[str, dict]:
    """Per detector: the FER-2013 frame's side and centre offset, in units of the box's size sqrt(w*h)."""
    return json.loads(FRAMING_FILE.read_text())["detectors"]


def frame_of(box: tuple, detector: str) -> tuple[float, float, float]:
    """The FER-2013 frame (centre x, centre y, side) that a detector's box stands for."""
    x, y, w, h = box
    size = float(np.sqrt(w * h))
    calibrated = framing()[detector]
    return (x + w / 2 + calibrated["dx"] * size, y + h / 2 + calibrated["dy"] * size, calibrated["scale"] * size)


def crop_square(gray: np.ndarray, centre_x: float, centre_y: float, side: float, angle: float = 0.0) -> np.ndarray:
    """A square of the image around a centre, edges repeated where it runs off the image, as 48x48. ``angle``:
    the image turned that many degrees counter-clockwise about the centre first, so that a line sloping down
    to the right by that angle comes out level."""
    side = max(int(round(side)), 1)
    if angle:
        turn = cv2.getRotationMatrix2D((centre_x, centre_y), angle, 1.0)
        turn[:, 2] += (side / 2 - centre_x, side / 2 - centre_y)
        return to_gray48(cv2.warpAffine(gray, turn, (side, side), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE))[0]
    left, top = int(round(centre_x - side / 2)), int(round(centre_y - side / 2))
    padded = cv2.copyMakeBorder(gray, side, side, side, side, cv2.BORDER_REPLICATE)  # faces at the edge
    crop = padded[top + side : top + 2 * side, left + side : left + 2 * side]
    return to_gray48(crop)[0]


def levelling(tilt: float | None, above: float = LEVEL_ABOVE_DEGREES) -> float:
    """Degrees to turn a face whose eye line has this tilt: all of it where it is steeper than ``above``
    degrees, else none."""
    return tilt if tilt is not None and abs(tilt) > above else 0.0


def crop_face(gray: np.ndarray, detection: Detection, detector: str,
              level_above: float = LEVEL_ABOVE_DEGREES) -> np.ndarray:
    """The face as FER-2013 frames its faces (calibrated per detector), a head tilted more than ``level_above``
    degrees turned upright by its eyes where the detector gives them (MTCNN), 48x48 grayscale."""
    return crop_square(gray, *frame_of(detection.box, detector), angle=levelling(detection.tilt, level_above))


def is_face_crop(rgb: np.ndarray) -> bool:
    """A small, roughly square image (such as a FER-2013 face itself) is taken as a face crop as it is."""
    height, width = rgb.shape[:2]
    return max(height, width) <= FACE_CROP_SIDE and max(height, width) <= 1.25 * min(height, width)


def whole_image(rgb: np.ndarray, found_by: str = WHOLE_IMAGE) -> Face:
    """The whole image, centre-cropped to a square, as a face (a face crop, or when the user asks)."""
    return Face(box=None, pixels=to_gray48(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))[0], found_by=found_by)


def find_faces(rgb: np.ndarray, detector: str = "mtcnn") -> list[Face]:
    """The faces in a photo, largest first, each framed as in FER-2013; [] when there is none."""
    if is_face_crop(rgb):
        return [whole_image(rgb, FACE_CROP)]
    boxes, how = search(rgb, detector)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found_by = f"{detector} ({how})" if how else detector
    return [Face(box=d.box, pixels=crop_face(gray, d, detector), score=d.score, found_by=found_by,
                 levelled=levelling(d.tilt)) for d in boxes]


def draw_boxes(rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """The photo with each detected face boxed and numbered as the results list them: lines about 2 pixels wide
    once the photo is shown 500 pixels across, never thicker than an eighth of the box."""
    canvas = rgb.copy()
    for number, face in enumerate(faces, start=1):
        if face.box is None:
            continue
        x, y, w, h = face.box
        thickness = max(1, min(round(max(canvas.shape[:2]) / 250), min(w, h) // 8), 2 if min(w, h) >= 16 else 1)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (255, 64, 64), thickness)
        scale = max(0.4, min(w, h) / 160)
        (text_w, text_h), _ = cv2.getTextSize(str(number), cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = y - 4 if y - 4 - text_h >= 0 else y + h + text_h + 4  # above the box, or below it at the top edge
        cv2.putText(canvas, str(number), (x, top), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 64, 64), thickness)
    return canvas
