"""Command line: ``python -m core COMMAND ...``; ``python -m core --help`` lists the commands, ``--help`` on
each tells its options."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.artifacts import ArtifactError
from core.checkpoint import TrainError, is_up_to_date
from core.classes import CLASS_NAMES
from core.data import DataError, load_dataset, make_splits, split_summary, write_dataset_artifacts
from core.distill import TEACHER_WEIGHT
from core.ensemble import build_ensemble
from core.faces import DETECTORS
from core.inference import TTA_MODES, EnsembleError
from core.machine import PRECISIONS, prefer_eigen_for_inference
from core.models import AUGMENTATIONS, OPTIMIZERS, SCHEDULES, TRAINED_MODELS, UnknownModel, WeightsUnavailable, get_spec
from core.photo_benchmark import BENCHMARK_PHOTOS, FRAMING_PHOTOS
from core.train import TrainConfig, train

USER_ERRORS = (DataError, TrainError, WeightsUnavailable, ArtifactError, UnknownModel, EnsembleError)


def _add_data_args(parser, required=True):
    parser.add_argument(
        "--data", required=required, help="FER-2013: the Kaggle folder (train/, test/), its zip, or fer2013.csv"
    )
    parser.add_argument(
        "--val-fraction", type=float, default=0.1, help="share of the training images held out for validation"
    )
    parser.add_argument("--seed", type=int, default=1234)


def _add_train_args(parser):
    parser.add_argument("--out", default="artifacts", help="artifact root; a model writes to OUT/MODEL/")
    parser.add_argument("--epochs", type=int, help="maximum epochs (default: the registry's)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float,
                        help="peak learning rate, reached after the 2-epoch warm-up (a tenth of it to fine-tune a "
                             "pretrained base)")
    parser.add_argument("--weights",
                        help="transfer models' base: imagenet, none (random init; the default) or a weights file")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto: mixed_bfloat16 where the CPU has AMX/AVX-512 BF16 or on a GPU")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last epoch")
    parser.add_argument("--restart", action="store_true",
                        help="start over: discard an interrupted run, or replace a finished model once done")
    parser.add_argument("--limit", type=int, help="train on N training images drawn with the seed (quick trials)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the registry's (adamw)")
    parser.add_argument("--schedule", choices=SCHEDULES,
                        help="after a 2-epoch warm-up: cosine over --epochs, or plateau (x0.75 after 5 epochs "
                             "without a better validation accuracy); default: the registry's (cosine)")
    parser.add_argument("--augmentation", nargs="+", choices=(*AUGMENTATIONS, "none"),
                        help="training augmentation, in order (none: no augmentation); default: the registry's")
    parser.add_argument("--teacher", metavar="ARTIFACTS",
                        help="knowledge distillation: an artifact folder (same --seed and --val-fraction) whose "
                             "ensemble's answers on the training faces become part of the targets")
    parser.add_argument("--teacher-weight", type=float, metavar="SHARE",
                        help=f"the targets' share from the teacher, the rest from the labels "
                             f"(default {TEACHER_WEIGHT})")
    parser.add_argument("--weight-average", type=float, metavar="DECAY",
                        help="validate and keep a moving average of the weights, updated every step with this decay "
                             "(e.g. 0.999; 0: none); default: the registry's (none)")
    parser.add_argument(
        "--patience",
        type=int,
        metavar="EPOCHS",
        help="stop after this many epochs without a better validation accuracy, counted in the last phase of the last "
        "run (default: the registry's, 8 unless a recipe says otherwise); a long warm restart, whose high rate costs "
        "accuracy at first, needs more",
    )


def _config(args, model: str, resume: bool | None = None) -> TrainConfig:
    return TrainConfig(model=model, data=args.data, out=args.out, epochs=args.epochs, batch_size=args.batch_size,
                       learning_rate=args.lr, weights=args.weights, seed=args.seed, val_fraction=args.val_fraction,
                       precision=args.precision, resume=args.resume if resume is None else resume,
                       restart=args.restart, limit=args.limit,
                       class_weights_from_epoch=getattr(args, "class_weights_from_epoch", None),
                       continue_from=getattr(args, "continue_from", None), patience=args.patience,
                       optimizer=args.optimizer, schedule=args.schedule, teacher=args.teacher,
                       teacher_weight=args.teacher_weight, weight_average=args.weight_average,
                       augmentation=None if args.augmentation is None else [a for a in args.augmentation
                                                                             if a != "none"])


def cmd_data(args) -> None:
    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed)
    summary = split_summary(splits)
    if args.out:
        write_dataset_artifacts(splits, Path(args.out))
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    report = summary["load_report"]
    print(f"{summary['source']['form']}: {summary['source']['path']}")
    print(f"{'class':<10}" + "".join(f"{s:>8}" for s in ("train", "val", "test")))
    for name in CLASS_NAMES:
        print(f"{name:<10}" + "".join(f"{summary['splits'][s]['counts'][name]:>8}" for s in ("train", "val", "test")))
    print(f"{'total':<10}" + "".join(f"{summary['splits'][s]['total']:>8}" for s in ("train", "val", "test")))
    print(f"training pool {summary['training_pool']}; test split: {summary['test_split']}")
    print(f"{report['loaded']} images loaded, {report['converted']} converted to 48x48 grayscale, "
          f"{report['skipped']} skipped")
    for name, reason in report["skipped_examples"]:
        print(f"  skipped {name}: {reason}")
    if args.out:
        print(f"wrote the Data page's files into {args.out}")


def cmd_train(args) -> None:
    require_trainable(args.model)
    train(_config(args, args.model))


def require_trainable(name: str) -> None:
    """Raise UnknownModel for a name that is not a trainable network."""
    get_spec(name)
    if name not in TRAINED_MODELS:
        raise UnknownModel(f"'{name}' is not trained but combined from the others: run `python -m core ensemble`.")


def cmd_evaluate(args) -> None:
    from core.export import evaluate_saved_model

    require_trainable(args.model)
    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed)
    metrics = evaluate_saved_model(args.model, Path(args.out) / args.model, splits,
                                   tta=None if args.tta == "auto" else args.tta)
    print(f"{args.model}: test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
          f"weighted F1 {metrics['weighted_f1']:.4f} ({metrics['test_split']}); TTA "
          f"{metrics['tta']}; ECE {metrics['calibration']['test']['ece']:.4f}")
    for mode, effect in metrics["tta_effect"].items():
        print(f"  TTA {mode:<11} val {effect['val_accuracy']:.4f}  test {effect['test_accuracy']:.4f}")
    print(metrics["classification_report"])


def cmd_ensemble(args) -> None:
    build_ensemble(make_splits(load_dataset(args.data), args.val_fraction, args.seed), Path(args.out), args.members)


def cmd_report(args) -> None:
    from core import artifacts
    from core.artifacts import read_all_models
    from core.report import summary_markdown, write_report

    models, broken = read_all_models(Path(args.artifacts))
    timed, problem = artifacts.read_shared_if_present(Path(args.artifacts) / artifacts.PHOTO_BENCHMARK)
    if problem:
        print(f"No latencies in the report: {problem}", file=sys.stderr)
    for path in write_report(models, broken, Path(args.html), Path(args.csv), timed):
        print(f"wrote {path}")
    print(summary_markdown(models))


def cmd_cards(args) -> None:
    from core.model_card import write_cards

    for path in write_cards(Path(args.artifacts), Path(args.readme) if args.readme else None):
        print(f"wrote {path}")


def cmd_verify(args) -> None:
    from core.verify import verify_artifacts

    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed) if args.data else None
    problems = verify_artifacts(Path(args.artifacts), splits)
    if problems:
        raise ArtifactError("\n".join(["the artifacts do not check out:", *problems]))
    print(
        "all checks passed"
        + ("" if splits else " (pass --data to also reload every model and re-predict the test split)")
    )


def cmd_all(args) -> None:
    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed)
    write_dataset_artifacts(splits, Path(args.out))
    for name in TRAINED_MODELS:
        if is_up_to_date(name, Path(args.out)) and not args.restart:
            print(f"{name}: up to date, skipped")
            continue
        train(_config(args, name, resume=True), splits=splits)
    build_ensemble(splits, Path(args.out))


def cmd_benchmark(args) -> None:
    from core.benchmark import run_benchmark, run_epoch_breakdown

    if args.epoch:
        run_epoch_breakdown(models=args.models, out=Path(args.out), batch_sizes=args.batch_sizes or (64, 256),
                            rounds=args.rounds, steps=args.train_steps)
    else:
        run_benchmark(models=args.models, out=Path(args.out), train_steps=args.train_steps,
                      batch_size=(args.batch_sizes or [64])[0])


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def photo_files(paths: list[str]) -> list[Path]:
    """The files named, and the image files (by suffix) in the folders named, in order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES)
        else:
            found.append(path)
    return found


