"""Functions a reader can hold: none in tfcnn/ longer than 60 lines of code (docstrings, comments, blanks excluded)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tfcnn"
MAX_CODE_LINES = 60


def _code_lines(fn: ast.FunctionDef, lines: list[str]) -> int:
    body = fn.body
    first = body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    if has_doc and len(body) == 1:
        return 0
    start = body[1].lineno if has_doc else first.lineno
    return sum(1 for line in lines[start - 1: fn.end_lineno] if line.strip() and not line.strip().startswith("#"))


def _long_functions(source: str) -> list[tuple[str, int]]:
    lines = source.splitlines()
    return [(node.name, n) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (n := _code_lines(node, lines)) > MAX_CODE_LINES]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_longer_than_60_lines_of_code(path):
    assert not _long_functions(path.read_text(encoding="utf-8")), path


def test_the_measure_counts_code_not_docstrings_or_comments():
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    assert _long_functions(f"def f():\n    '''doc\n\n    more'''\n    # note\n\n{body}\n") == [("f", 61)]
    assert _long_functions("def f():\n    '''doc'''\n" + "\n".join(f"    x{i} = {i}" for i in range(60))) == []
