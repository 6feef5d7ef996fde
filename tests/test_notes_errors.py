"""Where the course notes err, the chapter says so in a box, and proves the correction.

A box is a Markdown cell containing ``笔记中的错误`` (headed
``> **笔记中的错误 / What the notes get wrong**``). It quotes the notes' claim in
「…」 — the quotation itself is checked against the notes by ``test_notes_quotes.py``,
which needs the notes beside the clone; this test does not — and the first code
cell after it refutes the claim: it holds an ``assert`` and its stored (full-mode)
output carries a ``✓`` line. :data:`EXPECTED` lists the boxes each chapter must
keep, so deleting one fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
MARK = "笔记中的错误"
CHINESE_QUOTE = re.compile(r"「[^」]*[\u4e00-\u9fff][^」]*」")

# chapter -> the least number of boxes it must carry (the notes' claim each refutes).
EXPECTED = {
    "03": 4,  # 3x3 kernel has a 5x5 receptive field; pad list repeats F=3; never above 7x7; filter size = feature size
    "05": 2,  # 8x8 with 3x3 pooling gives 6x6; pooling has nothing to do with BP
    "06": 2,  # sigmoid maps to [0, 1]; tanh vanishes like sigmoid
    "07": 1,  # BN gives a standard normal distribution
    "09": 1,  # the L2 penalty is the square root of the sum of squares
    "10": 1,  # L2 is a convex optimisation of L1
    "11": 1,  # tanh basically never appears in a CNN (LeNet-5 is a tanh network)
    "12": 1,  # AlexNet has ReLU, pooling and LRN after every convolution
    "13": 2,  # 80 % of VGG's parameters in the FC layers; channels double after every pooling
    "14": 2,  # 28x28x192 through a 1x1x64 kernel gives 28x28x3; GoogLeNet trains with two losses
    "15": 2,  # average pooling instead of FC; the skip connection solves vanishing gradients
}


def _notebook(chapter: str) -> Path:
    found = sorted(NOTEBOOKS_DIR.glob(f"{chapter}_*.ipynb"))
    assert found, f"no notebook for chapter {chapter} in {NOTEBOOKS_DIR}"
    return found[0]


def boxes(nb) -> list[tuple[nbformat.NotebookNode, nbformat.NotebookNode | None]]:
    """Each box's Markdown cell with the first code cell after it (None if there is none before the next box)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or MARK not in cell.source:
            continue
        code = None
        for later in nb.cells[i + 1:]:
            if later.cell_type == "markdown" and MARK in later.source:
                break
            if later.cell_type == "code":
                code = later
                break
        found.append((cell, code))
    return found


def _printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_the_box_finder_is_not_vacuous():
    """Control: a box with its proof is found and judged; a box without a code cell, or a second box, is seen."""
    new = nbformat.v4
    nb = new.new_notebook(cells=[
        new.new_markdown_cell("intro"),
        new.new_markdown_cell(f"> **{MARK} / What the notes get wrong**\n> 「池化层是没有参数的」"),
        new.new_code_cell("assert 1 + 1 == 2\nprint('✓ fine')",
                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="✓ fine\n")]),
        new.new_markdown_cell(f"> **{MARK}**\n> no quote here"),
        new.new_markdown_cell(f"> **{MARK}**\n> 「另一个」"),
    ])
    found = boxes(nb)
    assert len(found) == 3
    assert found[0][1] is not None and "assert" in found[0][1].source and "✓" in _printed(found[0][1])
    assert found[1][1] is None  # the next box comes before any code cell
    assert [bool(CHINESE_QUOTE.search(md.source)) for md, _ in found] == [True, False, True]
    assert not CHINESE_QUOTE.search("an English 「quote」")


@pytest.mark.parametrize("chapter", sorted(EXPECTED))
def test_chapter_keeps_its_boxes(chapter):
    path = _notebook(chapter)
    found = boxes(nbformat.read(path, as_version=4))
    assert len(found) >= EXPECTED[chapter], (
        f"{path.name} has {len(found)} '{MARK}' boxes, expected at least {EXPECTED[chapter]}")


@pytest.mark.parametrize("chapter", sorted(EXPECTED))
def test_each_box_quotes_the_notes_and_proves_the_correction(chapter):
    path = _notebook(chapter)
    for n, (markdown, code) in enumerate(boxes(nbformat.read(path, as_version=4)), 1):
        where = f"{path.name}, box {n} ({markdown.source[:80]!r})"
        assert CHINESE_QUOTE.search(markdown.source), f"{where}: quotes no Chinese sentence of the notes in 「…」"
        assert code is not None, f"{where}: no code cell follows the box"
        assert re.search(r"^\s*assert\b", code.source, re.MULTILINE), f"{where}: its code cell has no assert"
        assert "✓" in _printed(code), f"{where}: its code cell's stored output has no ✓ line (rebuild in full mode)"
