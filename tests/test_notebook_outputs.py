"""The stored chapter outputs a learner reads on GitHub carry no framework log noise.

TensorFlow's deprecation warnings, the TFLite converter's MLIR chatter and LiteRT's delegate banner say nothing
about the lesson; the library keeps them out (``tfcnn._compat.quiet_native_stderr``, the profiler's logger),
and this test fails when a rebuilt chapter lets one through.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOISE = re.compile(r"WARNING:tensorflow|WARNING:absl|fully_quantize: \d|Created TensorFlow Lite \w+ delegate|"
                   r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] |^[IWE]\d{4} \d\d:\d\d:\d\d|DeprecationWarning",
                   re.MULTILINE)


def noise(nb) -> list[str]:
    """The log lines in a notebook's stored stream outputs."""
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            lines += [line for line in text.splitlines() if NOISE.search(line)]
    return lines


def test_the_pattern_catches_what_it_is_for():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "stream", name="stderr", text="ok\nWARNING:tensorflow:From nn_ops.py:5261: is deprecated\n"
                                      "fully_quantize: 0, inference_type: 6\n")])])
    assert noise(nb) == ["WARNING:tensorflow:From nn_ops.py:5261: is deprecated", "fully_quantize: 0, inference_type: 6"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_have_no_framework_log_lines(path):
    assert not noise(nbformat.read(path, as_version=4)), f"{path.name}: rebuild it (python notebooks/_build.py)"
