"""The training command's options: the flags, the request they make, and the options resolved once.

A run's options come from three places, strongest first: the flags the user
gave, the model's recipe for the dataset actually loaded
(:mod:`tfcnn.train.recipes`), and :data:`DEFAULTS`. Flags are checked as soon
as they are parsed (:func:`resolve_options` returns a :class:`TrainRequest`),
so bad input fails before any data is loaded; the full
:class:`TrainOptions` is resolved once, after the dataset is known
(:func:`resolve`), and never changes afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from types import MappingProxyType

import numpy as np

from tfcnn._cli import ArgumentParser
from tfcnn.data import RESIZE_MODES
from tfcnn.errors import UsageError
from tfcnn.layers import STYLES
from tfcnn.models.registry import get_config, list_models
from tfcnn.optim import OPTIMIZERS, SCHEDULES
from tfcnn.train import recipes

PROG = "python -m tfcnn.train"
STRATEGIES = ("default", "mirrored", "multi_worker")
MIN_STEPS_PER_EPOCH = 10
"""A recipe's batch size is lowered (one line in the log) when it would leave fewer steps than this per epoch."""
FINETUNE_LR_FACTOR = 0.1
"""``--unfreeze-after``: the whole network fine-tunes at this fraction of the learning rate."""

DEFAULTS = MappingProxyType({
    "epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "momentum": 0.9, "schedule": "constant",
    "weight_decay": 0.0, "dropout": None, "label_smoothing": 0.0, "augment": False, "val_split": 0.1,
    "input_size": None, "holdout": None,
})
"""Used when neither a flag nor the model's recipe gives a value."""

TUNABLE = tuple(DEFAULTS)
"""Options a recipe may set (per dataset too) and a flag may override."""


