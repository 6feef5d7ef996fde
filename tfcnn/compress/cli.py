"""``python -m tfcnn.compress MODEL_DIR``: every compression variant as a verified ``.tflite``, and a report.

    python -m tfcnn.compress saved_models/lenet                 # float32, dynamic range, float16, int8
    python -m tfcnn.compress saved_models/lenet --prune 0.8 --qat
    python -m tfcnn.compress saved_models/vgg16 --prune 0.9 --prune-layers dense
    python -m tfcnn.compress saved_models/lenet --all           # everything below in one go

Fine-tuning, int8 calibration and evaluation use the dataset the model was
trained on (from the run's ``config.json``/``metrics.json``). Files land in
``MODEL_DIR/tflite/<variant>.tflite`` (each written atomically and verified
to load), fine-tuned Keras models in ``MODEL_DIR/compressed/``, and the
report in ``MODEL_DIR/compression.{json,md,png}``.
"""

from __future__ import annotations

import argparse

from tfcnn import runs
from tfcnn._cli import ArgumentParser, run_main
from tfcnn.compress import cluster as cluster_mod
from tfcnn.compress import prune as prune_mod
from tfcnn.compress import report as report_mod
from tfcnn.compress.pipeline import compress
from tfcnn.errors import CompressError
from tfcnn.optim import check_lr

PROG = "python -m tfcnn.compress"
ALL_PRUNE = ("0.8", "2:4")
ALL_CLUSTERS = 16


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Compress a trained tfcnn model to verified TFLite files and "
                                "report size, accuracy and latency of every variant.")
    p.add_argument("model_dir", help="a folder written by python -m tfcnn.train (e.g. saved_models/lenet)")
    p.add_argument("--prune", action="append", default=None, metavar="SPARSITY",
                   help="magnitude pruning: a fraction in (0, 1) such as 0.8, or 2:4 (structured); repeatable")
    p.add_argument("--prune-layers", default=None,
                   help="which layers to prune: all (default), dense, conv, or comma-separated names/patterns")
    p.add_argument("--cluster", type=str, default=None, metavar="K", help="weight clustering into K >= 2 values")
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware training (pruning-/cluster-preserving after --prune/--cluster)")
    p.add_argument("--int8-io", action="store_true", help="also a full-int8 file with int8 input and output")
    p.add_argument("--all", action="store_true",
                   help=f"every variant: --prune {' --prune '.join(ALL_PRUNE)} --cluster {ALL_CLUSTERS} --qat --int8-io")
    p.add_argument("--epochs", type=int, default=None,
                   help="fine-tuning epochs for pruning, clustering and QAT (default: 5, 1 and 1)")
    p.add_argument("--lr", type=float, default=None, help="fine-tuning learning rate (default: the training recipe's)")
    p.add_argument("--latency-images", type=int, default=200, help="test images timed for latency (default 200)")
    p.add_argument("--quiet", action="store_true", help="less output")
    return p


def resolve(args: argparse.Namespace) -> dict:
    """Validate everything before any work is done, so bad input leaves nothing behind."""
    prunes = list(args.prune or [])
    clusters = args.cluster
    if args.all:
        prunes = prunes or list(ALL_PRUNE)
        clusters = clusters or str(ALL_CLUSTERS)
    sparsities = []
    for p in prunes:
        try:
            sparsities.append(prune_mod.parse_sparsity(p))
        except CompressError as err:
            raise CompressError(str(err).replace("Received: sparsity=", "Received: --prune=")) from None
    k = None
    if clusters is not None:
        try:
            k = cluster_mod.check_clusters(clusters)
        except CompressError as err:
            raise CompressError(str(err).replace("Received: clusters=", "Received: --cluster=")) from None
    if args.epochs is not None and args.epochs < 1:
        raise CompressError(f"--epochs must be >= 1. Received: --epochs={args.epochs}")
    if args.lr is not None:
        check_lr(args.lr, argname="--lr")
    if args.latency_images < 1:
        raise CompressError(f"--latency-images must be >= 1. Received: --latency-images={args.latency_images}")
    runs.RunDir.open(args.model_dir, argname="MODEL_DIR")  # not a finished run: fail before loading anything
    return {"model_dir": args.model_dir, "sparsities": sparsities, "prune_layers": args.prune_layers,
            "clusters": k, "qat": bool(args.qat or args.all), "int8_io": bool(args.int8_io or args.all),
            "epochs": args.epochs, "lr": args.lr, "latency_images": args.latency_images, "quiet": args.quiet}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""

    def run(args):
        opts = resolve(args)
        log = (lambda *_: None) if opts["quiet"] else print
        report = compress(opts["model_dir"], prune=opts["sparsities"], prune_layers=opts["prune_layers"],
                          clusters=opts["clusters"], qat=opts["qat"], int8_io=opts["int8_io"],
                          epochs=opts["epochs"], lr=opts["lr"], latency_images=opts["latency_images"], log=log)
        if not opts["quiet"]:
            print(report_mod.markdown(report))

    return run_main(build_parser(), run, argv)

