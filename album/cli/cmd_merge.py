"""`face-album merge KEEP OTHER`: two people are one; OTHER's faces join KEEP."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag
from album.cli.people_common import guarded, open_people, report_change

NAME = "merge"
HELP = "merge person OTHER into person KEEP"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("keep", type=int, help="person id that stays")
    parser.add_argument("other", type=int, help="person id merged into it")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    return report_change(args, open_people(args).merge(args.keep, args.other), "merged")
