"""Model trust: the library's sha256 is checked on every load whatever the spec file says, the
weights path survives moving the library, bad thresholds are refused, refusals say how to go
back, and a model switch is backed up first."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from album import Library
from album.faces.embedder import load_default_spec
from album.library.backup import list_backups
from album.library.db import LibraryError
from album.library.models import ensure_model
from album.retrain.adopt import model_embedder, register_model, use_model
from training.backbones import create_backbone
from training.config import default_spec
from training.export import save_model
from training.spec import Thresholds

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mbf_files(folder: Path, seed: int, name: str = "tiny-mbf", thresholds=None):
    torch.manual_seed(seed)
    model = create_backbone("mbf", embedding_dim=32).eval()
    spec = default_spec("mbf", 32, name=name)
    if thresholds is not None:
        spec = spec.replace(thresholds=thresholds)
    return save_model(model, spec, folder)


@pytest.fixture
def lib_with_model(tmp_path):
    lib = Library(tmp_path / "album" / "library.db")
    with lib.transaction() as s:
        ensure_model(s, load_default_spec())  # model 1: built in, active
    models = lib.data_dir / "models"
    weights, spec_path = _mbf_files(models, seed=0)
    model_id = register_model(lib, spec_path, weights, 1, {})
    yield lib, model_id, weights, spec_path
    lib.close()


def test_weights_path_is_relative_and_survives_a_move(lib_with_model, tmp_path):
    lib, model_id, _, _ = lib_with_model
    assert lib.active_model_id() == 1
    assert model_embedder(lib, model_id, "cpu").spec.name == "tiny-mbf"
    lib.close()
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "album", moved)
    with Library(moved / "library.db") as again:
        assert model_embedder(again, model_id, "cpu").spec.embedding_dim == 32


def test_replaced_weights_are_refused_even_when_the_spec_has_no_sha(lib_with_model, tmp_path):
    lib, model_id, weights, spec_path = lib_with_model
    other, _ = _mbf_files(tmp_path / "other", seed=1)
    shutil.copy(other, weights)
    spec = json.loads(spec_path.read_text())
    spec["weights_sha256"] = None
    spec_path.write_text(json.dumps(spec))
    with pytest.raises(LibraryError, match=r"changed or replaced.*face-album use-model 1"):
        model_embedder(lib, model_id, "cpu")
    with pytest.raises(LibraryError, match="changed or replaced"):
        use_model(lib, model_id, device="cpu")
    assert lib.active_model_id() == 1


def test_tampered_active_model_is_one_line_in_the_cli(lib_with_model, tmp_path):
    lib, model_id, weights, _ = lib_with_model
    with lib.transaction() as s:
        from album.library.models import activate_model

        activate_model(s, model_id)
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    image = tmp_path / "face.png"
    from tests.fakes import draw_photo

    draw_photo(image, [("red", 10, 10, 60)])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "album",
            "--library",
            str(lib.path),
            "search",
            "--image",
            str(image),
        ],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr.decode()
    assert "changed or replaced" in lines[0] and "use-model 1" in lines[0]


def test_non_positive_threshold_is_never_adopted(lib_with_model, tmp_path):
    lib, _, _, _ = lib_with_model
    folder = lib.data_dir / "models"
    weights, spec_path = _mbf_files(folder, 2, "zero", Thresholds(same_person=0.0, suggestion=0.3))
    with pytest.raises(LibraryError, match="thresholds"):
        register_model(lib, spec_path, weights, 1, {})


def test_model_switch_is_backed_up_first(lib_with_model):
    lib, model_id, _, _ = lib_with_model
    assert use_model(lib, model_id, device="cpu").switched
    assert any(f"before-model-{model_id}" in p.name for p in list_backups(lib.path))


def test_check_reports_changed_weights_and_removes_orphans(lib_with_model, tmp_path):
    from album.library.models import activate_model
    from album.maintenance import repair

    lib, model_id, weights, _ = lib_with_model
    with lib.transaction() as s:
        activate_model(s, model_id)
    orphan, _ = _mbf_files(lib.data_dir / "models", seed=3, name="killed-retrain")
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    report = repair(lib)
    assert not orphan.exists() and any("killed-retrain" in line for line in report.repaired)
    assert weights.exists()
    (problem,) = report.problems
    assert "missing or changed" in problem and "use-model 1" in problem
