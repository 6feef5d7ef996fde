"""``python -m tfcnn.compress MODEL_DIR``: every compression variant as a verified ``.tflite``, and a report.

    python -m tfcnn.compress saved_models/lenet                 # float32, dynamic range, float16, int8
    python -m tfcnn.compress saved_models/lenet --prune 0.8 --qat
    python -m tfcnn.compress saved_models/vgg16 --prune 0.9 --prune-layers dense
    python -m tfcnn.compress saved_models/lenet --prune-channels 0.5 --distill  # a thinner model, fewer MACs
    python -m tfcnn.compress saved_models/resnet18 --target-macs 0.4 --round-to 8   # at most 40 % of the MACs
    python -m tfcnn.compress saved_models/resnet18 --prune-channels 0.5 --slimming 1e-4 --scope global
    python -m tfcnn.compress saved_models/resnet50 --distill --student mobilenet_v2 --alpha 0.35
    python -m tfcnn.compress saved_models/lenet --all           # everything below in one go
    python -m tfcnn.compress saved_models/lenet --mcu --flash 1M --ram 256K  # and a microcontroller build

Fine-tuning, int8 calibration and evaluation use the dataset the model was
trained on (from the run's ``config.json``/``metrics.json``). Files land in
``MODEL_DIR/tflite/<variant>.tflite`` (each written atomically and verified
to load), fine-tuned Keras models in ``MODEL_DIR/compressed/``, and the
report in ``MODEL_DIR/compression.{json,md,png}``. ``--mcu`` then runs
:func:`tfcnn.deploy.deploy` on the int8-I/O variant with the run's own test
images: C sources, the measured tensor arena and the budget in ``MODEL_DIR/mcu/``.
"""

from __future__ import annotations

import argparse

from tfcnn import runs
from tfcnn._cli import ArgumentParser, run_main
from tfcnn.compress import cluster as cluster_mod
from tfcnn.compress import prune as prune_mod
from tfcnn.compress import report as report_mod
from tfcnn.compress.pipeline import CHANNEL_DEFAULTS, channel_request, compress, student_request
from tfcnn.deploy import budget as deploy_budget
from tfcnn.deploy.carray import check_name
from tfcnn.deploy.report import kib
from tfcnn.errors import CompressError
from tfcnn.optim import check_lr

PROG = "python -m tfcnn.compress"
ALL_PRUNE = ("0.8", "2:4")
ALL_CLUSTERS = 16
ALL_CHANNELS = "0.5"
CHANNEL_FLAGS = {"ratio": "--prune-channels", "target_macs": "--target-macs", "criterion": "--criterion",
                 "round_to": "--round-to", "scope": "--scope", "slimming": "--slimming", "temperature": "--temperature",
                 "alpha": "--kd-alpha", "student_alpha": "--alpha", "student": "--student"}


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
                   help=f"every variant: --prune {' --prune '.join(ALL_PRUNE)} --cluster {ALL_CLUSTERS} --qat --int8-io "
                        f"--prune-channels {ALL_CHANNELS}")
    c = p.add_argument_group("channel pruning (a thinner model: fewer MACs, lower latency)")
    c.add_argument("--prune-channels", default=None, metavar="RATIO",
                   help="remove this fraction (0, 1) of the channels of every prunable layer and rebuild the model")
    c.add_argument("--target-macs", default=None, metavar="FRACTION",
                   help="instead of --prune-channels: keep at most this fraction (0, 1) of the MACs (the smallest "
                        "ratio that reaches it)")
    c.add_argument("--criterion", default=None, help="with --prune-channels/--target-macs: how channels are ranked, "
                   "l1 (default), l2, bn (batch-norm |gamma|) or taylor")
    c.add_argument("--round-to", default=None, metavar="N",
                   help="with --prune-channels/--target-macs: kept widths rounded up to a multiple of N (default 1; "
                        "8 suits SIMD)")
    c.add_argument("--scope", default=None, help="with --prune-channels/--target-macs: layer (default: the ratio in "
                   "every layer) or global (one threshold over the model)")
    c.add_argument("--slimming", default=None, metavar="STRENGTH",
                   help="with --prune-channels/--target-macs: Network Slimming, a sparsity-training phase with "
                        "STRENGTH * sum|gamma| added to the loss (e.g. 1e-4), then --criterion bn")
    d = p.add_argument_group("knowledge distillation")
    d.add_argument("--distill", action="store_true",
                   help="train the thin model (--prune-channels) or the --student by distillation from the float "
                        "model (or --teacher)")
    d.add_argument("--teacher", default=None, metavar="MODEL_DIR",
                   help="with --distill: another run folder as the teacher (same input and classes)")
    d.add_argument("--student", default=None, metavar="MODEL",
                   help="with --distill: a registered model name (trained from scratch, as many epochs as the run) "
                        "or a run folder, distilled into a float32 and an int8 file")
    d.add_argument("--alpha", default=None, metavar="W",
                   help="with a registered --student: its width multiplier (e.g. 0.35 for mobilenet_v2)")
    d.add_argument("--temperature", default=None, metavar="T", help="with --distill: softening T > 0 (default 4)")
    d.add_argument("--kd-alpha", default=None, metavar="A",
                   help="with --distill: weight of the hard labels in [0, 1] (default 0.1)")
    p.add_argument("--epochs", type=int, default=None,
                   help="fine-tuning epochs for pruning, channel pruning, clustering and QAT (default: 5, 5, 1 and 1)")
    p.add_argument("--lr", type=float, default=None, help="fine-tuning learning rate (default: the training recipe's)")
    p.add_argument("--latency-images", type=int, default=200, help="test images timed for latency (default 200)")
    g = p.add_argument_group("microcontroller (TFLM)")
    g.add_argument("--mcu", action="store_true",
                   help="also export the int8 I/O variant for TFLM into MODEL_DIR/mcu (implies --int8-io)")
    g.add_argument("--flash", default=None, help="with --mcu: flash budget, e.g. 1M")
    g.add_argument("--ram", default=None, help="with --mcu: RAM budget, e.g. 256K")
    g.add_argument("--arena-margin", default="1.1", help="with --mcu: factor on the measured arena (default 1.1)")
    p.add_argument("--quiet", action="store_true", help="less output")
    return p


