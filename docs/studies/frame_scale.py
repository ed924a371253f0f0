"""Is it the frame's scale or what lies around the face that changes a photo's answer? Validation faces only.

    python docs/studies/frame_scale.py --data ../shared/fer2013 [--artifacts artifacts] [--faces 300]

Each validation face is upscaled to 180 pixels, given a 40-pixel border and saved as JPEG (quality 70), once
with a flat border of a random grey (as the photo benchmark pastes faces onto backgrounds) and once with the
face mirrored into the border (a stand-in for the hair, neck and room a real photo has there). The face is
then cut out by its true frame scaled by 0.95, 1, 1.05 and 1.1, and each model's answer compared with its
answer on the 48x48 original. A frame 5 % smaller holds nothing from the border, so what it costs is the
scale alone.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from core import artifacts, faces
from core.data import load_dataset, make_splits
from core.predictor import Predictor

SIDE, BORDER, JPEG_QUALITY = 180, 40, 70

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", required=True)
parser.add_argument("--artifacts", default="artifacts")
parser.add_argument("--faces", type=int, default=300)
args = parser.parse_args()

seed, fraction = artifacts.validation_split(args.artifacts)
val = make_splits(load_dataset(args.data), fraction, seed).val  # the faces --artifacts' models validated on
rng = np.random.default_rng(3)
originals = val.x[rng.choice(len(val), args.faces, replace=False), :, :, 0]
predictor = Predictor(args.artifacts, warm_detector=False)
reference = predictor.predict_faces(originals)


def photo(face: np.ndarray, border: str) -> np.ndarray:
    """The face upscaled, bordered flat or mirrored, through JPEG, as grayscale."""
    big = cv2.resize(face, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    if border == "mirrored":
        framed = cv2.copyMakeBorder(big, *[BORDER] * 4, cv2.BORDER_REFLECT)
    else:
        framed = cv2.copyMakeBorder(big, *[BORDER] * 4, cv2.BORDER_CONSTANT, value=int(rng.integers(0, 256)))
    ok, encoded = cv2.imencode(".jpg", framed, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


print("agreement with the originals' answers, face cut out by its true frame scaled")
for border in ("flat", "mirrored"):
    photos = [photo(face, border) for face in originals]
    for scale in (0.95, 1.0, 1.05, 1.1):
        centre = BORDER + SIDE / 2
        crops = np.stack([faces.crop_square(gray, centre, centre, SIDE * scale) for gray in photos])
        answers = predictor.predict_faces(crops)
        print(f"  {border} border, frame x {scale:.2f}: " + ", ".join(
            f"{name} {np.mean(p.argmax(1) == reference[name].argmax(1)):.3f}" for name, p in answers.items()))
