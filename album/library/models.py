"""Model records: which embedding models a library knows, and which one is active."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.schema import Model
from training.spec import ModelSpec


def ensure_model(
    session: Session, spec: ModelSpec, weights_path: str | None = None, parent_id: int | None = None
) -> int:
    """The id of the model named `spec.name`, recorded first if new. Activates it if none is."""
    model = session.scalar(select(Model).where(Model.name == spec.name))
    if model is None:
        model = Model(
            name=spec.name,
            backbone=spec.backbone,
            spec=dataclasses.asdict(spec),
            weights_path=weights_path,
            weights_sha256=spec.weights_sha256,
            parent_id=parent_id,
            active=False,
            created_at=now(),
        )
        session.add(model)
        session.flush()
    if session.scalar(select(Model.id).where(Model.active)) is None:
        model.active = True
    return model.id


def activate_model(session: Session, model_id: int) -> None:
    session.execute(update(Model).values(active=Model.id == model_id))


def model_spec(session: Session, model_id: int) -> ModelSpec:
    return ModelSpec.from_dict(session.get(Model, model_id).spec)
