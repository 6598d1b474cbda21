"""`face-album gui` on a real X server (Xvfb, Qt's xcb platform), not offscreen.

The offscreen tests never load the xcb plugin, so a missing system library (the app aborted
with exit 134 on such machines) went unnoticed. Here the real command opens a scanned library:
the window must show (a screenshot of the screen is not blank) and SIGTERM must close it with
exit code 0. Skipped without Xvfb, unless FACE_ALBUM_REQUIRE_XVFB=1 (as `.ci/run` sets).
Screenshots go to $FACE_ALBUM_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GRAB = (
    "import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication([]); "
    "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)"
)
SCREEN = (1280, 720)


@pytest.fixture
def display():
    """A fresh Xvfb server; its display name."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None or not sys.platform.startswith("linux"):
        if os.environ.get("FACE_ALBUM_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb is required here (apt-get install xvfb)")
        pytest.skip("Xvfb is not installed")
    read, write = os.pipe()
    size = f"{SCREEN[0]}x{SCREEN[1]}x24"
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(10)


def grab(env: dict[str, str], path: Path) -> np.ndarray | None:
    done = subprocess.run([sys.executable, "-c", GRAB, str(path)], env=env, capture_output=True)
    return np.asarray(Image.open(path).convert("RGB")) if done.returncode == 0 else None


def looks_like_a_window(pixels: np.ndarray | None) -> bool:
    """Xvfb with no window manager is one flat colour; the app covers much of it with detail."""
    if pixels is None:
        return False
    background = pixels[0, -1]  # the window opens at the top left; this corner stays bare
    covered = np.any(pixels != background, axis=2).mean()
    colours = len(np.unique(pixels.reshape(-1, 3)[::97], axis=0))
    return covered > 0.3 and colours > 20


def scanned_library(tmp_path: Path) -> Path:
    from album import Album
    from tests.fakes import fake_pipeline
    from tests.gui_support import make_folder

    with Album(tmp_path / "library.db") as album:
        album.scan([make_folder(tmp_path / "photos")], pipeline=fake_pipeline())
    return tmp_path / "library.db"


def test_the_app_opens_on_xcb_and_closes_cleanly(display, tmp_path):
    library = scanned_library(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "album", "--library", str(library), "gui"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    shot, shown = tmp_path / "screen.png", False
    try:
        deadline = time.monotonic() + 90
        while not shown and app.poll() is None and time.monotonic() < deadline:
            time.sleep(1.0)
            shown = looks_like_a_window(grab(env, shot))
        if not shown and app.poll() is None:
            app.kill()
        assert app.poll() is None, f"the app exited ({app.returncode}):\n{app.stdout.read()}"
        assert shown, "no window appeared within 90 s"
        time.sleep(2)  # let the people grid's covers arrive for the screenshot
        grab(env, shot)
        keep = os.environ.get("FACE_ALBUM_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / "xcb-smoke.png")
        app.send_signal(signal.SIGTERM)
        code = app.wait(60)
    finally:
        if app.poll() is None:
            app.kill()
    assert code == 0, app.stdout.read()
