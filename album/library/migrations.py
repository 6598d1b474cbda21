"""Named, ordered schema migrations, recorded in the `schema_migrations` table.

A new library and an old one take the same path: every migration not yet recorded runs, in order,
each in its own transaction. `PRAGMA user_version` mirrors the count for outside tools.
Never edit a migration that has shipped; add a new one. `tests/test_migrations.py` checks that the
migrated schema equals the ORM's (`album.library.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, text

V1_TABLES = """
CREATE TABLE roots (
    id INTEGER NOT NULL PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at DATETIME NOT NULL
);
CREATE TABLE scan_runs (
    id INTEGER NOT NULL PRIMARY KEY,
    started_at DATETIME NOT NULL,
    finished_at DATETIME,
    status VARCHAR(16) NOT NULL,
    counts JSON NOT NULL
);
CREATE TABLE models (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    backbone VARCHAR(64) NOT NULL,
    spec JSON NOT NULL,
    weights_path TEXT,
    weights_sha256 VARCHAR(64),
    parent_id INTEGER REFERENCES models (id),
    active BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    report JSON
);
CREATE TABLE photos (
    id INTEGER NOT NULL PRIMARY KEY,
    root_id INTEGER NOT NULL REFERENCES roots (id),
    relpath TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash VARCHAR(64),
    width INTEGER,
    height INTEGER,
    taken_at DATETIME,
    status VARCHAR(16) NOT NULL,
    error TEXT,
    scan_run_id INTEGER REFERENCES scan_runs (id),
    UNIQUE (root_id, relpath)
);
CREATE INDEX ix_photos_content_hash ON photos (content_hash);
CREATE TABLE people (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT,
    hidden BOOLEAN NOT NULL,
    cover_face_id INTEGER REFERENCES faces (id) ON DELETE SET NULL,
    created_at DATETIME NOT NULL
);
CREATE TABLE faces (
    id INTEGER NOT NULL PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos (id),
    "left" DOUBLE NOT NULL,
    top DOUBLE NOT NULL,
    "right" DOUBLE NOT NULL,
    bottom DOUBLE NOT NULL,
    landmarks BLOB NOT NULL,
    score DOUBLE NOT NULL,
    person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
    decision VARCHAR(16) NOT NULL
);
CREATE INDEX ix_faces_photo ON faces (photo_id);
CREATE INDEX ix_faces_person ON faces (person_id);
CREATE TABLE face_chips (
    face_id INTEGER NOT NULL PRIMARY KEY REFERENCES faces (id) ON DELETE CASCADE,
    alignment VARCHAR(32) NOT NULL,
    size INTEGER NOT NULL,
    image BLOB NOT NULL
);
CREATE TABLE embeddings (
    face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models (id),
    vector BLOB NOT NULL,
    PRIMARY KEY (face_id, model_id)
);
"""

V2_DECISIONS = """
CREATE TABLE face_rejections (
    face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (face_id, person_id)
);
CREATE TABLE edits (
    id INTEGER NOT NULL PRIMARY KEY,
    created_at DATETIME NOT NULL,
    action VARCHAR(32) NOT NULL,
    payload JSON NOT NULL,
    undone BOOLEAN NOT NULL
);
CREATE TABLE settings (
    "key" VARCHAR(64) NOT NULL PRIMARY KEY,
    value JSON NOT NULL
);
ALTER TABLE faces ADD COLUMN quality DOUBLE NOT NULL DEFAULT 0;
UPDATE faces SET quality = min("right" - "left", bottom - top);
"""

# People ids are never reused (undo recreates a deleted person with its old id): SQLite needs
# AUTOINCREMENT for that, which only a table rebuild can add. The rebuild runs with foreign keys
# off (see `migrate`), so dropping the old table does not null the faces' person ids.
V3_PEOPLE_AUTOINCREMENT = """
CREATE TABLE people_new (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    name TEXT,
    hidden BOOLEAN NOT NULL,
    cover_face_id INTEGER REFERENCES faces (id) ON DELETE SET NULL,
    created_at DATETIME NOT NULL
);
INSERT INTO people_new (id, name, hidden, cover_face_id, created_at)
    SELECT id, name, hidden, cover_face_id, created_at FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
