"""`face-album use-model ID`: switch the library to another model version (and back)."""

from __future__ import annotations

import argparse
import sys
import threading

from album.cli.common import add_json_flag, open_album, print_json, record_id, stop_on_ctrl_c

NAME = "use-model"
HELP = "switch to a model version (re-embeds only the faces it lacks)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_id", type=record_id, metavar="ID", help="see `face-album models`")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    import signal

    album = open_album(args)
    cancel = threading.Event()
    previous = stop_on_ctrl_c(cancel)

    def show(stage: str, done: int, total: int) -> None:
        if not args.json:
            print(f"\r{stage}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr)

    try:
        result = album.use_model(args.model_id, show, cancel, args.device)
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print_json(vars(result))
    elif result.switched:
        print(f"now using model {result.model_id} ({result.embedded} faces embedded)")
    else:
        print(f"stopped; still on the previous model (run again to finish {result.model_id})")
    return 0 if result.switched else 1
