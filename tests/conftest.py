"""Shared test set-up: tfcnn first (it selects tf_keras), quiet TensorFlow, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import tfcnn  # noqa: F401  (must precede any TensorFlow import)

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_TEST_DIR = REPO_ROOT.parent / "shared" / "datasets" / "mnist-test"


@pytest.fixture
def mnist_test_dir() -> Path:
    """The real MNIST test split (IDX files) shared beside the repository; skips if absent."""
    if not (MNIST_TEST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST test split not found at {MNIST_TEST_DIR}")
    return MNIST_TEST_DIR
