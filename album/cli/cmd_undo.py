"""`face-album undo`: revert the latest people edit (repeat to go further back)."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, print_json, print_table
from album.cli.people_common import guarded, open_people, report_change

NAME = "undo"
HELP = "undo the latest edit to people (--list shows the edit history)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true", help="show recent edits, undo nothing")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    people = open_people(args)
    if args.list:
        edits = people.history()
        if args.json:
            print_json(edits)
        else:
            print_table(
                ["EDIT", "ACTION", "WHEN", "UNDONE"],
                [
                    (e["id"], e["action"], e["created_at"], "yes" if e["undone"] else "")
                    for e in edits
                ],
            )
        return 0
    return report_change(args, people.undo(), "undo")
