"""The README's promise: LeNet-5's default recipe reaches >= 97.5 % on the real MNIST 80/20 hold-out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train_mnist.py"


@pytest.mark.slow
def test_lenet_default_recipe_reaches_97_5_percent_on_mnist_holdout(mnist_test_dir):
    spec = importlib.util.spec_from_file_location("bench_train_mnist", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    metrics = bench.run(mnist_test_dir, seed=0)
    assert metrics["dataset"] == f"idx:{mnist_test_dir}" and metrics["train_images"] == 8000
    assert metrics["test_accuracy"] >= bench.TARGET
