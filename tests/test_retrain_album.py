"""The direction of bench/bench_retrain_album.py at a small size: on faces-dev, grouped by the
app, a simulated user names the largest groups, fixes wrong faces, retrains (ArcFace, a few
steps) and answers suggestions correctly. Album-wide precision never ends below where it
started, and a model the adoption rule adopted never lowers album-wide F.

Measured on this album (10 groups named, the rule adopting every head): at 12 steps ArcFace
takes F 0.973 -> 0.966 (recall 0.948 -> 0.935, precision 1.000), inside the tolerance; at 30
steps 0.973 -> 0.953 (CosFace, SphereFace 0.960), outside it. The rule still adopts models
that cost album-wide recall (issue 12): this test holds the line at the size CI allows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import delete

from album.library.library import Library
from album.library.schema import Person
from album.people import People
from tests.conftest import FACES_DEV
from tests.retrain_support import build_library, faces_dev_chips

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

pytestmark = [pytest.mark.slow, pytest.mark.dlib]

STEPS = 12
NAMES, FIX = 10, 2
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def grouped(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """faces-dev stored as a scan would, nothing confirmed, grouped by the scan-time rule."""
    if not (FACES_DEV / "labels.csv").is_file():
        pytest.skip("shared/data/faces-dev is not available")
    pytest.importorskip("dlib")
    paths, names, chips, points = faces_dev_chips()
    path = tmp_path_factory.mktemp("album") / "library.db"
    with Library(path) as lib:
        ids = build_library(lib, paths, names, chips, points, confirm=set())
        with lib.transaction() as s:
            s.execute(delete(Person))  # the helper names everyone: this user has named no one
        People(lib).update()
    return path, dict(zip(ids, names, strict=True))


def test_retraining_never_makes_the_album_worse(grouped, tmp_path):
    from bench_retrain_album import simulate

    path, label = grouped
    before, named, counts, (row,) = simulate(
        path, label, ["arcface"], NAMES, FIX, STEPS, False, tmp_path
    )
    assert counts["named"] >= 5
    after = row["after"]
    assert after["P"] >= before["P"] - TOLERANCE, (before, row)
    if row["adopted"] == "yes":
        assert after["F"] >= named["F"] - TOLERANCE, (named, row)
        assert after["F"] >= before["F"] - TOLERANCE, (before, row)
