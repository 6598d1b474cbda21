"""Putting a model into use: record it, re-embed every face from its cached chip, switch.

The switch is safe against a kill at any moment. New embeddings are written under the new
model's id (one transaction per batch) while the library keeps using the old model, whose
embeddings are never touched; `active` moves in one final transaction, after the last face has
its new embedding. A kill before that leaves the library on the old, complete model, and the
next `adopt`/`use_model` resumes with the faces still missing. Switching back to a model whose
embeddings are all there is only that last transaction.

Groups belong to the model that formed them: that final transaction also saves the old model's
groups and gives the new model its own (`album.people.placement`), so switching back is exact,
with only the user's decisions made since replayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session
from torch import nn

from album.faces.embedder import (
    TorchEmbedder,
    WeightsRefused,
    load_default_spec,
    load_trusted_backbone,
)
from album.library.backup import BackupError, make_backup
from album.library.db import LibraryError
from album.library.library import Library
from album.library.models import activate_model, ensure_model, model_spec
from album.library.schema import Embedding, FaceChip, Model, Setting
from album.people import People, assign
from album.people.api import GROUPED_AT_KEY
from album.people.placement import drop_saved_groups, restore_groups, save_groups
from album.scan.store import decode_chip
from training.backbones import create_backbone
from training.spec import ModelSpec, sha256_file

BATCH = 256  # faces per transaction while re-embedding
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Switched:
    model_id: int
    switched: bool  # False: cancelled before the switch (the old model is still active)
    embedded: int  # faces embedded by this call
    placed: int = 0  # faces whose person or decision the switch changed
    restored: bool = False  # the model's own saved groups came back (else: regrouped under it)


def load_trainable(lib: Library, model_id: int) -> tuple[nn.Module, ModelSpec]:
    """The model's backbone as a trainable module, and its spec (the library's copy). Retrained
    weights are checked against the sha256 the library recorded before they are parsed."""
    with lib.session() as s:
        row = s.get(Model, model_id)
        if row is None:
            raise LibraryError(f"no model {model_id}")
        spec, weights, sha = ModelSpec.from_dict(row.spec), row.weights_path, row.weights_sha256
    if weights is None:  # built in: the pretrained registry weights
        return create_backbone(spec.backbone, pretrained=True), spec
    try:
        model = load_trusted_backbone(lib.weights_file(weights), spec, sha or "")
    except WeightsRefused as error:
        back = lib.builtin_model_id()
        hint = f"; go back with `face-album use-model {back}`" if back else ""
        raise LibraryError(f"model {model_id}: {error}{hint}") from error
    return model.eval(), spec


def model_embedder(lib: Library, model_id: int, device: str = "auto") -> TorchEmbedder:
    """The inference embedder of any model the library knows."""
    model, spec = load_trainable(lib, model_id)
    return TorchEmbedder(spec, model, device)


def check_thresholds(spec: ModelSpec) -> None:
    """A model whose thresholds are not positive cosines would join everyone: never adopted."""
    values = (spec.thresholds.same_person, spec.thresholds.suggestion)
    if not all(isinstance(v, int | float) and 0 < v <= 1 for v in values):
        raise LibraryError(f"model {spec.name} has thresholds {values}, not in (0, 1]: refused")


def register_model(
    lib: Library, spec_path: str | Path, weights_path: str | Path, parent_id: int | None, report
) -> int:
    """Record a model file pair (inactive); returns its id. Idempotent by name. The library
    records the weights' own sha256 (checked against the spec's when it has one) and their
    path relative to its data folder."""
    spec = ModelSpec.from_json(Path(spec_path).read_text())
    sha = sha256_file(weights_path)
    if spec.weights_sha256 and spec.weights_sha256 != sha:
        raise LibraryError(f"{weights_path} does not match the sha256 in {spec_path}: refused")
    check_thresholds(spec)
    spec = spec.replace(weights_sha256=sha)
    with lib.transaction() as s:
        model_id = ensure_model(s, spec, lib.stored_weights_path(weights_path), parent_id)
        row = s.get(Model, model_id)
        row.report = report
        return model_id


def _missing(session: Session, model_id: int, alignment: str, limit: int | None = None):
    """(face id, chip bytes) of faces with a chip but no embedding for `model_id`."""
    query = (
        select(FaceChip.face_id, FaceChip.image)
        .outerjoin(
            Embedding, and_(Embedding.face_id == FaceChip.face_id, Embedding.model_id == model_id)
        )
        .where(Embedding.face_id.is_(None), FaceChip.alignment == alignment)
        .order_by(FaceChip.face_id)
    )
    return session.execute(query.limit(limit) if limit else query).all()


def _count_missing(session: Session, model_id: int, alignment: str) -> int:
    has_chip = select(func.count()).select_from(FaceChip).where(FaceChip.alignment == alignment)
    embedded = (
        select(func.count())
        .select_from(Embedding)
        .join(FaceChip, FaceChip.face_id == Embedding.face_id)
        .where(Embedding.model_id == model_id, FaceChip.alignment == alignment)
    )
    return session.scalar(has_chip) - session.scalar(embedded)


def _embed_rows(session: Session, embedder: TorchEmbedder, model_id: int, rows) -> None:
    chips = np.stack([decode_chip(r.image) for r in rows])
    vectors = embedder.embed(chips)
    session.add_all(
        Embedding(face_id=r.face_id, model_id=model_id, vector=v)
        for r, v in zip(rows, vectors, strict=True)
    )


def reembed(
    lib: Library,
    model_id: int,
    embedder: TorchEmbedder,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Embed every face that lacks an embedding for `model_id`, BATCH faces per transaction.
    Returns how many were embedded; stops early (consistently) when `cancel` is set."""
    alignment = embedder.spec.alignment
    with lib.session() as s:
        total = _count_missing(s, model_id, alignment)
    done = 0
    while done < total and not (cancel is not None and cancel.is_set()):
        with lib.transaction() as s:
            rows = _missing(s, model_id, alignment, BATCH)
            if not rows:
                break
            _embed_rows(s, embedder, model_id, rows)
        done += len(rows)
        if progress is not None:
            progress("reembed", done, total)
    return done


