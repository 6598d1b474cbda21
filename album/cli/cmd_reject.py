"""`face-album reject FACE PERSON`: this face is not that person, now and in every re-cluster."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "reject"
HELP = "say a face is not a person (remembered; never proposed again)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("face", type=record_id, help="face id")
    parser.add_argument("person", type=record_id, help="person id")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    return report_change(args, open_people(args).reject(args.face, args.person), "rejected")
