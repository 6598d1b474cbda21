"""Shared bits of the training tests."""

from __future__ import annotations

from training.spec import ModelSpec


def tiny_spec(embedding_dim: int, name: str = "tiny") -> ModelSpec:
    """The spec of the tiny 8x8 test networks (pixels centred at 127.5, scaled by 64)."""
    return ModelSpec(
        name=name,
        backbone="tiny",
        input_size=8,
        alignment="none",
        embedding_dim=embedding_dim,
        mean=(127.5,) * 3,
        std=(64.0,) * 3,
    )
