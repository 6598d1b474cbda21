"""`face-album person ID`: one person's faces and photos (ID may be "unsorted")."""

from __future__ import annotations

import argparse

from album.cli.common import add_json_flag, print_json, print_table, shown
from album.cli.people_common import as_dict, guarded, open_people, person_id
from album.people import UNSORTED

NAME = "person"
HELP = "show one person: faces (confirmed first) and the photos they are in"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=person_id, help='person id, or "unsorted"')
    parser.add_argument(
        "--no-matches", action="store_true", help="photos: only assigned faces, no search matches"
    )
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    people = open_people(args)
    summary = people.person(args.id)
    faces = people.person_faces(args.id)
    photos = [] if args.id == UNSORTED else people.person_photos(args.id)
    if args.no_matches:
        photos = [p for p in photos if p.assigned]
    if args.json:
        print_json(
            {
                **as_dict(summary),
                "faces": [as_dict(f) for f in faces],
                "photos": [as_dict(p) for p in photos],
            }
        )
        return 0
    label = summary.name or ("unsorted faces" if args.id == UNSORTED else "unnamed")
    print(f"{shown(label)}: {summary.face_count} faces in {summary.photo_count} photos")
    print_table(
        ["FACE", "PHOTO", "DECISION", "BOX"],
        [(f.id, f.photo_id, f.decision, ",".join(f"{v:.0f}" for v in f.box)) for f in faces],
    )
    matches = [p for p in photos if not p.assigned]
    if matches:
        print(f"\nalso in {len(matches)} photo(s) by face match:")
        print_table(
            ["PHOTO", "FACES", "SIMILARITY"],
            [(p.photo_id, ",".join(map(str, p.face_ids)), f"{p.similarity:.3f}") for p in matches],
        )
    return 0
