"""Datasets that need no network: scikit-learn's digits, MNIST-format IDX folders, folders of images."""

from __future__ import annotations

import dataclasses

import gzip
import os
import re
from pathlib import Path

import numpy as np

from tfcnn.data._base import DatasetError, DataSplits, seeded_split


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
    files = _list_dir(directory, spec)
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


# ------------------------------------------------------------------------------------------- folder
_GREY, _COLOUR, _ALPHA = "grey", "colour", "colour with alpha"
_MODES = {"1": _GREY, "L": _GREY, "I": _GREY, "I;16": _GREY, "F": _GREY, "RGB": _COLOUR, "P": _COLOUR,
          "YCbCr": _COLOUR, "CMYK": _COLOUR, "RGBA": _ALPHA, "LA": _ALPHA, "PA": _ALPHA}


def load_folder(directory: str | os.PathLike, *, holdout: float | None = None, seed: int = 0) -> DataSplits:
    """A folder with one sub-folder of images per class, listed by ``tf_keras.utils.image_dataset_from_directory``.

    A folder with ``train/`` and ``test/`` (or ``val/``) sub-folders, each
    holding the class sub-folders, uses that split; otherwise a stratified,
    seeded ``holdout`` fraction (default 0.2) becomes the test split. Images
    are kept as file paths and decoded by the pipeline, so the folder need not
    fit in memory. Every image must have the same size and colour mode
    (checked from the file headers, which is fast); resize them first if not.

    Raises:
        DatasetError: the folder is missing, unreadable or empty, an image
            cannot be read, or images differ in size or channels.

    Example:
        >>> data = load_folder("flowers/")   # flowers/roses/*.jpg, flowers/tulips/*.jpg ...
    """
    spec = f"folder:{directory}"
    entries = _list_dir(directory, spec)
    root = Path(directory)
    test_name = next((n for n in ("test", "val", "validation") if n in entries and (root / n).is_dir()), None)
    if "train" in entries and test_name:
        x_train, y_train, class_names = _index_folder(root / "train", spec)
        x_test, y_test, _ = _index_folder(root / test_name, spec, class_names=class_names)
        note = f"the folder's train/{test_name} split"
    else:
        x, y, class_names = _index_folder(root, spec)
        fraction = 0.2 if holdout is None else holdout
        x_train, y_train, x_test, y_test = seeded_split(x, y, fraction, seed=seed, argname="holdout")
        note = f"stratified seeded {1 - fraction:.0%}/{fraction:.0%} hold-out (seed {seed})"
    shape = _common_shape(np.concatenate([x_train, x_test]), spec)
    return DataSplits(spec, x_train, y_train, x_test, y_test, len(class_names), class_names, native_shape=shape,
                      note=note)


def _list_dir(directory, spec: str) -> list[str]:
    if not os.path.isdir(directory):
        raise DatasetError(f"the data folder does not exist. Received: dataset={spec!r}")
    try:
        return sorted(os.listdir(directory))
    except OSError as err:
        raise DatasetError(f"the data folder cannot be read ({err.strerror}). Received: dataset={spec!r}") from None


def _index_folder(directory: Path, spec: str, class_names=None):
    """File paths and labels of a class-per-sub-folder tree, as Keras's loader infers them."""
    import contextlib
    import io

    from tfcnn._compat import keras

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints "Found N files..."; we say it ourselves
            ds = keras.utils.image_dataset_from_directory(
                directory, labels="inferred", label_mode="int", class_names=class_names, batch_size=None,
                shuffle=False)
    except (ValueError, OSError) as err:
        reason = str(err).splitlines()[0].rstrip(".")
        raise DatasetError(f"no usable images in the data folder ({reason}). Received: dataset={spec!r}") from None
    paths = np.asarray(ds.file_paths)
    names = list(ds.class_names)
    if len(names) < 2:
        raise DatasetError(f"the data folder needs one sub-folder per class and at least 2 classes; found "
                           f"{len(names)}. Received: dataset={spec!r}")
    index = {n: i for i, n in enumerate(names)}
    labels = np.asarray([index[Path(p).relative_to(directory).parts[0]] for p in paths], dtype=np.int64)
    return paths, labels, names


def _common_shape(paths: np.ndarray, spec: str) -> tuple[int, int, int]:
    """``(H, W, C)`` shared by every image, read from the headers; mixed sizes or modes are refused."""
    from PIL import Image, UnidentifiedImageError

    sizes, kinds = {}, {}
    for p in paths:
        try:
            with Image.open(p) as im:
                size, kind = im.size, _MODES.get(im.mode, _COLOUR)
        except (OSError, UnidentifiedImageError) as err:
            raise DatasetError(f"cannot read image {p} ({type(err).__name__}). Received: dataset={spec!r}") from None
        sizes.setdefault(size, p)
        kinds.setdefault(kind, p)
    if len(sizes) > 1:
        (s1, p1), (s2, p2) = list(sizes.items())[:2]
        raise DatasetError(f"images have mixed sizes ({s1[0]}x{s1[1]} in {p1}, {s2[0]}x{s2[1]} in {p2}); resize "
                           f"them to one size first. Received: dataset={spec!r}")
    if len(kinds) > 1:
        (k1, p1), (k2, p2) = list(kinds.items())[:2]
        raise DatasetError(f"images have mixed channels ({k1} in {p1}, {k2} in {p2}); convert them to one colour "
                           f"mode first. Received: dataset={spec!r}")
    (w, h), = sizes
    (kind,) = kinds
    return (h, w, 1 if kind == _GREY else 3)

