"""`face-album search --face ID | --image FILE`: the faces most like one face, best first."""

from __future__ import annotations

import argparse

from album.cli.common import (
    add_json_flag,
    open_library,
    positive_int,
    print_json,
    print_table,
    record_id,
    similarity,
)
from album.cli.people_common import as_dict, guarded
from album.library.db import LibraryError
from album.people import People

NAME = "search"
HELP = "find the faces of the same person as a face in the library or in a photo file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--face", type=record_id, metavar="ID", help="a face id of the library")
    query.add_argument("--image", metavar="FILE", help="a photo: its largest face is the query")
    parser.add_argument(
        "--threshold", type=similarity, help="cosine similarity floor (default: the model's)"
    )
    parser.add_argument("--limit", type=positive_int, default=50, help="at most this many hits")
    add_json_flag(parser)


@guarded
def run(args: argparse.Namespace) -> int:
    lib = open_library(args)
    people = People(lib)
    if args.face is not None:
        hits = people.search_face(args.face, args.threshold, args.limit)
    else:
        hits = people.search_embedding(
            _image_embedding(lib, args.image), args.threshold, args.limit
        )
    names = {p.id: p.name for p in people.list_people(include_hidden=True)}
    if args.json:
        print_json([{**as_dict(h), "person_name": names.get(h.person_id)} for h in hits])
        return 0
    rows = [
        (
            h.face_id,
            h.photo_id,
            f"{h.similarity:.3f}",
            h.person_id or "",
            names.get(h.person_id) or "",
        )
        for h in hits
    ]
    print_table(["FACE", "PHOTO", "SIMILARITY", "PERSON", "NAME"], rows)
    return 0


def _image_embedding(lib, path: str):
    """Embedding of the largest face in the photo, by the library's own pipeline."""
    from album.faces.default import load_pipeline
    from album.imaging import ImageError, load_rgb

    try:
        image = load_rgb(path)
    except ImageError as error:
        raise LibraryError(f"{path}: {error}") from error
    faces = [f for f in load_pipeline(lib).process(image) if f.embedding is not None]
    if not faces:
        raise LibraryError(f"no face found in {path}")
    largest = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return largest.embedding
