"""Shared fixtures: tmp libraries, the optional shared data set, and (as plugins) the detector's
sample photos and the synthetic people library."""

from __future__ import annotations

from pathlib import Path

import pytest

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"

# fixtures shared by several test modules, kept beside their helpers
pytest_plugins = ("tests.detector_support", "tests.people_support")


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


@pytest.fixture
def one_torch_thread():
    """Tiny tensor ops: a second intra-op thread only adds synchronisation (and thrashes on a
    busy 2-core CI machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
