"""tfcnn's slim: arg_scope semantics as in tf_slim, and slim vocabulary building Keras layers."""

from __future__ import annotations

import pytest

from tfcnn._compat import keras, tf
from tfcnn.layers import slim
from tfcnn.layers.arg_scope import add_arg_scope, arg_scope, arg_scoped_arguments, current_arg_scope


@add_arg_scope
def op(x=None, a=1, b=2):
    return {"a": a, "b": b}


@add_arg_scope
def other(a=0):
    return a


def plain(a=0):
    return a


def test_scoped_arguments_apply_and_explicit_wins():
    with arg_scope([op], a=10):
        assert op() == {"a": 10, "b": 2}
        assert op(a=3) == {"a": 3, "b": 2}
    assert op() == {"a": 1, "b": 2}


def test_scopes_nest_and_restore():
    with arg_scope([op, other], a=5):
        with arg_scope([op], b=7):
            assert op() == {"a": 5, "b": 7}
            assert other() == 5
        assert op() == {"a": 5, "b": 2}
    assert current_arg_scope() == {}


def test_captured_scope_can_be_reentered():
    with arg_scope([op], a=42) as sc:
        pass
    assert op()["a"] == 1
    with arg_scope(sc):
        assert op()["a"] == 42
        assert arg_scoped_arguments(op) == {"a": 42}


def test_undecorated_op_raises():
    with pytest.raises(ValueError, match="not decorated with @add_arg_scope"), arg_scope([plain], a=1):
        pass


def test_reentering_with_kwargs_raises():
    with arg_scope([op], a=1) as sc:
        pass
    with pytest.raises(ValueError, match="takes no arguments"), arg_scope(sc, a=2):
        pass


def test_arg_scope_sets_regularizer_and_normalizer_on_real_layers():
    x = keras.Input((8, 8, 3))
    with arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm, weights_regularizer=slim.l2_regularizer(0.01)):
        y = slim.repeat(x, 2, slim.conv2d, 4, [3, 3], scope="conv1")
        y = slim.conv2d(y, 4, [1, 1], normalizer_fn=None, scope="conv2")
    model = keras.Model(x, y)
    names = [layer.name for layer in model.layers]
    assert names[1:4] == ["conv1_1_conv", "conv1_1_bn", "conv1_1_relu"]
    assert "conv1_2_conv" in names and "conv2_conv" in names and "conv2_bn" not in names
    conv = model.get_layer("conv1_1_conv")
    assert not conv.use_bias  # a normalizer replaces the bias, as in TF-Slim
    assert model.get_layer("conv2_conv").use_bias
    assert conv.kernel_regularizer.l2 == pytest.approx(0.005)  # slim's l2 is scale * sum(w^2) / 2
    assert len(model.losses) == 3


def test_slim_dropout_uses_keep_prob():
    x = keras.Input((10,))
    model = keras.Model(x, slim.dropout(x, keep_prob=0.8, scope="drop"))
    assert model.get_layer("drop").rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="Received: keep_prob=0"):
        slim.dropout(x, keep_prob=0.0)


def test_slim_stack_builds_fc_stack():
    x = keras.Input((16,))
    y = slim.stack(x, slim.fully_connected, [32, 64, 8], scope="fc")
    model = keras.Model(x, y)
    assert [model.get_layer(f"fc_{i}").units for i in (1, 2, 3)] == [32, 64, 8]
    assert model.output_shape == (None, 8)
    assert tf.reduce_min(model(tf.random.normal((4, 16)))) >= 0  # slim's fully_connected defaults to ReLU
