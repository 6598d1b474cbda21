"""The migrated schema equals the ORM's, and an old library upgrades with its data intact."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, inspect

from album.library.db import create_library_engine
from album.library.schema import Base


def _columns(engine) -> dict[str, dict[str, tuple[str, bool]]]:
    insp = inspect(engine)
    tables = {}
    for name in insp.get_table_names():
        if name == "schema_migrations":
            continue
        tables[name] = {
            c["name"]: (str(c["type"]).split("(")[0], bool(c["nullable"]))
            for c in insp.get_columns(name)
        }
    return tables


def test_migrated_schema_matches_orm(tmp_path):
    migrated = create_library_engine(tmp_path / "lib.db")
    reference = create_engine(f"sqlite:///{tmp_path / 'ref.db'}")
    Base.metadata.create_all(reference)
    assert _columns(migrated) == _columns(reference)
    for table in ("photos", "faces", "saved_placements"):
        got = {i["name"] for i in inspect(migrated).get_indexes(table)}
        want = {i["name"] for i in inspect(reference).get_indexes(table)}
        assert got == want


def test_upgrade_from_v1_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    create_library_engine(path, upto="0001_initial").dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO roots VALUES (1, '/photos', '2024-01-01 00:00:00')")
        conn.execute(
            "INSERT INTO photos (id, root_id, relpath, size, mtime_ns, status) "
            "VALUES (1, 1, 'a.jpg', 10, 5, 'done')"
        )
        conn.execute("INSERT INTO people VALUES (5, 'Anna', 0, NULL, '2024-01-01 00:00:00')")
        conn.execute(
            "INSERT INTO faces VALUES (1, 1, 10, 20, 110, 140, x'00', 0.9, 5, 'confirmed')"
        )
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    engine = create_library_engine(path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == 4
        quality = conn.exec_driver_sql("SELECT quality FROM faces WHERE id = 1").scalar()
        assert quality == 100  # backfilled: the shorter side of the box
        names = conn.exec_driver_sql("SELECT name FROM schema_migrations").scalars().all()
        assert names == [
            "0001_initial",
            "0002_decisions_settings_quality",
            "0003_people_ids_never_reused",
            "0004_saved_groupings",
        ]
        # the people table was rebuilt: the face keeps its person, and ids are never reused
        assert conn.exec_driver_sql("SELECT person_id FROM faces").scalar() == 5
        conn.exec_driver_sql("DELETE FROM people WHERE id = 5")
        conn.exec_driver_sql("INSERT INTO people (name, hidden, created_at) VALUES ('B', 0, 0)")
        assert conn.exec_driver_sql("SELECT max(id) FROM people").scalar() == 6
    assert "face_rejections" in inspect(engine).get_table_names()


def test_reopen_is_idempotent(tmp_path):
    create_library_engine(tmp_path / "lib.db").dispose()
    engine = create_library_engine(tmp_path / "lib.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
