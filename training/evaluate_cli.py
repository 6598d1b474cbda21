"""`python -m training evaluate`: verification accuracy, TAR@FAR and thresholds of a model.

python -m training evaluate --backbone dlib_resnet --pairs pairs.txt --images lfw_chips/
python -m training evaluate --model m.safetensors --spec m.json --bin lfw.bin --roc roc.png
python -m training evaluate --backbone dlib_resnet --chips my_chips/ --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.evaluate import (
    PairSet,
    bin_pairs,
    calibrated_thresholds,
    chip_folder_pairs,
    evaluate_pairs,
    lfw_pairs,
    load_chip,
    model_embedder,
)
from training.spec import ModelSpec
from training.verification import VerificationReport, save_roc_png


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("model (one of)")
    model.add_argument("--model", type=Path, metavar="WEIGHTS", help="a .safetensors file")
    model.add_argument("--spec", type=Path, help="its spec .json (default: beside the weights)")
    model.add_argument("--backbone", help="pretrained default, e.g. dlib_resnet (dlib's model)")
    data = parser.add_argument_group("pairs (one of)")
    data.add_argument("--chips", type=Path, metavar="DIR", help="DIR/<person>/<aligned chip>")
    data.add_argument("--pairs", type=Path, metavar="TXT", help="LFW pairs.txt (with --images)")
    data.add_argument("--images", type=Path, metavar="ROOT", help="ROOT/Name/Name_0001.<ext>")
    data.add_argument("--bin", type=Path, metavar="FILE", help="an insightface .bin pack")
    data.add_argument(
        "--different",
        type=int,
        help="different pairs to sample with --chips (default: as many as same pairs, at least 1000)",
    )
    data.add_argument("--seed", type=int, default=0, help="for sampling different pairs")
    parser.add_argument(
        "--far",
        type=float,
        nargs="+",
        default=[1e-2, 1e-3],
        help="FAR targets for TAR@FAR (default 1e-2 1e-3)",
    )
    parser.add_argument(
        "--target-far",
        type=float,
        default=1e-3,
        help="FAR of the recommended same-person threshold (default 1e-3)",
    )
    parser.add_argument("--folds", type=int, default=10, help="k of the k-fold accuracy")
    parser.add_argument("--no-flip", action="store_true", help="skip flip-fused features")
    parser.add_argument("--batch-size", type=int, default=64, help="chips per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--roc", type=Path, metavar="PNG", help="save the ROC curve")


def _check_args(args: argparse.Namespace) -> str | None:
    """The error message for an inconsistent command line, None when it is usable."""
    if (args.model is None) == (args.backbone is None):
        return "give exactly one of --model or --backbone"
    sources = [args.chips, args.pairs, args.bin]
    if sum(source is not None for source in sources) != 1:
        return "give exactly one of --chips, --pairs or --bin"
    if (args.pairs is None) != (args.images is None):
        return "--pairs and --images go together"
    if args.backbone not in (None, "dlib_resnet"):
        return f"no pretrained default for {args.backbone!r}: pass --model and --spec"
    return None


def _load_model(args: argparse.Namespace):
    """(torch module, spec) from --model/--spec, or the pretrained --backbone."""
    if args.model is not None:
        from training.export import load_model

        return load_model(args.model, args.spec or args.model.with_suffix(".json"))
    from training.backbones.dlib_resnet import (
        DlibResNet,
        default_dat_path,
        dlib_resnet_spec,
        read_dlib_resnet_dat,
    )

    data = read_dlib_resnet_dat(default_dat_path())
    model = DlibResNet()
    model.load_state_dict(data.state_dict)
    return model.fused(), dlib_resnet_spec(data.mean_rgb)


def _pair_set(args: argparse.Namespace) -> PairSet:
    if args.chips is not None:
        return chip_folder_pairs(args.chips, args.different, args.seed, args.folds)
    if args.pairs is not None:
        return lfw_pairs(args.pairs, args.images, args.folds)
    return bin_pairs(args.bin, args.folds)


def format_report(
    report: VerificationReport, pairs: PairSet, spec: ModelSpec, flip: bool, notes: list[str]
) -> str:
    """The human-readable table `evaluate` prints."""
    acc = report.accuracy
    lines = [
        f"{pairs.name}: {report.n_same} same / {report.n_different} different pairs, "
        f"{len(set(pairs.folds.tolist()))} folds; model {spec.name} ({spec.input_size} px"
        f"{', flip-fused' if flip else ''})",
        f"accuracy          {100 * acc.mean:6.2f}% ± {100 * acc.std:.2f}%",
        f"best threshold    {report.best_threshold:7.4f}  ({100 * report.best_accuracy:.2f}% on all pairs)",
        f"ROC AUC           {report.roc.auc:7.4f}",
        "",
        f"{'FAR target':<11}{'TAR':>8}{'FAR':>10}{'threshold':>11}",
    ]
    for entry in report.tar_at_far:
        lines.append(
            f"{entry.far_target:<11.0e}{100 * entry.tar:>7.2f}%{100 * entry.far:>9.3f}%"
            f"{entry.threshold:>11.4f}"
            + ("" if entry.reliable else f"  (unreliable: {entry.n_negatives} negatives)")
        )
    return "\n".join(lines + [""] + [f"note: {note}" for note in notes])


def run(args: argparse.Namespace) -> int:
    error = _check_args(args)
    if error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    try:
        model, spec = _load_model(args)
        pairs = _pair_set(args)
    except (OSError, ValueError) as error:  # missing files, malformed pairs or packs
        print(f"evaluate: {error}", file=sys.stderr)
        return 1
    fars = sorted(set(args.far) | {args.target_far, 1e-2}, reverse=True)
    embed = model_embedder(model, spec, args.device)
    report = evaluate_pairs(embed, pairs, spec.input_size, fars, args.batch_size, not args.no_flip)
    thresholds = calibrated_thresholds(report, args.target_far, 1e-2)
    notes = _notes(report, pairs, spec, args.target_far)
    if args.roc:
        save_roc_png({spec.name: report.roc}, args.roc, fars)
        notes.append(f"ROC curve saved to {args.roc}")
    if args.json:
        summary = {"pairs": pairs.name, "model": spec.name, "flip": not args.no_flip}
        summary |= report.to_dict() | {"thresholds": vars(thresholds), "notes": notes}
        print(json.dumps(summary, indent=2))
    else:
        print(format_report(report, pairs, spec, not args.no_flip, notes))
    return 0


def _notes(
    report: VerificationReport, pairs: PairSet, spec: ModelSpec, target_far: float
) -> list[str]:
    target = report.threshold_at(target_far)
    notes = [
        f"recommended same-person threshold {target.threshold:.4f} (measured FAR "
        f"{target.far:.2%} at target {target_far:g}); best-accuracy threshold "
        f"{report.best_threshold:.4f}"
    ]
    if not target.reliable:
        notes.append(
            f"FAR {target_far:g} needs at least {round(1 / target_far)} different pairs "
            f"(better 10x that); this set has {target.n_negatives}"
        )
    size = load_chip(pairs.images[0]).shape[0]
    if size != spec.input_size:
        notes.append(
            f"chips are {size} px, the model takes {spec.input_size}: resized; if they were "
            f"aligned for another template ({spec.alignment} expected), accuracy suffers"
        )
    return notes
