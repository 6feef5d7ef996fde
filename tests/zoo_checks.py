"""Checks every zoo architecture must pass (the contract suite) and helpers that build Keras references,
for tests/test_models_contract.py and the family files."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras
from tfcnn.models._common import copy_weights

RTOL = 1e-5

# Deeper (or wider) stacks of the very blocks of a sibling that is checked on every run: building, comparing and
# pruning one costs 10-30 s on two cores, so the per-model contract and rebuild checks run them (and they must pass)
# only with TFCNN_FULL_ZOO=1; the skip says so. Their golden counts and Keras fidelity are checked on every run.
DEEP_REPEATS = {"attention92": "attention56", "resnet101": "resnet50", "resnet152": "resnet50",
                "efficientnet_b1": "efficientnet_b0", "efficientnet_b2": "efficientnet_b0",
                "efficientnet_b3": "efficientnet_b0", "densenet169": "densenet121", "densenet201": "densenet121"}
FULL_ZOO = os.environ.get("TFCNN_FULL_ZOO") == "1"


def zoo_param(name: str, *marks):
    """``pytest.param(name)``, skipped unless ``TFCNN_FULL_ZOO=1`` for a model of :data:`DEEP_REPEATS`."""
    if name not in DEEP_REPEATS:
        return pytest.param(name, id=name, marks=list(marks))
    reason = f"a deeper {DEEP_REPEATS[name]}: set TFCNN_FULL_ZOO=1 to run it"
    return pytest.param(name, id=name, marks=[*marks, pytest.mark.slow, pytest.mark.skipif(not FULL_ZOO, reason=reason)])


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
    """TFMOT accepts the keras-style model: every Conv2D/Dense gets a pruning wrapper, and the pruned model runs."""
    from tfcnn._compat import tfmot

    pruned = tfmot().sparsity.keras.prune_low_magnitude(model)
    wrapped = {layer.layer.name for layer in pruned.layers if hasattr(layer, "pruning_vars")}
    prunable = {layer.name for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))}
    assert prunable and prunable <= wrapped, sorted(prunable - wrapped)[:5]
    out = pruned(np.zeros((1, *model.input_shape[1:]), "float32"), training=False)
    assert all(np.all(np.isfinite(o)) for o in (out if isinstance(out, list) else [out]))


def build_keras_reference(name: str, **builder_args):
    """The Keras Applications model (``weights=None``) that corresponds to tfcnn's ``name`` built with ``builder_args``."""
    from tfcnn.models._pretrained import keras_counterpart

    app = keras_counterpart(name)
    kwargs = {"include_top": builder_args.get("include_top", True),
              "input_shape": tuple(builder_args["input_shape"]) if builder_args.get("input_shape") else None,
              "classes": builder_args.get("num_classes", 1000), "pooling": builder_args.get("pooling"),
              "classifier_activation": None, **app.keras_kwargs(builder_args)}
    return getattr(keras.applications, app.builder)(weights=None, **kwargs)


def copy_keras_weights(keras_model, model, name: str) -> int:
    """Copy a live Keras Applications model into tfcnn's ``name`` model: by the card's name map, or in graph order."""
    from tfcnn.models._pretrained import apply_weights, keras_counterpart

    app = keras_counterpart(name)
    source = {layer.name: layer.get_weights() for layer in keras_model.layers if layer.weights}
    if app.name_map is not None:
        return apply_weights(model, source, app.name_map, what=f"keras_model={keras_model.name!r}")
    own = [layer.name for layer in model.layers if layer.weights]
    assert len(own) == len(source), (len(own), len(source))
    return apply_weights(model, source, dict(zip(own, source)).get, what=f"keras_model={keras_model.name!r}")