def switch_to(lib: Library, model_id: int, embedder: TorchEmbedder) -> tuple[int, bool]:
    """Activate `model_id` in one transaction, first embedding any face a concurrent scan added
    meanwhile, so the active model never lacks a face. The same transaction saves the groups of
    the model switched away from and gives `model_id` its own groups back: the ones it left
    (`album.people.placement`: decisions made since are replayed, faces scanned since placed
    with `assign_new`), or, for a model never used here, a regrouping of every face not
    confirmed under its geometry (not an undoable edit). A kill at any moment leaves the old
    model active with its groups, or the new one with its own. Returns (faces whose placement
    changed, whether saved groups came back)."""
    people = People(lib, model_id)
    index, threshold, settings = people.index(), people.cluster_threshold(), people.settings()
    with lib.transaction() as s:
        rows = _missing(s, model_id, embedder.spec.alignment)
        if rows:
            _embed_rows(s, embedder, model_id, rows)
        leaving = s.scalar(select(Model.id).where(Model.active))
        if leaving == model_id:
            return 0, False
        if leaving is not None:
            save_groups(s, leaving, _grouped_faces(s))
        activate_model(s, model_id)
        restored = restore_groups(s, model_id)
        if restored is None:
            change = assign.recluster(
                s, index, threshold, settings.min_size, settings.k, logged=False
            )
            _set_grouped_faces(s, len(index))
            return len(change.face_ids), False
        placed = (
            assign.assign_new(s, index, restored.unplaced, threshold) if restored.unplaced else None
        )
        _set_grouped_faces(s, restored.grouped_faces)
        return len(restored.changed | (placed.face_ids if placed else frozenset())), True


def _grouped_faces(session: Session) -> int:
    row = session.get(Setting, GROUPED_AT_KEY)
    value = row.value.get("v") if row is not None and isinstance(row.value, dict) else None
    return value if isinstance(value, int) else 0


