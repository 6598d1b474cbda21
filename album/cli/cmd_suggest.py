"""`face-album suggest`: "these faces are probably NAME" — the fastest way to label a library.

Says how many more photos may be each named person ("12 more photos may be Anna"), then lists
suggestions numbered from 1; `--accept N` / `--decline N` answers one of that same list.
"""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, positive_int, print_json, print_table
from album.cli.people_common import as_dict, guarded, open_people, report_change
from album.library.db import LibraryError

NAME = "suggest"
HELP = "suggest named people for unnamed clusters and unsorted faces; accept or decline one"
OFFERS_SHOWN = 5  # "12 more photos may be Anna" lines above the table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=positive_int, default=20, help="list at most this many")
    answer = parser.add_mutually_exclusive_group()
    answer.add_argument("--accept", type=positive_int, metavar="N", help="accept suggestion N")
    answer.add_argument("--decline", type=positive_int, metavar="N", help="decline suggestion N")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    people = open_people(args)
    chosen = args.accept or args.decline
    found = people.suggestions(limit=max(args.limit, chosen or 0))
    if chosen is not None:
        if not 1 <= chosen <= len(found):
            raise LibraryError(f"no suggestion {chosen} (there are {len(found)})")
        suggestion = found[chosen - 1]
        if args.accept:
            return report_change(args, people.accept_suggestion(suggestion), "accepted")
        return report_change(args, people.reject_suggestion(suggestion), "declined")
    if args.json:
        print_json([{"n": n, **as_dict(s)} for n, s in enumerate(found, 1)])
        return 0
    offers = people.offers()
    for offer in offers[:OFFERS_SHOWN]:
        print(offer.describe())
    if len(offers) > OFFERS_SHOWN:
        print(f"… and more for {len(offers) - OFFERS_SHOWN} other named people")
    rows = [
        (
            n,
            s.person_name,
            f"{s.similarity:.3f}",
            f"cluster {s.source_person_id}" if s.source_person_id else "unsorted face",
            _faces(s.face_ids),
        )
        for n, s in enumerate(found, 1)
    ]
    print_table(["N", "PROBABLY", "SIMILARITY", "FROM", "FACES"], rows)
    return 0


def _faces(ids: tuple[int, ...]) -> str:
    shown = ",".join(map(str, ids[:6]))
    return shown + (f",... ({len(ids)})" if len(ids) > 6 else "")
