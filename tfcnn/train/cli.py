"""The ``python -m tfcnn.train MODEL [flags]`` command line (see :mod:`tfcnn.train`)."""

from __future__ import annotations

import sys

from tfcnn._cli import run_main
from tfcnn.train.loop import train
from tfcnn.train.options import build_parser, resolve_options


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input, 1 if training diverged)."""

    def run(args):
        request = resolve_options(args, argv=sys.argv[1:] if argv is None else argv)
        train(request, log=lambda msg: print(msg, flush=True))

    return run_main(build_parser(), run, argv)