def _resolve_mcu(args: argparse.Namespace, run: runs.RunDir) -> dict | None:
    """The microcontroller options, checked before any work, or ``None`` without ``--mcu``."""
    if not args.mcu:
        given = [f for f, v in (("--flash", args.flash), ("--ram", args.ram)) if v is not None]
        if given:
            raise CompressError(f"{given[0]} only applies with --mcu. Received: {given[0]}="
                                f"{getattr(args, given[0][2:])!r}")
        return None
    return {"name": check_name(run.model_name.replace("-", "_")),
            "arena_margin": deploy_budget.check_margin(args.arena_margin, argname="--arena-margin"),
            "flash": None if args.flash is None else deploy_budget.parse_size(args.flash, argname="--flash"),
            "ram": None if args.ram is None else deploy_budget.parse_size(args.ram, argname="--ram")}


def export_mcu(model_dir, mcu: dict, log=print) -> dict:
    """Run :func:`tfcnn.deploy.deploy` on ``MODEL_DIR/tflite/int8_io.tflite`` with the run's test images."""
    from pathlib import Path

    from tfcnn.deploy import deploy

    loaded = runs.RunDir.open(model_dir).load()
    result = deploy(Path(model_dir) / "tflite" / "int8_io.tflite", Path(model_dir) / "mcu", name=mcu["name"],
                    arena_margin=mcu["arena_margin"], flash=mcu["flash"], ram=mcu["ram"],
                    images=loaded.test_images(), model=loaded.model)
    b, a, c = result["budget"], result["arena"], result["cross_check"]
    verdict = {None: "no budget given", True: "fits", False: "DOES NOT FIT"}[b["fits"]]
    log(f"{Path(model_dir) / 'mcu'}: flash {kib(result['model_bytes'])}, arena "
        f"{kib(a['recommended'])}, TFLM/LiteRT top-1 agreement {c['top1_agreement']:.2%} on "
        f"{c['images']:,} images; {verdict}")
    return result


def _needs(flag: str, value, parent: str, given: bool) -> None:
    if value is not None and not given:
        raise CompressError(f"{flag} only applies with {parent}. Received: {flag}={value!r}")


def _number(flag: str, text, kind=float):
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise CompressError(f"{flag} must be {what}. Received: {flag}={text!r}") from None


def _flagged(err: CompressError) -> CompressError:
    """The library's message with its argument names replaced by the command line's flags."""
    message = str(err)
    for key, flag in CHANNEL_FLAGS.items():
        message = message.replace(f"Received: {key}=", f"Received: {flag}=").replace(f", {key}=", f", {flag}=")
    return CompressError(message)


def _resolve_distill(args: argparse.Namespace, pruning: bool) -> dict:
    """The distillation options: checked flags and their numbers."""
    for flag, value in (("--teacher", args.teacher), ("--student", args.student), ("--temperature", args.temperature),
                        ("--kd-alpha", args.kd_alpha)):
        _needs(flag, value, "--distill", args.distill)
    _needs("--alpha", args.alpha, "--student", args.student is not None)
    if args.distill and not pruning and args.student is None:
        raise CompressError("--distill needs something to distil into: --prune-channels, --target-macs or --student. "
                            "Received: --distill alone")
    numbers = {key: _number(CHANNEL_FLAGS[key], text)
               for key, text in (("temperature", args.temperature), ("alpha", args.kd_alpha),
                                 ("student_alpha", args.alpha)) if text is not None}
    return {"temperature": numbers.get("temperature", CHANNEL_DEFAULTS["temperature"]),
            "alpha": numbers.get("alpha", CHANNEL_DEFAULTS["alpha"]), "width": numbers.get("student_alpha")}


