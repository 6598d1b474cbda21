"""`face-album check`: verify the library (full integrity check) and repair what can be."""

from __future__ import annotations

import argparse
import sys

from album.album import Album
from album.cli.common import add_json_flag, print_json, shown
from album.library.library import Library, default_library_path

NAME = "check"
HELP = "verify the library database and repair caches, leftovers and ungrouped faces"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from album.library.db import LibraryError
    from album.maintenance import damaged_advice, verify_file

    path = Library.resolve_path(args.library) if args.library else default_library_path()
    if not path.is_file():
        raise LibraryError(f"no library at {path}")
    problems = verify_file(path)
    if problems:
        result = {"library": str(path), "ok": False, "problems": problems, "repaired": []}
        advice = damaged_advice(path)
    else:
        with Album(path) as album:
            report = album.check()
        result = {
            "library": str(path),
            "ok": report.ok,
            "problems": report.problems,
            "repaired": report.repaired,
        }
        advice = ""
    if args.json:
        print_json(result)
    else:
        _print(result, advice)
    return 0 if result["ok"] else 1


def _print(result: dict, advice: str) -> None:
    for line in result["repaired"]:
        print(f"repaired: {shown(line)}")
    for line in result["problems"]:
        print(f"problem: {shown(line)}", file=sys.stderr)
    if advice:
        print(f"the database is damaged: {shown(advice)}", file=sys.stderr)
    if result["ok"]:
        print(f"library {shown(result['library'])}: ok")
