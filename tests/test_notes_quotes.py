"""Every Chinese sentence a chapter puts in quotation marks is the notes' own words, verbatim.

The chapters quote the course notes (``cnn-notes.zh.txt``) before explaining
them. A quotation is any span in 「…」, 『…』, “…” or "…" that contains a
Chinese character; it must occur in the notes as written (line breaks and
spaces aside, since the notebook wraps lines). An ellipsis inside a quote
(``…`` or ``...``) marks an omission: each part must occur, in order.

The notes are not part of the repository (the course owns them); where they
are absent, as in a user's clone, the check skips with that reason. Point
``TFCNN_NOTES`` at the file to run it elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTES = Path(os.environ.get("TFCNN_NOTES", REPO.parent / "shared" / "notes" / "cnn-notes.zh.txt"))
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
QUOTE = re.compile(r"「([^」]*)」|『([^』]*)』|“([^”]*)”|\"([^\"\n]*)\"")
CJK = re.compile(r"[\u4e00-\u9fff]")
ELLIPSIS = re.compile(r"…+|\.{3,}|⋯+")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def quotations(markdown: str) -> list[str]:
    """The quoted spans of ``markdown`` that contain Chinese, in order."""
    spans = (next(g for g in m.groups() if g is not None) for m in QUOTE.finditer(markdown))
    return [s for s in spans if CJK.search(s)]


def in_notes(quote: str, notes: str) -> bool:
    """Whether ``quote`` (parts between ellipses, in order) occurs in ``notes``, whitespace aside."""
    start = 0
    for part in (_squash(p) for p in ELLIPSIS.split(quote)):
        if not part:
            continue
        at = notes.find(part, start)
        if at < 0:
            return False
        start = at + len(part)
    return True


def test_the_checker_catches_a_misquote():
    """Control: the check is not vacuous (a real sentence passes, an invented one and a reordering fail)."""
    notes = "卷积神经网络:以卷积结构为主,搭建起来的深度网络。\n池化层是没有参数的。"
    md = '笔记说 「卷积神经网络:以卷积\n结构为主」 and “池化层是没有参数的”, not "卷积神经网络是特征提取器".'
    found = quotations(md)
    assert found == ["卷积神经网络:以卷积\n结构为主", "池化层是没有参数的", "卷积神经网络是特征提取器"]
    assert [in_notes(q, _squash(notes)) for q in found] == [True, True, False]
    assert in_notes("卷积神经网络…深度网络", _squash(notes))
    assert not in_notes("深度网络…卷积神经网络", _squash(notes))
    assert quotations('an English "quote" and 「」') == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_quotes_the_notes_verbatim(path):
    if not NOTES.is_file():
        pytest.skip(f"the course notes are not beside this clone ({NOTES}); set TFCNN_NOTES to check the quotes")
    notes = _squash(NOTES.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    wrong = [q for cell in nb.cells if cell.cell_type == "markdown" for q in quotations(cell.source)
             if not in_notes(q, notes)]
    assert not wrong, f"{path.name} quotes as the notes' words what the notes do not say: {wrong}"
