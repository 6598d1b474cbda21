"""`face-album` command line: one small module per command, listed in `COMMANDS`.

Each command module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`.
With no command, the GUI opens.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from album.cli.common import shown
from album.library.db import LibraryError

DEBUG_ENV = "FACE_ALBUM_DEBUG"  # set to 1: unexpected errors show their traceback

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
    "album.cli.cmd_check",
    "album.cli.cmd_backup",
    "album.cli.cmd_restore",
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
    """Run one command. Every failure is one line on stderr and a non-zero exit status:
    2 for a refusal (bad input, unusable library or file), 130 for Ctrl-C, 141 for a closed
    output pipe, 70 for an unexpected error (a bug: `FACE_ALBUM_DEBUG=1` shows its traceback)."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        from album.gui.app import main as gui_main

        return gui_main(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        _silence_stdout()  # `face-album people | head`: the reader has what it wanted
        return 141
    except Exception as error:  # noqa: BLE001 - the one error boundary of the command line
        return _fail(*_describe(error))


def _describe(error: Exception) -> tuple[str, int]:
    """The user's one-line message for an error, and the exit status."""
    from sqlalchemy.exc import DBAPIError

    from album.faces.embedder import WeightsRefused
    from album.faces.insightface_pack import PackInvalid
    from album.imaging import ImageError
    from album.library.backup import BackupError
    from album.people import PeopleError

    if isinstance(error, LibraryError | PeopleError | ImageError | WeightsRefused | BackupError):
        return str(error), 2
    if isinstance(error, PackInvalid | ImportError):  # a damaged pack, a missing extra
        return str(error), 2
    if isinstance(error, DBAPIError):
        return f"library database error: {error.orig}", 2
    if isinstance(error, OSError):
        return _os_message(error), 2
    if isinstance(error, MemoryError):
        return "out of memory", 2
    if os.environ.get(DEBUG_ENV):
        raise error
    return f"internal error ({type(error).__name__}: {error}); {DEBUG_ENV}=1 shows where", 70


def _os_message(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return f"disk full{where} (nothing was replaced)"
    return f"{error.strerror or error}{where}"


def _fail(message: str, status: int) -> int:
    text = shown(message)
    if len(text) > 2000:
        text = text[:2000] + "..."
    try:
        print(f"face-album: {text}", file=sys.stderr)
    except OSError:
        pass
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
