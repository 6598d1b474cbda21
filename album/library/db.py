"""Opening a library database: SQLite in WAL mode, foreign keys on, checked, schema migrated.

Opening refuses, with a message for the user: a path that is a folder or not a SQLite file, a
read-only library, a damaged one (`PRAGMA quick_check`), and one written by a newer face-album
(unknown migrations or a higher `user_version`), which is never written to.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from album.library.backup import BackupError, make_backup
from album.library.migrations import SchemaError, check_versions, migrate, pending_migrations

SQLITE_HEADER = b"SQLite format 3\x00"
RESTORE_HINT = "`face-album check` tells more; `face-album restore` puts a backup back"


class LibraryError(Exception):
    """A library that cannot be opened or used; the message is for the user."""


def _on_connect(dbapi_conn, _record) -> None:
    # The sqlite3 driver's own transaction handling is switched off so that SQLAlchemy's
    # BEGIN/COMMIT are the only ones (needed for DDL inside migration transactions).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: a new file's WAL switch may wait too
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: consistent after any crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_begin(conn) -> None:
    # Writers ask for BEGIN IMMEDIATE (see `Library.transaction`): the write lock is taken up
    # front and waited for (busy_timeout), instead of failing mid-transaction with
    # "database is locked" when two writers meet. Plain reads stay deferred.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


def check_file(path: Path) -> None:
    """Refuse what cannot be a library before SQLite touches it."""
    if path.exists() and not path.is_file():
        raise LibraryError(f"{path} is not a library file (it is a folder or a device)")
    if path.is_file() and path.stat().st_size:
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            raise LibraryError(f"cannot read the library {path}: {error.strerror}") from error
        if header != SQLITE_HEADER:
            raise LibraryError(f"{path} is not a face-album library (not an SQLite database)")
    folder = path.parent
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise LibraryError(f"the library {path} is read-only (face-album needs to write to it)")
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise LibraryError(f"the library's folder {folder} is read-only (SQLite writes beside it)")


def create_library_engine(path: str | Path, upto: str | None = None) -> Engine:
    """Engine for the library at `path` (created if new), checked and migrated to the latest
    schema; a library with pending migrations is backed up first (`<library>.data/backups`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LibraryError(f"cannot create the library folder {path.parent}: {error}") from error
    check_file(path)
    _preflight(path)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        _open(engine, path, upto)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _preflight(path: Path) -> None:
    """A read-only look before anything may write (even the switch to WAL): a damaged library
    (`PRAGMA quick_check`) or one written by a newer version is refused untouched."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            problems = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            table = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
            applied = (
                [r[0] for r in db.execute("SELECT name FROM schema_migrations")] if table else []
            )
        finally:
            db.close()
    except sqlite3.Error as error:
        raise LibraryError(f"cannot open the library {path}: {error}") from error
    if problems != ["ok"]:
        raise LibraryError(f"the library {path} is damaged ({problems[0]}); {RESTORE_HINT}")
    try:
        check_versions(applied, version)
    except SchemaError as error:
        raise LibraryError(f"the library {path} {error}") from error


def _open(engine: Engine, path: Path, upto: str | None) -> None:
    try:
        with engine.connect() as conn:
            pending, applied = pending_migrations(conn, upto)
            if pending and applied:
                _backup_before(path, pending[0])
            migrate(conn, upto=upto)
    except SchemaError as error:
        raise LibraryError(f"the library {path} {error}") from error
    except DBAPIError as error:
        raise LibraryError(f"cannot open the library {path}: {error.orig}") from error


def _backup_before(path: Path, migration: str) -> None:
    try:
        make_backup(path, f"before-{migration}")
    except BackupError as error:
        raise LibraryError(
            f"not upgrading the library: no backup could be made ({error})"
        ) from error


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
