"""Why a face in a photo can get another answer than its 48x48 original: validation faces only, no test faces.

    python docs/studies/photo_framing.py --data ../shared/fer2013 [--artifacts artifacts] [--photos 400]

Places validation faces into synthetic photos (``core.photo_set``) and prints, for MTCNN:
1. faces found by ``core.faces.search`` (and by which pass), and faces "found" in photos without one;
2. where the box-to-frame spread comes from: the same face placed five times (the detector's own noise)
   against different faces (FER-2013's framing varying from face to face);
3. each model's agreement with the originals when cropped by the detector's calibrated frame, by the true
   frame, and by the true frame scaled or shifted (how much a framing error costs), and with a
   three-scale average on both sides (the originals and the photo crops);
4. how the page's answer agrees where the page lists doubts about it (``core.predictor.doubts``: a low top
   probability or models that disagree) and where it lists none;
5. faces turned by 10, 20 and 30 degrees in the photo: how many are found, and the agreement with the
   originals when the crop levels MTCNN's eye line where it tilts more than 0, 5, ... degrees, or never
   (the page: above ``core.faces.LEVEL_ABOVE_DEGREES``; section 3 gives the same for upright faces).
"""

from __future__ import annotations

import argparse
from collections import Counter

import cv2
import numpy as np

from core import artifacts, faces
from core.data import load_dataset, make_splits
from core.photo_benchmark import matching_box
from core.photo_set import compose_photo
from core.predictor import Predictor, doubts

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", required=True)
parser.add_argument("--artifacts", default="artifacts")
parser.add_argument("--photos", type=int, default=400)
args = parser.parse_args()

