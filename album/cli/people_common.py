"""Helpers shared by the people commands (people, person, search, name, merge, ...)."""

from __future__ import annotations

import argparse
import dataclasses

from album.cli.common import open_album, print_json, record_id
from album.library.db import LibraryError
from album.people import UNSORTED, ChangeSet, People, PeopleError


def open_people(args: argparse.Namespace) -> People:
    return open_album(args).people


def person_id(text: str) -> int:
    """A person argument: a numeric id, or "unsorted"."""
    if text.lower() == "unsorted":
        return UNSORTED
    return record_id(text)


def report_change(args: argparse.Namespace, change: ChangeSet | None, what: str) -> int:
    """Print what an edit changed (JSON with --json); hints at `undo` for user edits."""
    if getattr(args, "json", False):
        print_json(None if change is None else change.to_dict())
        return 0
    if change is None:
        print(f"{what}: nothing to do")
        return 0
    print(
        f"{what}: {len(change.face_ids)} face(s), people changed {sorted(change.person_ids) or '-'}"
        + (f", removed {sorted(change.removed_person_ids)}" if change.removed_person_ids else "")
    )
    if change.edit_id is not None and what != "undo":
        print("(face-album undo reverts it)")
    return 0


def as_dict(value) -> dict:
    return dataclasses.asdict(value)


def guarded(run):
    """Turn a refusal of the people API into a user-facing error (exit status 2)."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except PeopleError as error:
            raise LibraryError(str(error)) from error

    return wrapper
