"""`face-album hide ID [--unhide]`: keep a person out of the people list (strangers, crowds)."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "hide"
HELP = "hide a person from the people list (--unhide shows them again)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=record_id, help="person id")
    parser.add_argument("--unhide", action="store_true", help="show the person again")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    change = open_people(args).hide(args.id, not args.unhide)
    return report_change(args, change, "shown" if args.unhide else "hidden")