# ---------------------------------------------------------------------------------------- the flags
def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tfcnn.train`` parser; every tunable flag defaults to ``None`` (the recipe decides)."""
    p = ArgumentParser(
        prog=PROG,
        description="Train a tfcnn model and save it with its metrics, curves and confusion matrix. Flags left "
                    "out take the model's recipe for the dataset (tfcnn.train.recipes).",
        epilog=f"models: {', '.join(list_models())}")
    p.add_argument("model", help="registered model name (see tfcnn.list_models())")
    _data_flags(p)
    _optimisation_flags(p)
    _model_flags(p)
    _run_flags(p)
    return p


def _data_flags(p) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=None,
                   help="digits | mnist-t10k | idx:DIR | folder:DIR | tfrecord:DIR | a tensorflow-datasets name (mnist, cifar10...); "
                        "default: the model's (lenet: mnist, falling back to the bundled mnist-t10k)")
    g.add_argument("--data-dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR or ~/tensorflow_datasets)")
    g.add_argument("--manual-dir", default=None, help="folder with a tfds dataset's original files, to build it offline")
    g.add_argument("--holdout", type=float, default=None,
                   help="test fraction carved (seeded) from a dataset with a single split, e.g. idx:DIR of t10k only")
    g.add_argument("--val-split", type=float, default=None,
                   help="validation fraction carved (seeded, stratified) from the training split, so the test split "
                        "is used once, at the end (default 0.1; 0: no validation); a folder's own val/ wins")
    g.add_argument("--input-size", type=int, default=None,
                   help="square input side; default: the dataset's size, or the smallest the model accepts")
    g.add_argument("--augment", action="store_true", default=None,
                   help="random padded crop, and horizontal flip where it keeps the label")
    g.add_argument("--resize", choices=RESIZE_MODES, default=None,
                   help="image files of another aspect ratio: crop the centre (default, as Keras's "
                        "crop_to_aspect_ratio), pad, or stretch; recorded and reused by evaluate, compress, predict")
    g.add_argument("--skip-bad-images", action="store_true",
                   help="leave out files that cannot be decoded (counted and named in the log) instead of stopping")
    g.add_argument("--strict-batch-size", action="store_true",
                   help="stop instead of lowering a recipe's batch size that leaves fewer than "
                        f"{MIN_STEPS_PER_EPOCH} steps per epoch")


def _optimisation_flags(p) -> None:
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="number of epochs")
    g.add_argument("--batch-size", type=int, default=None, help="global batch size (split across replicas)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="optimizer")
    g.add_argument("--lr", type=float, default=None, help="learning rate")
    g.add_argument("--momentum", type=float, default=None, help="momentum of sgd and rmsprop")
    g.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="learning-rate schedule: constant, step (x0.1 at 50%% and 75%% of training) or cosine")
    g.add_argument("--weight-decay", type=float, default=None, help="L2 coefficient: loss += wd * sum(kernel**2)")
    g.add_argument("--dropout", type=float, default=None, help="dropout rate of the model's head")
    g.add_argument("--label-smoothing", type=float, default=None, help="label smoothing of the cross-entropy")


def _model_flags(p) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--style", choices=STYLES, default=None, help="layer style the model is built with (default keras)")
    g.add_argument("--weights", default=None, help="initial weights: 'imagenet' or a weights file (default: random)")
    g.add_argument("--freeze-backbone", action="store_true", default=None,
                   help="train only the classifier (BatchNorm in inference mode); with --weights, the classifier is "
                        "new whenever the file's does not fit the dataset's classes")
    g.add_argument("--unfreeze-after", type=int, default=None, metavar="N",
                   help=f"with --freeze-backbone: after N epochs train every layer but BatchNorm at "
                        f"{FINETUNE_LR_FACTOR:g} x the learning rate")


def _run_flags(p) -> None:
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=None, help="seed of weights, splits, shuffling and augmentation (0)")
    g.add_argument("--deterministic", action="store_true", default=None,
                   help="deterministic kernels (same seed, same result; slower)")
    g.add_argument("--mixed-precision", action="store_true", default=None,
                   help="mixed_bfloat16 on CPU, mixed_float16 on GPU; logits and loss stay float32")
    g.add_argument("--jit", action="store_true", default=None, help="compile the training step with XLA")
    g.add_argument("--strategy", choices=STRATEGIES, default=None,
                   help="default | mirrored (all local GPUs or logical CPUs) | multi_worker (configured by TF_CONFIG)")
    g.add_argument("--checkpoint-every", type=int, default=None,
                   help="also checkpoint every N training steps (default: once per epoch)")
    g.add_argument("--restart", action="store_true", help="discard an unfinished run in --out instead of resuming it")
    g.add_argument("--overwrite", action="store_true", help="replace a finished run already in --out")
    g.add_argument("--out", default=None, help="output folder (default: saved_models/<model>)")
    g.add_argument("--quiet", action="store_true", help="no progress bar; one summary line per epoch")


# ---------------------------------------------------------------------------------------- the request
@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """What the user asked for: the model, the flags given (``tuned``) and how to run.

    ``tuned`` holds only the tunable flags the user set; everything else comes
    from the recipe once the dataset is known (:func:`resolve`).
    """

    model: str
    dataset: str | None = None
    tuned: MappingProxyType = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    data_dir: str | None = None
    manual_dir: str | None = None
    style: str = "keras"
    weights: str | None = None
    freeze_backbone: bool = False
    unfreeze_after: int | None = None
    resize: str = "crop"
    skip_bad_images: bool = False
    strict_batch_size: bool = False
    seed: int = 0
    deterministic: bool = False
    mixed_precision: bool = False
    jit: bool = False
    strategy: str = "default"
    checkpoint_every: int | None = None
    restart: bool = False
    overwrite: bool = False
    out: str = ""
    quiet: bool = False
    argv: tuple[str, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "tuned", MappingProxyType(dict(self.tuned)))
        if not self.out:
            object.__setattr__(self, "out", os.path.join("saved_models", self.model))


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """Every option of one run, resolved once after the dataset is known; written to ``config.json``."""

    request: TrainRequest
    dataset_used: str
    epochs: int
    batch_size: int
    optimizer: str
    lr: float
    momentum: float
    schedule: str
    weight_decay: float
    dropout: float | None
    label_smoothing: float
    augment: bool
    val_split: float
    input_size: int | None
    holdout: float | None

    def __getattr__(self, name):  # the request's fields read as the options' own (opts.out, opts.seed)
        if name != "request":
            return getattr(self.request, name)
        raise AttributeError(name)

    def tunables(self) -> dict:
        """The resolved tunable options as a plain dict."""
        return {k: getattr(self, k) for k in TUNABLE}


def resolve_options(args: argparse.Namespace, *, argv=None) -> TrainRequest:
    """Turn parsed flags into a :class:`TrainRequest`, checking every value given.

    Raises:
        UsageError: an option is out of range, or the model has no such option.
        ValueError: unknown model.
    """
    config = get_config(args.model)
    tuned = {k: getattr(args, k) for k in TUNABLE if getattr(args, k, None) is not None}
    if tuned.get("dropout") is not None and "dropout_rate" not in config.options:
        raise UsageError(f"{args.model} has no dropout option. Received: --dropout={tuned['dropout']}")
    validate(tuned)
    unfreeze = getattr(args, "unfreeze_after", None)
    if unfreeze is not None and not args.freeze_backbone:
        raise UsageError(f"--unfreeze-after needs --freeze-backbone (it ends the frozen phase). "
                         f"Received: --unfreeze-after={unfreeze}")
    if unfreeze is not None and (unfreeze <= 0 or (tuned.get("epochs") is not None and unfreeze >= tuned["epochs"])):
        raise UsageError(f"--unfreeze-after must be a positive int smaller than --epochs. "
                         f"Received: --unfreeze-after={unfreeze}")
    if args.checkpoint_every is not None and args.checkpoint_every <= 0:
        raise UsageError(f"--checkpoint-every must be a positive int. Received: --checkpoint-every={args.checkpoint_every}")
    request = TrainRequest(
        model=args.model, dataset=args.dataset, tuned=tuned, data_dir=args.data_dir, manual_dir=args.manual_dir,
        style=args.style or "keras", weights=args.weights, freeze_backbone=bool(args.freeze_backbone),
        unfreeze_after=unfreeze, resize=getattr(args, "resize", None) or "crop",
        skip_bad_images=bool(getattr(args, "skip_bad_images", False)),
        strict_batch_size=bool(getattr(args, "strict_batch_size", False)),
        seed=args.seed if args.seed is not None else 0, deterministic=bool(args.deterministic),
        mixed_precision=bool(args.mixed_precision), jit=bool(args.jit), strategy=args.strategy or "default",
        checkpoint_every=args.checkpoint_every, restart=bool(args.restart),
        overwrite=bool(getattr(args, "overwrite", False)), out=args.out or "",
        quiet=bool(args.quiet), argv=tuple(argv) if argv is not None else None)
    check_out(request.out, overwrite=request.overwrite)
    return request


def resolve(request: TrainRequest, dataset_used: str) -> TrainOptions:
    """The run's options: the request's flags over the recipe for ``dataset_used`` over :data:`DEFAULTS`.

    Raises:
        UsageError: a recipe value and the flags together are out of range.
    """
    recipe = recipes.recipe(request.model, dataset_used)
    values = {k: request.tuned.get(k, recipe.get(k, DEFAULTS[k])) for k in TUNABLE}
    validate(values)
    if request.unfreeze_after is not None and request.unfreeze_after >= values["epochs"]:
        raise UsageError(f"--unfreeze-after must be smaller than the number of epochs ({values['epochs']}). "
                         f"Received: --unfreeze-after={request.unfreeze_after}")
    return TrainOptions(request=request, dataset_used=dataset_used, **values)


def fit_batch_to_data(opts: TrainOptions, train_images: int, log) -> TrainOptions:
    """``opts`` with the recipe's batch size lowered so an epoch has at least :data:`MIN_STEPS_PER_EPOCH` steps.

    A batch size given with ``--batch-size`` is the user's and is kept; with
    ``--strict-batch-size`` a recipe's that does not fit stops the run instead.

    Raises:
        UsageError: ``--strict-batch-size`` and too few steps per epoch.
    """
    steps = math.ceil(train_images / opts.batch_size)
    if steps >= MIN_STEPS_PER_EPOCH or "batch_size" in opts.request.tuned:
        return opts
    smaller = max(1, train_images // MIN_STEPS_PER_EPOCH)
    if smaller == opts.batch_size:
        return opts
    what = (f"the {opts.model} recipe's batch size {opts.batch_size} leaves {steps} step{'s' * (steps != 1)} per "
            f"epoch on {train_images} training images")
    if opts.request.strict_batch_size:
        raise UsageError(f"{what}; give --batch-size (e.g. {smaller}) or drop --strict-batch-size. "
                         f"Received: --strict-batch-size")
    log(f"{what}: using batch size {smaller} ({math.ceil(train_images / smaller)} steps); --batch-size sets it")
    return dataclasses.replace(opts, batch_size=smaller)


def validate(values: dict) -> None:
    """Check the range of every tunable option present in ``values``.

    Raises:
        UsageError: naming the flag and the value received.
    """
    checks = {
        "epochs": (_is_pos_int, "must be a positive int"),
        "batch_size": (_is_pos_int, "must be a positive int"),
        "lr": (lambda v: _is_num(v) and math.isfinite(v) and v > 0, "must be a finite number > 0"),
        "momentum": (lambda v: _is_num(v) and 0 <= v < 1, "must be in [0, 1)"),
        "weight_decay": (lambda v: _is_num(v) and math.isfinite(v) and v >= 0, "must be a finite number >= 0"),
        "label_smoothing": (lambda v: _is_num(v) and 0 <= v < 1, "must be in [0, 1)"),
        "dropout": (lambda v: v is None or (_is_num(v) and 0 <= v < 1), "must be in [0, 1)"),
        "val_split": (lambda v: _is_num(v) and 0 <= v < 1, "must be in [0, 1)"),
        "holdout": (lambda v: v is None or (_is_num(v) and 0 < v < 1), "must be in (0, 1)"),
        "input_size": (lambda v: v is None or _is_pos_int(v), "must be a positive int"),
        "schedule": (lambda v: v in SCHEDULES, f"must be one of {SCHEDULES}"),
        "optimizer": (lambda v: v in OPTIMIZERS, f"must be one of {OPTIMIZERS}"),
    }
    for key, value in values.items():
        ok, why = checks.get(key, (lambda v: True, ""))
        if not ok(value):
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag} {why}. Received: {flag}={value!r}")


def _is_pos_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def check_out(out: str, *, overwrite: bool = False) -> None:
    """Refuse an output folder that cannot be created or written, or that holds a finished run, creating nothing.

    Raises:
        UsageError: ``out`` is a file, is not writable (nor its nearest existing parent), or holds a finished
            run and ``overwrite`` is not set.
    """
    path = os.path.abspath(out)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"--out exists and is not a folder. Received: --out={out!r}")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"--out is not writable. Received: --out={out!r}")
        if not overwrite and os.path.isfile(os.path.join(path, "metrics.json")) and \
                not os.path.isdir(os.path.join(path, ".resume")):
            raise UsageError(f"--out already holds a finished run; add --overwrite to replace it or choose another "
                             f"--out. Received: --out={out!r}")
        return
    parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out cannot be created ({parent} is not a writable folder). Received: --out={out!r}")
