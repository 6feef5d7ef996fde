"""Checks every zoo architecture must pass, shared by the ``test_zoo_*`` files of AlexNet, GoogLeNet,
Inception v3 and the Residual Attention Network."""

from __future__ import annotations

import numpy as np

import tfcnn
from tfcnn._compat import keras
from tfcnn.models._common import copy_weights

RTOL = 1e-4


def randomize_bn(model, seed: int = 0) -> None:
    """Give every BN non-trivial statistics, so that style comparisons exercise batch norm too."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if not layer.name.endswith("_bn") or not layer.weights:
            continue
        values = []
        for w in layer.weights:
            shape = tuple(w.shape)
            if "variance" in w.name or "gamma" in w.name:
                values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                values.append(rng.normal(0.0, 0.1, shape).astype("float32"))
        layer.set_weights(values)


def rel_diff(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-12))


def assert_styles_agree(name: str, input_shape, seed: int = 0, **kwargs):
    """Build ``name`` in the three styles; after copying the keras weights by name, all give the same logits.

    Returns:
        The keras-style model (with randomised BN statistics).
    """
    ref = tfcnn.create_model(name, input_shape=input_shape, style="keras", **kwargs)
    randomize_bn(ref, seed)
    x = np.random.default_rng(seed).uniform(-1, 1, (2, *input_shape)).astype("float32")
    expected = ref(x, training=False)
    weighted = [layer.name for layer in ref.layers if layer.weights]
    for style in ("raw", "slim"):
        other = tfcnn.create_model(name, input_shape=input_shape, style=style, **kwargs)
        assert [layer.name for layer in other.layers if layer.weights] == weighted, style
        assert other.count_params() == ref.count_params(), style
        assert copy_weights(ref, other) == len(weighted)
        got = other(x, training=False)
        for e, g in zip(expected if isinstance(expected, list) else [expected],
                        got if isinstance(got, list) else [got]):
            assert rel_diff(e, g) <= RTOL, (style, rel_diff(e, g))
    return ref


def assert_trains_one_step(model, num_classes: int, batch: int = 2) -> None:
    """One SGD step on a tiny random batch: the loss is finite and every trainable kernel moves."""
    outputs = len(model.outputs)
    model.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (batch, *model.input_shape[1:])).astype("float32")
    y = rng.integers(0, num_classes, batch)
    kernels = [w for w in model.trainable_weights if "kernel" in w.name]
    before = [w.numpy().copy() for w in kernels]
    history = model.fit(x, [y] * outputs if outputs > 1 else y, batch_size=batch, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    moved = [not np.array_equal(b, w.numpy()) for b, w in zip(before, kernels)]
    assert all(moved), [w.name for w, m in zip(kernels, moved) if not m][:5]


def assert_prunable(model) -> None:
    """TFMOT accepts the keras-style model: every Conv2D/Dense gets a pruning wrapper."""
    import tensorflow_model_optimization as tfmot

    pruned = tfmot.sparsity.keras.prune_low_magnitude(model)
    wrapped = {layer.layer.name for layer in pruned.layers if hasattr(layer, "pruning_vars")}
    prunable = {layer.name for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))}
    assert prunable and prunable <= wrapped, sorted(prunable - wrapped)[:5]
