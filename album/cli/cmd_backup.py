"""`face-album backup [-o FILE]`: a consistent copy of the library database, safe while it is in
use (SQLite's backup API). Automatic copies are also made before upgrades and model switches."""

from __future__ import annotations

import argparse
from pathlib import Path

from album.cli.common import add_json_flag, print_json, print_table, shown

NAME = "backup"
HELP = "copy the library database (default: into <library>.data/backups); --list shows copies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="write the copy here instead")
    parser.add_argument("--list", action="store_true", help="list the backups, copy nothing")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from album.library.backup import copy_database, list_backups, make_backup
    from album.library.db import LibraryError

    path = library_path(args)
    if args.list:
        return _print_list(args, list_backups(path))
    if not path.is_file():
        raise LibraryError(f"no library at {path}")
    if args.output is not None:
        if args.output.exists() or args.output.is_symlink():
            raise LibraryError(f"not replacing {args.output}: it exists")
        if not args.output.parent.is_dir():
            raise LibraryError(f"no folder {args.output.parent}")
        copy_database(path, args.output)
        target = args.output
    else:
        target = make_backup(path, "manual", automatic=False)
    if args.json:
        print_json({"library": str(path), "backup": str(target)})
    else:
        print(f"backed up to {shown(target)}")
    return 0


def library_path(args: argparse.Namespace) -> Path:
    from album.library.library import Library, default_library_path

    return Library.resolve_path(args.library) if args.library else default_library_path()


def _print_list(args: argparse.Namespace, backups: list[Path]) -> int:
    rows = [(str(p), f"{p.stat().st_size / 1e6:.1f} MB") for p in backups]
    if args.json:
        print_json([{"path": p, "size": s} for p, s in rows])
    else:
        print_table(["BACKUP (oldest first)", "SIZE"], rows)
    return 0
