"""A MACs target instead of a ratio, and Network Slimming's sparsity training for the ``bn`` criterion."""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras, tf
from tfcnn.compress.structured import (
    prune_channels,
    ratio_for_macs,
    slimming_train,
    small_gamma_fraction,
)
from tfcnn.compress.structured.slimming import gamma_l1
from tfcnn.errors import CompressError


def _macs(model):
    return analysis.summarize(model).total_macs


@pytest.fixture(scope="module")
def resnet():
    keras.utils.set_random_seed(0)
    return tfcnn.create_model("resnet18", input_shape=(32, 32, 3), num_classes=10)


@pytest.mark.parametrize("target", [0.6, 0.4, 0.25])
def test_a_macs_target_is_met_by_the_smallest_ratio_that_reaches_it(resnet, target):
    ratio = ratio_for_macs(resnet, target, round_to=8)
    thin, _ = prune_channels(resnet, target_macs=target, round_to=8)
    kept = _macs(thin) / _macs(resnet)
    assert kept <= target
    # the bisection's answer is tight: removing a little less misses the target
    looser, _ = prune_channels(resnet, ratio=ratio - 0.01, round_to=8)
    assert _macs(looser) / _macs(resnet) > target
    assert kept > target - 0.05, f"{kept:.3f} overshoots {target}"


def test_an_unreachable_macs_target_is_refused_saying_what_is_left(resnet):
    with pytest.raises(CompressError, match=r"cannot be reached .*thinnest rebuild keeps 0\.\d+ .*"
                                            r"Received: target_macs=1e-05"):
        prune_channels(resnet, target_macs=1e-5, protect=["conv1_conv"])


@pytest.mark.parametrize("options, received", [
    ({"target_macs": 0.0}, "target_macs=0.0"), ({"target_macs": 1.0}, "target_macs=1.0"),
    ({"target_macs": "0.4"}, "target_macs='0.4'"), ({"target_macs": 0.4, "ratio": 0.5}, "ratio=0.5, target_macs=0.4"),
])
def test_bad_macs_targets_are_named(resnet, options, received):
    with pytest.raises(CompressError, match=f"Received: {received}"):
        prune_channels(resnet, **options)


def _bn_cnn(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = inputs
    for i, width in enumerate((16, 16)):
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"c{i}")(x)
        x = keras.layers.BatchNormalization(name=f"c{i}_bn")(x)
        x = keras.layers.ReLU(name=f"c{i}_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x))


@pytest.fixture(scope="module")
def slimmed():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8, 8, 3)).astype("float32")
    y = (x[..., 0].mean((1, 2)) > 0).astype("int64") + 2 * (x[..., 1].mean((1, 2)) > 0)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model = _bn_cnn(0)
    before = [w.copy() for w in model.get_weights()]
    # SGD, as in the paper: its steps follow the penalty's constant pull, so scales reach zero (Adam's
    # per-weight normalisation shrinks them more evenly)
    sparse = slimming_train(model, data, strength=3e-2, epochs=8, optimizer="sgd", lr=1e-1)
    control = slimming_train(model, data, strength=1e-12, epochs=8, optimizer="sgd", lr=1e-1)  # no penalty
    return {"model": model, "before": before, "sparse": sparse, "control": control}


def test_slimming_drives_batch_norm_scales_towards_zero_against_a_control(slimmed):
    sparse, control = slimmed["sparse"], slimmed["control"]
    assert float(gamma_l1(sparse)) < 0.5 * float(gamma_l1(control))
    assert small_gamma_fraction(sparse, 0.05) > small_gamma_fraction(control, 0.05)


def test_slimming_leaves_the_model_alone_and_returns_a_plain_copy(slimmed):
    model, sparse = slimmed["model"], slimmed["sparse"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), slimmed["before"]))
    assert sparse is not model and not sparse.losses
    thin, table = prune_channels(sparse, ratio=0.5, criterion="bn", scope="global")
    assert not thin.losses and sum(r["after"] for r in table) < sum(r["before"] for r in table)


@pytest.mark.parametrize("strength", [0, -1e-4, float("nan"), "1e-4", True])
def test_slimming_bad_strength_is_named(strength):
    with pytest.raises(CompressError, match=r"strength must be a finite number > 0.*Received: strength="):
        slimming_train(_bn_cnn(0), None, strength=strength)


def test_slimming_refuses_a_model_without_batch_norm():
    model = tfcnn.create_model("lenet", input_shape=(28, 28, 1), num_classes=10)
    with pytest.raises(CompressError, match=r"needs batch norms with a scale.*Received: model="):
        slimming_train(model, None)


def test_a_global_macs_target_on_slimmed_scales(slimmed):
    """One threshold over the whole model (Network Slimming's rule), searched for the MACs target."""
    sparse = slimmed["sparse"]
    thin, _ = prune_channels(sparse, target_macs=0.6, criterion="bn", scope="global")
    assert 0.5 < _macs(thin) / _macs(sparse) <= 0.6
