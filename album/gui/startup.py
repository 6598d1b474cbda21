"""Can a window open here? Asked before Qt starts, so a missing library is a sentence, not an abort.

Qt aborts the whole process (SIGABRT, exit 134) when its platform plugin cannot load: no display,
or a system library the xcb plugin needs is missing (Qt's own message then blames
`libxcb-cursor0` whatever is really missing). So `main` first opens a throw-away Qt application
in a child process (~0.1 s); if that dies, `startup_problem` says why in one line, naming the
missing libraries (found with `ldd`) and the packages that hold them.

This module imports no Qt: it runs before Qt is loaded in the app's process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import MutableMapping
from pathlib import Path

CLI_HINT = "the command line (face-album --help), which needs no display"
NO_CHECK_PLATFORMS = {"offscreen", "minimal", "vnc"}  # need no display and no extra library
PROBE = "from PySide6.QtGui import QGuiApplication; QGuiApplication(['face-album-probe'])"
PROBE_TIMEOUT_S = 20
FOREIGN_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def clear_foreign_qt_paths(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Drop Qt plugin/font paths that `import cv2` points at its own bundled Qt (opencv-python
    sets them on import); our Qt must load its own plugins. Paths the user set elsewhere stay.
    Returns the names removed."""
    removed = []
    for name in FOREIGN_QT_VARIABLES:
        value = environ.get(name)
        if value and "cv2" in Path(value).parts:
            del environ[name]
            removed.append(name)
    return removed


def startup_problem(
    environ: MutableMapping[str, str] = os.environ, platform: str = sys.platform
) -> str | None:
    """Why no window can open here, as one line for the terminal; None when it can."""
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None  # Windows and macOS always have their platform plugin and a screen
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen in NO_CHECK_PLATFORMS:
        return None
    if not chosen and not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return (
            "face-album cannot open a window: there is no display (DISPLAY and WAYLAND_DISPLAY "
            f"are not set); start it from a desktop session, or use {CLI_HINT}"
        )
    failure = probe(environ)
    return None if failure is None else explain(failure, chosen or "xcb")


def probe(environ: MutableMapping[str, str]) -> str | None:
    """Open a Qt application in a child process; None if it worked, else what it printed."""
    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            env=dict(environ),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # cannot tell: let Qt try for real
    return None if result.returncode == 0 else result.stderr or f"exit {result.returncode}"


def explain(failure: str, platform: str) -> str:
    """One line from the probe's output: missing libraries by package, else Qt's reason."""
    missing = missing_libraries(platform)
    if missing:
        packages = " ".join(debian_package(lib) for lib in missing)
        return (
            f"face-album cannot open a window: Qt's {platform} plugin needs "
            f"{', '.join(missing)}, not installed here. Install them (Debian/Ubuntu: "
            f"sudo apt install {packages}), or use {CLI_HINT}"
        )
    display = re.search(r"could not connect to display ?(\S*)", failure)
    if display:
        where = display.group(1) or "the display"
        return f"face-album cannot open a window: cannot connect to display {where}; use {CLI_HINT}"
    reason = _first_qt_line(failure)
    return f"face-album cannot open a window ({reason}); use {CLI_HINT}"


def missing_libraries(platform: str) -> list[str]:
    """Shared libraries the Qt platform plugin links to that are not installed (via `ldd`)."""
    plugin = _plugin_file(platform)
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = re.findall(r"^\s*(\S+) => not found", out, re.MULTILINE)
    return list(dict.fromkeys(found))


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a library: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0, libEGL.so.1 -> libegl1."""
    match = re.fullmatch(r"(lib.+?)\.so\.(\d+).*", soname)
    if match is None:
        return soname
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def _plugin_file(platform: str) -> Path | None:
    try:
        import PySide6  # the package only: no Qt library is loaded by this import
    except ImportError:
        return None
    folder = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms"
    name = {"wayland": "libqwayland.so"}.get(platform, f"libq{platform}.so")
    path = folder / name
    return path if path.is_file() else None


def _first_qt_line(failure: str) -> str:
    lines = [line.strip() for line in failure.splitlines() if line.strip()]
    useful = [line for line in lines if "Could not load the Qt platform plugin" in line]
    return (useful or lines or ["Qt could not start"])[0].rstrip(".")
