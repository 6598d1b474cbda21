"""SIGKILL a scanning process at random moments; the library must end equal to a clean scan."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from album import Library
from album.library.schema import Face, FaceChip, Photo
from tests.fakes import PALETTE, draw_photo
from tests.scan_support import faces_by_photo, scan

CHILD = Path(__file__).with_name("scan_child.py")


def _make_folder(folder: Path, count: int) -> None:
    folder.mkdir()
    colours = list(PALETTE)
    rng = random.Random(7)
    for i in range(count):
        faces = [(colours[(i + k) % 5], 20 + 120 * k, rng.randrange(10, 150), 50) for k in range(2)]
        draw_photo(folder / f"p{i:03}.png", faces, size=(640, 480))


def _counts(lib) -> tuple[int, int, int]:
    with lib.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Photo, Face, FaceChip))


@pytest.mark.slow
def test_kill_at_random_points_then_resume_equals_clean_scan(tmp_path):
    photos = tmp_path / "photos"
    _make_folder(photos, 120)
    reference = Library(tmp_path / "ref.db")
    scan(reference, photos)
    db = tmp_path / "killed.db"
    rng = random.Random(1)
    kills = 0
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(db), str(photos)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(rng.randint(1, 12)):  # let it finish a random number of photos...
            if not child.stdout.readline():
                break
        time.sleep(rng.uniform(0, 0.05))  # ...then kill it anywhere, mid-batch included
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate()
    assert kills == 6, "the scan finished before it could be killed: make the folder bigger"
    subprocess.run(
        [sys.executable, str(CHILD), str(db), str(photos)], check=True, stdout=subprocess.DEVNULL
    )
    lib = Library(db)
    assert faces_by_photo(lib) == faces_by_photo(reference)
    assert _counts(lib) == _counts(reference) == (120, 240, 240)
    with lib.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
