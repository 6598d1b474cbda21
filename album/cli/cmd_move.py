"""`face-album move FACE... --to PERSON`: put faces where they belong.

Also `--new [NAME]` (split them into a new person), `--nobody` (remove them from their person,
remembered) and `--not-face` (false detections).
"""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "move"
HELP = "move faces to a person (--to), a new person (--new), nobody, or mark them not a face"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("faces", type=record_id, nargs="+", metavar="FACE", help="face ids")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", type=record_id, metavar="PERSON", help="an existing person")
    where.add_argument("--new", nargs="?", const="", metavar="NAME", help="a new person")
    where.add_argument("--nobody", action="store_true", help="out of their person, to unsorted")
    where.add_argument("--not-face", action="store_true", help="not a face at all")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    people = open_people(args)
    if args.to is not None:
        change = people.move(args.faces, args.to)
    elif args.new is not None:
        change = people.split(args.faces, args.new or None)
    elif args.nobody:
        change = people.remove(args.faces)
    else:
        change = people.not_a_face(args.faces)
    return report_change(args, change, "moved")
