"""Writing one batch of scan results in one transaction.

A kill at any moment loses at most the batch in flight: a photo row is written together with its
faces, chips and embeddings, so a re-run finds the file unknown (or changed) and does it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from album.faces.types import FaceRecord
from album.library.library import GROUPING_PENDING
from album.library.schema import (
    Decision,
    Embedding,
    Face,
    FaceChip,
    Model,
    Photo,
    PhotoStatus,
    Setting,
)
from album.scan.plan import WorkItem

IOU_SAME_FACE = 0.5  # a re-detected face in an edited photo keeps its id and decisions above this
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failed:
    item: WorkItem
    content_hash: str | None
    message: str


@dataclass(frozen=True)
class Touched:
    """Same bytes as stored (only the timestamp changed), or a moved file found by its hash."""

    item: WorkItem
    content_hash: str
    moved_from: int | None = None


@dataclass(frozen=True)
class Processed:
    item: WorkItem
    content_hash: str
    width: int
    height: int
    taken_at: datetime | None
    faces: list[FaceRecord]


Outcome = Failed | Touched | Processed


def encode_chip(chip: np.ndarray) -> bytes:
    """Lossless PNG of an RGB chip (the embedder is sensitive to compression artefacts)."""
    ok, data = cv2.imencode(".png", chip[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("could not encode face chip")
    return data.tobytes()


def decode_chip(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def store_batch(
    session: Session, outcomes: list[Outcome], model_id: int | None, alignment: str, run_id: int
) -> list[int]:
    """Write the batch; returns the ids of faces that are new or re-detected. When there are
    any, the library's grouping-pending flag is set in the same transaction."""
    face_ids: list[int] = []
    for outcome in outcomes:
        if isinstance(outcome, Failed):
            _store_failed(session, outcome, run_id)
        elif isinstance(outcome, Touched):
            _store_touched(session, outcome, run_id)
        else:
            photo = _upsert_photo(session, outcome.item, outcome.content_hash, run_id)
            photo.status, photo.error = PhotoStatus.DONE, None
            photo.width, photo.height, photo.taken_at = (
                outcome.width,
                outcome.height,
                outcome.taken_at,
            )
            session.flush()
            face_ids += _store_faces(session, photo.id, outcome.faces, model_id, alignment)
    if face_ids:
        session.merge(Setting(key=GROUPING_PENDING, value={"v": True}))
    return face_ids


def _upsert_photo(session: Session, item: WorkItem, content_hash: str | None, run_id: int) -> Photo:
    photo = session.get(Photo, item.photo_id) if item.photo_id else None
    if photo is None:
        photo = Photo(root_id=item.root_id, relpath=item.relpath, status=PhotoStatus.DONE)
        session.add(photo)
    photo.size, photo.mtime_ns, photo.content_hash = item.size, item.mtime_ns, content_hash
    photo.scan_run_id = run_id
    return photo


def _store_failed(session: Session, outcome: Failed, run_id: int) -> None:
    photo = _upsert_photo(session, outcome.item, outcome.content_hash, run_id)
    photo.status, photo.error = PhotoStatus.ERROR, outcome.message


def _store_touched(session: Session, outcome: Touched, run_id: int) -> None:
    item = outcome.item
    if outcome.moved_from is None:
        photo = _upsert_photo(session, item, outcome.content_hash, run_id)
    else:
        photo = session.get(Photo, outcome.moved_from)
        photo.root_id, photo.relpath = item.root_id, item.relpath
        photo.size, photo.mtime_ns = item.size, item.mtime_ns
    photo.status = PhotoStatus.ERROR if photo.error else PhotoStatus.DONE


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _store_faces(
    session: Session, photo_id: int, records: list[FaceRecord], model_id: int | None, alignment: str
) -> list[int]:
    old = list(session.scalars(select(Face).where(Face.photo_id == photo_id)))
    same = _SameFace(session, old, model_id)
    ids = []
    for record in records:
        match = max(old, key=lambda f: _iou(f.box, record.box), default=None)
        if (
            match is not None
            and _iou(match.box, record.box) > IOU_SAME_FACE
            and same(match, record)
        ):
            old.remove(match)
            face = match  # an edited photo: the face keeps its id, person and decisions
        else:
            face = Face(photo_id=photo_id)
            session.add(face)
        face.left, face.top, face.right, face.bottom = record.box
        face.landmarks = record.landmarks.astype(np.float32)
        face.score = float(record.score)
        face.quality = float(min(record.box[2] - record.box[0], record.box[3] - record.box[1]))
        session.flush()
        _store_chip_and_embedding(session, face.id, record, model_id, alignment)
        ids.append(face.id)
    if old:
        _log_dropped(photo_id, old, same)
        session.execute(delete(Face).where(Face.id.in_([f.id for f in old])))
    return ids


class _SameFace:
    """Is a re-detected face (same place in an edited photo) still the same person? Its new
    embedding must reach the model's same-person threshold against the stored one: a photo
    replaced by another person's photo never inherits the old face's id, name or decisions."""

    def __init__(self, session: Session, old: list[Face], model_id: int | None) -> None:
        self.model_id = model_id
        self.threshold = self.vectors = None
        self.similarity: dict[int, float] = {}
        if model_id is None or not old:
            return
        spec = session.get(Model, model_id).spec
        self.threshold = float(spec["thresholds"]["same_person"])
        rows = session.execute(
            select(Embedding.face_id, Embedding.vector).where(
                Embedding.model_id == model_id, Embedding.face_id.in_([f.id for f in old])
            )
        )
        self.vectors = dict(rows.all())

    def __call__(self, face: Face, record: FaceRecord) -> bool:
        if self.vectors is None or record.embedding is None:
            return True  # no embedder in this pipeline: the box is all there is to go by
        stored = self.vectors.get(face.id)
        if stored is None:
            return False  # nothing to compare with: never assume
        similarity = float(np.dot(stored, record.embedding))
        self.similarity[face.id] = similarity
        return similarity >= self.threshold


def _log_dropped(photo_id: int, faces: list[Face], same: _SameFace) -> None:
    for face in faces:
        if face.person_id is None and face.decision == Decision.NONE:
            continue
        similarity = same.similarity.get(face.id)
        why = (
            f"similarity {similarity:.2f} < {same.threshold:.2f}"
            if similarity is not None
            else "no face there any more"
        )
        log.warning(
            "photo %d changed: face %d (person %s, %s) no longer matches (%s); its decision "
            "was dropped",
            photo_id,
            face.id,
            face.person_id,
            face.decision,
            why,
        )


def _store_chip_and_embedding(
    session: Session, face_id: int, record: FaceRecord, model_id: int | None, alignment: str
) -> None:
    session.merge(
        FaceChip(
            face_id=face_id,
            alignment=alignment,
            size=int(record.chip.shape[0]),
            image=encode_chip(record.chip),
        )
    )
    if model_id is not None and record.embedding is not None:
        session.merge(Embedding(face_id=face_id, model_id=model_id, vector=record.embedding))
