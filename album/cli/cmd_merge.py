"""`face-album merge KEEP OTHER...`: several people are one; the OTHERs' faces join KEEP."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, record_id
from album.cli.people_common import guarded, open_people, report_change

NAME = "merge"
HELP = "merge people OTHER... into person KEEP (one undo)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("keep", type=record_id, help="person id that stays")
    parser.add_argument("other", type=record_id, nargs="+", help="person ids merged into it")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    return report_change(args, open_people(args).merge(args.keep, *args.other), "merged")
