"""Re-evaluate a trained run: accuracy, per-class accuracy and the confusion matrix.

    python -m tfcnn.evaluate saved_models/lenet
    python -m tfcnn.evaluate saved_models/lenet --dataset mnist-t10k --seed 1

The folder is one written by ``python -m tfcnn.train`` (see :mod:`tfcnn.runs`).
Without ``--dataset`` the run's own test split is rebuilt with every option it
was trained with (spec, seed, hold-out, data and manual folders); the model
is loaded whatever wrapped it (plain, pruned, clustered, QAT).
"""

from __future__ import annotations

import argparse
import json

from tfcnn._cli import ArgumentParser, run_main
from tfcnn.data import make_pipeline
from tfcnn.errors import DatasetError, UsageError
from tfcnn.metrics import evaluate_model, format_report
from tfcnn.runs import RunDir

PROG = "python -m tfcnn.evaluate"

__all__ = ["PROG", "build_parser", "evaluate_model", "evaluate_run", "format_report", "main"]


def evaluate_run(model_dir: str, *, dataset: str | None = None, data_dir: str | None = None,
                 manual_dir: str | None = None, holdout: float | None = None, seed: int | None = None,
                 batch_size: int = 256, model_file: str | None = None) -> tuple[dict, list[str]]:
    """Evaluate a run's model on its test split (or on another dataset's, with the run's preprocessing).

    Returns:
        ``(result, class_names)``; ``result`` as :func:`tfcnn.metrics.evaluate_model` returns it.

    Raises:
        RunDirError: not a finished run folder.
        DatasetError: the dataset cannot be loaded, or its class count differs from the model's.
        UsageError: ``batch_size`` is not a positive int.

    Example:
        >>> result, names = evaluate_run("saved_models/lenet")  # doctest: +SKIP
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise UsageError(f"--batch-size must be a positive int. Received: --batch-size={batch_size!r}")
    run = RunDir.open(model_dir)
    data = run.load_dataset(dataset=dataset, data_dir=data_dir, manual_dir=manual_dir, holdout=holdout, seed=seed)
    model = run.load_model(model_file or "model.keras")
    classes = int(model.outputs[0].shape[-1])
    if classes != data.num_classes:
        raise DatasetError(f"the model has {classes} outputs but the dataset has {data.num_classes} classes. "
                           f"Received: dataset={data.name!r}")
    ds = make_pipeline(data.x_test, data.y_test, tuple(model.input_shape[1:]), batch_size=batch_size,
                       training=False, native_shape=data.image_shape, cache=False, resize=run.resize)
    return evaluate_model(model, ds, data.num_classes), list(data.class_names)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tfcnn.evaluate`` parser."""
    p = ArgumentParser(prog=PROG, description="Evaluate a model saved by tfcnn.train on a test split.")
    p.add_argument("model_dir", help="folder written by python -m tfcnn.train")
    p.add_argument("--model-file", default=None,
                   help="another model of the folder, e.g. compressed/pruned80.keras (default model.keras)")
    p.add_argument("--dataset", default=None, help="dataset spec (default: the one the model was trained on)")
    p.add_argument("--data-dir", default=None, help="TFDS data directory")
    p.add_argument("--manual-dir", default=None, help="folder with a tfds dataset's original files")
    p.add_argument("--holdout", type=float, default=None, help="test fraction of a single-split dataset")
    p.add_argument("--seed", type=int, default=None, help="seed of that hold-out (default: the training run's)")
    p.add_argument("--batch-size", type=int, default=256, help="evaluation batch size")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""

    def run(args):
        result, class_names = evaluate_run(args.model_dir, dataset=args.dataset, data_dir=args.data_dir,
                                           manual_dir=args.manual_dir, holdout=args.holdout, seed=args.seed,
                                           batch_size=args.batch_size, model_file=args.model_file)
        if args.json:
            print(json.dumps({**result, "class_names": class_names}, indent=2))
        else:
            print(format_report(result, class_names))

    return run_main(build_parser(), run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