"""

# A model's groups are kept while another model is in use, so switching back gives them back
# exactly (album.people.placement). The face index serves the cascade when a face is deleted.
V4_SAVED_GROUPINGS = """
CREATE TABLE saved_groupings (
    model_id INTEGER NOT NULL PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    saved_at DATETIME NOT NULL,
    last_edit_id INTEGER,
    grouped_faces INTEGER NOT NULL,
    people JSON NOT NULL
);
CREATE TABLE saved_placements (
    model_id INTEGER NOT NULL REFERENCES saved_groupings (model_id) ON DELETE CASCADE,
    face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
    person_id INTEGER,
    PRIMARY KEY (model_id, face_id)
);
CREATE INDEX ix_saved_placements_face ON saved_placements (face_id);
"""


def _run_script(script: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(text(statement))

    return apply


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", _run_script(V1_TABLES)),
    ("0002_decisions_settings_quality", _run_script(V2_DECISIONS)),
    ("0003_people_ids_never_reused", _run_script(V3_PEOPLE_AUTOINCREMENT)),
    ("0004_saved_groupings", _run_script(V4_SAVED_GROUPINGS)),
]


class SchemaError(Exception):
    """A library this version cannot use (written by a newer face-album); never written to."""


def applied_migrations(conn: Connection) -> list[str]:
    """Names recorded in `schema_migrations` ([] for a new database); reads only."""
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).first()
    if exists is None:
        return []
    return [row[0] for row in conn.execute(text("SELECT name FROM schema_migrations"))]


def check_versions(applied: list[str], user_version: int) -> None:
    """SchemaError when a library was written by a newer version (this one must not touch it)."""
    known = [name for name, _ in MIGRATIONS]
    unknown = sorted(set(applied) - set(known))
    if unknown:
        raise SchemaError(
            f"was written by a newer face-album (unknown migration {unknown[0]}); "
            "upgrade face-album to open it"
        )
    if user_version > len(known):
        raise SchemaError(
            f"has schema version {user_version}, newer than this face-album's {len(known)}; "
            "upgrade face-album to open it"
        )


def pending_migrations(conn: Connection, upto: str | None = None) -> tuple[list[str], list[str]]:
    """(migrations still to run, migrations applied); SchemaError for a newer library."""
    applied = applied_migrations(conn)
    known = [name for name, _ in MIGRATIONS]
    check_versions(applied, conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    conn.commit()
    names = known if upto is None else known[: known.index(upto) + 1]
    return [n for n in names if n not in applied], applied


def migrate(conn: Connection, upto: str | None = None) -> list[str]:
    """Apply pending migrations (all, or up to and including `upto`); return their names.

    The caller passes a connection with no transaction open. Each migration runs in its own
    BEGIN IMMEDIATE transaction that first re-reads what is applied: two processes opening a new
    library take turns, and the second finds the work done. A kill mid-upgrade leaves the
    database at the last completed migration. Foreign keys are off while migrations run (table
    rebuilds need it) and checked before each commit.
    """
    if not pending_migrations(conn, upto)[0]:
        return []
    raw = conn.connection.driver_connection  # PRAGMA foreign_keys is ignored inside a BEGIN
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        return _apply_pending(conn.execution_options(sqlite_begin="IMMEDIATE"), upto)
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _apply_pending(conn: Connection, upto: str | None) -> list[str]:
    ran = []
    for index, (name, apply) in enumerate(MIGRATIONS):
        with conn.begin():
            _create_table(conn)
            if name not in applied_migrations(conn):
                _apply_one(conn, name, apply, index + 1)
                ran.append(name)
        if name == upto:
            break
    return ran


def _create_table(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name TEXT NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL)"
        )
    )


def _apply_one(conn: Connection, name: str, apply, version: int) -> None:
    apply(conn)
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration {name} broke foreign keys: {broken[:5]}")
    conn.execute(
        text("INSERT INTO schema_migrations VALUES (:n, :t)"),
        {"n": name, "t": datetime.now(UTC).replace(tzinfo=None)},
    )
    conn.exec_driver_sql(f"PRAGMA user_version = {version}")
