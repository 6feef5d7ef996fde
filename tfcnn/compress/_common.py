"""What the compression modules share: fine-tuning and weight sparsity.

TFMOT is imported only on first use (``tfcnn._compat.tfmot``), so that
``import tfcnn`` and ``import tfcnn.compress`` stay light and never touch it.
Run folders are read through :mod:`tfcnn.runs`.
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import keras, tf, tfmot
from tfcnn.errors import CompressError
from tfcnn.metrics import top1 as keras_accuracy
from tfcnn.optim import make_optimizer


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# ---------------------------------------------------------------------------
# Training and weight statistics
# ---------------------------------------------------------------------------


def compile_for_fine_tuning(model, *, optimizer: str = "adam", lr: float = 1e-3) -> None:
    """Compile ``model`` for fine-tuning with sparse cross-entropy on logits and accuracy."""
    model.compile(optimizer=make_optimizer(optimizer, lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


def kernel_of(layer):
    """The main weight matrix of a conv/dense-like layer (``kernel``), or ``None``."""
    kernel = getattr(layer, "kernel", None)
    return kernel if isinstance(kernel, tf.Variable) else None


def kernel_sparsity(model) -> dict[str, dict]:
    """Measured fraction of exact zeros in each layer's kernel.

    Returns:
        ``{layer_name: {"sparsity": float, "params": int, "shape": [...]}}`` for
        every layer with a ``kernel`` (Conv2D, Dense and the raw layers).
    """
    out = {}
    for layer in model.layers:
        kernel = kernel_of(layer)
        if kernel is None:
            continue
        w = kernel.numpy()
        out[layer.name] = {"sparsity": float(np.mean(w == 0)), "params": int(w.size), "shape": list(w.shape)}
    return out


def overall_sparsity(per_layer: dict[str, dict]) -> float:
    """The fraction of zeros over all the given layers' kernels, weighted by their sizes."""
    total = sum(v["params"] for v in per_layer.values())
    return float(sum(v["sparsity"] * v["params"] for v in per_layer.values()) / total) if total else 0.0


__all__ = [
    "CompressError",
    "compile_for_fine_tuning",
    "keras_accuracy",
    "kernel_of",
    "kernel_sparsity",
    "overall_sparsity",
    "tfmot",
]
