"""A split whose images stay on disk and stream through ``tf.data`` (tfds datasets, sharded TFRecords).

Only the labels are in memory (8 bytes an image, what seeded stratified
splits need); the images are read, decoded and resized batch by batch, so
memory does not grow with the dataset. A subset (a validation split carved
from training data) is a membership mask of one byte per example over the
examples' fixed positions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tfcnn._compat import tf


class StreamSplit:
    """The images of one split, streamed: ``len()``, a seeded subset, and a ``tf.data`` source.

    Args:
        make: ``make(shuffle_files, seed)`` -> ``tf.data.Dataset`` of ``(position, image, label)``,
            where ``position`` is the example's fixed index in the split and ``image`` either a uint8
            ``[H, W, C]`` tensor or, when ``encoded``, the image file's bytes.
        count: number of examples in the whole split.
        encoded: images are file bytes still to decode.
        what: a short description for messages and run metadata (``'tfds mnist train'``).
        files: the files the split reads (TFRecords), for sharding by file across workers.
        ranges: ``(first position, count)`` of each file, when positions run contiguously per file.
        mask: ``None`` for the whole split, else one bool per position.

    Example:
        >>> split = load_tfrecord("shards/").x_train
        >>> len(split), split.subset(np.arange(100)).what
    """

    def __init__(self, make: Callable, count: int, *, encoded: bool, what: str, files=(), ranges=(), mask=None):
        self._make = make
        self.count = int(count)
        self.encoded = bool(encoded)
        self.what = what
        self.files = list(files)
        self.ranges = [tuple(r) for r in ranges]
        self.mask = None if mask is None else np.asarray(mask, dtype=bool)

    def __len__(self) -> int:
        return self.count if self.mask is None else int(self.mask.sum())

    def __repr__(self) -> str:
        return f"StreamSplit({self.what!r}, {len(self)} of {self.count} images)"

    def subset(self, positions) -> StreamSplit:
        """The examples at ``positions`` (indices into this subset's own order)."""
        own = np.flatnonzero(self.mask) if self.mask is not None else np.arange(self.count)
        mask = np.zeros(self.count, dtype=bool)
        mask[own[np.asarray(positions, dtype=np.int64)]] = True
        return StreamSplit(self._make, self.count, encoded=self.encoded, what=self.what, files=self.files,
                           ranges=self.ranges, mask=mask)

    def restrict_files(self, file_indices) -> StreamSplit:
        """Only the examples of the files at ``file_indices`` (needs :attr:`ranges`); only those files are read."""
        mask = np.zeros(self.count, dtype=bool)
        for k in file_indices:
            start, n = self.ranges[k]
            mask[start:start + n] = True
        if self.mask is not None:
            mask &= self.mask
        files = [self.files[k] for k in file_indices]
        ranges = [self.ranges[k] for k in file_indices]
        return StreamSplit(self._make, self.count, encoded=self.encoded, what=self.what, files=files,
                           ranges=ranges, mask=mask)

    def dataset(self, *, shuffle_files: bool = False, seed: int = 0, files=None):
        """``tf.data.Dataset`` of ``(image, label)``; ``files`` restricts it to some of :attr:`files` (sharding)."""
        files = self.files or None if files is None else files
        ds = self._make(shuffle_files, seed) if files is None else self._make(shuffle_files, seed, files)
        if self.mask is not None:
            keep = tf.constant(self.mask)
            ds = ds.filter(lambda i, x, y: tf.gather(keep, i))
        return ds.map(lambda i, x, y: (x, y), num_parallel_calls=tf.data.AUTOTUNE)
