"""Every scratch backward pass against finite differences (< 1e-7) and against tf_keras (<= 1e-8), float64."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import numpy as np
import pytest

import tfcnn  # first: selects tf_keras before TensorFlow loads
from tfcnn._compat import keras, tf
from tfcnn.errors import UsageError
from tfcnn.scratch import activations, batchnorm, conv, dense, dropout, gradcheck, losses, lrn, pool

FD_TOL, TF_TOL = 1e-7, 1e-8
rng = np.random.default_rng(0)

CONV_GRID = [  # (stride, padding, dilation, groups)
    (s, p, d, g) for s, p, d, g in itertools.product((1, 2), ("valid", "same", 1), (1, 2), (1, 2))
]
CONV_IMPLS = {"naive": (conv.conv_forward_naive, conv.conv_backward_naive),
              "im2col": (conv.conv_forward_im2col, conv.conv_backward_im2col)}


def _conv_case(groups, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(2, 7, 6, 4))
    return x, {"kernel": r.normal(size=(3, 2, 4 // groups, 6)), "bias": r.normal(size=6)}


@pytest.mark.parametrize("impl", CONV_IMPLS)
@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv_backward_matches_finite_differences(impl, stride, padding, dilation, groups):
    x, params = _conv_case(groups)
    errors = gradcheck.check_layer(*CONV_IMPLS[impl], x, params, stride=stride, padding=padding,
                                   dilation=dilation, groups=groups)
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("stride,padding,dilation,groups", CONV_GRID)
def test_conv_naive_and_im2col_agree_forward_and_backward(stride, padding, dilation, groups):
    x, params = _conv_case(groups, seed=1)
    hyper = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    y1, c1 = conv.conv_forward_naive(x, params, **hyper)
    y2, c2 = conv.conv_forward_im2col(x, params, **hyper)
    dy = rng.normal(size=y1.shape)
    (dx1, g1), (dx2, g2) = conv.conv_backward_naive(dy, c1), conv.conv_backward_im2col(dy, c2)
    assert gradcheck.rel_error(y1, y2) < 1e-12 and gradcheck.rel_error(dx1, dx2) < 1e-12
    assert all(gradcheck.rel_error(g1[k], g2[k]) < 1e-12 for k in g1)


# Keras refuses strides > 1 together with dilation > 1, and has no integer padding.
KERAS_CONV_GRID = [(s, p, d, g) for s, p, d, g in CONV_GRID if p != 1 and not (s > 1 and d > 1)]


@pytest.mark.parametrize("impl", CONV_IMPLS)
@pytest.mark.parametrize("stride,padding,dilation,groups", KERAS_CONV_GRID)
def test_conv_matches_keras_conv2d(impl, stride, padding, dilation, groups):
    x, params = _conv_case(groups, seed=2)
    layer = keras.layers.Conv2D(6, (3, 2), strides=stride, padding=padding, dilation_rate=dilation, groups=groups,
                                dtype="float64")
    errors = gradcheck.compare_with_keras(*CONV_IMPLS[impl], x, params, layer, stride=stride, padding=padding,
                                          dilation=dilation, groups=groups)
    assert set(errors) == {"y", "x", "kernel", "bias"} and max(errors.values()) <= TF_TOL, errors


def test_conv_depthwise_is_groups_equal_channels_and_matches_keras():
    x = rng.normal(size=(2, 6, 6, 3))
    layer = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, dtype="float64")
    layer.build(x.shape)
    params = {"kernel": rng.normal(size=(3, 3, 1, 3))}  # depthwise kernel (3, 3, C, 1) is grouped (3, 3, 1, C)
    layer.depthwise_kernel.assign(params["kernel"].transpose(0, 1, 3, 2))
    y, _ = conv.conv_forward_im2col(x, params, padding="same", groups=3)
    assert gradcheck.rel_error(y, layer(x).numpy()) <= TF_TOL


POOLS = {"max": (pool.max_pool_forward, pool.max_pool_backward, keras.layers.MaxPooling2D),
         "avg": (pool.avg_pool_forward, pool.avg_pool_backward, keras.layers.AveragePooling2D)}
POOL_GRID = list(itertools.product(POOLS, (2, 3), (1, 2), ("valid", "same")))


@pytest.mark.parametrize("kind,size,stride,padding", POOL_GRID)
def test_pool_backward_matches_finite_differences_and_keras(kind, size, stride, padding):
    fwd, bwd, keras_pool = POOLS[kind]
    x = np.random.default_rng(3).normal(size=(2, 7, 6, 3))
    hyper = {"pool_size": size, "strides": stride, "padding": padding}
    assert max(gradcheck.check_layer(fwd, bwd, x, **hyper).values()) < FD_TOL
    errors = gradcheck.compare_with_keras(fwd, bwd, x, None, keras_pool(size, stride, padding, dtype="float64"),
                                          **hyper)
    assert max(errors.values()) <= TF_TOL, errors


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 1), (3, 2)])
def test_max_pool_ties_route_the_gradient_as_tensorflow(size, stride):
    x = np.random.default_rng(4).integers(0, 3, size=(2, 6, 6, 2)).astype(np.float64)  # many equal maxima
    errors = gradcheck.compare_with_keras(pool.max_pool_forward, pool.max_pool_backward, x, None,
                                          keras.layers.MaxPooling2D(size, stride, dtype="float64"),
                                          pool_size=size, strides=stride)
    assert max(errors.values()) <= TF_TOL, errors


def test_pooling_has_no_parameters_but_passes_a_gradient():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4.]]).reshape(1, 4, 4, 1)
    _, cache = pool.max_pool_forward(x)
    dx, dparams = pool.max_pool_backward(np.ones((1, 2, 2, 1)), cache)
    assert dparams == {}
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    dx, _ = pool.avg_pool_backward(np.ones((1, 2, 2, 1)), pool.avg_pool_forward(x)[1])
    np.testing.assert_array_equal(dx, np.full_like(x, 0.25))


def _unrouted_max_pool_backward(dy, cache):
    """A wrong backward: spread the gradient over the window as if it were average pooling."""
    geo = cache["geo"]
    fake = {"geo": geo, "counts": np.full(geo["out"], float(np.prod(geo["kernel"]))),
            "padded_shape": cache["padded_shape"]}
    return pool.avg_pool_backward(dy, fake)


def _unflipped_conv_backward(dy, cache):
    """A wrong backward: dx scatters the kernel transposed in space."""
    _, grads = conv.conv_backward_im2col(dy, cache)
    wrong = {**cache, "params": {**cache["params"], "kernel": cache["params"]["kernel"][::-1, ::-1]}}
    return conv.conv_backward_im2col(dy, wrong)[0], grads


def test_a_wrong_backward_fails_both_checks():
    x = np.random.default_rng(5).normal(size=(2, 6, 6, 3))
    fd = gradcheck.check_layer(pool.max_pool_forward, _unrouted_max_pool_backward, x)
    keras_errors = gradcheck.compare_with_keras(pool.max_pool_forward, _unrouted_max_pool_backward, x, None,
                                                keras.layers.MaxPooling2D(2, dtype="float64"))
    assert fd["x"] > 0.1 and keras_errors["x"] > 0.1
    xc, params = _conv_case(1)
    assert gradcheck.check_layer(conv.conv_forward_im2col, _unflipped_conv_backward, xc, params)["x"] > 0.1


ACTS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}


@pytest.mark.parametrize("name", ACTS)
def test_activation_backward(name):
    fwd, bwd = activations.ACTIVATIONS[name]
    x = np.random.default_rng(6).normal(size=(3, 4, 5)) * 3
    assert gradcheck.check_layer(fwd, bwd, x)["x"] < FD_TOL
    errors = gradcheck.compare_with_keras(fwd, bwd, x, None, keras.layers.Activation(name, dtype="float64"))
    assert max(errors.values()) <= TF_TOL, errors


def test_relu_gradient_at_zero_is_zero_as_tensorflow():
    x = np.array([-1.0, 0.0, 1.0])
    errors = gradcheck.compare_with_keras(activations.relu_forward, activations.relu_backward, x, None,
                                          keras.layers.ReLU(dtype="float64"))
    assert errors["x"] == 0 and activations.relu_backward(np.ones(3), activations.relu_forward(x)[1])[0][1] == 0


def test_sigmoid_is_finite_for_huge_inputs():
    y, _ = activations.sigmoid_forward(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 1.0])


def test_dense_and_flatten_backward():
    x = rng.normal(size=(4, 6))
    params = {"kernel": rng.normal(size=(6, 3)), "bias": rng.normal(size=3)}
    assert max(gradcheck.check_layer(dense.dense_forward, dense.dense_backward, x, params).values()) < FD_TOL
    errors = gradcheck.compare_with_keras(dense.dense_forward, dense.dense_backward, x, params,
                                          keras.layers.Dense(3, dtype="float64"))
    assert max(errors.values()) <= TF_TOL, errors
    x4 = rng.normal(size=(2, 3, 3, 2))
    assert gradcheck.check_layer(dense.flatten_forward, dense.flatten_backward, x4)["x"] < FD_TOL
    errors = gradcheck.compare_with_keras(dense.flatten_forward, dense.flatten_backward, x4, None,
                                          keras.layers.Flatten(dtype="float64"))
    assert max(errors.values()) <= TF_TOL


def test_dense_refuses_an_unflattened_input():
    with pytest.raises(UsageError, match=r"Received: x.shape=\(2, 3, 3\)"):
        dense.dense_forward(np.zeros((2, 3, 3)), {"kernel": np.zeros((9, 2))})


def test_dropout_is_inverted_and_backward_uses_the_same_mask():
    x = rng.normal(size=(4, 50))
    mask = np.random.default_rng(7).random(x.shape) >= 0.3
    y, cache = dropout.dropout_forward(x, rate=0.3, mask=mask)
    np.testing.assert_allclose(y, np.where(mask, x / 0.7, 0))
    assert gradcheck.check_layer(dropout.dropout_forward, dropout.dropout_backward, x, rate=0.3, mask=mask)["x"] < FD_TOL
    dx, _ = dropout.dropout_backward(np.ones_like(x), cache)
    assert np.all(dx[~mask] == 0) and np.allclose(dx[mask], 1 / 0.7)
    big = dropout.dropout_forward(np.ones(200_000), rate=0.4, rng=np.random.default_rng(8))[0]
    assert abs(big.mean() - 1) < 0.01  # expectation kept: no rescaling at test time
    assert dropout.dropout_forward(x, rate=0.3, training=False)[0] is x
    with pytest.raises(UsageError, match="Received: rate=1.0"):
        dropout.dropout_forward(x, rate=1.0)


def _bn_params(c, seed):
    r = np.random.default_rng(seed)
    return {"gamma": r.normal(size=c), "beta": r.normal(size=c), "moving_mean": r.normal(size=c),
            "moving_variance": r.random(c) + 0.5}


@pytest.mark.parametrize("shape", [(8, 5), (3, 4, 4, 3)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("backward", ["compact", "graph"])
def test_batchnorm_backward(shape, training, backward):
    bwd = batchnorm.batchnorm_backward if backward == "compact" else batchnorm.batchnorm_backward_graph
    if backward == "graph" and not training:
        bwd = batchnorm.batchnorm_backward  # the graph version is the training-mode derivation
    x = np.random.default_rng(9).normal(size=shape) * 2 + 1
    params = _bn_params(shape[-1], 10)
    errors = gradcheck.check_layer(batchnorm.batchnorm_forward, bwd, x, params, training=training)
    assert set(errors) == {"x", "gamma", "beta"} and max(errors.values()) < FD_TOL, errors
    layer = keras.layers.BatchNormalization(epsilon=1e-3, dtype="float64")
    errors = gradcheck.compare_with_keras(batchnorm.batchnorm_forward, bwd, x, params, layer, training=training)
    assert max(errors.values()) <= TF_TOL, errors


def test_batchnorm_moving_average_uses_keras_momentum():
    x = rng.normal(size=(16, 3)) + 2
    params = _bn_params(3, 11)
    _, cache = batchnorm.batchnorm_forward(x, params, momentum=0.9)
    np.testing.assert_allclose(cache["moving_mean"], 0.9 * params["moving_mean"] + 0.1 * x.mean(0))


def test_lrn_matches_tensorflow():
    x = np.random.default_rng(12).normal(size=(2, 3, 3, 7))
    hyper = {"depth_radius": 2, "bias": 1.5, "alpha": 0.3, "beta": 0.75}
    assert gradcheck.check_layer(lrn.lrn_forward, lrn.lrn_backward, x, **hyper)["x"] < FD_TOL
    # TensorFlow's LRN kernel has no float64, so this one comparison runs in float32.
    errors = gradcheck.compare_with_keras(
        lrn.lrn_forward, lrn.lrn_backward, x, None,
        lambda t: tf.cast(tf.nn.local_response_normalization(tf.cast(t, tf.float32), **hyper), tf.float64), **hyper)
    assert max(errors.values()) <= 1e-6, errors


@pytest.fixture
def floatx64():
    """Keras losses and regularizers cast their constants (delta, l) to floatx: make that float64 too."""
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


LOSS_KERAS = {"cross_entropy": None, "l1": keras.losses.MeanAbsoluteError(), "l2": keras.losses.MeanSquaredError(),
              "smooth_l1": keras.losses.Huber(delta=1.0)}


@pytest.mark.parametrize("name", LOSS_KERAS)
def test_loss_backward_matches_finite_differences_and_keras(name, floatx64):
    fwd, bwd = losses.LOSSES[name]
    r = np.random.default_rng(13)
    pred = r.normal(size=(6, 4)) * 2
    if name == "cross_entropy":
        target = r.integers(0, 4, size=6)
        keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        target, keras_loss = r.normal(size=(6, 4)), LOSS_KERAS[name]
    assert gradcheck.check_layer(lambda p: fwd(p, target), bwd, pred)["x"] < FD_TOL
    errors = gradcheck.compare_with_keras(lambda p: fwd(p, target), bwd, pred, None,
                                          lambda t: keras_loss(tf.constant(target), t))
    assert max(errors.values()) <= TF_TOL, errors


def test_cross_entropy_gradient_is_p_minus_y():
    z = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    _, cache = losses.softmax_cross_entropy_forward(z, labels)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(losses.softmax_cross_entropy_backward(1.0, cache)[0] * 5, p - np.eye(3)[labels])
    assert np.isfinite(losses.softmax_cross_entropy_forward(np.array([[1e4, -1e4]]), np.array([1]))[0])


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_weight_penalties_match_keras_regularizers(kind, floatx64):
    w = rng.normal(size=(4, 3))
    if kind == "l2":
        value, grad = losses.l2_penalty(w, 0.02)
        reg = keras.regularizers.L2(0.01)  # Keras: l * sum(w^2) == (2l / 2) * sum(w^2)
    else:
        value, grad = losses.l1_penalty(w, 0.02)
        reg = keras.regularizers.L1(0.02)
    wt = tf.Variable(w)
    with tf.GradientTape() as tape:
        keras_value = reg(wt)
    assert abs(value - float(keras_value)) <= 1e-12 and gradcheck.rel_error(grad, tape.gradient(keras_value, wt)) <= TF_TOL


def test_grade_falls_back_passes_and_fails():
    def todo(x):
        raise NotImplementedError

    def check(fn):
        return gradcheck.check_layer(fn, activations.relu_backward, np.array([-1.0, 2.0, 3.0]))

    assert gradcheck.grade("relu", todo, activations.relu_forward, check) is activations.relu_forward
    right = lambda x: (np.maximum(x, 0), {"y": np.maximum(x, 0)})
    assert gradcheck.grade("relu", right, activations.relu_forward, check) is right
    with pytest.raises(AssertionError, match="relu is not right yet"):
        gradcheck.grade("relu", lambda x: (np.abs(x), {"y": np.abs(x)}), activations.relu_forward, check)


def test_bad_hyper_parameters_say_what_was_received():
    x, params = _conv_case(1)
    with pytest.raises(UsageError, match="Received: stride=0"):
        conv.conv_forward_im2col(x, params, stride=0)
    with pytest.raises(UsageError, match="Received: padding='full'"):
        pool.max_pool_forward(x, padding="full")
    with pytest.raises(UsageError, match="groups=3"):
        conv.conv_forward_naive(x, params, groups=3)


def test_scratch_layers_import_numpy_only():
    """Only gradcheck may touch TensorFlow (through tfcnn._compat, inside its Keras helper)."""
    for path in sorted((Path(tfcnn.__file__).parent / "scratch").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                heavy = name.split(".")[0] in {"tensorflow", "tf_keras", "keras"} or name == "tfcnn._compat"
                assert not heavy or (path.name == "gradcheck.py" and node.col_offset > 0), (path.name, name)


@pytest.mark.parametrize("module", [activations, batchnorm, conv, dense, dropout, gradcheck, losses, lrn, pool])
def test_docstring_examples_run(module):
    import doctest

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
