"""``python -m tfcnn.summary``: what a network costs, layer by layer, and the zoo side by side.

Per layer: output shape, parameters, multiply-accumulates (MACs) and the
receptive field (size and jump in input pixels), then the totals; with
``--compare``, one row per registered architecture (depth, parameters,
MACs, share of parameters in fully connected layers, published top-1 error).
The counting conventions are documented in :mod:`tfcnn.analysis`.

Example:
    python -m tfcnn.summary vgg16
    python -m tfcnn.summary resnet50 --input-shape 32,32,3 --json
    python -m tfcnn.summary lenet --style raw
    python -m tfcnn.summary --compare --markdown
    python -m tfcnn.summary --compare vgg16 resnet50
"""

from __future__ import annotations

import argparse
import json

import tfcnn
from tfcnn import analysis
from tfcnn._cli import ArgumentParser, run_main
from tfcnn._compat import tf
from tfcnn.errors import UsageError
from tfcnn.layers import STYLES

PROG = "python -m tfcnn.summary"


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Per-layer shapes, parameters, MACs and receptive fields of a model, "
                                      "or (--compare) the whole zoo in one table.")
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help="a registered name (see --list); with --compare, the names to compare (default: all)")
    p.add_argument("--input-shape", default=None, metavar="H,W,C", help="analyse at this input (default: the paper's)")
    p.add_argument("--style", default=None, choices=STYLES, help="layer style (default: keras)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--compare", action="store_true", help="one row per architecture at its default input")
    p.add_argument("--markdown", action="store_true", help="with --compare: a Markdown table")
    p.add_argument("--list", action="store_true", help="print the registered names and exit")
    return p


def parse_input_shape(text: str | None) -> tuple[int, int, int] | None:
    """``'224,224,3'`` -> ``(224, 224, 3)``.

    Raises:
        UsageError: not three positive integers.
    """
    if text is None:
        return None
    parts = [p.strip() for p in str(text).lower().replace("x", ",").split(",")]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise UsageError(f"--input-shape must be three positive integers H,W,C. Received: --input-shape={text!r}")
    return shape


def _check_names(names, available) -> None:
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; available: {', '.join(available)}. "
                         f"Received: MODEL={unknown[0]!r}")


def _build(name: str, shape, style: str):
    """The model at ``shape``; one line when its weights do not fit in memory (a Dense after a huge Flatten)."""
    try:
        return tfcnn.create_model(name, input_shape=shape, style=style)
    except (MemoryError, tf.errors.ResourceExhaustedError):
        raise UsageError(f"{name} at this input needs more memory for its weights than this machine has (a "
                         f"classifier after Flatten grows with H x W); try a smaller input. "
                         f"Received: --input-shape={','.join(map(str, shape))}") from None


def report(args) -> str:
    """Do what the parsed ``args`` ask and return the text to print."""
    available = tfcnn.list_models()
    if args.list:
        return "\n".join(available)
    _check_names(args.models, available)
    if args.compare:
        if args.input_shape or args.style:
            raise UsageError("--compare uses each model's default input and the keras style. "
                             f"Received: --input-shape={args.input_shape!r}, --style={args.style!r}")
        rows = analysis.compare_architectures(args.models or None)
        if args.json:
            return json.dumps(rows, indent=2)
        return analysis.format_comparison(rows, markdown=args.markdown)
    if len(args.models) != 1:
        raise UsageError(f"give exactly one MODEL (or --compare). Received: MODEL={args.models!r}")
    if args.markdown:
        raise UsageError("--markdown applies to --compare only. Received: --markdown")
    shape = parse_input_shape(args.input_shape)
    model = _build(args.models[0], shape, args.style or "keras")
    summary = analysis.summarize(model)
    return json.dumps(summary.to_dict(), indent=2) if args.json else summary.to_text()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input, one line on stderr)."""
    return run_main(build_parser(), lambda args: print(report(args)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
