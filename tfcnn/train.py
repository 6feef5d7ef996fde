"""Train any registered model from one command.

    python -m tfcnn.train lenet
    python -m tfcnn.train lenet --epochs 5 --batch-size 32 --out /tmp/lenet

Every flag defaults to ``None`` so that the model's registered config
(``tfcnn.get_config(name).train``) supplies the real default. The run writes,
into ``saved_models/<model>/`` or ``--out``: ``model.keras``,
``metrics.json``, ``history.csv`` and ``training_curves.png``, each written
to a temporary name and then renamed, so a failed run leaves the previous
artefacts intact.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time

from tfcnn import _io
from tfcnn._compat import keras, tf
from tfcnn.data import DatasetError, load_dataset, make_pipeline
from tfcnn.models.registry import create_model, get_config, list_models

PROG = "python -m tfcnn.train"
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


class UsageError(ValueError):
    """Bad command-line input; reported as one line with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train a tfcnn model and save it with its metrics and training curves.",
        epilog=f"models: {', '.join(list_models())}")
    p.add_argument("model", help="registered model name (see tfcnn.list_models())")
    p.add_argument("--dataset", default=None,
                   help="dataset spec; default: the model's (lenet: mnist, falling back to the bundled digits)")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the model's recipe)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size (default: the model's recipe)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="optimizer (default: the model's recipe)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's recipe)")
    p.add_argument("--seed", type=int, default=None, help="random seed for weights, split and shuffling (default 0)")
    p.add_argument("--out", default=None, help="output folder (default: saved_models/<model>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar; one summary line per epoch")
    return p


def resolve_options(args: argparse.Namespace) -> dict:
    """Merge command-line flags over the model's training recipe and validate them."""
    config = get_config(args.model)
    recipe = dict(config.train)
    opts = {
        "explicit": sorted(k for k in ("epochs", "batch_size", "optimizer", "lr") if getattr(args, k) is not None),
        "model": args.model,
        "dataset": args.dataset or recipe.get("dataset", "digits"),
        "fallback_dataset": None if args.dataset else recipe.get("fallback_dataset"),
        "epochs": args.epochs if args.epochs is not None else recipe.get("epochs", 10),
        "batch_size": args.batch_size if args.batch_size is not None else recipe.get("batch_size", 32),
        "optimizer": args.optimizer or recipe.get("optimizer", "adam"),
        "lr": args.lr if args.lr is not None else recipe.get("lr", 1e-3),
        "seed": args.seed if args.seed is not None else 0,
        "out": args.out or os.path.join("saved_models", args.model),
        "quiet": bool(args.quiet),
    }
    if opts["epochs"] <= 0:
        raise UsageError(f"--epochs must be > 0. Received: --epochs={opts['epochs']}")
    if opts["batch_size"] <= 0:
        raise UsageError(f"--batch-size must be > 0. Received: --batch-size={opts['batch_size']}")
    if not opts["lr"] > 0:
        raise UsageError(f"--lr must be > 0. Received: --lr={opts['lr']}")
    return opts


def make_optimizer(name: str, lr: float):
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9)
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "adamw":
        return keras.optimizers.AdamW(lr)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    raise UsageError(f"--optimizer must be one of {OPTIMIZERS}. Received: --optimizer={name!r}")


def load_data(opts: dict, log):
    try:
        return load_dataset(opts["dataset"], seed=opts["seed"])
    except DatasetError as err:
        if not opts["fallback_dataset"]:
            raise
        log(f"dataset {opts['dataset']!r} is not available ({err}); using {opts['fallback_dataset']!r} instead")
        return load_dataset(opts["fallback_dataset"], seed=opts["seed"])


def _history_csv(history: dict) -> str:
    keys = list(history)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys)])
    return buf.getvalue()


def train(opts: dict, log=print) -> dict:
    """Train with resolved options and write the artefacts; returns the metrics.

    Raises:
        DatasetError, ValueError: the data or an option cannot be used.
    """
    from tfcnn import viz

    out = opts["out"]
    _check_writable(out)
    keras.utils.set_random_seed(opts["seed"])
    data = load_data(opts, log)
    config = get_config(opts["model"])
    # A recipe may differ per dataset (LeNet: 30 epochs on the 1,437 digits, 15 on MNIST).
    for key, value in config.train.get("per_dataset", {}).get(data.name, {}).items():
        if key not in opts["explicit"]:
            opts[key] = value
    input_shape = config.input_shape
    model = create_model(opts["model"], input_shape=input_shape, num_classes=data.num_classes)
    model.compile(optimizer=make_optimizer(opts["optimizer"], opts["lr"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    train_ds = make_pipeline(data.x_train, data.y_train, input_shape, batch_size=opts["batch_size"], training=True,
                             seed=opts["seed"])
    test_ds = make_pipeline(data.x_test, data.y_test, input_shape, batch_size=opts["batch_size"], training=False)

    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=test_ds, epochs=opts["epochs"], verbose=2 if opts["quiet"] else 1)
    wall = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(test_ds, verbose=0)

    metrics = {
        "model": opts["model"], "dataset": data.name, "batch_size": opts["batch_size"], "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss), "params": int(model.count_params()), "epochs": opts["epochs"],
        "wall_time_s": round(wall, 3), "train_images": int(len(data.x_train)),
        "train_images_per_s": round(len(data.x_train) * opts["epochs"] / wall, 1),
        "tensorflow": tf.__version__, "tf_keras": keras.__version__,
    }
    with _io.atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    _io.write_text(os.path.join(out, "history.csv"), _history_csv(history.history))
    viz.save_figure(viz.training_curves(history.history, title=f"{opts['model']} on {data.name}"),
                    os.path.join(out, "training_curves.png"))
    _io.write_json(os.path.join(out, "metrics.json"), metrics)
    log(f"{opts['model']}: test accuracy {test_accuracy:.4f} on {data.name} in {wall:.1f}s; saved to {out}")
    return metrics


def _check_writable(out: str) -> None:
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out cannot be created ({err.strerror}). Received: --out={out!r}") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out is not writable. Received: --out={out!r}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        opts = resolve_options(args)
        train(opts)
    except ValueError as err:  # UsageError, DatasetError and builder ValueErrors: one line, exit 2
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
