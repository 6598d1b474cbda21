"""Shared fixtures: tmp libraries, photo folders, the optional shared data set."""

from __future__ import annotations

from pathlib import Path

import pytest

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"


@pytest.fixture
def faces_dev() -> Path:
    if not (FACES_DEV / "labels.csv").is_file():
        pytest.skip("shared/data/faces-dev is not available")
    return FACES_DEV


@pytest.fixture
def library(tmp_path):
    from album import Library

    lib = Library(tmp_path / "library.db")
    yield lib
    lib.close()
