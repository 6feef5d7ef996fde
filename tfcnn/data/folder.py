"""``folder:DIR``: a folder of ordinary photos, one sub-folder per class, of any size, mode and format.

Loading lists the files and reads each one's header (format, mode, size:
tens of microseconds a file, no pixel is decoded); the pipeline decodes and
resizes in parallel while training. A file whose header Pillow cannot read
is refused with its path, or left out and reported with ``skip_bad_images``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tfcnn.data._base import DataSplits, seeded_split
from tfcnn.data.decode import IMAGE_EXTENSIONS
from tfcnn.errors import DatasetError

DEFAULT_SIDE_CAP = 256
"""Largest default side of a mixed-size folder (Keras's ``image_dataset_from_directory`` default size)."""

_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_TEST_NAMES = ("test", "val", "validation")


def load_folder(directory: str | os.PathLike, *, holdout: float | None = None, seed: int = 0,
                skip_bad_images: bool = False) -> DataSplits:
    """A folder with one sub-folder of images per class, as real photo collections come.

    Images may differ in size, colour mode (grey, RGB, RGBA, palette, CMYK,
    16-bit) and format (JPEG, PNG, GIF, BMP, TIFF, WebP); the pipeline
    resizes them to the model's input. ``train/`` with ``test/`` or ``val/``
    sub-folders (each holding the class sub-folders) gives the split; with
    all three, ``val/`` becomes :attr:`DataSplits.x_val`. Otherwise a
    stratified, seeded ``holdout`` fraction (default 0.2) is the test split.

    Args:
        directory: the folder.
        holdout: test fraction when the folder has no split of its own.
        seed: seed of that hold-out.
        skip_bad_images: leave out files Pillow cannot identify (counted in
            :attr:`DataSplits.skipped`, the first paths in ``skipped_paths``)
            instead of refusing the folder.

    Returns:
        A :class:`DataSplits` of file paths; ``native_shape`` is the shared size, or for mixed sizes
        the median height and width capped at 256.

    Raises:
        DatasetError: the folder is missing, unreadable or empty, has fewer than 2 classes, or
            holds a file that is not a readable image (its path is named) and ``skip_bad_images`` is off.

    Example:
        >>> data = load_folder("flowers/")   # flowers/roses/*.jpg, flowers/tulips/*.png ...
        >>> ds = make_pipeline(data.x_train, data.y_train, (96, 96, 3), batch_size=32, training=True)
    """
    spec = f"folder:{directory}"
    root = Path(directory)
    entries = list_dir(root, spec)
    test_name = next((n for n in _TEST_NAMES if n in entries and (root / n).is_dir()), None)
    x_val = y_val = None
    if "train" in entries and test_name:
        x_train, y_train, class_names = _index(root / "train", spec)
        x_test, y_test, _ = _index(root / test_name, spec, class_names)
        note = f"the folder's train/{test_name} split"
        if test_name == "test" and (root / "val").is_dir():
            x_val, y_val, _ = _index(root / "val", spec, class_names)
            note = "the folder's train/val/test split"
    else:
        x, y, class_names = _index(root, spec)
        fraction = 0.2 if holdout is None else holdout
        x_train, y_train, x_test, y_test = seeded_split(x, y, fraction, seed=seed, argname="holdout")
        note = f"stratified seeded {1 - fraction:.0%}/{fraction:.0%} hold-out (seed {seed})"
    parts = [(x_train, y_train), (x_test, y_test)] + ([(x_val, y_val)] if x_val is not None else [])
    headers, bad = _headers(np.concatenate([p for p, _ in parts]))
    if bad and (not skip_bad_images or len(bad) == sum(len(y) for _, y in parts)):
        path, reason = bad[0]
        raise DatasetError(f"{len(bad)} file(s) in the data folder are not readable images, the first {path} "
                           f"({reason}); remove them or pass --skip-bad-images (skip_bad_images=True) to leave "
                           f"them out. Received: dataset={spec!r}")
    if bad:
        drop = {p for p, _ in bad}
        parts = [(x[keep], y[keep]) for x, y in parts for keep in [np.asarray([p not in drop for p in x], bool)]]
        (x_train, y_train), (x_test, y_test) = parts[:2]
        if x_val is not None:
            x_val, y_val = parts[2]
        note += f"; {len(bad)} unreadable file(s) skipped"
    return DataSplits(spec, x_train, y_train, x_test, y_test, len(class_names), class_names,
                      native_shape=_native_shape(headers), note=note, x_val=x_val, y_val=y_val, skipped=len(bad),
                      skipped_paths=tuple(p for p, _ in bad[:10]))


def list_dir(directory, spec: str) -> list[str]:
    """Sorted entries of a data folder, or a :class:`DatasetError` naming ``spec``."""
    if not os.path.isdir(directory):
        raise DatasetError(f"the data folder does not exist. Received: dataset={spec!r}")
    try:
        return sorted(os.listdir(directory))
    except OSError as err:
        raise DatasetError(f"the data folder cannot be read ({err.strerror}). Received: dataset={spec!r}") from None


def _index(directory: Path, spec: str, class_names=None):
    """File paths and labels of a class-per-sub-folder tree (files found recursively, sorted)."""
    names = class_names or [n for n in list_dir(directory, spec) if (directory / n).is_dir()]
    if len(names) < 2:
        raise DatasetError(f"the data folder needs one sub-folder per class and at least 2 classes; found "
                           f"{len(names)} in {directory}. Received: dataset={spec!r}")
    paths, labels = [], []
    for label, name in enumerate(names):
        for top, dirs, files in os.walk(directory / name, followlinks=True):
            dirs.sort()
            found = sorted(f for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
            paths += [os.path.join(top, f) for f in found]
            labels += [label] * len(found)
    if not paths:
        raise DatasetError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in the class sub-folders of "
                           f"{directory}. Received: dataset={spec!r}")
    return np.asarray(paths), np.asarray(labels, dtype=np.int64), list(names)


def _headers(paths) -> tuple[list[tuple[int, int, bool]], list[tuple[str, str]]]:
    """``(height, width, grey)`` of every readable file, and ``(path, reason)`` of the others."""
    from PIL import Image, UnidentifiedImageError

    headers, bad = [], []
    for p in paths:
        try:
            with Image.open(p) as im:
                headers.append((im.size[1], im.size[0], im.mode in _GREY_MODES))
        except (OSError, UnidentifiedImageError, ValueError) as err:
            bad.append((str(p), type(err).__name__))
    return headers, sorted(bad)  # the first bad file in folder order, whatever the split


def _native_shape(headers) -> tuple[int, int, int]:
    """The shared size if there is one, else the median size capped at :data:`DEFAULT_SIDE_CAP`; grey if most are."""
    hw = np.asarray([(h, w) for h, w, _ in headers])
    channels = 1 if 2 * sum(g for *_, g in headers) > len(headers) else 3
    if len(np.unique(hw, axis=0)) == 1:
        return int(hw[0, 0]), int(hw[0, 1]), channels
    h, w = np.median(hw, axis=0)
    scale = min(1.0, DEFAULT_SIDE_CAP / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale)), channels
