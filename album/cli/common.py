"""Helpers shared by the command modules: opening the library, JSON and table output."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from album.library.library import Library


def open_library(args: argparse.Namespace) -> Library:
    return Library(args.library)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
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
