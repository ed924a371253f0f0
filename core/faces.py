"""Faces in a user's photo: read any image safely, find the faces, crop each to 48x48 grayscale.

    from core.faces import read_photo, find_faces
    photo = read_photo(uploaded_bytes)           # RGB, EXIF-upright, at most MAX_SIDE pixels a side
    faces = find_faces(photo.rgb, "haar")        # [] when none is found: fall back to centre_crop()

Two detectors: OpenCV's Haar cascade (ships with opencv-python-headless 4.x; fast) and MTCNN (the
``mtcnn`` package ships its weights and runs on TensorFlow; slower, gives a confidence per face).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.data import to_gray48

MAX_SIDE = 1280  # larger photos are scaled down, not refused
FACE_MARGIN = 0.15  # FER-2013 crops show a little forehead and chin around the detected box
MTCNN_MIN_CONFIDENCE = 0.9
DETECTORS = ("haar", "mtcnn")


class PhotoError(Exception):
    """A file that cannot be used as a photo; the message says why."""


@dataclass
class Photo:
    rgb: np.ndarray  # (H, W, 3) uint8
    notes: list = field(default_factory=list)  # what was done to it: rotated, scaled down, converted


@dataclass
class Face:
    box: tuple | None  # x, y, width, height in the photo's pixels; None for the whole-image fallback
    pixels: np.ndarray  # (48, 48) uint8 grayscale, what the models see
    score: float | None = None  # the detector's confidence, where it has one


def read_photo(data: bytes) -> Photo:
    """Decode an uploaded file: any mode Pillow reads (CMYK, 16-bit, palette, alpha), EXIF-rotated."""
    if not data:
        raise PhotoError("The file is empty.")
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode huge photos at a reduced size
        image.load()
    except Image.DecompressionBombError as error:
        raise PhotoError(f"The image is too large to open safely ({error}).") from error
    except UnidentifiedImageError as error:
        raise PhotoError("This file is not an image (or not a format Pillow can read: try JPEG or PNG).") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise PhotoError(f"The image is corrupt or truncated ({error}).") from error
    notes = []
    if image.getexif().get(0x0112, 1) != 1:  # the EXIF orientation tag says the pixels are turned
        notes.append("rotated upright from its EXIF orientation")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        depth = "floating-point" if image.mode == "F" else "16-bit" if image.mode.startswith("I;16") else "32-bit"
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray((array / (array.max() or 1.0) * 255).astype(np.uint8))
        notes.append(f"{depth} image scaled to 8 bits")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
        notes.append("transparency flattened on white")
    if image.mode == "CMYK":
        notes.append("CMYK converted to RGB")
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        original = image.size
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        notes.append(f"scaled down from {original[0]}x{original[1]} to {image.size[0]}x{image.size[1]}")
    return Photo(rgb=np.asarray(image, dtype=np.uint8), notes=notes)


@lru_cache(maxsize=1)
def _haar():
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's Haar cascade file is missing (opencv-python-headless 5.0 dropped it; use 4.x).")
    return cascade


@lru_cache(maxsize=1)
def _mtcnn():
    from mtcnn import MTCNN

    return MTCNN()


def detect(rgb: np.ndarray, detector: str = "haar") -> list[tuple[tuple, float | None]]:
    """Face boxes (x, y, w, h) with scores, largest first."""
    if detector == "haar":
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        side = min(gray.shape)
        found = _haar().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(max(24, side // 20),) * 2)
        boxes = [(tuple(int(v) for v in box), None) for box in found]
    elif detector == "mtcnn":
        found = _mtcnn().detect_faces(rgb)
        boxes = [(tuple(int(v) for v in f["box"]), float(f["confidence"]))
                 for f in found if f["confidence"] >= MTCNN_MIN_CONFIDENCE]
    else:
        raise ValueError(f"Unknown detector '{detector}': use one of {', '.join(DETECTORS)}.")
    return sorted(boxes, key=lambda item: -item[0][2] * item[0][3])


def crop_face(gray: np.ndarray, box: tuple, margin: float = FACE_MARGIN) -> np.ndarray:
    """A square crop of a grayscale photo around the box, widened by ``margin``, as 48x48."""
    x, y, w, h = box
    side = int(max(w, h) * (1 + 2 * margin))
    cx, cy = x + w / 2, y + h / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    padded = cv2.copyMakeBorder(gray, side, side, side, side, cv2.BORDER_REPLICATE)  # faces at the edge
    crop = padded[top + side : top + 2 * side, left + side : left + 2 * side]
    return to_gray48(crop)[0]


def centre_crop(rgb: np.ndarray) -> np.ndarray:
    """The whole photo, centre-cropped to a square, as 48x48 grayscale (when no face is found)."""
    return to_gray48(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))[0]


def find_faces(rgb: np.ndarray, detector: str = "haar") -> list[Face]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return [Face(box=box, pixels=crop_face(gray, box), score=score) for box, score in detect(rgb, detector)]


def draw_boxes(rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """The photo with each face boxed and numbered as the results list them."""
    canvas = rgb.copy()
    thickness = max(2, min(canvas.shape[:2]) // 200)
    for number, face in enumerate(faces, start=1):
        x, y, w, h = face.box
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (255, 64, 64), thickness)
        cv2.putText(canvas, str(number), (x + 4, y + 4 + 12 * thickness), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6 * thickness, (255, 64, 64), thickness)
    return canvas
