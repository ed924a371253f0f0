"""Knowledge distillation: a teacher's answers on the training faces become part of a run's targets.

    python -m core train cnn_aug --data PATH --teacher artifacts [--teacher-weight 0.5]

The teacher is an artifact folder; its ensemble (else its first model), each network with its own test-time
augmentation, answers for every training face once per run. The targets are ``share`` x those answers +
(1 - ``share``) x the one-hot labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core import artifacts
from core.checkpoint import TrainError
from core.classes import NUM_CLASSES
from core.data import Split

TEACHER_WEIGHT = 0.5  # --teacher without --teacher-weight: half the target from the teacher, half from the label
TEACHER_TARGETS = "teacher_targets.npz"  # beside the checkpoint: the teacher's answers, computed once per run


def teacher_answers(config, train: Split, checkpoints: Path, resuming: bool, log) -> tuple[np.ndarray, dict | None]:
    """The teacher's probabilities (N, 7) for the training faces of a run (``core.train.TrainConfig``), and which
    teacher gave them (its folder, the model that answered, each network's SHA-256), None where a resumed run
    reuses the answers it kept beside its checkpoint."""
    from core.predictor import Predictor  # training needs it only with a teacher

    kept = checkpoints / TEACHER_TARGETS
    if resuming and kept.is_file():
        targets = artifacts.read_npz(kept)["probabilities"]
        if targets.shape == (len(train), NUM_CLASSES):
            return targets, None
    predictor = Predictor(config.teacher, warm_detector=False)
    if not predictor.names:
        raise TrainError(f"--teacher {config.teacher} holds no trained model to learn from.")
    split = artifacts.validation_split(config.teacher, predictor.networks)
    if split != (config.seed, config.val_fraction):  # a teacher that trained on this run's validation faces leaks them
        raise TrainError(f"The teacher {config.teacher} held out another validation split (seed, fraction {split}) "
                         f"than this run ({config.seed}, {config.val_fraction}): it may have trained on faces this "
                         "run validates on. Use the same --seed and --val-fraction.")
    shas = {name: artifacts.read_json(Path(config.teacher) / name / artifacts.CARD).get("model_sha256")
            for name in predictor.networks}
    name = predictor.headline(predictor.names)
    log(f"Teacher: {name} from {config.teacher}, on the {len(train)} training faces (once per run).")
    targets = predictor.predict_faces(train.x[..., 0], [name])[name]
    artifacts.write_npz(kept, probabilities=targets)
    return targets, {"folder": str(config.teacher), "answered_by": name, "model_sha256": shas}


def distilled_targets(labels: np.ndarray, config, train: Split, checkpoints: Path, resuming: bool,
                      log) -> tuple[np.ndarray, dict | None]:
    """One-hot ``labels`` mixed with the teacher's answers (``config.teacher_weight`` of the target is the
    teacher's), and the teacher's identity as ``teacher_answers`` gives it."""
    answers, teacher = teacher_answers(config, train, checkpoints, resuming, log)
    share = config.teacher_weight
    return share * answers + (1 - share) * labels, teacher
