"""`face-album cluster`: re-cluster every face; user decisions are kept (undoable)."""

from __future__ import annotations

import argparse
import dataclasses

from album.cli.common import add_json_flag, open_library, positive_int, similarity
from album.cli.people_common import guarded, report_change
from album.people import People
from album.retrain.adopt import upgrade_default_model

NAME = "cluster"
HELP = "re-cluster all faces into people (confirmed faces, names and rejections are kept)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold", type=similarity, help="average cosine to join a group (default: the model's)"
    )
    parser.add_argument(
        "--min-size", type=positive_int, help="smaller groups stay unsorted (default 2)"
    )
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    lib = open_library(args)
    if upgrade_default_model(lib) is not None:
        print("The face model was upgraded: every face re-embedded from its stored crop.")
    people = People(lib)
    settings = people.settings()
    if args.threshold is not None:
        settings = dataclasses.replace(settings, threshold=args.threshold)
    if args.min_size is not None:
        settings = dataclasses.replace(settings, min_size=args.min_size)
    return report_change(args, People(lib, settings=settings).recluster(), "clustered")
