"""`face-album detect IMG... [--json] [--embed]`: the face pipeline on single images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from album.cli.common import add_json_flag, positive_int, print_json, print_table, shown
from album.imaging import ImageError, decode, read_file

NAME = "detect"
HELP = "find faces in images: boxes, 5 landmarks, scores (and embeddings with --embed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--embed", action="store_true", help="also output L2-normalized embeddings")
    parser.add_argument(
        "--min-face-size", type=positive_int, help="smallest face to find, in pixels"
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    add_json_flag(parser)


def _faces_json(records, model: str | None) -> list[dict]:
    out = []
    for r in records:
        face = {
            "box": [round(float(v), 2) for v in r.box],
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in r.landmarks],
            "score": round(float(r.score), 4),
        }
        if r.embedding is not None:
            face["model"] = model
            face["embedding"] = [round(float(v), 6) for v in r.embedding]
        out.append(face)
    return out


def run(args: argparse.Namespace) -> int:
    from album.faces.default import load_pipeline
    from album.faces.pipeline import scale_records
    from album.scan.scanner import PROCESS_MAX_SIDE

    pipeline = None  # loaded on the first readable image: bad paths fail fast
    results, failed = [], 0
    for path in args.images:
        try:
            decoded = decode(read_file(path), path.name, PROCESS_MAX_SIDE)
        except (OSError, ImageError) as error:
            print(f"skipped {shown(path)}: {shown(error)}", file=sys.stderr)
            failed += 1
            continue
        if pipeline is None:
            pipeline = load_pipeline(
                None, min_face_size=args.min_face_size, device=args.device, embed=args.embed
            )
        records = scale_records(pipeline.process(decoded.rgb), decoded.scale)
        results.append(
            {
                "image": str(path),
                "width": decoded.width,
                "height": decoded.height,
                "faces": _faces_json(records, pipeline.model_name),
            }
        )
    if args.json:
        print_json(results)
    else:
        rows = [
            (r["image"], i, *f["box"], f["score"])
            for r in results
            for i, f in enumerate(r["faces"])
        ]
        print_table(["image", "face", "left", "top", "right", "bottom", "score"], rows)
    return 2 if failed and not results else 0
