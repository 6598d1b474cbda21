"""`face-album split PERSON`: is this person several people? Their faces in look-alike groups.

Writes nothing: a group is split off with `face-album move FACE... --new [NAME]` (or `--to`).
"""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, print_json, record_id, similarity
from album.cli.people_common import as_dict, guarded, open_people

NAME = "split"
HELP = "show a person's faces in look-alike groups, to split a mixed person"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("person", type=record_id, metavar="PERSON", help="person id")
    parser.add_argument(
        "--threshold", type=similarity, help="cosine (default: the model's same-person threshold)"
    )
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    groups = open_people(args).split_proposal(args.person, args.threshold)
    if args.json:
        print_json([as_dict(g) for g in groups])
        return 0
    if len(groups) < 2:
        print(f"person {args.person}: all faces look like one person")
        return 0
    for number, group in enumerate(groups, 1):
        faces = " ".join(str(f) for f in group.face_ids)
        print(
            f"group {number}: {len(group.face_ids)} faces (cohesion {group.cohesion:.2f}): {faces}"
        )
    print("split a group off: face-album move FACE... --new [NAME]")
    return 0
