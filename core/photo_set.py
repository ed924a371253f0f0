"""FER-2013 faces placed into larger synthetic photos, to measure the photo path against the 48x48 originals.

Each photo is one 48x48 face, upscaled to FACE_SIDES pixels, pasted at a random place on a background
(flat, gradient, smooth noise or stripes, in colour) and saved as JPEG at a random quality. The face's
frame in the photo is known, so the framing calibration (``core.faces``) and the photo benchmark
(``core.photo_benchmark``) both use these photos:

    from core.photo_set import compose_photo
    jpeg, frame = compose_photo(face48, np.random.default_rng(0))   # frame = (x, y, side) of the face
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_SIDES = (110, 260)  # the pasted face's side in pixels, drawn uniformly
PHOTO_SIDES = (320, 640)  # the photo's width and height, each drawn uniformly (at least the face + margin)
JPEG_QUALITY = (40, 95)
BACKGROUNDS = ("flat", "gradient", "noise", "stripes")


def _background(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    colour = rng.integers(0, 256, 3).astype(np.float32)
    if kind == "flat":
        image = np.broadcast_to(colour, (height, width, 3))
    elif kind == "gradient":
        other = rng.integers(0, 256, 3).astype(np.float32)
        ramp = np.linspace(0, 1, width if rng.random() < 0.5 else height, dtype=np.float32)
        ramp = ramp[None, :, None] if len(ramp) == width else ramp[:, None, None]
        image = np.broadcast_to(colour + (other - colour) * ramp, (height, width, 3))
    elif kind == "noise":
        coarse = rng.integers(0, 256, (rng.integers(3, 12), rng.integers(3, 12), 3)).astype(np.float32)
        image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    else:
        period = rng.integers(12, 80)
        stripes = (np.arange(width) // period % 2).astype(np.float32)[None, :, None]
        image = np.broadcast_to(colour * (0.5 + 0.5 * stripes), (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def compose_photo(face: np.ndarray | None, rng: np.random.Generator) -> tuple[bytes, tuple[int, int, int]]:
    """A JPEG photo holding ``face`` (48x48 uint8) somewhere, and the face's frame (x, y, side) in it.
    ``face`` None: the same photo without a face (to count faces seen where there are none)."""
    side = int(rng.integers(FACE_SIDES[0], FACE_SIDES[1] + 1))
    width, height = (int(rng.integers(max(PHOTO_SIDES[0], side + 40), PHOTO_SIDES[1] + 1)) for _ in range(2))
    photo = _background(height, width, rng).copy()
    x, y = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
    if face is not None:
        big = cv2.resize(np.asarray(face, np.uint8), (side, side), interpolation=cv2.INTER_CUBIC)
        photo[y : y + side, x : x + side] = big[:, :, None]
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the photo as JPEG.")
    return encoded.tobytes(), (x, y, side)
