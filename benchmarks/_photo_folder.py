"""Folders of JPEG files of varied sizes, written from the bundled real MNIST digits, for the data benchmarks."""

from __future__ import annotations

import os

import numpy as np


def write_jpeg_folder(root: str, n: int, *, seed: int = 0, colour: bool = False, max_side: int = 160) -> str:
    """``n`` JPEGs under ``root/<digit>/``: MNIST digits resized to random sizes and aspect ratios (20..max_side).

    Sizes vary as a photo folder's do, so the pipeline must resize each one;
    ``colour`` writes RGB files (tinted digits) instead of grey ones.
    """
    from PIL import Image

    from tfcnn.data import load_dataset

    data = load_dataset("mnist-t10k")
    images = np.concatenate([data.x_train, data.x_test])[..., 0]
    labels = np.concatenate([data.y_train, data.y_test])
    rng = np.random.default_rng(seed)
    for d in range(10):
        os.makedirs(os.path.join(root, str(d)), exist_ok=True)
    for i in range(n):
        k = i % len(images)
        w, h = (int(v) for v in rng.integers(20, max_side + 1, 2))
        im = Image.fromarray(images[k]).resize((w, h), Image.BILINEAR)
        if colour:
            tint = rng.integers(80, 256, 3)
            im = Image.fromarray((np.asarray(im)[..., None] * (tint / 255.0)).astype(np.uint8))
        im.save(os.path.join(root, str(labels[k]), f"{i:06d}.jpg"), quality=90)
    return root