def _resolve_channels(args: argparse.Namespace, kd: dict) -> dict | None:
    """The channel-pruning request, checked before any work, or ``None`` without ``--prune-channels``."""
    if args.prune_channels is not None and args.target_macs is not None:
        raise CompressError(f"give --prune-channels or --target-macs, not both. Received: "
                            f"--prune-channels={args.prune_channels!r}, --target-macs={args.target_macs!r}")
    ratio = args.prune_channels
    if ratio is None and args.target_macs is None and args.all:
        ratio = ALL_CHANNELS
    pruning = ratio is not None or args.target_macs is not None
    for flag, value in (("--criterion", args.criterion), ("--round-to", args.round_to), ("--scope", args.scope),
                        ("--slimming", args.slimming)):
        _needs(flag, value, "--prune-channels or --target-macs", pruning)
    if not pruning:
        return None
    criterion = args.criterion or ("bn" if args.slimming is not None else CHANNEL_DEFAULTS["criterion"])
    try:
        request = channel_request(
            None if ratio is None else _number("--prune-channels", ratio),
            target_macs=None if args.target_macs is None else _number("--target-macs", args.target_macs),
            criterion=criterion,
            round_to=CHANNEL_DEFAULTS["round_to"] if args.round_to is None else _number("--round-to", args.round_to, int),
            scope=args.scope or CHANNEL_DEFAULTS["scope"],
            slimming=None if args.slimming is None else _number("--slimming", args.slimming),
            distill=bool(args.distill), temperature=kd["temperature"], alpha=kd["alpha"])
    except CompressError as err:
        raise _flagged(err) from None
    # Implied by --all: a model the channel graph cannot take skips that stage rather than the whole run.
    return {**request, "implied": args.prune_channels is None and args.target_macs is None}


def _resolve_student(args: argparse.Namespace, kd: dict) -> dict | None:
    if args.student is None:
        return None
    try:
        return student_request(args.student, student_alpha=kd["width"], temperature=kd["temperature"],
                               alpha=kd["alpha"])
    except CompressError as err:
        raise _flagged(err) from None


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
    pruning = any(v is not None for v in (args.prune_channels, args.target_macs)) or args.all
    kd = _resolve_distill(args, pruning)
    channels = _resolve_channels(args, kd)
    student = _resolve_student(args, kd)
    run = runs.RunDir.open(args.model_dir, argname="MODEL_DIR")  # not a finished run: fail before loading anything
    if args.teacher is not None:
        runs.RunDir.open(args.teacher, argname="--teacher")
    mcu = _resolve_mcu(args, run)
    return {"mcu": mcu, "model_dir": args.model_dir, "sparsities": sparsities, "prune_layers": args.prune_layers,
            "clusters": k, "channels": channels, "student": student, "teacher": args.teacher, "kd": kd, "qat": bool(args.qat or args.all), "int8_io": bool(args.int8_io or args.all or mcu),
            "epochs": args.epochs, "lr": args.lr, "latency_images": args.latency_images, "quiet": args.quiet}


def _distill_kwargs(opts: dict) -> dict:
    channels, student, kd = opts["channels"], opts["student"], opts["kd"]
    out = {"distill": bool((channels and channels["distill"]) or student), "temperature": kd["temperature"],
           "alpha": kd["alpha"], "teacher": opts["teacher"]}
    if student:
        out.update(student=student["student"], student_alpha=student["alpha"])
    if channels:
        out.update(prune_channels=channels["ratio"], target_macs=channels["target_macs"],
                   **{k: channels[k] for k in ("criterion", "round_to", "scope", "slimming")})
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""

    def run(args):
        opts = resolve(args)
        log = (lambda *_: None) if opts["quiet"] else print
        report = compress(opts["model_dir"], prune=opts["sparsities"], prune_layers=opts["prune_layers"],
                          clusters=opts["clusters"], qat=opts["qat"], int8_io=opts["int8_io"],
                          **_distill_kwargs(opts),
                          channels_optional=bool(opts["channels"] and opts["channels"]["implied"]),
                          epochs=opts["epochs"], lr=opts["lr"], latency_images=opts["latency_images"], log=log)
        if not opts["quiet"]:
            print(report_mod.markdown(report))
        if opts["mcu"]:
            export_mcu(opts["model_dir"], opts["mcu"], log=print)

    return run_main(build_parser(), run, argv)

