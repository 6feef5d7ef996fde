"""The bundled MNIST test split: inside the package, real digits, the documented seeded split."""

from __future__ import annotations

import numpy as np

from tfcnn.data import MNIST_T10K, load_dataset
from tfcnn.data.sources import mnist_t10k_dir


def test_mnist_t10k_is_package_data_with_its_licence():
    folder = mnist_t10k_dir()
    assert "tfcnn" in folder.parts and (folder / "LICENSE.md").read_text().count("CC BY-SA 3.0") >= 1
    assert {p.name for p in folder.glob("*.gz")} == {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}


def test_mnist_t10k_split_is_8000_2000_stratified_seeded_and_disjoint():
    a, b, c = load_dataset(MNIST_T10K), load_dataset(MNIST_T10K), load_dataset(MNIST_T10K, seed=1)
    assert (len(a.x_train), len(a.x_test), a.image_shape, a.num_classes) == (8000, 2000, (28, 28, 1), 10)
    assert np.array_equal(a.y_test, b.y_test) and not np.array_equal(a.y_test, c.y_test)
    # the whole split's class counts, as published for MNIST's t10k
    counts = np.bincount(np.concatenate([a.y_train, a.y_test]))
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.abs(np.bincount(a.y_test) / 2000 - counts / 10000).max() < 0.002  # stratified
    train_rows = {x.tobytes() for x in a.x_train[:2000]}
    assert not train_rows & {x.tobytes() for x in a.x_test}
    assert a.name == MNIST_T10K and not a.hflip
