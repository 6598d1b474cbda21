"""`face-album verify --pairs PAIRS --images ROOT [--json]`: verification accuracy on raw photos.

LFW layout: `ROOT/Name/Name_0001.jpg`. Each photo goes through our detector and aligner (the face
nearest the photo's centre, as LFW centres its subject; the central region when none is found),
then the training module's evaluation: 10-fold accuracy, TAR@FAR and the recommended threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from album.cli.common import add_json_flag, regular_file, shown
from album.imaging import ImageError, load_rgb

NAME = "verify"
HELP = "face verification accuracy on LFW-layout photos (pairs.txt + ROOT/Name/Name_0001.jpg)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=regular_file, required=True, help="LFW-format pairs.txt")
    parser.add_argument("--images", type=Path, required=True, help="ROOT/Name/Name_0001.jpg")
    parser.add_argument("--no-flip", action="store_true", help="no flip-fused features")
    parser.add_argument("--folds", type=int, default=10)
    add_json_flag(parser)


def _central_box(shape) -> np.ndarray:
    h, w = shape[:2]
    return np.array([[w * 0.25, h * 0.25, w * 0.75, h * 0.75]])


def face_chip(pipeline, image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The aligned chip of the face nearest the centre; (chip, True) if the centre was used."""
    dets, points = pipeline.locate([image])[0]
    if dets:
        centre = np.array([image.shape[1], image.shape[0]]) / 2
        boxes = np.array([d.box for d in dets])
        middles = (boxes[:, :2] + boxes[:, 2:]) / 2
        best = int(np.argmin(np.linalg.norm(middles - centre, axis=1)))
        return pipeline.aligner.align(image, points[best : best + 1])[0], False
    if pipeline.landmarks is None:  # keypoints only come with detections: resize the centre
        left, top, right, bottom = _central_box(image.shape)[0].astype(int)
        size = (pipeline.aligner.size, pipeline.aligner.size)
        return cv2.resize(image[top:bottom, left:right], size, interpolation=cv2.INTER_AREA), True
    points = pipeline.landmarks.predict(image, _central_box(image.shape))
    return pipeline.aligner.align(image, points)[0], True


def run(args: argparse.Namespace) -> int:
    from album.faces.default import load_pipeline
    from album.library.library import Library
    from album.scan.store import encode_chip
    from training.evaluate import evaluate_pairs, lfw_pairs
    from training.evaluate_cli import format_report

    try:
        pairs = lfw_pairs(args.pairs, args.images, args.folds)
    except (OSError, ValueError) as error:
        print(f"verify: {shown(error)}", file=sys.stderr)
        return 1
    pipeline = load_pipeline(Library(args.library) if args.library else None)
    chips, centred = [], 0
    for path in pairs.images:
        try:
            chip, used_centre = face_chip(pipeline, load_rgb(path))
        except ImageError as error:
            print(f"verify: {shown(path)}: {shown(error)}", file=sys.stderr)
            return 1
        chips.append(encode_chip(chip))
        centred += used_centre
    pairs = dataclasses.replace(pairs, images=chips)
    report = evaluate_pairs(pipeline.embedder.embed, pairs, None, flip=not args.no_flip)
    spec = pipeline.embedder.spec
    notes = [f"{centred} of {len(chips)} photos had no face found; their centre was used"]
    if args.json:
        print(
            json.dumps(
                {
                    "pairs": str(args.pairs),
                    "model": spec.name,
                    "flip": not args.no_flip,
                    "photos": len(chips),
                    "no_face_found": centred,
                }
                | report.to_dict(),
                indent=2,
            )
        )
    else:
        print(format_report(report, pairs, spec, not args.no_flip, notes))
    return 0