seed, fraction = artifacts.validation_split(args.artifacts)
val = make_splits(load_dataset(args.data), fraction, seed).val  # the faces --artifacts' models validated on
rng = np.random.default_rng(7)
index = rng.choice(len(val), args.photos, replace=False)
photos = [compose_photo(val.x[i, :, :, 0], rng) for i in index]
empty = [compose_photo(None, rng)[0] for _ in range(args.photos // 2)]

found, passes, crops = [], Counter(), []
for k, (jpeg, frame) in enumerate(photos):
    rgb = faces.read_photo(jpeg).rgb
    detections, how = faces.search(rgb, "mtcnn")
    match = matching_box(detections, frame)
    if match is not None:
        found.append(k)
        passes[how or "first pass"] += 1
        crops.append((cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), match, frame))
false = sum(bool(faces.search(faces.read_photo(jpeg).rgb, "mtcnn")[0]) for jpeg in empty)
print(f"1. found {len(found)} of {len(photos)} ({len(found) / len(photos):.1%}) by pass {dict(passes)}; "
      f"a face in {false} of {len(empty)} photos without one")

ratios = []  # per face: (log frame side / box size, centre offsets) over five placements
for i in index[:60]:
    placed = []
    for _ in range(5):
        jpeg, (x, y, side) = compose_photo(val.x[i, :, :, 0], rng)
        match = matching_box(faces.search(faces.read_photo(jpeg).rgb, "mtcnn")[0], (x, y, side))
        if match is not None:
            box = match.box
            size = np.sqrt(box[2] * box[3])
            placed.append((np.log(side / size), (x + side / 2 - box[0] - box[2] / 2) / size,
                           (y + side / 2 - box[1] - box[3] / 2) / size))
    if len(placed) >= 3:
        ratios.append(np.array(placed))
within = np.mean([r.var(axis=0, ddof=1) for r in ratios], axis=0)
total = np.concatenate(ratios).var(axis=0, ddof=1)
print(f"2. {len(ratios)} faces x 5 placements: share of the variance within a face (detector noise) "
      f"log-scale {within[0] / total[0]:.2f}, x {within[1] / total[1]:.2f}, y {within[2] / total[2]:.2f}")

predictor = Predictor(args.artifacts, warm_detector=False)
originals = predictor.predict_faces(val.x[index[found]].reshape(-1, 48, 48))
labels = val.y[index[found]]


def agreement(pixels, reference=originals) -> str:
    probabilities = predictor.predict_faces(np.stack(pixels))
    return ", ".join(f"{name} {np.mean(p.argmax(1) == reference[name].argmax(1)):.3f}"
                     for name, p in probabilities.items())


LEVEL_ABOVE = (0.0, 5.0, 10.0, 15.0, 20.0, np.inf)  # degrees of eye tilt above which the crop is levelled


def by_level_threshold(found_crops, reference=originals):
    """Agreement when the crop levels the eyes above each threshold: ``found_crops`` (gray, detection) pairs."""
    for above in LEVEL_ABOVE:
        label = "never levelled" if above == np.inf else f"levelled above {above:g} degrees"
        page = " (the page)" if above == faces.LEVEL_ABOVE_DEGREES else ""
        print(f"     {label}{page}:",
              agreement([faces.crop_face(g, d, "mtcnn", above) for g, d in found_crops], reference))


def true_frame(gray, frame, scale=1.0, shift=0.0):
    x, y, side = frame
    return faces.crop_square(gray, x + side / 2 + shift * side, y + side / 2, side * scale)


tilts = np.array([d.tilt for _, d, _ in crops])
print(f"3. eye line on these upright faces: median {np.median(tilts):.1f} degrees, interquartile range "
      f"{np.subtract(*np.percentile(tilts, [75, 25])):.1f}, steeper than {faces.LEVEL_ABOVE_DEGREES:g} degrees "
      f"(levelled) {np.mean(np.abs(tilts) > faces.LEVEL_ABOVE_DEGREES):.1%}")
print("   agreement with the originals' answers on the faces found")
print("   detector's frame, the eyes")
by_level_threshold([(g, d) for g, d, _ in crops])
for scale, shift in ((1.0, 0.0), (0.95, 0.0), (1.05, 0.0), (0.9, 0.0), (1.1, 0.0), (1.0, 0.03), (1.0, 0.06)):
    print(f"   true frame x {scale:.2f}, shifted {shift:.2f}:",
          agreement([true_frame(g, f, scale, shift) for g, _, f in crops]))


def three_scales(pixels):
    """Each model's probabilities averaged over the frame at 0.9, 1 and 1.1 (its own TTA inside each)."""
    views = [np.stack([faces.crop_square(p, 24, 24, 48 * s) for p in pixels]) for s in (0.9, 1.0, 1.1)]
    outputs = [predictor.predict_faces(v) for v in views]
    return {name: np.mean([o[name] for o in outputs], axis=0) for name in outputs[0]}


averaged = three_scales(val.x[index[found], :, :, 0])
photo = three_scales([faces.crop_face(g, d, "mtcnn") for g, d, _ in crops])
print("   three-scale average on both sides:",
      ", ".join(f"{n} {np.mean(photo[n].argmax(1) == averaged[n].argmax(1)):.3f}" for n in photo))
print("   accuracy of the originals, own TTA / three scales:",
      ", ".join(f"{n} {np.mean(originals[n].argmax(1) == labels):.3f} / {np.mean(averaged[n].argmax(1) == labels):.3f}"
                for n in originals))

page = predictor.predict_faces(np.stack([faces.crop_face(g, d, "mtcnn") for g, d, _ in crops]))
headline = predictor.headline(predictor.names)
doubted = np.array([bool(doubts({n: p[i] for n, p in page.items()}, headline)) for i in range(len(crops))])
agrees = page[headline].argmax(1) == originals[headline].argmax(1)
print(f"4. the page's answer ({headline}) lists doubts for {doubted.sum()} of {len(crops)} faces: agreement "
      f"{agrees[~doubted].mean():.3f} without doubts, {agrees[doubted].mean():.3f} with them")


def turned(face, angle):
    """A photo of the face turned ``angle`` degrees counter-clockwise about its centre, and its frame (x, y, side)."""
    jpeg, (x, y, side) = compose_photo(face, rng)
    rgb = faces.read_photo(jpeg).rgb
    turn = cv2.getRotationMatrix2D((x + side / 2, y + side / 2), angle, 1.0)
    return cv2.warpAffine(rgb, turn, rgb.shape[1::-1], borderMode=cv2.BORDER_REFLECT), (x, y, side)


print("5. faces turned in the photo: found, and agreement with the originals by the eye-levelling threshold "
      f"(the page levels above {faces.LEVEL_ABOVE_DEGREES:g} degrees)")
for angle in (10, 20, 30):
    kept, turned_crops = [], []
    for n, i in enumerate(index):
        rgb, frame = turned(val.x[i, :, :, 0], angle if n % 2 else -angle)
        match = matching_box(faces.search(rgb, "mtcnn")[0], frame)
        if match is not None:
            kept.append(i)
            turned_crops.append((cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), match))
    print(f"   turned {angle} degrees: found {len(kept)} of {len(index)}")
    by_level_threshold(turned_crops, predictor.predict_faces(val.x[kept].reshape(-1, 48, 48)))
