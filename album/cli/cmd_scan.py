"""`face-album scan [FOLDER...]`: find and recognize the faces in photo folders."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from album import settings
from album.cli.common import (
    add_json_flag,
    open_album,
    positive_int,
    print_json,
    shown,
    stop_on_ctrl_c,
)
from album.demo import demo_folder

NAME = "scan"
HELP = "scan photo folders for faces (only new and changed photos; Ctrl-C stops cleanly)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folders",
        nargs="*",
        type=Path,
        help="photo folders (default: the library's folders; a demo folder if it has none)",
    )
    parser.add_argument(
        "--min-face-size", type=positive_int, help="smallest face to find, in pixels"
    )
    parser.add_argument("--device", choices=settings.DEVICES, help="where models run")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json_flag(parser)


class _ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=p.photos_total, unit="photo", dynamic_ncols=True, file=sys.stderr)
        self.bar.set_postfix(faces=p.faces_found, errors=p.errors, refresh=False)
        self.bar.update(p.photos_done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    album = open_album(args)
    lib = album.library
    folders = list(args.folders)
    if not folders and not lib.roots():
        folders = [demo_folder()]
        print(f"No folder given: scanning the demo photos in {shown(folders[0])}", file=sys.stderr)
    chosen = {k: getattr(args, k) for k in ("min_face_size", "device")}
    settings.write(lib, **{k: v for k, v in chosen.items() if v is not None})
    cancel = threading.Event()
    previous = stop_on_ctrl_c(cancel)
    bar = _ProgressBar(not args.quiet and not args.json)
    try:
        summary = album.scan(
            folders or None,
            progress=bar,
            cancel=cancel,
            on_error=lambda path, message: print(
                f"skipped {shown(path)}: {shown(message)}", file=sys.stderr
            ),
        )
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json(
            {"library": str(lib.path), **summary.counts(), "stage_seconds": summary.stage_seconds}
        )
    else:
        _print_summary(summary, lib)
    return 130 if summary.interrupted else 0


def _print_summary(s, lib) -> None:
    state = "stopped early (run again to resume)" if s.interrupted else "done"
    print(
        f"Scan {state} in {s.seconds:.1f} s: {s.photos_seen} photos seen, {s.new} new, "
        f"{s.changed} changed, {s.moved} moved, {s.unchanged} unchanged, {s.missing} missing, "
        f"{s.errors} skipped with errors"
        + (f", {s.unsupported} in formats that need an extra" if s.unsupported else "")
        + f"; {s.faces_found} faces found."
    )
    stats = lib.stats()
    print(
        f"Library {shown(lib.path)}: {stats['photos']} photos, {stats['faces']} faces, "
        f"{stats['people']} people."
    )
