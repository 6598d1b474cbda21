"""`face-album people`: everyone in the library, named first, with face and photo counts."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, print_json, print_table
from album.cli.people_common import as_dict, guarded, open_people

NAME = "people"
HELP = "list the people (named first, then unnamed clusters, then unsorted faces)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="include hidden people")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    people = open_people(args).list_people(include_hidden=args.all, include_unsorted=True)
    if args.json:
        print_json([as_dict(p) for p in people])
        return 0
    rows = [
        (
            p.id or "unsorted",
            p.name or ("(unsorted faces)" if not p.id else "(unnamed)"),
            p.face_count,
            p.confirmed_count,
            p.photo_count,
            "hidden" if p.hidden else "",
        )
        for p in people
    ]
    print_table(["ID", "NAME", "FACES", "CONFIRMED", "PHOTOS", ""], rows)
    return 0
