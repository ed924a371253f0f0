"""One inference path: a photo (or 48x48 faces) to every model's probabilities, the ensemble included.

The try-it page, ``python -m core predict``, both benchmarks and ``core verify`` all go through it:

    from core.predictor import Predictor
    predictor = Predictor("artifacts")               # loads and warms every model once
    result = predictor.predict_photo(photo_bytes)    # PhotoResult: faces, largest first, with probabilities
    probabilities = predictor.predict_faces(faces)   # {model: (N, 7)} for (N, 48, 48) uint8 faces

All networks see all test-time-augmentation views of all faces in one compiled call
(``core.inference.predict_together``); the ensemble is combined from its members' probabilities already
computed, never predicted again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import artifacts
from core.classes import CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES
from core.faces import (
    DETECT_SIDE,
    DETECTORS,
    MTCNN_MIN_CONFIDENCE,
    Face,
    PhotoError,
    find_faces,
    read_photo,
    whole_image,
)
from core.inference import combine, compile_together, predict_together

UNSURE_BELOW = 0.5  # a headline top probability under this is flagged as uncertain


@dataclass
class FaceResult:
    face: Face
    probabilities: dict[str, np.ndarray]  # model -> (7,) in CLASS_NAMES order
    headline: str  # the model whose answer is the face's answer: the ensemble where there is one
    doubts: list[str] = field(default_factory=list)  # why the answer is uncertain; empty when it is not

    @property
    def label(self) -> str:
        return CLASS_NAMES[int(np.argmax(self.probabilities[self.headline]))]


@dataclass
class PhotoResult:
    file: str
    faces: list[FaceResult]
    error: str | None
    timing_ms: dict[str, float]
    notes: list[str] = field(default_factory=list)  # what read_photo did to the file
    rgb: np.ndarray | None = None

    @classmethod
    def failed(cls, file: str, error: str, elapsed_ms: float = 0.0) -> PhotoResult:
        """A file that could not be used: no faces, the reason, the time spent finding out."""
        return cls(file, [], error, {"read": elapsed_ms, "detect": 0.0, "models": 0.0, "total": elapsed_ms})

    def to_json(self) -> dict:
        """The ``python -m core predict --json`` line for this photo."""
        return {
            "file": self.file,
            "error": self.error,
            "timing_ms": {k: round(v, 1) for k, v in self.timing_ms.items()},
            "notes": self.notes,
            "faces": [
                {
                    "box": list(r.face.box) if r.face.box else None,
                    "found_by": r.face.found_by,
                    "levelled_degrees": round(r.face.levelled, 1),
                    "label": r.label,
                    "doubts": r.doubts,
                    "probabilities": {name: [round(float(v), 6) for v in p] for name, p in r.probabilities.items()},
                }
                for r in self.faces
            ],
        }


def doubts(probabilities: dict[str, np.ndarray], headline: str, face: Face | None = None,
           titles: dict[str, str] | None = None) -> list[str]:
    """Reasons to distrust a face's answer: a detector unsure it is a face, a low top probability, or models
    that disagree with it (named by ``titles`` where given)."""
    found = []
    if face is not None and face.score is not None and face.score < MTCNN_MIN_CONFIDENCE:
        found.append(f"the detector was unsure this is a face (confidence {face.score:.2f}; a second detector agreed)")
    top = float(np.max(probabilities[headline]))
    answer = CLASS_NAMES[int(np.argmax(probabilities[headline]))]
    if top < UNSURE_BELOW:
        found.append(f"{answer} has only p = {top:.2f}")
    others = {name: CLASS_NAMES[int(np.argmax(p))] for name, p in probabilities.items() if name != headline}
    dissent = sorted(name for name, label in others.items() if label != answer)
    if dissent:
        who = "the other model disagrees" if len(others) == 1 else \
            f"{len(dissent)} of the {len(others)} other models {'disagrees' if len(dissent) == 1 else 'disagree'}"
        found.append(f"{who} ({', '.join(f'{(titles or {}).get(n, n)}: {others[n]}' for n in dissent)})")
    return found


class Predictor:
    """Every usable model under an artifact root, loaded and warmed once; ``broken`` says why others are not."""

    def __init__(self, root, names: list[str] | None = None, warm_detector: bool = True):
        self.root = Path(root)
        self.networks, self.tta, self.weights, self.broken = {}, {}, {}, {}
        folders = {n: f for n, f in sorted(artifacts.list_model_dirs(self.root).items(),
                                           key=lambda item: artifacts.model_order(item[0]))
                   if names is None or n in names}
        ensembles = {n: f for n, f in folders.items() if artifacts.is_ensemble(f)}
        needed = {n: f for n, f in folders.items() if n not in ensembles}
        for name, folder in ensembles.items():
            try:
                members = artifacts.read_ensemble(folder)["members"]
                self.weights[name] = {member: float(weight) for member, weight in members.items() if weight}
            except artifacts.ArtifactError as error:
                self.broken[name] = str(error)
                continue
            for member in self.weights[name]:
                needed.setdefault(member, self.root / member)
        for name, folder in needed.items():
            try:
                self.tta[name] = artifacts.read_json(folder / artifacts.METRICS).get("tta", "none")
                self.networks[name] = artifacts.load_model(folder / artifacts.MODEL)
            except artifacts.ArtifactError as error:
                self.broken[name] = str(error)
        for name in list(self.weights):
            lost = [m for m in self.weights[name] if m not in self.networks]
            if lost:
                self.broken[name] = f"its member(s) {', '.join(lost)} cannot be loaded"
                del self.weights[name]
        self.names = [n for n in folders if n in self.networks or n in self.weights]
        self.titles = {n: self._title(folders[n], n) for n in self.names}
        self._run = compile_together(self.networks)
        self.warm(warm_detector)

    @staticmethod
    def _title(folder: Path, name: str) -> str:
        """The model's title as the pages give it (``artifacts.model_title``), else its folder's name."""
        try:
            return artifacts.model_title(artifacts.read_json(folder / artifacts.CARD), name)
        except artifacts.ArtifactError:
            return name

    def warm(self, detector: bool = True) -> None:
        """The first call of the networks or the detector builds its graph (seconds for ResNet50V2): pay it at load."""
        self.predict_faces(np.full((1, IMAGE_SIZE, IMAGE_SIZE), 128, np.uint8))
        if detector:
            find_faces(np.full((DETECT_SIDE, DETECT_SIDE, 3), 128, np.uint8), DETECTORS[0])

    def headline(self, names: list[str]) -> str:
        """The model whose answer a face gets: the first ensemble asked for, else the first model."""
        return next((n for n in names if n in self.weights), names[0])

    def predict_faces(
        self, faces: np.ndarray, names: list[str] | None = None, tta: str | None = None
    ) -> dict[str, np.ndarray]:
        """{model: (N, 7) float32} for faces (N, 48, 48) uint8, in ``self.names`` order.

        ``names``: the models wanted (default all); an ensemble's members are run even when not asked for.
        ``tta``: one mode for every network, or None for each network's own choice made on validation.
        """
        wanted = [n for n in self.names if names is None or n in names]
        run = {m for n in wanted for m in (self.weights[n] if n in self.weights else [n])}
        pixels = np.asarray(faces, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        if not len(pixels):
            return {n: np.zeros((0, NUM_CLASSES), np.float32) for n in wanted}
        network_out = predict_together(self._run, pixels, {n: tta or self.tta[n] for n in self.networks if n in run})
        out = {}
        for name in wanted:
            if name in self.weights:
                out[name] = combine({m: network_out[m] for m in self.weights[name]}, self.weights[name])
            else:
                out[name] = network_out[name]
        return out

    def predict_photo(self, data: bytes, detector: str = DETECTORS[0], names: list[str] | None = None,
                      tta: str | None = None, use_whole_image: bool = False, file: str = "") -> PhotoResult:
        """Read, find faces, predict: the page's path. A file that cannot be used gets ``error``, never a raise.

        No face found: no result, unless ``use_whole_image``, when the whole image is shown to the models
        (its ``found_by`` says "whole image").
        """
        started = time.perf_counter()
        try:
            photo = read_photo(data)
        except PhotoError as error:
            return PhotoResult.failed(file, str(error), (time.perf_counter() - started) * 1000)
        read_done = time.perf_counter()
        try:
            faces = find_faces(photo.rgb, detector)
            if not faces and use_whole_image:
                faces = [whole_image(photo.rgb)]
            detect_done = time.perf_counter()
            probabilities = self.predict_faces(np.stack([f.pixels for f in faces]), names, tta) if faces else {}
        except Exception as error:  # a detector or model failing on this one image: a message, and the run goes on
            logging.getLogger(__name__).exception("Predicting %s failed", file or "an image")
            message = f"Finding or reading the faces failed on this image ({type(error).__name__}: {error})."
            return PhotoResult.failed(file, message, (time.perf_counter() - started) * 1000)
        done = time.perf_counter()
        results = []
        if faces and probabilities:
            headline = self.headline(list(probabilities))
            for i, face in enumerate(faces):
                per_model = {n: p[i] for n, p in probabilities.items()}
                results.append(FaceResult(face, per_model, headline, doubts(per_model, headline, face, self.titles)))
        timing = {"read": (read_done - started) * 1000, "detect": (detect_done - read_done) * 1000,
                  "models": (done - detect_done) * 1000, "total": (done - started) * 1000}
        return PhotoResult(file, results, None, timing, photo.notes, photo.rgb)