def _read_bytes(path: Path) -> tuple[bytes, str | None]:
    try:
        return path.read_bytes(), None
    except OSError as error:
        return b"", f"cannot read the file ({error.strerror or error})"


def cmd_predict(args) -> int:
    """Every photo's faces and answers; exit status 1 when a file could not be used or none was found."""
    prefer_eigen_for_inference()
    from core.predictor import PhotoResult, Predictor

    predictor = Predictor(args.artifacts)
    if not predictor.names:
        raise ArtifactError(
            f"No usable model in {args.artifacts}: "
            + ("; ".join(f"{n}: {r}" for n, r in predictor.broken.items()) or "train some first (see the README).")
        )
    for name, reason in predictor.broken.items():
        print(f"warning: {name} is left out: {reason}", file=sys.stderr)
    paths = photo_files(args.paths)
    if not paths:
        print(f"No image files in {', '.join(args.paths)} (looked for {', '.join(sorted(PHOTO_SUFFIXES))}).",
              file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        data, error = _read_bytes(path)
        result = (PhotoResult.failed(str(path), error) if error
                  else predictor.predict_photo(data, args.detector, tta=None if args.tta == "validated" else args.tta,
                                               use_whole_image=args.whole_image, file=str(path)))
        failed += result.error is not None
        if args.json:
            print(json.dumps(result.to_json()), flush=True)
            continue
        if result.error:
            print(f"{path}: error: {result.error}", flush=True)
            continue
        timing = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timing_ms.items())
        print(f"{path}: {len(result.faces) or 'no'} face(s) ({timing})", flush=True)
        for number, face in enumerate(result.faces, start=1):
            answers = ", ".join(
                f"{n} {CLASS_NAMES[int(p.argmax())]} {p.max():.2f}" for n, p in face.probabilities.items()
            )
            doubt = f"  [uncertain: {'; '.join(face.doubts)}]" if face.doubts else ""
            where = f"at {face.face.box}" if face.face.box else f"({face.face.found_by})"
            print(f"  face {number} {where}: {face.label}  ({answers}){doubt}", flush=True)
    if failed:
        print(f"{failed} of {len(paths)} file(s) could not be used (their errors are above).", file=sys.stderr)
    return 1 if failed else 0


