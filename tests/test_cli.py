"""The public command line: scan, stats, export and detect, with their JSON shapes."""

from __future__ import annotations

import json
import shutil

import pytest

from album.album import Album
from album.cli.main import main
from album.demo import demo_folder
from tests.fakes import draw_photo, fake_pipeline


def run_json(capsys, *argv) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def filled_library(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    draw_photo(folder / "a.png", [("red", 10, 10, 60), ("blue", 150, 50, 50)])
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    Album(library).scan([folder], pipeline=fake_pipeline())
    return library


def test_stats_json(filled_library, capsys):
    stats = run_json(capsys, "--library", str(filled_library.path), "stats", "--json")
    assert (stats["photos"], stats["faces"], stats["models"]) == (2, 2, 1)
    assert stats["photos_by_status"] == {"done": 1, "error": 1}


def test_export_json_documented_shape(filled_library, capsys, tmp_path):
    data = run_json(capsys, "--library", str(filled_library.path), "export", "--format", "json")
    assert data["schema"] == "face-album/export/1"
    photos = {p["path"]: p for p in data["photos"]}
    assert photos["broken.jpg"]["status"] == "error" and photos["broken.jpg"]["error"]
    face = photos["a.png"]["faces"][0]
    assert set(face) == {
        "id",
        "box",
        "landmarks",
        "score",
        "quality",
        "person_id",
        "person_name",
        "decision",
    }
    assert face["box"] == [10.0, 10.0, 70.0, 70.0] and len(face["landmarks"]) == 5
    out = tmp_path / "export.json"
    assert main(["--library", str(filled_library.path), "export", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["photos"] == data["photos"]


def test_library_from_environment(filled_library, capsys, monkeypatch):
    monkeypatch.setenv("FACE_ALBUM_LIBRARY", str(filled_library.path))
    assert run_json(capsys, "stats", "--json")["faces"] == 2


@pytest.mark.slow
def test_scan_and_detect_with_the_default_models(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(demo_folder() / "t1.jpg", folder / "group.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    lib = str(tmp_path / "lib.db")
    summary = run_json(capsys, "--library", lib, "scan", str(folder), "--json")
    assert summary["new"] == 1 and summary["errors"] == 1 and summary["faces_found"] >= 5
    again = run_json(capsys, "--library", lib, "scan", "--json")
    assert again["unchanged"] == 2 and again["faces_found"] == 0
    detected = run_json(capsys, "detect", str(folder / "group.jpg"), "--json", "--embed")
    faces = detected[0]["faces"]
    assert len(faces) == summary["faces_found"]
    vector = faces[0]["embedding"]
    assert abs(sum(v * v for v in vector) - 1) < 1e-3 and faces[0]["model"]


def test_python_m_album_help():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "album", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "scan" in out.stdout and "export" in out.stdout


def test_config_sets_and_shows_settings(library, capsys):
    lib = str(library.path)
    assert run_json(capsys, "--library", lib, "config", "min_face_size", "60", "--json") == {
        "min_face_size": 60
    }
    assert run_json(capsys, "--library", lib, "config", "--json")["min_face_size"] == 60
    assert main(["--library", lib, "config", "device", "tpu"]) == 2
    assert "device must be" in capsys.readouterr().err
    assert main(["--library", lib, "config", "detector_precision", "int4"]) == 2
    assert "detector_precision must be" in capsys.readouterr().err
    assert run_json(capsys, "--library", lib, "config", "detector_precision", "fp32", "--json") == {
        "detector_precision": "fp32"
    }
