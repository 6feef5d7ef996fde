"""Build the chapter notebooks from their plain-Python sources, and optionally execute them.

Each notebook ``notebooks/NN_slug.ipynb`` is generated from ``notebooks/src/NN_slug.py``,
a Python file in the "percent" format that Jupytext, VS Code and Spyder also read:

    # %% [markdown]
    # # 01 什么是卷积神经网络 / What a CNN is
    # What you will learn: ...

    # %% setup

    # %%
    model = tfcnn.create_model("lenet")

* ``# %% [markdown]`` starts a Markdown cell; each of its lines loses its leading ``# ``.
* ``# %%`` starts a code cell.
* ``# %% setup`` is replaced by the shared set-up cell :data:`SETUP` (imports,
  ``QUICK`` from ``TFCNN_QUICK``, seeds, figure size), so every chapter starts the same way.
* ``# %% exercise NAME`` starts a code cell the learner fills in (tagged ``exercise``,
  named ``NAME`` in its metadata): a ``# TODO`` body that raises ``NotImplementedError``,
  graded by the next cell with ``tfcnn.scratch.gradcheck.grade``, which falls back to the
  library's reference while the cell is undone. ``notebooks/solutions/NN_slug.py`` holds
  one ``# %% exercise NAME`` block per exercise; :func:`fill_solutions` swaps them in
  (``--solutions`` runs a chapter that way, as CI does).

Usage::

    python notebooks/_build.py                 # build and execute every chapter (full mode)
    python notebooks/_build.py 03 04           # only chapters 03 and 04
    python notebooks/_build.py --quick         # execute with TFCNN_QUICK=1 (as CI does)
    python notebooks/_build.py --no-execute    # cells only, no outputs
    python notebooks/_build.py 05 --quick --solutions  # run with the solutions filled in (writes nothing)
    python notebooks/_build.py 09 --quick --seeds 5    # every check must hold for seeds 0..4 (writes nothing)

Executed notebooks are stored with their outputs (plots included); the build
fails if one exceeds :data:`MAX_BYTES`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
SOLUTIONS = HERE / "solutions"
EXERCISE = "exercise"
MAX_BYTES = 1_500_000
TIMEOUT_S = 600

SETUP = '''\
import inspect
import os

import matplotlib.pyplot as plt
import numpy as np

import tfcnn  # first: it selects Keras 2 (tf_keras) before TensorFlow loads
from tfcnn import analysis, viz
from tfcnn import keras, tf

# TFCNN_QUICK=1 (set by CI): small data and few steps, same cells and checks.
QUICK = os.environ.get("TFCNN_QUICK", "") not in ("", "0")
# TFCNN_SEED (default 0) seeds every experiment: `_build.py NN --seeds 5` reruns a chapter with seeds 0..4.
SEED = int(os.environ.get("TFCNN_SEED", "0"))
keras.utils.set_random_seed(SEED)
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72})
print(f"tfcnn {tfcnn.__version__} | TensorFlow {tf.__version__} | tf_keras {keras.__version__} | quick mode: {QUICK}")'''


def parse_source(text: str) -> list[nbformat.NotebookNode]:
    """Split a percent-format source into notebook cells."""
    cells: list[nbformat.NotebookNode] = []
    kind, name, lines = None, None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "setup":
            cells.append(nbformat.v4.new_code_cell(SETUP))
        elif kind == EXERCISE:
            cells.append(nbformat.v4.new_code_cell(body, metadata={"tags": [EXERCISE], "tfcnn": {EXERCISE: name}}))
        elif body:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            tag = line[4:].strip()
            name = tag.split(maxsplit=1)[1] if tag.startswith(EXERCISE + " ") else None
            kind = "markdown" if tag == "[markdown]" else "setup" if tag == "setup" else EXERCISE if name else "code"
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def exercise_names(nb: nbformat.NotebookNode) -> list[str]:
    """Names of the exercise cells of a notebook, in order."""
    return [c.metadata["tfcnn"][EXERCISE] for c in nb.cells if EXERCISE in c.get("metadata", {}).get("tags", [])]


def read_solutions(chapter: str) -> dict[str, str]:
    """``{exercise name: solution code}`` from ``solutions/<chapter>.py`` (empty if there is none)."""
    path = SOLUTIONS / f"{chapter}.py"
    if not path.exists():
        return {}
    return {c.metadata["tfcnn"][EXERCISE]: c.source for c in parse_source(path.read_text(encoding="utf-8"))
            if EXERCISE in c.metadata.get("tags", [])}


def fill_solutions(nb: nbformat.NotebookNode, solutions: dict[str, str]) -> nbformat.NotebookNode:
    """Replace every exercise cell's body by its solution (in place); the two sets of names must match."""
    names = exercise_names(nb)
    if sorted(names) != sorted(solutions):
        raise ValueError(f"exercise cells and solutions differ. Received: cells={names}, solutions={sorted(solutions)}")
    for cell in nb.cells:
        if EXERCISE in cell.get("metadata", {}).get("tags", []):
            cell.source = solutions[cell.metadata["tfcnn"][EXERCISE]]
    return nb


