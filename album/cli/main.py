"""`face-album` command line: one small module per command, listed in `COMMANDS`.

Each command module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`.
With no command, the GUI opens.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from album.library.db import LibraryError

COMMANDS = [
    "album.cli.cmd_scan",
    "album.cli.cmd_stats",
    "album.cli.cmd_export",
    "album.cli.cmd_detect",
    "album.cli.cmd_config",
    "album.cli.cmd_verify",
    "album.cli.cmd_people",
    "album.cli.cmd_person",
    "album.cli.cmd_search",
    "album.cli.cmd_name",
    "album.cli.cmd_merge",
    "album.cli.cmd_move",
    "album.cli.cmd_split",
    "album.cli.cmd_reject",
    "album.cli.cmd_hide",
    "album.cli.cmd_cover",
    "album.cli.cmd_suggest",
    "album.cli.cmd_undo",
    "album.cli.cmd_cluster",
    "album.cli.cmd_gui",
    "album.cli.cmd_retrain",
    "album.cli.cmd_models",
    "album.cli.cmd_use_model",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="face-album",
        description="Organize a photo library by the people in it. With no command, opens the app.",
    )
    parser.add_argument(
        "--library",
        metavar="PATH",
        help="library database (default: $FACE_ALBUM_LIBRARY or the user data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from album.gui.app import main as gui_main

        return gui_main(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except LibraryError as error:
        print(f"face-album: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("face-album: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
