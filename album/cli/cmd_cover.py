"""`face-album cover PERSON FACE`: the face that stands for a person in lists."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "cover"
HELP = "choose the cover face of a person"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("person", type=record_id, help="person id")
    parser.add_argument("face", type=record_id, help="one of the person's face ids")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    return report_change(args, open_people(args).set_cover(args.person, args.face), "cover set")
