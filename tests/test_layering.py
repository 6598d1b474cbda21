"""Imports point one way: album/gui -> album core -> training -> torch/numpy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_under(folder: str, skip: str | None = None) -> list[Path]:
    return [p for p in sorted((ROOT / folder).rglob("*.py")) if skip is None or skip not in p.parts]


@pytest.mark.parametrize("path", modules_under("training"), ids=lambda p: p.name)
def test_training_never_imports_the_app(path):
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "album"}


@pytest.mark.parametrize("path", modules_under("album", skip="gui"), ids=lambda p: p.name)
def test_core_never_imports_qt(path):
    qt = {m for m in imported_modules(path) if m.split(".")[0] in ("PySide6", "shiboken6")}
    assert not qt
