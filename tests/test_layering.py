"""The house in clean layers: every tfcnn module imports only modules of lower floors.

Read with ``ast`` from the source (module-level and function-local imports
alike, ``TYPE_CHECKING`` blocks included), so a circle closed by a local
import fails here as surely as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tfcnn"

# Floor of each module, by the longest matching dotted prefix. Siblings on floor 6 (train, compress,
# evaluate, deploy) may not import each other either: each entry below is its own "room".
FLOORS = {
    "tfcnn._compat": 1, "tfcnn._io": 1, "tfcnn.defaults": 1, "tfcnn.errors": 1, "tfcnn._cli": 1,
    "tfcnn.data": 2, "tfcnn.layers": 2, "tfcnn.optim": 2, "tfcnn.scratch": 2,
    "tfcnn.models": 3, "tfcnn.metrics": 3, "tfcnn.litert": 3, "tfcnn.flatten": 3,
    "tfcnn": 3,  # the package's front door re-exports the model zoo
    "tfcnn.analysis": 4, "tfcnn.viz": 4,
    "tfcnn.runs": 5,
    "tfcnn.train": 6, "tfcnn.compress": 6, "tfcnn.evaluate": 6, "tfcnn.deploy": 6,
    "tfcnn.predict": 7, "tfcnn.summary": 7, "tfcnn.viz.cli": 7,
    "tfcnn.compress.cli": 7,  # a command line: it may run tfcnn.deploy after compressing (--mcu)
}

ALIASES = {"tfcnn.viz.__main__": "tfcnn.viz.cli", "tfcnn.compress.__main__": "tfcnn.compress.cli"}
"""Modules that belong to another module's room (a ``__main__`` that only runs its command line)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(name: str) -> str:
    """The longest prefix of ``name`` listed in :data:`FLOORS`."""
    if name in ALIASES:
        return ALIASES[name]
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in FLOORS:
            return prefix
    raise AssertionError(f"module {name} has no floor in tests/test_layering.py: add it")


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


def _imports(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """``(line, module)`` for every tfcnn module ``path`` imports, resolving relative and ``from X import sub``."""
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "tfcnn"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "tfcnn":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() or _is_package(sub)
                found.append((node.lineno, sub if is_module else base))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_floor():
    for path in MODULES:
        _room(_module_name(path))


def _violations(name: str, imports) -> list[str]:
    room, floor = _room(name), FLOORS[_room(name)]
    bad = []
    for line, target in imports:
        if target == "tfcnn" and floor > FLOORS["tfcnn"]:
            continue  # `import tfcnn` from above floor 3 reaches only the front door, which is below
        t_room = _room(target)
        t_floor = FLOORS[t_room]
        if t_room == room or room.startswith(t_room + ".") or t_room.startswith(room + "."):
            continue  # within one package (a package may use its own sub-packages)
        if t_floor > floor or (t_floor == floor and floor > 1):
            bad.append(f"line {line}: {target} (floor {t_floor})")
    return bad


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_imports_point_down_only(path):
    name = _module_name(path)
    bad = _violations(name, _imports(path))
    assert not bad, f"{name} (floor {FLOORS[_room(name)]}) imports upward or sideways: " + "; ".join(bad)


def test_the_check_catches_local_upward_and_sideways_imports(tmp_path):
    """Not vacuous: a data module importing the trainer inside a function, and compress importing train, fail."""
    probe = tmp_path / "probe.py"
    probe.write_text("import numpy\n\ndef f():\n    from tfcnn.train import loop\n    from tfcnn import runs\n")
    found = _imports(probe, name="tfcnn.data._probe")
    assert [t for _, t in found] == ["tfcnn.train.loop", "tfcnn.runs"]
    assert len(_violations("tfcnn.data._probe", found)) == 2
    assert _violations("tfcnn.compress.pipeline", [(1, "tfcnn.train.options")])  # siblings on floor 6
    assert not _violations("tfcnn.compress.pipeline", [(1, "tfcnn.runs"), (2, "tfcnn.compress.prune")])


def test_no_import_cycle_between_modules():
    graph = {_module_name(p): {t for _, t in _imports(p)} for p in MODULES}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(nxt):], nxt]))
            if not state.get(nxt):
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [node])
