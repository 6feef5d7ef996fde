"""Dataset sources: digits, idx:DIR (with --holdout), folder:DIR; each bad folder fails with a DatasetError."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from PIL import Image

from tfcnn.data import DatasetError, load_dataset, read_idx


def write_idx(path, array: np.ndarray, *, gz: bool = True) -> None:
    """MNIST's IDX format: 0x0000, dtype 0x08 (uint8), rank, big-endian dims, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def write_images(root, sizes_modes, per_class: int = 4) -> None:
    """``root/<class>/<i>.png``; one (size, mode) per class."""
    rng = np.random.default_rng(0)
    for c, (size, mode) in enumerate(sizes_modes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
            pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
            Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(root / f"class{c}" / f"{i}.png")


def test_digits_are_the_real_sklearn_digits_split_80_20():
    data = load_dataset("digits")
    assert data.image_shape == (8, 8, 1) and data.x_train.dtype == np.uint8
    assert len(data.x_train) + len(data.x_test) == 1797 and len(data.x_test) == 360
    assert data.num_classes == 10 and not data.hflip


def test_idx_holdout_is_seeded_stratified_and_disjoint(mnist_test_dir):
    a = load_dataset(f"idx:{mnist_test_dir}", holdout=0.2, seed=0)
    b = load_dataset(f"idx:{mnist_test_dir}", holdout=0.2, seed=0)
    c = load_dataset(f"idx:{mnist_test_dir}", holdout=0.2, seed=1)
    assert (len(a.x_train), len(a.x_test)) == (8000, 2000)
    assert np.array_equal(a.x_test, b.x_test) and not np.array_equal(a.x_test, c.x_test)
    # stratified: every class keeps its share of the 10,000 within one image
    full = np.bincount(np.concatenate([a.y_train, a.y_test]), minlength=10)
    assert np.all(np.abs(np.bincount(a.y_test, minlength=10) - full * 0.2) <= 1)
    train_keys = {x.tobytes() for x in a.x_train}
    assert sum(x.tobytes() in train_keys for x in a.x_test) < 5  # MNIST has a few duplicate images, no more


def test_idx_single_split_without_holdout_asks_for_it(mnist_test_dir):
    with pytest.raises(DatasetError, match="--holdout"):
        load_dataset(f"idx:{mnist_test_dir}")


def test_idx_folder_with_train_and_t10k_uses_its_own_split(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 6, 5)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 3, n), gz=False)
    data = load_dataset(f"idx:{tmp_path}")
    assert data.x_train.shape == (30, 6, 5, 1) and data.x_test.shape == (10, 6, 5, 1)
    assert np.array_equal(data.x_test[..., 0], read_idx(tmp_path / "t10k-images-idx3-ubyte.gz"))


def test_idx_bad_magic_is_refused(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x09\x03" + b"\x00" * 12)
    with pytest.raises(DatasetError, match="magic"):
        read_idx(tmp_path / "t10k-images-idx3-ubyte")


def test_folder_with_train_test_subfolders_keeps_paths_and_classes(tmp_path):
    write_images(tmp_path / "train", [((12, 10), "RGB")] * 3, per_class=4)
    write_images(tmp_path / "test", [((12, 10), "RGB")] * 3, per_class=2)
    data = load_dataset(f"folder:{tmp_path}")
    assert data.is_files and data.image_shape == (10, 12, 3)
    assert data.class_names == ["class0", "class1", "class2"]
    assert len(data.x_train) == 12 and len(data.x_test) == 6
    assert all(f"class{label}" in path for path, label in zip(data.x_train, data.y_train))


def test_folder_without_split_takes_a_seeded_holdout(tmp_path):
    write_images(tmp_path, [((8, 8), "L")] * 2, per_class=10)
    data = load_dataset(f"folder:{tmp_path}", holdout=0.25, seed=3)
    assert data.image_shape == (8, 8, 1) and (len(data.x_train), len(data.x_test)) == (15, 5)
    assert not set(data.x_train) & set(data.x_test)


@pytest.mark.parametrize("layout, match", [
    ("missing", "does not exist"),
    ("empty", "at least 2 classes; found 0"),
    ("no_images", "no image files"),
    ("one_class", "at least 2 classes"),
    ("corrupt", "not readable images, the first .*0.png"),
])
def test_bad_folders_raise_dataset_error(tmp_path, layout, match):
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "one_class":
        write_images(root, [((8, 8), "L")])
    if layout == "no_images":
        (root / "a").mkdir()
        (root / "b").mkdir()
        (root / "a" / "notes.txt").write_text("not an image")
    if layout == "corrupt":
        write_images(root, [((8, 8), "L")] * 2)
        (root / "class0" / "0.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=match) as info:
        load_dataset(f"folder:{root}")
    assert str(info.value).endswith(f"Received: dataset='folder:{root}'")


def test_unknown_spec_lists_what_is_accepted():
    with pytest.raises(DatasetError, match="digits, mnist-t10k, idx:DIR, folder:DIR, tfrecord:DIR"):
        load_dataset("Not A Dataset!")
