"""Datasets that need no network: scikit-learn's digits, MNIST-format IDX folders, the bundled MNIST split.

``load_folder`` lives in :mod:`tfcnn.data.folder` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import re
from pathlib import Path

import numpy as np

from tfcnn.data._base import DataSplits, seeded_split
from tfcnn.data.folder import list_dir, load_folder
from tfcnn.errors import DatasetError

__all__ = ["MNIST_T10K", "load_digits", "load_folder", "load_idx", "load_mnist_t10k", "mnist_t10k_dir", "read_idx"]


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> DataSplits:
    """scikit-learn's bundled handwritten digits: 1,797 uint8 8x8x1 images, stratified seeded split.

    Example:
        >>> data = load_digits()
        >>> data.x_train.shape, data.x_test.shape
        ((1437, 8, 8, 1), (360, 8, 8, 1))
    """
    from sklearn.datasets import load_digits as _sk_digits

    digits = _sk_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    x_train, y_train, x_test, y_test = seeded_split(images, labels, test_fraction, seed=seed, argname="test_fraction")
    return DataSplits("digits", x_train, y_train, x_test, y_test, 10, [str(i) for i in range(10)], hflip=False,
                      note=f"stratified seeded {1 - test_fraction:.0%}/{test_fraction:.0%} split (seed {seed})")


# ---------------------------------------------------------------------------------------------- IDX
_IDX_RE = re.compile(r"^(?P<prefix>train|t10k)-(?P<kind>images|labels)[-.]idx(?P<rank>[13])-ubyte(?P<gz>\.gz)?$")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw) into a uint8 array: magic 2051 images ``[N, H, W]``, 2049 labels ``[N]``.

    Raises:
        DatasetError: the file is unreadable or not an IDX uint8 file.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DatasetError(f"cannot read the IDX file ({err}). Received: path={os.fspath(path)!r}") from None
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise DatasetError(f"not an uint8 IDX file (bad magic number). Received: path={os.fspath(path)!r}")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    offset = 4 + 4 * rank
    if len(raw) - offset != int(np.prod(dims)):
        raise DatasetError(f"IDX file is truncated: header says {dims}. Received: path={os.fspath(path)!r}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_idx(directory: str | os.PathLike, *, holdout: float | None = None, seed: int = 0) -> DataSplits:
    """A folder of MNIST-format IDX files (``train-``/``t10k-`` ``images-idx3-ubyte[.gz]`` and ``labels-idx1-ubyte``).

    With both ``train`` and ``t10k`` files the folder's own split is used.
    With only one of them (for example the MNIST test split alone), an
    explicit ``holdout`` fraction carves a stratified, seeded training/test
    split from it.

    Raises:
        DatasetError: the folder is missing or unreadable, holds no IDX pair,
            images and labels disagree, or only one split is there and no
            ``holdout`` was given.

    Example:
        >>> data = load_idx(mnist_t10k_dir(), holdout=0.2)
        >>> len(data.x_train), len(data.x_test)
        (8000, 2000)
    """
    spec = f"idx:{directory}"
    files = list_dir(directory, spec)
    found: dict[str, dict[str, Path]] = {}
    for name in files:
        m = _IDX_RE.match(name)
        if m:
            found.setdefault(m["prefix"], {})[m["kind"]] = Path(directory) / name
    splits = {}
    for prefix, pair in found.items():
        if set(pair) != {"images", "labels"}:
            continue
        images, labels = read_idx(pair["images"]), read_idx(pair["labels"])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(f"{prefix} images {images.shape} and labels {labels.shape} do not match. "
                               f"Received: dataset={spec!r}")
        splits[prefix] = (images[..., None], labels.astype(np.int64))
    if not splits:
        raise DatasetError("no pair of *-images-idx3-ubyte[.gz] and *-labels-idx1-ubyte[.gz] files "
                           f"with a train or t10k prefix in the folder. Received: dataset={spec!r}")
    if len(splits) == 2:
        (x_train, y_train), (x_test, y_test) = splits["train"], splits["t10k"]
        note = "the folder's train/t10k split"
    else:
        (prefix, (x, y)), = splits.items()
        if holdout is None:
            raise DatasetError(f"the IDX folder has only the {prefix} split; pass --holdout FRACTION (e.g. 0.2) to "
                               f"carve a seeded training/test split from it. Received: dataset={spec!r}")
        x_train, y_train, x_test, y_test = seeded_split(x, y, holdout, seed=seed, argname="holdout")
        note = f"stratified seeded {1 - holdout:.0%}/{holdout:.0%} hold-out of {prefix} (seed {seed})"
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    return DataSplits(spec, x_train, y_train, x_test, y_test, num_classes, [str(i) for i in range(num_classes)],
                      hflip=False, note=note)


# -------------------------------------------------------------------------------------- mnist-t10k
MNIST_T10K = "mnist-t10k"
"""Spec of the bundled MNIST test split (10,000 real digits, CC BY-SA 3.0, see its ``LICENSE.md``)."""


def mnist_t10k_dir() -> Path:
    """The package folder holding the bundled MNIST test split's IDX files."""
    return Path(__file__).resolve().parent / "embedded" / "mnist_t10k"


def load_mnist_t10k(*, test_fraction: float = 0.2, seed: int = 0) -> DataSplits:
    """The MNIST test split bundled with tfcnn: 10,000 real 28x28 digits, a stratified seeded 8,000 / 2,000 split.

    Needs no network and no folder outside the package; it is what
    ``python -m tfcnn.train lenet`` falls back to when tensorflow-datasets'
    MNIST is not prepared.

    Example:
        >>> data = load_mnist_t10k()
        >>> len(data.x_train), len(data.x_test), data.image_shape
        (8000, 2000, (28, 28, 1))
    """
    data = load_idx(mnist_t10k_dir(), holdout=test_fraction, seed=seed)
    return dataclasses.replace(data, name=MNIST_T10K,
                               note=f"bundled MNIST test split, {data.note.split(' of ')[0]} (seed {seed})")
