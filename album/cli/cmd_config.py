"""`face-album config [KEY [VALUE]]`: show or change this library's settings."""

from __future__ import annotations

import argparse
import json

from album.cli.common import add_json_flag, open_library, print_json, print_table
from album.faces.default import DEFAULT_MIN_FACE_SIZE
from album.library.db import LibraryError

NAME = "config"
HELP = "show or change library settings (min_face_size, device, insightface_pack, ...)"

KNOWN = {
    "min_face_size": (int, f"smallest face to find, in pixels (default {DEFAULT_MIN_FACE_SIZE})"),
    "device": (str, "where models run: auto, cpu or cuda (default auto)"),
    "detector_precision": (
        str,
        "face detector arithmetic: auto (int8 on the CPU), int8 or fp32 (default auto)",
    ),
    "insightface_pack": (
        str,
        "use a local insightface pack (e.g. buffalo_l) instead of the "
        "default models; empty to go back",
    ),
    "insightface_root": (str, "folder holding insightface packs (default ~/.insightface/models)"),
}

CHOICES = {"device": ("auto", "cpu", "cuda"), "detector_precision": ("auto", "int8", "fp32")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", nargs="?", choices=sorted(KNOWN), help="setting to show or change")
    parser.add_argument("value", nargs="?", help="new value")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    lib = open_library(args)
    if args.value is not None:
        kind, _ = KNOWN[args.key]
        try:
            value = kind(args.value) if args.value != "" else None
        except ValueError as error:
            raise LibraryError(f"{args.key} must be {kind.__name__}: {args.value!r}") from error
        choices = CHOICES.get(args.key)
        if choices and value is not None and value not in choices:
            raise LibraryError(f"{args.key} must be one of: {', '.join(choices)}")
        lib.set_setting(args.key, value)
    settings = lib.settings()
    shown = {k: settings.get(k) for k in ([args.key] if args.key else sorted(KNOWN))}
    grouping = _grouping(lib) if args.key is None else None
    if args.json:
        print_json(shown if grouping is None else {**shown, "grouping": grouping})
    else:
        print_table(
            ["setting", "value", "meaning"],
            [(k, json.dumps(v), KNOWN[k][1]) for k, v in shown.items()],
        )
        if grouping is not None:
            print(f"\nGrouping threshold {grouping['description']}")
    return 0


def _grouping(lib) -> dict | None:
    """The grouping threshold of the active model for this library, and what it means."""
    from album.people import People

    if lib.active_model_id() is None:
        return None
    meaning = People(lib).threshold_meaning()
    return {
        "threshold": meaning.threshold,
        "false_match_rate": meaning.fmr,
        "faces": meaning.faces,
        "description": meaning.describe(),
    }
