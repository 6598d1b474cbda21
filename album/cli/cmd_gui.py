"""`face-album gui [PATH]`: open the app, on a photo folder (added and scanned) or a library file."""

from __future__ import annotations

import argparse

NAME = "gui"
HELP = "open the app (on a photo folder, or a library file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="photo folder to add and scan, or a library .db")


def run(args: argparse.Namespace) -> int:
    from album.gui.app import main as gui_main

    argv = ["--library", args.library] if args.library else []
    return gui_main(argv + ([args.path] if args.path else []))
