"""`face-album export --format json [-o FILE]`: everything the library knows (see README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from album.cli.common import open_library, shown
from album.export import export_json, export_to_file

NAME = "export"
HELP = "export photos, faces and people as JSON (schema face-album/export/1)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["json"], default="json")
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (default: standard output)"
    )


def run(args: argparse.Namespace) -> int:
    lib = open_library(args)
    if args.output:
        count = export_to_file(lib, args.output)
        print(f"exported {count} photos to {shown(args.output)}", file=sys.stderr)
    else:
        export_json(lib, sys.stdout)
    return 0
