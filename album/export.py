"""Export everything the library knows as JSON (a documented, stable public format).

Streamed photo by photo so that a 500k-photo library exports in constant memory.
Schema `face-album/export/1` (see README): `{"schema", "library", "exported_at", "models": [...],
"people": [...], "photos": [{..., "faces": [...]}]}`.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from album.library.clock import now
from album.library.db import LibraryError
from album.library.library import Library
from album.library.schema import Face, Model, Person, Photo, Root

SCHEMA = "face-album/export/1"


def _models(s) -> list[dict]:
    return [
        {
            "id": m.id,
            "name": m.name,
            "backbone": m.backbone,
            "active": m.active,
            "parent_id": m.parent_id,
            "created_at": m.created_at.isoformat(),
        }
        for m in s.scalars(select(Model).order_by(Model.id))
    ]


def _people(s) -> list[dict]:
    counts = dict(s.execute(select(Face.person_id, func.count()).group_by(Face.person_id)).all())
    return [
        {
            "id": p.id,
            "name": p.name,
            "hidden": p.hidden,
            "cover_face_id": p.cover_face_id,
            "face_count": counts.get(p.id, 0),
        }
        for p in s.scalars(select(Person).order_by(Person.id))
    ]


def _face(face: Face, names: dict[int, str | None]) -> dict:
    return {
        "id": face.id,
        "box": [round(v, 2) for v in face.box],
        "landmarks": [
            [round(float(x), 2), round(float(y), 2)] for x, y in face.landmarks.reshape(5, 2)
        ],
        "score": round(face.score, 4),
        "quality": round(face.quality, 1),
        "person_id": face.person_id,
        "person_name": names.get(face.person_id) if face.person_id else None,
        "decision": str(face.decision),
    }


def _photos(s) -> Iterator[dict]:
    roots = {r.id: r.path for r in s.scalars(select(Root))}
    names = dict(s.execute(select(Person.id, Person.name)).all())
    for photo in s.scalars(select(Photo).order_by(Photo.id)).yield_per(500):
        faces = s.scalars(select(Face).where(Face.photo_id == photo.id).order_by(Face.id))
        yield {
            "id": photo.id,
            "root": roots[photo.root_id],
            "path": photo.relpath,
            "size": photo.size,
            "width": photo.width,
            "height": photo.height,
            "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
            "status": str(photo.status),
            "error": photo.error,
            "faces": [_face(f, names) for f in faces],
        }


def _dumps(value) -> str:
    """JSON text; a non-UTF-8 file name's bytes come out as `\\udcXX` escapes (valid JSON that
    Python reads back to the same name), never as invalid UTF-8."""
    text = json.dumps(value, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def export_json(lib: Library, out: TextIO) -> int:
    """Write the export to `out`; returns the number of photos written."""
    with lib.session() as s:
        head = {
            "schema": SCHEMA,
            "library": str(lib.path),
            "exported_at": now().isoformat() + "Z",
            "models": _models(s),
            "people": _people(s),
        }
        out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "photos": [\n')
        count = 0
        for photo in _photos(s):
            out.write((",\n" if count else "") + _dumps(photo))
            count += 1
        out.write("\n ]\n}\n")
        return count


def export_to_file(lib: Library, path: Path) -> int:
    """Write atomically: a temporary file beside `path` becomes `path` only when complete, and is
    removed on any failure (disk full, Ctrl-C). A read-only file, a symlink or anything but a
    regular file at `path` is refused, never replaced."""
    path = Path(path)
    mode = _check_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            count = export_json(lib, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _check_target(path: Path) -> int:
    """Refuse a target that must not be replaced; returns the mode the export file gets."""
    if not path.parent.is_dir():
        raise LibraryError(f"cannot export to {path}: the folder {path.parent} does not exist")
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0o644
    if stat.S_ISLNK(info.st_mode):
        raise LibraryError(f"not replacing {path}: it is a symbolic link (export to its target)")
    if not stat.S_ISREG(info.st_mode):
        raise LibraryError(f"cannot export to {path}: not a regular file")
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):  # no write bit: even for root
        raise LibraryError(f"not replacing {path}: the file is read-only")
    return stat.S_IMODE(info.st_mode)