def build(src: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = parse_source(src.read_text(encoding="utf-8"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["tfcnn"] = {"source": f"notebooks/src/{src.name}", "generated_by": "notebooks/_build.py"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{src.stem[:2]}-{i:02d}"  # stable ids keep diffs small
    return nb


def execute(nb: nbformat.NotebookNode, *, quick: bool, timeout: int = TIMEOUT_S,
            seed: int = 0) -> nbformat.NotebookNode:
    """Run every cell in a fresh ``python3`` kernel with ``notebooks/`` as working directory.

    ``seed`` becomes ``TFCNN_SEED``, which the set-up cell reads into ``SEED``.
    """
    from nbclient import NotebookClient

    env_backup = {k: os.environ.get(k) for k in ("TFCNN_QUICK", "MPLBACKEND", "TFCNN_SEED")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["TFCNN_SEED"] = str(seed)
    if quick:
        os.environ["TFCNN_QUICK"] = "1"
    else:
        os.environ.pop("TFCNN_QUICK", None)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    finally:
        for k, v in env_backup.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)  # wall-clock stamps would change every build
    return nb


def sweep_seeds(sources, n: int, *, quick: bool) -> int:
    """Execute each chapter once per seed (nothing written); 1 if any seed fails a check."""
    from nbclient.exceptions import CellExecutionError

    status = 0
    for src in sources:
        failed = []
        start = time.perf_counter()
        for seed in range(n):
            try:
                execute(build(src), quick=quick, seed=seed)
            except CellExecutionError as err:
                failed.append(seed)
                print(f"{src.stem} seed {seed}: FAILED\n{str(err)[-1500:]}", file=sys.stderr)
        status |= bool(failed)
        print(f"{src.stem}: seeds 0..{n - 1}, {'all passed' if not failed else f'failed: {failed}'}, "
              f"{time.perf_counter() - start:.1f}s")
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python notebooks/_build.py", description=__doc__.split("\n")[0])
    p.add_argument("chapters", nargs="*", help="chapter numbers or slugs (default: all sources)")
    p.add_argument("--no-execute", action="store_true", help="write cells without running them")
    p.add_argument("--quick", action="store_true", help="execute with TFCNN_QUICK=1")
    p.add_argument("--solutions", action="store_true",
                   help="execute with notebooks/solutions/ filled into the exercise cells; writes nothing")
    p.add_argument("--seeds", type=int, default=0, metavar="N",
                   help="execute each chapter with TFCNN_SEED=0..N-1 and report which seeds fail; writes nothing")
    args = p.parse_args(argv)
    sources = sorted(SRC.glob("[0-9][0-9]_*.py"))
    if args.chapters:
        sources = [s for s in sources if any(s.stem.startswith(c) for c in args.chapters)]
        if not sources:
            print(f"{p.prog}: error: no source matches. Received: chapters={args.chapters}", file=sys.stderr)
            return 2
    if args.seeds:
        return sweep_seeds(sources, args.seeds, quick=args.quick)
    status = 0
    for src in sources:
        start = time.perf_counter()
        nb = build(src)
        if args.solutions:
            nb = fill_solutions(nb, read_solutions(src.stem))
        if not args.no_execute:
            from nbclient.exceptions import CellExecutionError

            try:
                nb = execute(nb, quick=args.quick)
            except CellExecutionError as err:
                print(f"{src.stem}: FAILED\n{str(err)[-3000:]}", file=sys.stderr)
                status = 1
                continue
        if args.solutions:  # stored notebooks are the learner's version: report, write nothing
            print(f"{src.stem}: ran with solutions {exercise_names(nb)}, {time.perf_counter() - start:.1f}s")
            continue
        out = HERE / f"{src.stem}.ipynb"
        tmp = out.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
        size = out.stat().st_size
        print(f"{out.name}: {len(nb.cells)} cells, {size / 1e6:.2f} MB, {time.perf_counter() - start:.1f}s")
        if size > MAX_BYTES:
            print(f"{p.prog}: error: {out.name} is larger than {MAX_BYTES} bytes. Received: {size}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
