"""Common test set-up: tfcnn first (it selects tf_keras), quiet TensorFlow, the bundled MNIST split."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import tfcnn  # noqa: F401  (must precede any TensorFlow import)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def mnist_test_dir() -> Path:
    """The real MNIST test split (IDX files) bundled inside the package: always there, no network needed."""
    from tfcnn.data.sources import mnist_t10k_dir

    return mnist_t10k_dir()
