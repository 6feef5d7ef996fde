"""The three styles (raw tf.nn, slim, keras) compute the same thing once weights are copied by name."""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.layers import FACADE, STYLES, get_style
from tfcnn.models._common import copy_weights

ATOL = 1e-5


def build(style, fn, input_shape, **kwargs):
    L = get_style(style)
    x = keras.Input(input_shape)
    return keras.Model(x, getattr(L, fn)(x, **kwargs))


def build_all(fn, input_shape, seed=0, **kwargs):
    """One model per style; the raw and slim ones get the keras one's weights."""
    keras.utils.set_random_seed(seed)
    models = {s: build(s, fn, input_shape, **kwargs) for s in STYLES}
    for s in ("raw", "slim"):
        copy_weights(models["keras"], models[s])
    return models


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def test_facade_signatures_are_identical_across_styles():
    import inspect

    for fn in FACADE:
        sigs = {s: inspect.signature(getattr(get_style(s), fn)) for s in STYLES}
        assert len(set(map(str, sigs.values()))) == 1, (fn, sigs)


@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv_parity(kernel_size, strides, padding, use_bias):
    models = build_all("conv_bn", (11, 11, 3), filters=4, kernel_size=kernel_size, strides=strides, padding=padding,
                       use_bn=False, use_bias=use_bias, activation=None, name="c")
    x = np.random.default_rng(kernel_size).normal(size=(2, 11, 11, 3)).astype("float32")
    ref = models["keras"](x)
    assert models["keras"].get_layer("c_conv").use_bias == use_bias
    for s in ("raw", "slim"):
        assert models[s].count_params() == models["keras"].count_params()
        assert max_diff(models[s](x), ref) <= ATOL, s


def test_conv_weights_are_shared_across_positions():
    """Weight sharing: the parameter count does not depend on the image size."""
    small = build("raw", "conv_bn", (8, 8, 3), filters=4, kernel_size=3, use_bn=False, name="c")
    big = build("raw", "conv_bn", (64, 64, 3), filters=4, kernel_size=3, use_bn=False, name="c")
    assert small.count_params() == big.count_params() == 3 * 3 * 3 * 4 + 4


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_parity_and_moving_statistics(training):
    rng = np.random.default_rng(1)
    models = build_all("conv_bn", (6, 6, 5), filters=5, kernel_size=1, activation=None, name="b")
    # Non-trivial BN state, copied to every style.
    bn_values = [rng.uniform(0.5, 1.5, 5).astype("float32"), rng.normal(size=5).astype("float32"),
                 rng.normal(size=5).astype("float32"), rng.uniform(0.5, 2.0, 5).astype("float32")]
    for m in models.values():
        m.get_layer("b_bn").set_weights(bn_values)
    x = rng.normal(3.0, 2.0, size=(4, 6, 6, 5)).astype("float32")
    outs = {s: m(x, training=training).numpy() for s, m in models.items()}
    for s in ("raw", "slim"):
        assert max_diff(outs[s], outs["keras"]) <= ATOL, s
        for got, want in zip(models[s].get_layer("b_bn").get_weights(), models["keras"].get_layer("b_bn").get_weights()):
            assert max_diff(got, want) <= ATOL, s
    moved = max_diff(models["raw"].get_layer("b_bn").get_weights()[2], bn_values[2])
    assert (moved > 1e-3) == training  # moving mean changes only in training


@pytest.mark.parametrize("training", [False, True])
def test_raw_batch_norm_layer_equals_the_pure_tf_nn_functions(training):
    """The layer (fused kernel for 4-D maps) computes what batch_norm / batch_norm_train write out."""
    from tfcnn.layers import raw

    rng = np.random.default_rng(8)
    x = tf.constant(rng.normal(2.0, 3.0, size=(4, 5, 5, 3)).astype("float32"))
    layer = raw.RawBatchNorm(momentum=0.8, epsilon=1e-3)
    layer.build(x.shape)
    values = [rng.uniform(0.5, 1.5, 3).astype("float32"), rng.normal(size=3).astype("float32"),
              rng.normal(size=3).astype("float32"), rng.uniform(0.5, 2.0, 3).astype("float32")]
    layer.set_weights(values)
    gamma, beta, mean, var = (tf.constant(v) for v in values)
    if training:
        want, want_mean, want_var = raw.batch_norm_train(x, mean, var, beta, gamma, 0.8, 1e-3)
    else:
        want, want_mean, want_var = raw.batch_norm(x, mean, var, beta, gamma, 1e-3), mean, var
    got = layer(x, training=training)
    assert max_diff(got, want) <= ATOL
    assert max_diff(layer.moving_mean, want_mean) <= ATOL
    assert max_diff(layer.moving_variance, want_var) <= ATOL


