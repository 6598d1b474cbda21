"""`face-album retrain`: fine-tune the model on the named faces; adopt it only if it is better."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from album.cli.common import add_json_flag, open_album, print_json, print_table, stop_on_ctrl_c
from album.library.db import LibraryError

NAME = "retrain"
HELP = "learn the named people better: fine-tune, compare on held-out faces, switch if better"
SETTING_REFERENCE = "retrain_reference"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--head", choices=["arcface", "cosface", "sphereface"], default="arcface")
    parser.add_argument("--budget", type=float, metavar="MINUTES", help="training time limit")
    parser.add_argument("--steps", type=int, help="training steps (default: sized to the data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument(
        "--reference",
        type=Path,
        metavar="DIR",
        help="forgetting check on chips in DIR/<person>/ (remembered for later runs)",
    )
    parser.add_argument(
        "--no-adopt", action="store_true", help="keep the current model; record a better one"
    )
    add_json_flag(parser)


def _printer(quiet: bool):
    def show(stage: str, done: int, total: int) -> None:
        if not quiet:
            end = "\n" if done >= total else ""
            print(f"\r{stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    from album.retrain import load_reference

    album = open_album(args)
    lib = album.library
    if args.reference is not None:
        lib.set_setting(SETTING_REFERENCE, str(args.reference.resolve()))
    reference_dir = lib.settings().get(SETTING_REFERENCE)
    reference = load_reference(reference_dir) if reference_dir else None
    retrainer = album.retrainer(
        args.head, args.budget, steps=args.steps, seed=args.seed, device=args.device,
        reference=reference,
    )  # fmt: skip
    ok, reason, counts = retrainer.readiness()
    if not ok:
        raise LibraryError(f"not enough to retrain on: {reason}")
    cancel = threading.Event()
    previous = stop_on_ctrl_c(cancel)
    show = _printer(args.json)
    try:
        report = retrainer.run(progress=show, cancel=cancel)
        outcome = _conclude(retrainer, report, args.no_adopt, show, cancel)
    finally:
        import signal

        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json({**report.to_dict(), "outcome": outcome})
    else:
        _print_report(report, outcome)
    return 0


def _conclude(retrainer, report, no_adopt: bool, show, cancel) -> str:
    if report.after is None:
        return report.reason
    if not report.improved:
        retrainer.discard(report)
        return f"kept the current model: {report.reason}"
    if no_adopt:
        model_id = retrainer.register(report)
        return f"recorded as model {model_id}; `face-album use-model {model_id}` switches to it"
    result = retrainer.adopt(report, progress=show, cancel=cancel)
    if not result.switched:
        return f"stopped before switching; `face-album use-model {result.model_id}` resumes"
    return f"switched to model {result.model_id} ({result.embedded} faces re-embedded)"


def _print_report(report, outcome: str) -> None:
    from album.retrain.words import detail_rows, explanation, verdict

    print(verdict(report))
    for line in explanation(report):
        print(line)
    print(
        f"head {report.head}, {report.training.get('steps')} steps, {report.seconds:.0f} s; "
        f"{report.counts['open_set_faces']} faces of people not trained on"
    )
    print_table(["", "before", "after"], detail_rows(report))
    print(outcome)
