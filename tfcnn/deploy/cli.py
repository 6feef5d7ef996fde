"""``python -m tfcnn.deploy FILE.tflite --out DIR``: C sources, measured arena and budget for a microcontroller.

    python -m tfcnn.deploy saved_models/lenet/tflite/int8_io.tflite --out mcu/lenet
    python -m tfcnn.deploy model.tflite --out mcu --name digits --flash 1M --ram 256K --arena-margin 1.2

Bad input (a float model, a file that is not a flatbuffer, an op TFLM lacks,
a budget that cannot be parsed) is one line on stderr and exit code 2, and
nothing is written.
"""

from __future__ import annotations

import argparse
import sys

from tfcnn._cli import ArgumentParser, run_main
from tfcnn.deploy.api import DEFAULT_DATASET, deploy
from tfcnn.deploy.budget import check_margin, parse_size
from tfcnn.deploy.report import kib


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = ArgumentParser(prog="python -m tfcnn.deploy",
                       description="Export an int8 .tflite for TensorFlow Lite for Microcontrollers: C array, "
                                   "op resolver, measured tensor arena, cross-check and budget report.")
    p.add_argument("tflite", help="a .tflite file with int8 input and output")
    p.add_argument("--out", required=True, help="output folder (model_data.h/.cc, op_resolver.h, deploy.md/.json)")
    p.add_argument("--name", default="model", help="C identifier prefixing the generated symbols (default: model)")
    p.add_argument("--arena-margin", default="1.1", help="factor on the measured arena (default: 1.1)")
    p.add_argument("--flash", default=None, help="flash budget, e.g. 1M")
    p.add_argument("--ram", default=None, help="RAM budget, e.g. 256K")
    p.add_argument("--dataset", default=DEFAULT_DATASET,
                   help=f"test images for the measurement and cross-check (default: {DEFAULT_DATASET})")
    return p


def _run(args: argparse.Namespace) -> int:
    # Checked here first so that the error names the flag the user typed.
    margin = check_margin(args.arena_margin, argname="--arena-margin")
    flash = None if args.flash is None else parse_size(args.flash, argname="--flash")
    ram = None if args.ram is None else parse_size(args.ram, argname="--ram")
    r = deploy(args.tflite, args.out, name=args.name, arena_margin=margin, flash=flash, ram=ram,
               dataset=args.dataset)
    b, a = r["budget"], r["arena"]
    verdict = {None: "no budget given", True: "fits", False: "DOES NOT FIT"}[b["fits"]]
    print(f"{args.out}: flash {kib(r['model_bytes'])}, arena {kib(a['recommended'])} "
          f"(measured {a['total']:,} B x {a['margin']:g}), TFLM/LiteRT top-1 agreement "
          f"{r['cross_check']['top1_agreement']:.2%} on {r['cross_check']['images']:,} images; {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 2 bad input)."""
    return run_main(build_parser(), _run, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
