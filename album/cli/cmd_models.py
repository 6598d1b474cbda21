"""`face-album models`: the embedding model versions of this library."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, open_library, print_json, print_table

NAME = "models"
HELP = "list model versions (the active one marked with *)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from album.retrain import models_table

    rows = models_table(open_library(args))
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ["", "id", "name", "parent", "created", "faces", "threshold", "rank-1", "TAR@1e-3"],
        [
            (
                "*" if r["active"] else "",
                r["id"],
                r["name"],
                r["parent_id"],
                f"{r['created_at']:%Y-%m-%d %H:%M}",
                r["embedded_faces"],
                f"{r['same_person_threshold']:.3f}",
                _pct(r["identification"]),
                _pct(r["tar_at_far_1e3"]),
            )
            for r in rows
        ],
    )
    return 0


def _pct(value) -> str:
    return "" if value is None else f"{value:.1%}"
