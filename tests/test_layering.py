"""The layers as a checked contract (ARCHITECTURE.md, "Layers"), read from the source's AST.

Every import counts, the ones inside functions and under TYPE_CHECKING too: a lazy import is
still a dependency. From the top, a module imports only its own unit and the layers below;
units sharing a layer (`scan | search`) do not import each other; no modules import in a
circle. Core modules never import Qt and `training/` never imports the app.
`python -m tests.test_layering` prints the graph's summary (modules, edges, cycles, layers).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("album", "training")

# From the top. A unit is a package or a module (and everything under it); "album" is the
# package's own __init__ only (it re-exports the front door for scripts).
LAYERS = [
    ("album", "album.__main__"),  # entry points
    ("album.gui", "album.cli"),  # front ends
    ("album.album",),  # the one top-level object: scan, grouping, people, search, retraining
    ("album.retrain", "album.maintenance", "album.export", "album.demo"),
    ("album.people",),
    ("album.scan", "album.search"),
    ("album.library", "album.faces"),  # storage only | decode, detect, landmarks, align, embed
    ("album.settings", "album.imaging", "album.resources"),  # import nothing of the app
    ("training",),
]
ACROSS = {("album.cli", "album.gui")}  # `face-album gui` opens the window


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}


def imported_modules(path: Path, name: str | None = None) -> set[str]:
    """Every module name `path` (module `name`) imports, relative imports made absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = (name or module_name(path)).split(".")
    package = package if path.name == "__init__.py" else package[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names |= {f"{module}.{alias.name}" for alias in node.names}  # a.b: b, or a's b
    return names


def _ours(name: str) -> str | None:
    """The module of ours that `name` is (or lies in), None for anything else."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    graph = {}
    for name, path in modules().items():
        found = {_ours(m) for m in imported_modules(path)} - {None, name}
        graph[name] = frozenset(found)
    return graph


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    found += [sorted(group)] if len(group) > 1 else []
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def unit_of(module: str) -> tuple[int, str]:
    """(depth from the top, unit) of a module."""
    for depth, units in enumerate(LAYERS):
        for unit in units:
            if module == unit or (unit != "album" and module.startswith(unit + ".")):
                return depth, unit
    raise AssertionError(f"{module} is in no layer: place it in LAYERS")


def test_every_module_has_a_layer():
    for module in modules():
        unit_of(module)


def test_no_module_imports_in_a_circle():
    assert cycles(import_graph()) == []


def test_nothing_imports_upward_or_across():
    wrong = []
    for module, targets in import_graph().items():
        depth, unit = unit_of(module)
        for target in sorted(targets):
            to_depth, to_unit = unit_of(target)
            if to_unit != unit and to_depth <= depth and (unit, to_unit) not in ACROSS:
                wrong.append(
                    f"{module} imports {target} ({'across' if to_depth == depth else 'up'})"
                )
    assert wrong == []


def test_the_checker_sees_lazy_relative_and_cyclic_imports(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from . import sibling\n    from .other import x\n")
    assert {"pkg.sibling", "pkg.other.x"} <= imported_modules(path, "pkg.mod")
    assert cycles({"a": frozenset("b"), "b": frozenset("c"), "c": frozenset("a"), "d": frozenset()})
    assert cycles({"a": frozenset("b"), "b": frozenset()}) == []


def modules_under(folder: str, skip: str | None = None) -> list[Path]:
    return [p for p in sorted((ROOT / folder).rglob("*.py")) if skip is None or skip not in p.parts]


@pytest.mark.parametrize("path", modules_under("training"), ids=lambda p: p.name)
def test_training_never_imports_the_app(path):
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "album"}


@pytest.mark.parametrize("path", modules_under("album", skip="gui"), ids=lambda p: p.name)
def test_core_never_imports_qt(path):
    qt = {m for m in imported_modules(path) if m.split(".")[0] in ("PySide6", "shiboken6")}
    assert not qt


def summary() -> str:
    graph = import_graph()
    found = cycles(graph)
    units = {}
    for module, targets in graph.items():
        unit = unit_of(module)[1]
        units.setdefault(unit, set()).update(unit_of(t)[1] for t in targets)
    lines = [
        f"modules: {len(graph)}, imports between them: {sum(map(len, graph.values()))}",
        f"cycles: {len(found)}, modules in them: {sum(map(len, found))}",
        *(f"  cycle: {' '.join(group)}" for group in found),
        "units (top first) and the units they import:",
    ]
    for _, unit in sorted(unit_of(u) for u in units):
        lines.append(f"  {unit} -> {', '.join(sorted(units[unit] - {unit})) or '-'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(print(summary()))
