"""The library's tables, as typed SQLAlchemy 2.x ORM classes.

The database is the source of truth. Names and user decisions belong to faces (`Face.decision`,
`FaceRejection`), never to clusters, so re-clustering or a new model never loses them.
Schema changes go through `album.library.migrations`; a test checks the two agree.
"""

from __future__ import annotations

import enum
from datetime import datetime

import numpy as np
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Vector(TypeDecorator):
    """A float32 numpy vector stored as raw little-endian bytes."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return np.asarray(value, dtype="<f4").tobytes()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return np.frombuffer(value, dtype="<f4")

    def compare_values(self, x, y) -> bool:
        if x is None or y is None:
            return x is y
        return np.array_equal(np.ravel(x), np.ravel(y))


class FsText(TypeDecorator):
    """A file system path as TEXT, lossless for names that are not UTF-8.

    Python reads such names with surrogate escapes (`caf\\udce9.jpg` for the byte 0xE9), which
    SQLite's UTF-8 text cannot hold: those are stored as the name's raw bytes (a BLOB in the
    same column; unique and comparable like text) and read back as the same string."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape")
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, bytes):
            return value.decode("utf-8", "surrogateescape")
        return value


class PhotoStatus(enum.StrEnum):
    DONE = "done"
    ERROR = "error"  # unreadable; `Photo.error` says why; retried when the file changes
    MISSING = "missing"  # gone from disk; its faces and decisions are kept


class Decision(enum.StrEnum):
    NONE = "none"  # no person
    AUTO = "auto"  # put there by clustering or suggestion acceptance threshold
    CONFIRMED = "confirmed"  # the user said this face is this person
    NOT_FACE = "not_face"  # the user said this is not a face


class Base(DeclarativeBase):
    type_annotation_map = {np.ndarray: Vector, dict: JSON}


class Root(Base):
    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(FsText, unique=True)
    added_at: Mapped[datetime]


class ScanRun(Base):
    __tablename__ = "scan_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running / completed / interrupted
    counts: Mapped[dict] = mapped_column(default=dict)


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("root_id", "relpath"),
        Index("ix_photos_content_hash", "content_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id"))
    relpath: Mapped[str] = mapped_column(FsText)
    size: Mapped[int]
    mtime_ns: Mapped[int]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_at: Mapped[datetime | None]
    status: Mapped[PhotoStatus] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    scan_run_id: Mapped[int | None] = mapped_column(ForeignKey("scan_runs.id"))
    faces: Mapped[list[Face]] = relationship(back_populates="photo")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused (undo restores them)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    cover_face_id: Mapped[int | None] = mapped_column(
        ForeignKey("faces.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class Face(Base):
    __tablename__ = "faces"
    __table_args__ = (Index("ix_faces_photo", "photo_id"), Index("ix_faces_person", "person_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"))
    left: Mapped[float]
    top: Mapped[float]
    right: Mapped[float]
    bottom: Mapped[float]
    landmarks: Mapped[np.ndarray]  # (5, 2) float32, original-image pixels
    score: Mapped[float]
    quality: Mapped[float]  # face size in original pixels (box side); higher is better
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decision: Mapped[Decision] = mapped_column(String(16), default=Decision.NONE)
    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.right, self.bottom)


class FaceChip(Base):
    """The aligned crop, cached so re-embedding and retraining never re-decode photos."""

    __tablename__ = "face_chips"
    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    alignment: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    image: Mapped[bytes] = mapped_column(LargeBinary)  # PNG (lossless)


class Model(Base):
    __tablename__ = "models"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    backbone: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict]  # training.spec.ModelSpec as a dict (input spec, thresholds, ...)
    weights_path: Mapped[str | None] = mapped_column(Text)  # None: built in (the default model)
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"))
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    report: Mapped[dict | None]  # training / before-after report


class Embedding(Base):
    __tablename__ = "embeddings"
    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    vector: Mapped[np.ndarray]


class FaceRejection(Base):
    """The user said: this face is not that person. Never proposed again."""

    __tablename__ = "face_rejections"
    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime]


class Edit(Base):
    """One user action, with what is needed to undo it (the before-state, as JSON)."""

    __tablename__ = "edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict]
    undone: Mapped[bool] = mapped_column(default=False)


class Setting(Base):
    """Per-library settings (min face size, thresholds override, device...) as JSON values."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict]


class SavedGrouping(Base):
    """The groups a model left when the library switched to another one, given back exactly when
    it switches back (`album.people.placement`): one row per model not in use that has groups."""

    __tablename__ = "saved_groupings"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    saved_at: Mapped[datetime]
    last_edit_id: Mapped[int | None]  # edits after it were made under another model
    grouped_faces: Mapped[int]  # faces at the model's last full grouping
    people: Mapped[dict]  # unnamed people's rows by id: recreated if a regrouping deleted them


class SavedPlacement(Base):
    """Where a saved grouping had each face the user had not decided (AUTO or unsorted)."""

    __tablename__ = "saved_placements"
    __table_args__ = (Index("ix_saved_placements_face", "face_id"),)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("saved_groupings.model_id", ondelete="CASCADE"), primary_key=True
    )
    face_id: Mapped[int] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    # None: unsorted. Not a foreign key: people a regrouping deleted (ids are never reused)
    # are recreated from `SavedGrouping.people` on the way back.
    person_id: Mapped[int | None]
