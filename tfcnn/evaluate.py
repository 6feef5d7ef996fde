"""Re-evaluate a saved model: accuracy, per-class accuracy and the confusion matrix.

    python -m tfcnn.evaluate saved_models/lenet
    python -m tfcnn.evaluate saved_models/lenet --dataset idx:../shared/datasets/mnist-test --holdout 0.2

The model folder is one written by ``python -m tfcnn.train``: ``model.keras``
and ``config.json`` (which dataset, split, seed and input size the model was
trained with). Without ``--dataset`` the same test split is rebuilt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from tfcnn._compat import keras, tf
from tfcnn.data import DatasetError, load_dataset, make_pipeline

PROG = "python -m tfcnn.evaluate"


def evaluate_model(model, dataset, num_classes: int) -> dict:
    """Accuracy, mean cross-entropy, per-class accuracy and confusion matrix of a logits model.

    Args:
        model: a model whose (single) output is logits.
        dataset: batches of ``(image, int label)``.
        num_classes: number of classes.

    Returns:
        ``{'accuracy', 'loss', 'per_class_accuracy', 'confusion_matrix', 'examples'}``;
        ``confusion_matrix[true][predicted]`` counts; a class absent from the
        data has per-class accuracy ``None``.

    Example:
        >>> result = evaluate_model(model, test_ds, 10)
        >>> result["accuracy"]
    """
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, n = 0.0, 0
    predict = tf.function(lambda x: tf.cast(model(x, training=False), tf.float32))
    for x, y in dataset:
        logits = predict(x)
        y = tf.cast(tf.reshape(y, [-1]), tf.int64)
        loss_sum += float(tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)))
        pred = np.argmax(logits.numpy(), axis=-1)
        np.add.at(confusion, (y.numpy(), pred), 1)
        n += int(y.shape[0])
    if n == 0:
        raise DatasetError("the evaluation data is empty. Received: 0 examples")
    support = confusion.sum(axis=1)
    per_class = [float(confusion[i, i] / support[i]) if support[i] else None for i in range(num_classes)]
    return {"accuracy": float(np.trace(confusion) / n), "loss": loss_sum / n, "per_class_accuracy": per_class,
            "confusion_matrix": confusion.tolist(), "examples": n}


def format_report(result: dict, class_names) -> str:
    """The evaluation as text: accuracy, a per-class table and the confusion matrix."""
    names = [str(c) for c in class_names]
    width = max(5, *(len(c) for c in names[:50]))
    lines = [f"accuracy {result['accuracy']:.4f}  loss {result['loss']:.4f}  ({result['examples']} images)", "",
             f"{'class':<{width}}  accuracy  support"]
    matrix = np.asarray(result["confusion_matrix"])
    for name, acc, support in zip(names, result["per_class_accuracy"], matrix.sum(axis=1)):
        lines.append(f"{name:<{width}}  {'   -   ' if acc is None else f'{acc:.4f}':>8}  {support:>7}")
    if len(names) <= 30:
        cell = max(4, len(str(matrix.max())) + 1)
        lines += ["", "confusion matrix (rows: true, columns: predicted)",
                  " " * width + "".join(f"{n[:cell - 1]:>{cell}}" for n in names)]
        lines += [f"{n:<{width}}" + "".join(f"{v:>{cell}}" for v in row) for n, row in zip(names, matrix)]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Evaluate a model saved by tfcnn.train on a test split.")
    p.add_argument("model_dir", help="folder written by python -m tfcnn.train (model.keras, config.json)")
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
    args = build_parser().parse_args(argv)
    try:
        result, class_names = _run(args)
    except (ValueError, OSError) as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**result, "class_names": class_names}, indent=2))
    else:
        print(format_report(result, class_names))
    return 0


def _run(args):
    model_path = os.path.join(args.model_dir, "model.keras")
    if not os.path.isfile(model_path):
        raise ValueError(f"no model.keras in the folder (train one with python -m tfcnn.train). "
                         f"Received: model_dir={args.model_dir!r}")
    config_path = os.path.join(args.model_dir, "config.json")
    config = {}
    if os.path.isfile(config_path):
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    spec = args.dataset or config.get("dataset_used")
    if not spec:
        raise ValueError(f"config.json does not say which dataset; pass --dataset. Received: model_dir={args.model_dir!r}")
    holdout = args.holdout if args.holdout is not None else config.get("holdout")
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    data = load_dataset(spec, seed=seed, holdout=holdout, data_dir=args.data_dir or config.get("data_dir"),
                        manual_dir=args.manual_dir or config.get("manual_dir"))
    from tfcnn.compress import load_model  # knows pruned, clustered and QAT models

    model = load_model(model_path)
    classes = int(model.outputs[0].shape[-1])
    if classes != data.num_classes:
        raise DatasetError(f"the model has {classes} outputs but the dataset has {data.num_classes} classes. "
                           f"Received: dataset={spec!r}")
    if args.batch_size <= 0:
        raise ValueError(f"--batch-size must be > 0. Received: --batch-size={args.batch_size}")
    ds = make_pipeline(data.x_test, data.y_test, tuple(model.input_shape[1:]), batch_size=args.batch_size,
                       training=False, native_shape=data.image_shape, cache=False)
    return evaluate_model(model, ds, data.num_classes), list(data.class_names)


if __name__ == "__main__":
    raise SystemExit(main())
