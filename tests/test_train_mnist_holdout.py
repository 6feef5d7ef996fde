"""The README's promise: LeNet-5's default recipe reaches >= 97.5 % on the real MNIST 80/20 hold-out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train_mnist.py"


@pytest.mark.slow
def test_lenet_default_recipe_reaches_97_5_percent_on_mnist_holdout():
    spec = importlib.util.spec_from_file_location("bench_train_mnist", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    metrics = bench.run("mnist-t10k", seed=0)  # the real digits bundled with tfcnn: no folder outside the repository
    assert metrics["dataset"] == "mnist-t10k" and metrics["test_images"] == 2000
    assert metrics["test_accuracy"] >= bench.TARGET
