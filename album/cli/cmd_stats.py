"""`face-album stats`: photos, faces, people, models and the database size."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, open_library, print_json, print_table

NAME = "stats"
HELP = "show what the library holds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    stats = open_library(args).stats()
    if args.json:
        print_json(stats)
        return 0
    rows = [
        ("library", stats["library"]),
        ("folders", ", ".join(stats["roots"]) or "(none)"),
        ("photos", stats["photos"]),
        *((f"  {k}", v) for k, v in sorted(stats["photos_by_status"].items())),
        ("faces", stats["faces"]),
        ("people", f"{stats['people']} ({stats['named_people']} named)"),
        ("models", stats["models"]),
        ("database size", f"{stats['db_bytes'] / 1e6:.1f} MB"),
    ]
    print_table(["", ""], rows)
    return 0
