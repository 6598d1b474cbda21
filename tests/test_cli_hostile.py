"""Every command with hostile arguments: a refusal is one line on stderr and a non-zero exit,
never a traceback (unexpected errors propagate here: FACE_ALBUM_DEBUG=1), never a raw control
character, never a hang. In-process for speed; pipes and FIFOs in subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from album.album import Album
from album.cli.main import COMMANDS, build_parser, main
from tests.fakes import draw_photo, fake_pipeline

REPO = Path(__file__).resolve().parents[1]
BIG = str(2**63)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
EVIL = "Eve\x1b[2J\nforged\u202e"

# (command, hostile argument lists); {fifo}, {dir}, {missing} and {lib} are filled in
HOSTILE = {
    "scan": [["{fifo}"], ["{missing}"], ["--min-face-size", "0"], ["--min-face-size", "-5"]],
    "stats": [["--bogus"]],
    "export": [
        ["-o", "{dir}"],
        ["-o", "{missing}/x.json"],
        ["-o", "/dev/full"],
        ["--format", "xml"],
    ],
    "detect": [["{fifo}"], ["{missing}"], ["{dir}"], ["--min-face-size", "0", "{missing}"]],
    "config": [
        ["min_face_size", "0"],
        ["min_face_size", "-5"],
        ["min_face_size", "x"],
        ["device", "tpu"],
    ],
    "verify": [
        ["--pairs", "{fifo}", "--images", "{dir}"],
        ["--pairs", "{missing}", "--images", "{dir}"],
    ],
    "people": [["--bogus"]],
    "person": [[BIG], ["-1"], ["0"], ["x"], ["99999"]],
    "search": [
        ["--face", BIG],
        ["--face", "0"],
        ["--face", "1", "--limit", "0"],
        ["--face", "1", "--threshold", "nan"],
        ["--image", "{fifo}"],
        ["--image", "{missing}"],
    ],
    "name": [[BIG, "x"], ["1", "x" * 1000], ["1", EVIL], ["99999", "x"]],
    "merge": [[BIG, "1"], ["1", BIG], ["99999", "99998"]],
    "move": [[BIG, "--to", "1"], ["1", "--to", BIG], ["99999", "--to", "1"]],
    "split": [[BIG], ["0"], ["99999"], ["1", "--threshold", "nan"]],
    "reject": [[BIG, "1"], ["1", BIG], ["99999", "1"]],
    "hide": [[BIG], ["0"], ["99999"]],
    "cover": [[BIG, "1"], ["1", BIG], ["99999", "1"]],
    "suggest": [["--accept", "0"], ["--decline", "-1"], ["--limit", "0"], ["--accept", "999"]],
    "undo": [["--bogus"]],
    "cluster": [["--threshold", "nan"], ["--threshold", "2"], ["--min-size", "0"]],
    "retrain": [["--steps", "x"], ["--reference", "{fifo}"]],
    "models": [["--bogus"]],
    "use-model": [[BIG], ["0"], ["99999"]],
    "check": [["--bogus"]],
    "backup": [["-o", "{lib}"], ["-o", "{missing}/x.db"]],
    "restore": [["{missing}"], ["{fifo}"]],
    "gui": [],  # opens a window: covered by the GUI tests
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from album import Library

    root = tmp_path_factory.mktemp("hostile-cli")
    photos = root / "photos"
    photos.mkdir()
    for i in range(3):
        draw_photo(photos / f"{i}.png", [("red", 10, 10, 60), ("blue", 150, 50, 50)])
    with Library(root / "library.db") as lib:
        Album(lib).scan([photos], pipeline=fake_pipeline())
    os.mkfifo(root / "fifo")
    (root / "dir").mkdir()
    return {
        "lib": str(root / "library.db"),
        "fifo": str(root / "fifo"),
        "dir": str(root / "dir"),
        "missing": str(root / "missing"),
    }


def test_every_command_is_covered():
    names = {
        build_parser()._subparsers._group_actions[0].choices[n].prog.split()[-1] for n in HOSTILE
    }
    assert len(COMMANDS) == len(HOSTILE) == len(names)


def _cases():
    for command, cases in HOSTILE.items():
        for argv in cases:
            yield pytest.param(command, argv, id=f"{command} {' '.join(argv)[:40]}")


@pytest.mark.parametrize("command, argv", list(_cases()))
def test_hostile_arguments_are_refused_in_one_line(world, command, argv, capsys, monkeypatch):
    monkeypatch.setenv("FACE_ALBUM_DEBUG", "1")  # a bug raises here instead of being summed up
    argv = [a.format(**world) for a in argv]
    try:
        status = main(["--library", world["lib"], command, *argv])
    except SystemExit as exit_:  # argparse's refusal: usage plus one error line
        status = exit_.code
    out, err = capsys.readouterr()
    assert status not in (0, None), (out, err)
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    assert not CONTROL.search(out) and not CONTROL.search(err)


def test_closed_pipe_is_quiet(world):
    cmd = [sys.executable, "-m", "album", "--library", world["lib"], "export"]
    with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        child.stdout.read(1)
        child.stdout.close()
        err = child.stderr.read()
    assert b"Traceback" not in err and child.returncode in (0, 141)


def test_evil_name_is_never_printed_raw(world, capsys):
    from album import Library
    from album.people import People

    with Library(world["lib"]) as lib:  # as the GUI or an older version could have stored it
        People(lib).name(1, EVIL)
    for argv in (["people"], ["person", "1"], ["export"], ["people", "--json"]):
        assert main(["--library", world["lib"], *argv]) == 0
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "forged" in out
        assert not any(line.startswith("forged") for line in out.splitlines())


def test_disk_full_during_export_leaves_nothing(world, tmp_path, capsys, monkeypatch):
    import errno

    import album.export as export

    target = tmp_path / "out.json"
    target.write_text("previous export")
    real = export.export_json

    def fill_disk(lib, out):
        real(lib, out)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "export_json", fill_disk)
    assert main(["--library", world["lib"], "export", "-o", str(target)]) == 2
    assert "disk full" in capsys.readouterr().err
    assert target.read_text() == "previous export" and os.listdir(tmp_path) == ["out.json"]


@pytest.mark.parametrize("kind", ["read-only", "symlink"])
def test_export_never_replaces_a_protected_target(world, tmp_path, kind):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("keep")
    target = tmp_path / "out.json"
    if kind == "symlink":
        target.symlink_to(elsewhere)
    else:
        target.write_text("keep")
        target.chmod(0o444)
    assert main(["--library", world["lib"], "export", "-o", str(target)]) == 2
    assert target.read_text() == "keep" and (kind != "symlink" or target.is_symlink())