def test_batch_norm_training_normalises_the_batch():
    models = build_all("conv_bn", (4, 4, 3), filters=3, kernel_size=1, activation=None, name="b")
    x = np.random.default_rng(2).normal(5.0, 3.0, size=(8, 4, 4, 3)).astype("float32")
    y = models["raw"](x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-2)


@pytest.mark.parametrize("fn", ["max_pool", "avg_pool"])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_pool_parity(fn, padding):
    models = build_all(fn, (9, 9, 2), pool_size=3, strides=2, padding=padding, name="p")
    x = np.random.default_rng(3).normal(size=(2, 9, 9, 2)).astype("float32")
    ref = models["keras"](x)
    for s in ("raw", "slim"):
        assert max_diff(models[s](x), ref) <= ATOL


@pytest.mark.parametrize("mode", ["avg", "max"])
def test_global_pool_parity(mode):
    models = build_all("global_pool", (5, 5, 3), mode=mode, name="g")
    x = np.random.default_rng(4).normal(size=(2, 5, 5, 3)).astype("float32")
    for s in ("raw", "slim"):
        assert max_diff(models[s](x), models["keras"](x)) <= ATOL


@pytest.mark.parametrize("fn,kwargs", [("channel_shuffle", {"groups": 2}), ("channel_shuffle", {"groups": 3}),
                                       ("channel_slice", {"start": 2, "stop": 5})])
def test_channel_shuffle_and_slice_parity(fn, kwargs):
    models = build_all(fn, (3, 4, 6), name="s", **kwargs)
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 6)).astype("float32")
    ref = models["keras"](x).numpy()
    if fn == "channel_slice":
        np.testing.assert_array_equal(ref, x[..., 2:5])
    for s in ("raw", "slim"):
        np.testing.assert_array_equal(models[s](x), ref)
        assert not models[s].weights


def test_channel_slice_refuses_a_slice_past_the_channels():
    with pytest.raises(ValueError, match="Received: stop=7"):
        build("keras", "channel_slice", (3, 3, 6), start=0, stop=7, name="s")
    with pytest.raises(ValueError, match="Received: groups=4"):
        build("keras", "channel_shuffle", (3, 3, 6), groups=4, name="s")


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "relu6"])
def test_dense_parity(activation):
    models = build_all("dense", (7,), units=4, activation=activation, name="fc")
    x = np.random.default_rng(5).normal(size=(3, 7)).astype("float32") * 4
    for s in ("raw", "slim"):
        assert max_diff(models[s](x), models["keras"](x)) <= ATOL, s


@pytest.mark.parametrize("style", STYLES)
def test_dropout_identity_at_inference_and_scaled_in_training(style):
    model = build(style, "dropout", (1000,), rate=0.25, name="d")
    x = np.ones((4, 1000), "float32")
    np.testing.assert_array_equal(model(x, training=False), x)
    y = model(x, training=True).numpy()
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - 0.25), rtol=1e-6)
    assert 0.65 < kept.size / y.size < 0.85


@pytest.mark.parametrize("fn,kwargs", [
    ("conv_bn", {"filters": 4, "kernel_size": 3, "strides": 2, "name": "c"}),
    ("dense", {"units": 3, "activation": "relu", "name": "fc"}),
])
def test_gradients_parity(fn, kwargs):
    shape = (8, 8, 3) if fn == "conv_bn" else (6,)
    models = build_all(fn, shape, **kwargs)
    x = tf.constant(np.random.default_rng(6).normal(size=(2, *shape)).astype("float32"))
    grads = {}
    for s, m in models.items():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(m(x, training=True) ** 2)
        grads[s] = tape.gradient(loss, [x, *m.trainable_weights])
    for s in ("raw", "slim"):
        assert len(grads[s]) == len(grads["keras"])
        for g, ref in zip(grads[s], grads["keras"]):
            assert max_diff(g, ref) <= 1e-4, s


def test_lenet_three_styles_same_params_and_logits():
    keras.utils.set_random_seed(0)
    models = {s: tfcnn.create_model("lenet", style=s) for s in STYLES}
    for s in ("raw", "slim"):
        assert copy_weights(models["keras"], models[s]) == 5
    x = np.random.default_rng(7).uniform(size=(4, 28, 28, 1)).astype("float32")
    ref = models["keras"](x).numpy()
    for s in ("raw", "slim"):
        assert models[s].count_params() == models["keras"].count_params() == 61_706
        assert [layer.name for layer in models[s].layers] == [layer.name for layer in models["keras"].layers]
        assert max_diff(models[s](x), ref) <= ATOL


def test_raw_layers_use_keras_weight_names():
    model = build("raw", "conv_bn", (5, 5, 2), filters=3, kernel_size=3, use_bias=True, name="c")
    names = [w.name.split("/")[-1].split(":")[0] for w in model.weights]
    assert names == ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]
