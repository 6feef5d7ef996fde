"""Datasets for tfcnn: load a named dataset, then one ``tf.data`` pipeline for all.

``load_dataset(spec)`` returns a :class:`DataSplits` of in-memory uint8 NHWC
images and integer labels; :func:`make_pipeline` turns a split into batches
resized and normalised for a model.

Datasets:
    ``digits``: the real handwritten digits bundled with scikit-learn (1,797
    8x8 grey images, 10 classes), always available offline.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfcnn._compat import tf


class DatasetError(ValueError):
    """A dataset cannot be found, read or used; the message says which and why."""


@dataclasses.dataclass
class DataSplits:
    """In-memory splits of one image classification dataset.

    Attributes:
        name: the dataset actually loaded (recorded in run metadata).
        x_train, y_train, x_test, y_test: uint8 images ``[N, H, W, C]`` and int labels.
        num_classes: number of classes.
        class_names: one name per class.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: list[str]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> DataSplits:
    """scikit-learn's bundled handwritten digits, as uint8 8x8x1 images, stratified seeded split."""
    from sklearn.datasets import load_digits as _sk_digits
    from sklearn.model_selection import train_test_split

    digits = _sk_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    return DataSplits("digits", x_train, y_train, x_test, y_test, 10, [str(i) for i in range(10)])


def load_dataset(spec: str, *, seed: int = 0, **kwargs) -> DataSplits:
    """Load a dataset by its spec (``'digits'``).

    Raises:
        DatasetError: the spec names no known dataset.
    """
    if spec == "digits":
        return load_digits(seed=seed, **kwargs)
    raise DatasetError(f"unknown dataset; available: digits. Received: dataset={spec!r}")


def preprocess(images, input_shape):
    """uint8 images -> float32 in [0, 1], resized to ``input_shape[:2]``, channels converted."""
    x = tf.cast(images, tf.float32) / 255.0
    h, w, c = input_shape
    if tuple(x.shape[-3:-1]) != (h, w):
        x = tf.image.resize(x, (h, w), method="bilinear")
    in_c = x.shape[-1]
    if in_c == 1 and c == 3:
        x = tf.image.grayscale_to_rgb(x)
    elif in_c == 3 and c == 1:
        x = tf.image.rgb_to_grayscale(x)
    return x


def make_pipeline(images, labels, input_shape, *, batch_size: int, training: bool, seed: int = 0):
    """One ``tf.data`` pipeline: preprocess, cache, shuffle (training), batch, prefetch."""
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise DatasetError(f"batch_size must be a positive int. Received: batch_size={batch_size!r}")
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.map(lambda x, y: (preprocess(x, input_shape), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
    if training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
