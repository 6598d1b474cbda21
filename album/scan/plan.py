"""Deciding what a scan must do: compare the files on disk with the library's photos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from album.library.schema import Photo, PhotoStatus
from album.scan.walk import walk_photos


@dataclass(frozen=True)
class WorkItem:
    root_id: int
    root: Path
    relpath: str
    size: int
    mtime_ns: int
    photo_id: int | None  # the existing row for this path, if any
    old_hash: str | None  # its stored content hash

    @property
    def path(self) -> Path:
        return self.root / self.relpath


@dataclass
class Plan:
    work: list[WorkItem] = field(default_factory=list)
    seen: int = 0
    unchanged: int = 0
    reappeared: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


def plan_root(
    session: Session,
    root_id: int,
    root: Path,
    extensions: set[str],
    on_error: Callable[[str, str], None],
    on_unsupported: Callable[[str], None] | None = None,
) -> Plan:
    """Walk `root` and sort its files into unchanged / to-do, and its lost photos into missing."""
    known = {
        row.relpath: row
        for row in session.execute(
            select(
                Photo.id,
                Photo.relpath,
                Photo.size,
                Photo.mtime_ns,
                Photo.status,
                Photo.content_hash,
            ).where(Photo.root_id == root_id)
        )
    }
    plan = Plan()
    seen_paths = set()
    for found in walk_photos(root, extensions, on_error, on_unsupported):
        plan.seen += 1
        seen_paths.add(found.relpath)
        row = known.get(found.relpath)
        if row is not None and (row.size, row.mtime_ns) == (found.size, found.mtime_ns):
            plan.unchanged += 1
            if row.status == PhotoStatus.MISSING:
                plan.reappeared.append(row.id)
            continue
        plan.work.append(
            WorkItem(
                root_id,
                root,
                found.relpath,
                found.size,
                found.mtime_ns,
                row.id if row else None,
                row.content_hash if row else None,
            )
        )
    plan.missing = [
        row.id
        for relpath, row in known.items()
        if relpath not in seen_paths and row.status != PhotoStatus.MISSING
    ]
    return plan


def apply_presence(session: Session, plan: Plan) -> None:
    """Mark lost photos missing (faces and decisions kept) and returned ones done again."""
    if plan.missing:
        session.execute(
            update(Photo).where(Photo.id.in_(plan.missing)).values(status=PhotoStatus.MISSING)
        )
    if plan.reappeared:
        session.execute(
            update(Photo)
            .where(Photo.id.in_(plan.reappeared), Photo.error.is_(None))
            .values(status=PhotoStatus.DONE)
        )
        session.execute(
            update(Photo)
            .where(Photo.id.in_(plan.reappeared), Photo.error.is_not(None))
            .values(status=PhotoStatus.ERROR)
        )
