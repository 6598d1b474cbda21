"""`face-album name ID NAME`: name or rename a person (its faces become confirmed)."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, person_name, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "name"
HELP = "name or rename a person; an empty NAME clears it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=record_id, help="person id")
    parser.add_argument("name", type=person_name, help="the name")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    return report_change(args, open_people(args).name(args.id, args.name), "named")
