"""Opening refuses what is not a usable library in one clear message, never writes to a newer
one, lets concurrent openers of a new library all succeed; backups, restore and `check`."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from album import Library
from album.album import Album
from album.cli.main import main
from album.library.backup import list_backups
from album.library.db import LibraryError, create_library_engine
from album.library.migrations import MIGRATIONS
from album.library.schema import Face
from tests.fakes import draw_photo, fake_pipeline

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def filled(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        draw_photo(folder / f"{i}.png", [("red", 10, 10, 50), ("blue", 150, 60, 50)])
    path = tmp_path / "lib" / "library.db"
    with Library(path) as lib:
        Album(lib).scan([folder], pipeline=fake_pipeline())
        with lib.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _damaged(source: Path, target: Path, pages: int = 20) -> Path:
    data = bytearray(source.read_bytes())
    rng = random.Random(3)
    for _ in range(pages):
        page = rng.randrange(1, len(data) // 4096)
        data[page * 4096 : page * 4096 + 4096] = rng.randbytes(4096)
    target.write_bytes(bytes(data))
    return target


def _variants(tmp_path: Path, filled: Path) -> dict[str, Path]:
    out = {"folder": tmp_path / "folder.db", "random bytes": tmp_path / "random.db"}
    out["folder"].mkdir()
    out["random bytes"].write_bytes(random.Random(1).randbytes(50_000))
    out["truncated"] = tmp_path / "truncated.db"
    out["truncated"].write_bytes(filled.read_bytes()[: filled.stat().st_size // 3])
    out["overwritten pages"] = _damaged(filled, tmp_path / "pages.db")
    return out


def test_unusable_libraries_are_refused_in_one_line(tmp_path, filled, capsys):
    for name, path in _variants(tmp_path, filled).items():
        with pytest.raises(LibraryError):
            Library(path)
        capsys.readouterr()
        assert main(["--library", str(path), "stats"]) == 2, name
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("face-album: "), (name, err)


def test_read_only_library_is_refused(tmp_path, filled):
    folder = filled.parent
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o444)
    folder.chmod(0o555)
    try:
        if Path(filled).stat().st_mode and _writable_anyway(folder):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(LibraryError, match="read-only"):
            Library(filled)
    finally:
        folder.chmod(0o755)


def _writable_anyway(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.mark.parametrize("tamper", ["user_version", "migration"])
def test_newer_library_is_refused_and_never_written(filled, tamper):
    with sqlite3.connect(filled) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # switching it back to WAL would be a write
        if tamper == "user_version":
            db.execute("PRAGMA user_version=99")
        else:
            db.execute("INSERT INTO schema_migrations VALUES ('9999_future', '2030-01-01')")
    db.close()
    before = filled.read_bytes()
    with pytest.raises(LibraryError, match="newer"):
        Library(filled)
    assert filled.read_bytes() == before


OPEN = "import sys; sys.path.insert(0, {repo!r}); from album import Library; Library({db!r})"


def test_processes_opening_a_new_library_all_succeed(tmp_path):
    for attempt in range(2):
        db = tmp_path / f"new{attempt}" / "library.db"
        code = OPEN.format(repo=str(REPO), db=str(db))
        children = [
            subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
        ]
        errors = [child.communicate(timeout=120)[1] for child in children]
        assert [c.returncode for c in children] == [0] * len(children), errors
        with sqlite3.connect(db) as conn:
            count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
            assert count == len(MIGRATIONS)


def test_backup_is_made_before_a_migration(tmp_path):
    path = tmp_path / "old.db"
    create_library_engine(path, upto="0001_initial").dispose()
    assert list_backups(path) == []
    Library(path).close()
    (backup,) = list_backups(path)
    assert "before-0002" in backup.name
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_backup_then_restore_brings_a_name_back(filled, capsys):
    lib_arg = ["--library", str(filled)]
    assert main([*lib_arg, "name", "1", "Anna"]) == 0
    assert main([*lib_arg, "backup"]) == 0
    assert main([*lib_arg, "name", "1", "Bob"]) == 0
    assert main([*lib_arg, "restore"]) == 0
    with Library(filled) as lib:
        from album.people import People

        assert [p.name for p in People(lib).list_people() if p.id == 1] == ["Anna"]
    assert "kept as" in capsys.readouterr().out


def test_check_repairs_derived_state(filled, capsys):
    with Library(filled) as lib:
        lib.set_setting("grouping_pending", True)
        with lib.transaction() as s:
            s.execute(Face.__table__.update().values(person_id=None))
        (lib.data_dir / "models").mkdir(parents=True, exist_ok=True)
        (lib.data_dir / "models" / "orphan.safetensors").write_bytes(b"x" * 1000)
        (lib.data_dir / "index-model1.npz").write_bytes(b"garbage")
        (lib.data_dir / "export.json.tmp").write_bytes(b"")
    capsys.readouterr()
    assert main(["--library", str(filled), "check"]) == 0
    out = capsys.readouterr().out
    for words in ("grouped", "orphan.safetensors", "index-model1.npz", "export.json.tmp", ": ok"):
        assert words in out, out
    with Library(filled) as lib, lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Face).where(Face.person_id.is_(None))) == 0


def test_check_reports_a_damaged_database(tmp_path, filled, capsys):
    main(["--library", str(filled), "backup"])
    damaged = _damaged(filled, filled)
    assert damaged == filled
    capsys.readouterr()
    assert main(["--library", str(filled), "check"]) == 1
    assert "face-album restore" in capsys.readouterr().err
    assert main(["--library", str(filled), "restore"]) == 0
    Library(filled).close()
    shutil.rmtree(filled.parent)
