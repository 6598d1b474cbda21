"""`face-album restore [BACKUP]`: put a backup back (default: the newest). The current database
is copied aside first; nothing else may have the library open meanwhile."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli.cmd_backup import library_path
from album.cli.common import add_json_flag, print_json, shown

NAME = "restore"
HELP = "replace the library database by a backup (default: the newest; see backup --list)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backup", nargs="?", type=Path, help="a backup file (default: newest)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from album.library.backup import list_backups, restore_backup
    from album.library.db import LibraryError
    from album.scan.lock import ScanLocked, scan_lock

    path = library_path(args)
    backups = list_backups(path)
    source = args.backup or (backups[-1] if backups else None)
    if source is None:
        raise LibraryError(f"no backups of {path} (see `face-album backup`)")
    if not source.is_file():
        raise LibraryError(f"no backup file {source}")
    try:
        with scan_lock(path.with_name(path.name + ".data")):
            aside = restore_backup(path, source)
    except ScanLocked as error:
        raise LibraryError(f"not restoring: {error}") from error
    if args.json:
        print_json({"library": str(path), "restored": str(source), "previous": str(aside)})
    else:
        print(f"restored {shown(source)}")
        if aside is not None:
            print(f"the database it replaced is kept as {shown(aside)}")
    return 0
