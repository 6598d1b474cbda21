"""Opening a library database: SQLite in WAL mode, foreign keys on, schema migrated."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from album.library.migrations import migrate


class LibraryError(Exception):
    """A library that cannot be opened or used; the message is for the user."""


def _on_connect(dbapi_conn, _record) -> None:
    # The sqlite3 driver's own transaction handling is switched off so that SQLAlchemy's
    # BEGIN/COMMIT are the only ones (needed for DDL inside migration transactions).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: consistent after any crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_begin(conn) -> None:
    # Writers ask for BEGIN IMMEDIATE (see `Library.transaction`): the write lock is taken up
    # front and waited for (busy_timeout), instead of failing mid-transaction with
    # "database is locked" when two writers meet. Plain reads stay deferred.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


def create_library_engine(path: str | Path, upto: str | None = None) -> Engine:
    """Engine for the library at `path` (created if new), migrated to the latest schema."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LibraryError(f"cannot create the library folder {path.parent}: {error}") from error
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    with engine.connect() as conn:
        migrate(conn, upto=upto)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