def cmd_framing(args) -> None:
    from core.faces import FRAMING_FILE
    from core.photo_benchmark import calibrate_framing, write_framing

    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed)
    write_framing(calibrate_framing(splits.train, args.photos))
    print(f"wrote {FRAMING_FILE}")


def cmd_photo_benchmark(args) -> None:
    prefer_eigen_for_inference()
    from core.photo_benchmark import run_photo_benchmark, save, summary_markdown
    from core.predictor import Predictor

    splits = make_splits(load_dataset(args.data), args.val_fraction, args.seed)
    result = run_photo_benchmark(Predictor(args.artifacts), splits.test, args.photos)
    print(f"wrote {save(result, Path(args.artifacts))}")
    print(summary_markdown(result))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core", description="FER-2013 model lab: data, training, evaluation."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser(
        "data", help="load FER-2013 and print the split summary; --out writes the Data page's files"
    )
    _add_data_args(data)
    data.add_argument("--json", action="store_true", help="print the summary as JSON")
    data.add_argument(
        "--out", help="artifact root to write dataset.json and dataset_examples.npz into (e.g. artifacts)"
    )
    data.set_defaults(run=cmd_data)

    train = commands.add_parser("train", help="train one model and write its artifacts")
    train.add_argument("model", help=f"one of: {', '.join(TRAINED_MODELS)}")
    _add_data_args(train)
    _add_train_args(train)
    train.add_argument("--class-weights-from", type=int, metavar="EPOCH", dest="class_weights_from_epoch",
                       help="class-weighted models: train unweighted for the first EPOCH epochs, then weighted "
                            "(0: weighted throughout; default: the registry's)")
    train.add_argument("--continue-from", metavar="FOLDER",
                       help="start from a finished model folder (e.g. artifacts/vgg16) and train --epochs more with "
                            "a fresh warm-up and cosine; its history and timings carry on")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a trained model's model.keras on the test split "
                                   "(validation chooses its test-time augmentation and temperature)")
    evaluate.add_argument("model", help=f"one of: {', '.join(TRAINED_MODELS)}")
    _add_data_args(evaluate)
    evaluate.add_argument("--out", default="artifacts", help="artifact root")
    evaluate.add_argument("--tta", default="auto", choices=("auto", *TTA_MODES),
                          help="test-time augmentation the scores use; auto: the best on validation (all are measured)")
    evaluate.set_defaults(run=cmd_evaluate)

    ensemble = commands.add_parser("ensemble", help="combine the trained models, weights chosen on validation")
    _add_data_args(ensemble)
    ensemble.add_argument("--out", default="artifacts", help="artifact root holding the members; writes OUT/ensemble/")
    ensemble.add_argument("--members", nargs="+", choices=TRAINED_MODELS, help="default: all four")
    ensemble.set_defaults(run=cmd_ensemble)

    every = commands.add_parser("all", help="train and evaluate the four models in turn, skipping finished ones "
                                "and resuming interrupted ones (--resume is implied), then build the ensemble")
    _add_data_args(every)
    _add_train_args(every)
    every.set_defaults(run=cmd_all)

    report = commands.add_parser("report", help="the comparison as a CSV and a self-contained HTML report")
    report.add_argument("--artifacts", default="artifacts", help="artifact root to report on")
    report.add_argument("--html", default="fer-lab-report.html")
    report.add_argument("--csv", default="fer-lab-metrics.csv")
    report.set_defaults(run=cmd_report)

    cards = commands.add_parser("cards", help="write each model's MODEL_CARD.md, RESULTS.md and the README's "
                                "leaderboard from the artifact files")
    cards.add_argument("--artifacts", default="artifacts", help="artifact root to document")
    cards.add_argument("--readme", default="README.md", help="README whose leaderboard to rewrite ('' for none)")
    cards.set_defaults(run=cmd_cards)

    verify = commands.add_parser("verify", help="check artifacts: file sizes, metrics against predictions, and "
                                 "with --data each model.keras reloaded to reproduce its metrics exactly")
    _add_data_args(verify, required=False)
    verify.add_argument("--artifacts", default="artifacts", help="artifact root to check")
    verify.set_defaults(run=cmd_verify)

    bench = commands.add_parser("benchmark", help="training images/s and inference latency, float32 and mixed_bfloat16")
    bench.add_argument("--models", nargs="+", default=list(TRAINED_MODELS), help="models to measure")
    bench.add_argument("--out", default="artifacts",
                       help="writes OUT/benchmark.json (OUT/epoch_time.json with --epoch)")
    bench.add_argument("--train-steps", type=int, default=6, help="timed training steps per model and setting")
    bench.add_argument("--batch-sizes", type=int, nargs="+", metavar="N",
                       help="batch size (default 64); with --epoch, those to compare (default 64 256)")
    bench.add_argument("--epoch", action="store_true", help="where an epoch's time goes: network, augmentation, "
                       "input pipeline and callbacks, validation, checkpoint; each precision and batch size")
    bench.add_argument("--rounds", type=int, default=3, help="with --epoch: rounds over the settings, alternately")
    bench.set_defaults(run=cmd_benchmark)

    predict = commands.add_parser(
        "predict", help="every model's answer for the faces in photos: the try-it page's path"
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="photos, or folders of photos")
    predict.add_argument("--detector", default=DETECTORS[0], choices=DETECTORS)
    predict.add_argument("--tta", default="validated", choices=("validated", *TTA_MODES),
                         help="validated: each model's own choice, made on validation")
    predict.add_argument(
        "--whole-image", action="store_true", help="where no face is found, show the models the whole image"
    )
    predict.add_argument("--artifacts", default="artifacts", help="artifact root holding the models")
    predict.add_argument("--json", action="store_true", help="one JSON object per photo per line")
    predict.set_defaults(run=cmd_predict)

    framing = commands.add_parser("framing", help="measure on training faces where each detector's box sits in the "
                                  "FER-2013 frame; writes core/framing.json, which the face crops use")
    _add_data_args(framing)
    framing.add_argument("--photos", type=int, default=FRAMING_PHOTOS)
    framing.set_defaults(run=cmd_framing)

    photo_bench = commands.add_parser("photo-benchmark", help="test faces placed into photos, through the try-it path: "
                                      "faces found, accuracy and agreement against the 48x48 originals, time")
    _add_data_args(photo_bench)
    photo_bench.add_argument(
        "--artifacts", default="artifacts", help="models to run; writes ARTIFACTS/photo_benchmark.json"
    )
    photo_bench.add_argument("--photos", type=int, default=BENCHMARK_PHOTOS)
    photo_bench.set_defaults(run=cmd_photo_benchmark)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resumable = args.run in (cmd_train, cmd_all)
        print("\nInterrupted." + (" Every finished epoch is saved: run the same command with --resume to go on."
                                  if resumable else ""), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
