"""What every dataset source shares: the error type, the in-memory splits, seeded splitting."""

from __future__ import annotations

import dataclasses

import numpy as np

from tfcnn.data.stream import StreamSplit
from tfcnn.errors import DatasetError

__all__ = ["NO_FLIP", "DataSplits", "DatasetError", "flip_ok", "seeded_split"]


@dataclasses.dataclass
class DataSplits:
    """The training and test splits of one image classification dataset.

    Images are held as uint8 arrays ``[N, H, W, C]`` (``digits``,
    ``mnist-t10k``, ``idx:``), as an array of file paths (``folder:``) or as a
    :class:`~tfcnn.data.stream.StreamSplit` (tfds, ``tfrecord:``); the
    pipeline decodes the last two lazily, so they never have to fit in memory.

    Attributes:
        name: the dataset actually loaded (recorded in run metadata).
        x_train, y_train, x_test, y_test: images (uint8 arrays or file paths) and int64 labels.
        num_classes: number of classes.
        class_names: one name per class.
        native_shape: ``(H, W, C)`` of the images; for a folder of mixed sizes the median height
            and width (at most 256, Keras's default size), which only picks a default input size.
        hflip: whether a horizontal flip is a label-preserving augmentation
            (not for digits and letters).
        note: how the splits were made (``'80/20 seeded hold-out of t10k'``), for the run's metadata.
        x_val, y_val: a validation split the dataset brings (a folder's ``val/`` beside ``train/`` and
            ``test/``), else ``None``.
        skipped: how many undecodable files were left out (``skip_bad_images=True``).
        skipped_paths: the first of them (at most 10).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: list[str]
    native_shape: tuple[int, int, int] | None = None
    hflip: bool = True
    note: str = ""
    x_val: object = None
    y_val: np.ndarray | None = None
    skipped: int = 0
    skipped_paths: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of the images before any resizing."""
        if self.native_shape is not None:
            return tuple(int(d) for d in self.native_shape)
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def is_files(self) -> bool:
        """True when images are file paths decoded by the pipeline."""
        return not isinstance(self.x_train, StreamSplit) and np.asarray(self.x_train).dtype.kind in "USO"

    @property
    def is_stream(self) -> bool:
        """True when images stream from disk (tfds, TFRecords)."""
        return isinstance(self.x_train, StreamSplit)

    def validation_split(self, fraction: float, *, seed: int = 0):
        """The dataset's own validation split if it has one, else a seeded, stratified one carved from training.

        The test split is never touched, so ``val_accuracy`` is not the test accuracy.

        Returns:
            ``(x_train, y_train, x_val, y_val)``.

        Raises:
            DatasetError: ``fraction`` is not in (0, 1) or leaves an empty split.
        """
        if self.x_val is not None:
            return self.x_train, self.y_train, self.x_val, self.y_val
        return seeded_split(self.x_train, self.y_train, fraction, seed=seed, argname="val_split")


def seeded_split(x, y, fraction: float, *, seed: int = 0, argname: str = "holdout"):
    """Split ``(x, y)`` into ``(x_a, y_a, x_b, y_b)`` with ``fraction`` in b, stratified when possible.

    Raises:
        DatasetError: ``fraction`` is not in (0, 1) or a side would be empty.
    """
    from sklearn.model_selection import train_test_split

    if not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise DatasetError(f"{argname} must be a fraction between 0 and 1. Received: {argname}={fraction!r}")
    n_b = int(np.ceil(len(y) * fraction))  # sklearn's rounding, so 10,000 x 0.2 = 2,000
    if n_b < 1 or n_b >= len(y):
        raise DatasetError(f"{argname} leaves an empty split of {len(y)} examples. Received: {argname}={fraction!r}")
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    # Stratify when every class can appear on both sides; tiny classes make sklearn refuse.
    stratify = y if counts[counts > 0].min() >= 2 and n_b >= np.count_nonzero(counts) else None
    if isinstance(x, StreamSplit):  # split positions; the stream keeps a membership mask per side
        i_a, i_b = train_test_split(np.arange(len(y)), test_size=n_b, random_state=seed, stratify=stratify)
        i_a, i_b = np.sort(i_a), np.sort(i_b)  # a stream yields its examples in position order
        return x.subset(i_a), np.asarray(y)[i_a], x.subset(i_b), np.asarray(y)[i_b]
    x_a, x_b, y_a, y_b = train_test_split(x, y, test_size=n_b, random_state=seed, stratify=stratify)
    return x_a, y_a, x_b, y_b


# Datasets whose classes change meaning when mirrored (digits, letters): no horizontal flip.
NO_FLIP = ("digits", "mnist", "mnist-t10k", "emnist", "kmnist", "svhn_cropped", "idx:")


def flip_ok(name: str) -> bool:
    """Whether mirroring left-right keeps the label of an image of dataset ``name``."""
    return not any(name == n or name.startswith(n if n.endswith(":") else n + "/") for n in NO_FLIP)
