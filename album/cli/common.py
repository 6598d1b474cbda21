"""Helpers shared by the command modules: opening the library, JSON and table output."""

from __future__ import annotations

import argparse
import json
import math
import re
import signal
import stat
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from album.album import Album
from album.library.library import Library


def open_library(args: argparse.Namespace) -> Library:
    """The library's storage alone (commands that only read or set what is stored)."""
    return Library(args.library)


def open_album(args: argparse.Namespace) -> Album:
    """The library with its scans, people, search and retraining."""
    return Album(args.library)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


MAX_ID = 2**63 - 1  # SQLite's INTEGER PRIMARY KEY range
MAX_NAME = 200  # characters in a person's name
# C0/C1 controls, DEL, and the bidi/zero-width controls that can forge or reorder output.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(value: Any) -> str:
    """`value` as one printable line: controls (ESC, newline, bidi overrides) and undecodable file
    name bytes (surrogate escapes) are written as backslash escapes, never raw."""
    return _CONTROL.sub(_escape, str(value))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _whole_number(text: str, what: str, out_of_range: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {shown(text)[:40]!r}") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{out_of_range}: {shown(text)[:40]}")
    return value


def record_id(text: str) -> int:
    """An argparse type for database ids: a whole number from 1 to 2**63 - 1."""
    return _whole_number(text, "an id", "no such id (ids are 1 to 2^63-1)")


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    return _whole_number(text, "a whole number", "must be at least 1")


def similarity(text: str) -> float:
    """An argparse type: a cosine similarity, a finite number in [-1, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {shown(text)[:40]!r}") from None
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a cosine similarity in [-1, 1]: {text[:40]}")
    return value


def person_name(text: str) -> str:
    """An argparse type: a name of at most MAX_NAME characters, without control characters."""
    if len(text) > MAX_NAME:
        raise argparse.ArgumentTypeError(f"a name has at most {MAX_NAME} characters")
    if _CONTROL.search(text):
        raise argparse.ArgumentTypeError(f"a name cannot hold control characters: {shown(text)}")
    return text


def regular_file(text: str) -> Path:
    """An argparse type: an existing regular file (a FIFO or a device would block or never end)."""
    path = Path(text)
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise argparse.ArgumentTypeError(f"{shown(text)}: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(f"{shown(text)}: not a regular file")
    return path


def print_json(data: Any) -> None:
    """JSON escapes controls itself; undecodable file name bytes come out as \\udcXX escapes."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[shown(h) for h in headers]] + [
        ["" if v is None else shown(v) for v in r] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def stop_on_ctrl_c(cancel: threading.Event):
    """First Ctrl-C: stop cleanly at the next step (checkpointed); second: abort now.
    Returns the previous handler, for `signal.signal(signal.SIGINT, previous)`."""

    def handler(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nStopping cleanly (Ctrl-C again to abort now)...", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)
