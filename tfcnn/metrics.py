"""Classification metrics of a logits model over a ``tf.data`` split: accuracy, loss, per class, confusion.

Used by training (its final test), ``python -m tfcnn.evaluate`` and the
compression report, so all three count the same way.

Example:
    >>> import tfcnn
    >>> from tfcnn.data import load_dataset, make_pipeline
    >>> from tfcnn.metrics import evaluate_model
    >>> data = load_dataset("digits")
    >>> ds = make_pipeline(data.x_test, data.y_test, (16, 16, 1), batch_size=64, training=False)
    >>> evaluate_model(tfcnn.create_model("lenet", input_shape=(16, 16, 1)), ds, 10)["examples"]
    360
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import keras, tf
from tfcnn.errors import DatasetError


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

    Raises:
        DatasetError: the dataset yields no example.
    """
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, n = 0.0, 0
    predict = tf.function(lambda x: tf.cast(model(x, training=False), tf.float32), reduce_retracing=True)
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


def top1(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> tuple[float, np.ndarray]:
    """Top-1 accuracy and predicted classes of a Keras model on preprocessed images."""
    logits = model.predict(images, batch_size=batch_size, verbose=0)
    pred = np.argmax(logits, axis=-1)
    return float(np.mean(pred == np.asarray(labels))), pred


def format_report(result: dict, class_names) -> str:
    """The evaluation as text: accuracy, a per-class table and (up to 30 classes) the confusion matrix."""
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


__all__ = ["evaluate_model", "format_report", "top1"]
