"""A decoded FER-2013 file as the models' input: 48x48 uint8 grayscale, saying what was converted.

Data loading decodes every image through here; photos from users go through ``core.faces`` instead, which
finds and frames the faces first.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.classes import IMAGE_SIZE


def to_gray48(image: np.ndarray) -> tuple[np.ndarray, str]:
    """Any decoded image as 48x48 uint8 grayscale, and a note of what was converted ('' if none).

    Colour becomes gray, alpha is composited on white, 16-bit and float are rescaled to 8 bits,
    and a non-square image is centre-cropped before resizing.
    """
    notes = []
    if image.dtype != np.uint8:
        notes.append(f"{image.dtype} to 8-bit")
        if np.issubdtype(image.dtype, np.floating):
            top = 1.0 if float(np.nanmax(image)) <= 1.0 else 255.0
            image = np.clip(np.nan_to_num(image) / top * 255.0, 0, 255).astype(np.uint8)
        else:
            image = (image.astype(np.float64) / np.iinfo(image.dtype).max * 255.0).round().astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        if image.shape[2] == 4:
            notes.append("alpha on white")
            alpha = image[:, :, 3:4].astype(np.float32) / 255.0
            image = (image[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        notes.append("colour to gray")
        image = cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2GRAY)
    height, width = image.shape
    if height != width:
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        image = image[top : top + side, left : left + side]
        notes.append(f"{width}x{height} centre-cropped")
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
        shrink = image.shape[0] > IMAGE_SIZE
        image = cv2.resize(
            image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
        notes.append(f"resized to {IMAGE_SIZE}x{IMAGE_SIZE}")
    return image, ", ".join(notes)


def decode_image(data: bytes) -> tuple[np.ndarray | None, str]:
    """Decode image bytes to 48x48 grayscale. Returns (image, conversion note) or (None, why not)."""
    if not data:
        return None, "empty file"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        return None, "not a readable image (corrupt or not an image file)"
    return to_gray48(image)
