"""Datasets for tfcnn: load a named dataset, then one ``tf.data`` pipeline for all.

``load_dataset(spec)`` returns a :class:`DataSplits` (images and integer
labels of a training and a test split); :func:`make_pipeline` turns a split
into batches resized and normalised for a model.

Dataset specs:
    ``digits``: the real handwritten digits bundled with scikit-learn (1,797
    8x8 grey images, 10 classes), always available offline.
    ``mnist-t10k``: the real MNIST test split bundled with tfcnn (10,000
    28x28 digits, CC BY-SA 3.0), a stratified seeded 8,000 / 2,000 split;
    always available offline.
    ``idx:DIR``: MNIST-format IDX files (``train-``/``t10k-`` prefixes); a
    folder with one split needs ``holdout=FRACTION``.
    ``folder:DIR``: one sub-folder of images per class, of any size, mode
    and format (``train/`` with ``test/`` or ``val/`` sub-folders if the
    split is given, else a seeded hold-out); decoded and resized in the
    pipeline (``resize='crop'|'pad'|'stretch'``).
    ``tfrecord:DIR``: sharded TFRecords written by ``python -m tfcnn.data.shard``, streamed.
    Any other name: a tensorflow-datasets image classification dataset
    (``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imagenet2012``...),
    streamed from the TFDS data directory, built offline from ``manual_dir``, or
    downloaded when the network answers (probed first, so offline failures are quick).

See ``docs/data.md`` for memory (cache budget, cache files, shuffle buffer in
bytes) and the measured throughput.

Example:
    >>> from tfcnn.data import load_dataset, make_pipeline
    >>> data = load_dataset("mnist-t10k")
    >>> train_ds = make_pipeline(data.x_train, data.y_train, (28, 28, 1), batch_size=64, training=True)
"""

from __future__ import annotations

import re

from tfcnn.data._base import DataSplits, flip_ok, seeded_split
from tfcnn.data.decode import RESIZE_MODES, resize_image
from tfcnn.data.pipeline import (
    CACHE_BUDGET_BYTES,
    SHUFFLE_BUFFER_BYTES,
    CacheBudget,
    augment,
    choose_input_shape,
    make_pipeline,
    preprocess,
    shuffle_buffer_size,
)
from tfcnn.data.records import load_tfrecord, shard_inputs, shard_policy, write_shards
from tfcnn.data.sources import MNIST_T10K, load_digits, load_folder, load_idx, load_mnist_t10k, mnist_t10k_dir, read_idx
from tfcnn.data.stream import StreamSplit
from tfcnn.data.tfds_source import load_tfds, network_available
from tfcnn.errors import DatasetError

__all__ = [
    "CACHE_BUDGET_BYTES",
    "MNIST_T10K",
    "RESIZE_MODES",
    "SHUFFLE_BUFFER_BYTES",
    "CacheBudget",
    "DataSplits",
    "DatasetError",
    "StreamSplit",
    "augment",
    "choose_input_shape",
    "flip_ok",
    "load_dataset",
    "load_digits",
    "load_folder",
    "load_idx",
    "load_mnist_t10k",
    "load_tfds",
    "load_tfrecord",
    "make_pipeline",
    "mnist_t10k_dir",
    "network_available",
    "preprocess",
    "read_idx",
    "resize_image",
    "seeded_split",
    "shard_inputs",
    "shard_policy",
    "shuffle_buffer_size",
    "write_shards",
]


def load_dataset(spec: str, *, seed: int = 0, holdout: float | None = None, data_dir: str | None = None,
                 manual_dir: str | None = None, skip_bad_images: bool = False, **kwargs) -> DataSplits:
    """Load a dataset by its spec: ``digits``, ``mnist-t10k``, ``idx:DIR``, ``folder:DIR``, ``tfrecord:DIR``, tfds.

    Args:
        spec: the dataset spec (see the module docstring).
        seed: seed of any split made here.
        holdout: test fraction to carve from a dataset that has only one split.
        data_dir: TFDS data directory (tfds names only).
        manual_dir: folder of a tfds dataset's original files, to build it offline (``imagenet2012``...).
        skip_bad_images: ``folder:`` only: leave out unreadable files (reported in ``DataSplits.skipped``).
        **kwargs: passed to the loader (``test_fraction`` for ``digits``).

    Returns:
        A :class:`DataSplits`.

    Raises:
        DatasetError: the spec names no dataset, or it cannot be found, read or used.

    Example:
        >>> load_dataset("digits").num_classes
        10
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetError(f"dataset must be a non-empty string. Received: dataset={spec!r}")
    if spec == "digits":
        return load_digits(seed=seed, **kwargs)
    if spec == MNIST_T10K:
        return load_mnist_t10k(seed=seed, **kwargs)
    if spec.startswith("idx:"):
        return load_idx(spec[4:], holdout=holdout, seed=seed)
    if spec.startswith("folder:"):
        return load_folder(spec[7:], holdout=holdout, seed=seed, skip_bad_images=skip_bad_images)
    if spec.startswith("tfrecord:"):
        return load_tfrecord(spec[9:])
    if not re.fullmatch(r"[a-z0-9_]+(/[\w.-]+)?(:[\d.*]+)?", spec):
        raise DatasetError("unknown dataset; use digits, mnist-t10k, idx:DIR, folder:DIR, tfrecord:DIR or a "
                           "tensorflow-datasets name such as mnist, fashion_mnist, cifar10, cifar100. "
                           f"Received: dataset={spec!r}")
    return load_tfds(spec, data_dir=data_dir, manual_dir=manual_dir, holdout=holdout, seed=seed)
