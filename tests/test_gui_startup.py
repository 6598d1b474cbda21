"""Starting the app where no window can open: one clear line and exit code 1, never Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from album.gui import startup

ROOT = Path(__file__).resolve().parents[1]


def run_gui(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**env, "FACE_ALBUM_LIBRARY": str(tmp_path / "library.db")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return subprocess.run(
        [sys.executable, "-m", "album", "gui"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def bare_env() -> dict[str, str]:
    drop = {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_no_display_says_so_in_one_line_and_points_to_the_cli(tmp_path):
    if not sys.platform.startswith("linux"):
        return  # Windows and macOS always have a screen
    result = run_gui(bare_env(), tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "face-album --help" in lines[0]


def test_unreachable_display_is_a_sentence_not_an_abort(tmp_path):
    if not sys.platform.startswith("linux"):
        return
    result = run_gui({**bare_env(), "DISPLAY": ":973", "QT_QPA_PLATFORM": "xcb"}, tmp_path)
    assert result.returncode == 1, result.stderr  # Qt alone aborts: 134
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("face-album cannot open a window") and "face-album --help" in line
    # either the display is named, or (xcb libraries missing) the packages to install are
    assert "display :973" in line or "sudo apt install" in line


def test_missing_libraries_are_named_with_their_packages(monkeypatch):
    monkeypatch.setattr(
        startup, "missing_libraries", lambda _p: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    )
    line = startup.explain("qt.qpa.plugin: Could not load the Qt platform plugin", "xcb")
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in line
    assert "libxcb-cursor0" not in line  # Qt's own message blames it whatever is missing


def test_debian_package_names():
    assert startup.debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert startup.debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert startup.debian_package("libEGL.so.1") == "libegl1"
    assert startup.debian_package("libdbus-1.so.3") == "libdbus-1-3"


def test_opencvs_qt_plugin_path_is_dropped_and_the_users_kept():
    env = {
        "QT_QPA_PLATFORM_PLUGIN_PATH": "/venv/site-packages/cv2/qt/plugins",
        "QT_QPA_FONTDIR": "/usr/share/fonts",
    }
    assert startup.clear_foreign_qt_paths(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {"QT_QPA_FONTDIR": "/usr/share/fonts"}


def test_offscreen_needs_no_check():
    assert startup.startup_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert startup.startup_problem({}, "win32") is None
