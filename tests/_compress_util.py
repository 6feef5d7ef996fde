"""Shared by the compression tests: a LeNet briefly trained on the bundled digits by the real trainer."""

from __future__ import annotations

import os


def train_lenet(out_dir, *, epochs: int = 8, style: str = "keras", seed: int = 0) -> str:
    """Train LeNet on digits with ``tfcnn.train`` (the run folder compression reads) and return its path."""
    from tfcnn import train

    code = train.main(["lenet", "--dataset", "digits", "--epochs", str(epochs), "--style", style, "--seed", str(seed),
                       "--out", os.fspath(out_dir), "--quiet"])
    assert code == 0, f"training the compression fixture failed with exit code {code}"
    return os.fspath(out_dir)
