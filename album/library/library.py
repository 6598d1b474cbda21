"""`Library`: a photo library's storage (database, sessions, settings, roots, model records,
the data folder beside it). It runs nothing: scanning, grouping, search and retraining are
`album.album.Album`'s, which opens a `Library` and offers them to the CLI, the GUI and scripts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.db import LibraryError, create_library_engine, session_factory
from album.library.schema import Face, Model, Person, Photo, Root, Setting
from album.settings import check as settings_check

ENV_LIBRARY = "FACE_ALBUM_LIBRARY"
GROUPING_PENDING = "grouping_pending"  # a setting: faces were stored and not yet grouped
log = logging.getLogger(__name__)


def default_library_path() -> Path:
    """`$FACE_ALBUM_LIBRARY`, else `library.db` in the platform's user data directory."""
    env = os.environ.get(ENV_LIBRARY)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("face-album", appauthor=False)) / "library.db"


class Library:
    """A library database plus the folder beside it for caches (`<name>.data/`).

    Sessions: `with lib.session() as s, s.begin(): ...` — one per user action or batch; pass ids,
    not ORM objects, across threads.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = self.resolve_path(path) if path else default_library_path()
        self.engine = create_library_engine(self.path)
        self._sessions = session_factory(self.engine)
        self.data_dir = self.path.with_name(self.path.name + ".data")

    @staticmethod
    def resolve_path(path: str | Path) -> Path:
        return Path(path).expanduser().resolve()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a write transaction (BEGIN IMMEDIATE: concurrent writers wait in turn)."""
        with self._sessions() as session, session.begin():
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session

    # -- roots ------------------------------------------------------------------------------
    def add_root(self, folder: str | Path) -> int:
        """Register a photo folder (idempotent); returns its id. The folder is never written."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise LibraryError(f"not a folder: {folder}")
        with self.transaction() as s:
            root = s.scalar(select(Root).where(Root.path == str(folder)))
            if root is None:
                root = Root(path=str(folder), added_at=now())
                s.add(root)
                s.flush()
            return root.id

    def roots(self) -> list[tuple[int, Path]]:
        with self.session() as s:
            return [(r.id, Path(r.path)) for r in s.scalars(select(Root).order_by(Root.id))]

    def photo_path(self, photo_id: int) -> Path:
        with self.session() as s:
            photo = s.get(Photo, photo_id)
            if photo is None:
                raise LibraryError(f"no photo {photo_id}")
            return Path(s.get(Root, photo.root_id).path) / photo.relpath

    # -- models -----------------------------------------------------------------------------
    def active_model_id(self) -> int | None:
        with self.session() as s:
            return s.scalar(select(Model.id).where(Model.active))

    def active_model(self) -> dict | None:
        """The active model's record as a plain dict (id, name, spec, weights_path, ...)."""
        with self.session() as s:
            model = s.scalar(select(Model).where(Model.active))
            if model is None:
                return None
            return {c.key: getattr(model, c.key) for c in Model.__table__.columns}

    def builtin_model_id(self) -> int | None:
        """The first model with built-in weights (the safe one to go back to)."""
        with self.session() as s:
            return s.scalar(select(Model.id).where(Model.weights_path.is_(None)).order_by(Model.id))

    def weights_file(self, stored: str) -> Path:
        """A model's weights file from its stored path: relative paths are under `data_dir` (so a
        library folder can move); an absolute path of an older version that is gone is looked
        for in `data_dir/models` by name."""
        path = Path(stored)
        if not path.is_absolute():
            return self.data_dir / path
        moved = self.data_dir / "models" / path.name
        return moved if not path.exists() and moved.exists() else path

    def stored_weights_path(self, path: str | Path) -> str:
        """The form a weights path is stored in: relative to `data_dir` when inside it."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.data_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict:
        """Per-library settings (min_face_size, device, thresholds overrides, ...); a stored
        value that fails its check is left out (the default applies) with a warning."""
        with self.session() as s:
            rows = s.scalars(select(Setting))
            stored = {r.key: r.value.get("v") if isinstance(r.value, dict) else None for r in rows}
        for key, value in list(stored.items()):
            problem = settings_check(key, value)
            if problem:
                log.warning("ignoring the stored %s: %s", key, problem)
                del stored[key]
        return stored

    def set_setting(self, key: str, value) -> None:
        """Store a setting (None: back to the default); a value failing its check is refused."""
        problem = settings_check(key, value)
        if problem:
            raise LibraryError(problem)
        with self.transaction() as s:
            s.merge(Setting(key=key, value={"v": value}))

    # -- summaries --------------------------------------------------------------------------
    def stats(self) -> dict:
        with self.session() as s:
            by_status = dict(
                s.execute(select(Photo.status, func.count()).group_by(Photo.status)).all()
            )
            return {
                "library": str(self.path),
                "roots": [str(p) for _, p in self.roots()],
                "photos": sum(by_status.values()),
                "photos_by_status": {str(k): v for k, v in by_status.items()},
                "faces": s.scalar(select(func.count()).select_from(Face)),
                "people": s.scalar(select(func.count()).select_from(Person)),
                "named_people": s.scalar(
                    select(func.count()).select_from(Person).where(Person.name.is_not(None))
                ),
                "models": s.scalar(select(func.count()).select_from(Model)),
                "db_bytes": _db_bytes(self.path),
            }


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
