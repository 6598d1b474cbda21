"""`face-album config [KEY [VALUE]]`: show or change this library's settings."""

from __future__ import annotations

import argparse
import json

from album import settings
from album.cli.common import add_json_flag, open_library, print_json, print_table
from album.library.db import LibraryError

NAME = "config"
HELP = "show or change library settings (min_face_size, device, insightface_pack, ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", nargs="?", choices=settings.KEYS, help="setting to show or change")
    parser.add_argument("value", nargs="?", help="new value ('' for the default)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    lib = open_library(args)
    if args.value is not None:
        try:
            settings.write(lib, **{args.key: settings.parse(args.key, args.value)})
        except settings.SettingsError as error:
            raise LibraryError(str(error)) from error
    stored = lib.settings()
    shown = {k: stored.get(k) for k in ([args.key] if args.key else settings.KEYS)}
    meanings = settings.describe()
    grouping = _grouping(lib) if args.key is None else None
    if args.json:
        print_json(shown if grouping is None else {**shown, "grouping": grouping})
    else:
        print_table(
            ["setting", "value", "meaning"],
            [(k, json.dumps(v), meanings[k]) for k, v in shown.items()],
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