def _set_grouped_faces(session: Session, faces: int) -> None:
    session.merge(Setting(key=GROUPED_AT_KEY, value={"v": int(faces)}))


def use_model(
    lib: Library,
    model_id: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    device: str = "auto",
) -> Switched:
    """Make `model_id` the active model: re-embed what it lacks (nothing, when switching back
    to a model used before), then switch (`switch_to`: its own groups back, or a regrouping
    under it). A cancel leaves the current model active. The database is backed up first
    (`<library>.data/backups`)."""
    with lib.session() as s:
        if s.get(Model, model_id) is None:
            raise LibraryError(f"no model {model_id}")
        check_thresholds(model_spec(s, model_id))
    embedder = model_embedder(lib, model_id, device)
    embedded = reembed(lib, model_id, embedder, progress, cancel)
    if cancel is not None and cancel.is_set():
        return Switched(model_id, False, embedded)
    if lib.active_model_id() != model_id:
        _backup(lib, f"before-model-{model_id}")
    placed, restored = switch_to(lib, model_id, embedder)
    if progress is not None:
        progress("switch", 1, 1)
    return Switched(model_id, True, embedded, placed, restored)


def _backup(lib: Library, reason: str) -> None:
    try:
        make_backup(lib.path, reason)
    except BackupError as error:
        raise LibraryError(f"not switching models: no backup could be made ({error})") from error


def upgrade_default_model(
    lib: Library, progress: Progress | None = None, cancel: threading.Event | None = None
) -> Switched | None:
    """Move a library whose active model is an older built-in (e.g. dlib_resnet_v1, centred
    vectors) to the shipped one: every face re-embedded from its stored chip, then, as for any
    model used here the first time, every face not confirmed is grouped again under the new
    geometry (names, confirmed faces and rejections are kept). Resumable like `use_model`;
    None when there is nothing to upgrade (a retrained model stays as it is)."""
    active = lib.active_model()
    shipped = load_default_spec()
    if active is None or active["weights_path"] is not None or active["name"] == shipped.name:
        return None
    with lib.transaction() as s:
        model_id = ensure_model(s, shipped)
    return use_model(lib, model_id, progress, cancel)


def forget_model(lib: Library, model_id: int) -> None:
    """Delete an inactive model's row and embeddings (its files are the caller's)."""
    with lib.transaction() as s:
        row = s.get(Model, model_id)
        if row is None:
            return
        if row.active:
            raise LibraryError("the active model cannot be removed; switch to another first")
        if s.scalar(select(Model.id).where(Model.parent_id == model_id)) is not None:
            raise LibraryError("a model with retrained children cannot be removed")
        drop_saved_groups(s, model_id)
        s.execute(delete(Embedding).where(Embedding.model_id == model_id))
        s.delete(row)


def models_table(lib: Library) -> list[dict]:
    """Every model version, oldest first: id, name, active, parent, created, faces embedded,
    and the key numbers of its retrain report."""
    with lib.session() as s:
        counts = dict(
            s.execute(select(Embedding.model_id, func.count()).group_by(Embedding.model_id)).all()
        )
        rows = list(s.scalars(select(Model).order_by(Model.id)))
        return [_model_row(row, counts.get(row.id, 0), model_spec(s, row.id)) for row in rows]


def _model_row(row: Model, embedded: int, spec: ModelSpec) -> dict:
    report = row.report or {}
    after = report.get("after") or {}
    before = report.get("before") or {}
    return {
        "id": row.id,
        "name": row.name,
        "active": bool(row.active),
        "parent_id": row.parent_id,
        "created_at": row.created_at,
        "embedded_faces": embedded,
        "same_person_threshold": spec.thresholds.same_person,
        "head": report.get("head"),
        "identification_before": before.get("identification"),
        "identification": after.get("identification"),
        "tar_at_far_1e3": after.get("tar_at_far_1e3"),
        "false_merge_rate": after.get("false_merge_rate"),
    }
