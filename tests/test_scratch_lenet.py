"""The NumPy LeNet trained by hand: same losses as the float64 tf_keras LeNet, and >= 95 % on real digits."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import tfcnn  # first: selects tf_keras before TensorFlow loads
from tfcnn._compat import keras
from tfcnn.data import load_dataset
from tfcnn.errors import UsageError
from tfcnn.scratch import gradcheck, lenet


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("mnist-t10k")
    scale = lambda a: a.astype(np.float64) / 255.0
    return scale(data.x_train), data.y_train.astype(np.int64), scale(data.x_test), data.y_test.astype(np.int64)


@pytest.fixture
def keras_lenet_float64():
    """The zoo's LeNet built in float64 (floatx restored afterwards)."""
    keras.backend.set_floatx("float64")
    try:
        yield tfcnn.create_model("lenet")
    finally:
        keras.backend.set_floatx("float32")


def test_numpy_lenet_has_the_zoo_lenets_weights(keras_lenet_float64):
    params = lenet.init_lenet(seed=0)
    keras_shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in keras_lenet_float64.layers
                    if layer.weights}
    assert keras_shapes == {name: [p["kernel"].shape, p["bias"].shape] for name, p in params.items()}
    assert sum(p["kernel"].size + p["bias"].size for p in params.values()) == keras_lenet_float64.count_params()


def test_numpy_lenet_gradient_matches_finite_differences():
    params = lenet.init_lenet(input_shape=(16, 16, 1), seed=1)
    r = np.random.default_rng(2)
    x, y = r.random((3, 16, 16, 1)), np.array([1, 4, 7])
    _, grads = lenet.loss_and_grads(params, x, y)
    for name in ("conv1_conv", "fc2"):  # one conv, one dense: each full check costs a forward per weight
        numeric = gradcheck.numerical_gradient(lambda: lenet.loss_and_grads(params, x, y)[0], params[name]["bias"])
        assert gradcheck.rel_error(grads[name]["bias"], numeric) < 1e-7
    w = params["conv2_conv"]["kernel"]
    sub = w[:2, :2, :2, :2].copy()  # a corner of the kernel, checked through a view-free closure

    def loss_of_corner():
        w[:2, :2, :2, :2] = sub
        return lenet.loss_and_grads(params, x, y)[0]

    numeric = gradcheck.numerical_gradient(loss_of_corner, sub)
    assert gradcheck.rel_error(grads["conv2_conv"]["kernel"][:2, :2, :2, :2], numeric) < 1e-7


def test_numpy_lenet_matches_keras_first_20_losses(digits, keras_lenet_float64):
    x, y = digits[0], digits[1]
    params = lenet.init_lenet(seed=3)
    model = keras_lenet_float64
    for name, weights in lenet.keras_weights(params).items():
        model.get_layer(name).set_weights(weights)
    lr, batches = 0.05, lenet.batch_indices(len(x), 32, seed=4)[:20]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    keras_losses = [float(model.train_on_batch(x[idx], y[idx])) for idx in batches]
    with threadpool_limits(1, user_api="blas"):
        numpy_losses = lenet.train(params, x, y, batches, lr=lr)
    rel = np.abs(np.array(numpy_losses) - keras_losses) / np.abs(keras_losses)
    assert len(numpy_losses) == 20 and rel.max() < 1e-6, rel
    assert numpy_losses[-1] < numpy_losses[0]  # it is learning, so the match is not two constant curves
    for name, layer in params.items():  # and the weights after 20 steps agree too
        assert gradcheck.rel_error(layer["kernel"], model.get_layer(name).get_weights()[0]) < 1e-6


@pytest.mark.slow
def test_numpy_lenet_reaches_95_percent_on_real_digits(digits):
    x, y, x_test, y_test = digits
    params = lenet.init_lenet(seed=0)
    with threadpool_limits(1, user_api="blas"):
        history = lenet.train(params, x, y, lenet.batch_indices(len(x), 16, epochs=2, seed=0), lr=0.1)
        accuracy = float(np.mean(lenet.predict(params, x_test) == y_test))
    assert np.isfinite(history).all() and accuracy >= 0.95, accuracy


def test_sgd_step_with_weight_decay_shrinks_then_steps():
    params = {"fc": {"kernel": np.array([2.0]), "bias": np.array([1.0])}}
    lenet.sgd_step(params, {"fc": {"kernel": np.array([0.5]), "bias": np.array([0.5])}}, 0.1, weight_decay=0.5)
    np.testing.assert_allclose(params["fc"]["kernel"], [(1 - 0.1 * 0.5) * 2.0 - 0.1 * 0.5])
    np.testing.assert_allclose(params["fc"]["bias"], [1.0 - 0.05])  # biases are not decayed


def test_init_refuses_a_too_small_input():
    with pytest.raises(UsageError, match=r"Received: input_shape=\(8, 8, 1\)"):
        lenet.init_lenet(input_shape=(8, 8, 1))
