"""Way 2: TF-Slim's vocabulary (``num_outputs``, ``stride``, ``activation_fn``, ``normalizer_fn``, ``scope``).

The slim ops live in :mod:`tfcnn.layers.slim`; the façade below translates
tfcnn's common signatures into slim calls. Compare this file with
``style_keras.py`` and ``style_raw.py``: the steps are the same, only the API
differs.

Every function adds layers to the functional graph of ``x`` and returns the
new tensor. Layer names: ``conv_bn(name=N)`` creates ``N_conv``, ``N_bn`` and
``N_<activation>``; ``dense(name=N)`` creates ``N`` and ``N_<activation>``.
"""

from __future__ import annotations

from tfcnn import defaults
from tfcnn.layers import _common, slim
from tfcnn.layers._common import check_activation, conv_bias, l2
from tfcnn.layers.raw import activation_fn as _tf_nn

STYLE = "slim"

# Channel ops with no per-style lesson (ShuffleNet's shuffle and split, CBAM's pool, ECA's convolution;
# slim has none of them): one definition for every style.
channel_pool, channel_conv = _common.channel_pool, _common.channel_conv
channel_shuffle, channel_slice = _common.channel_shuffle, _common.channel_slice


def _slim_fn(activation):
    return None if activation in (None, "linear") else _tf_nn(activation)


def _bn_params(bn_epsilon, bn_momentum, bn_scale):
    return {"decay": bn_momentum or defaults.BN_MOMENTUM, "epsilon": bn_epsilon or defaults.BN_EPSILON,
            "scale": bn_scale}


def activation(x, activation, *, name):
    """Apply an activation as its own layer named ``name``."""
    check_activation(activation)
    return slim.activation(x, _tf_nn(activation), scope=name)


def conv_bn(x, filters, kernel_size, *, strides=1, padding="same", activation="relu", use_bn=True,
            use_bias=None, groups=1, bn_epsilon=None, bn_momentum=None, bn_scale=True, weight_decay=None,
            name):
    """Convolution, then (optionally) batch norm, then the activation."""
    check_activation(activation)
    # 1 convolution, 2 batch norm, 3 activation: slim.conv2d does all three
    return slim.conv2d(
        x, filters, kernel_size, stride=strides, padding=padding.upper(), groups=groups,
        use_bias=conv_bias(use_bias, use_bn), weights_initializer=defaults.KERNEL_INITIALIZER,
        weights_regularizer=l2(weight_decay), normalizer_fn=slim.batch_norm if use_bn else None,
        normalizer_params=_bn_params(bn_epsilon, bn_momentum, bn_scale), activation_fn=_slim_fn(activation),
        scope=name)


def bn_act(x, *, activation="relu", bn_epsilon=None, bn_momentum=None, bn_scale=True, name):
    """Batch norm, then the activation, with no convolution (pre-activation residual units)."""
    check_activation(activation)
    # 2 batch norm, 3 activation (a layer of its own, named like the other styles')
    x = slim.batch_norm(x, scope=f"{name}_bn", **_bn_params(bn_epsilon, bn_momentum, bn_scale))
    return x if activation in (None, "linear") else slim.activation(x, _tf_nn(activation), scope=f"{name}_{activation}")


def depthwise_conv_bn(x, kernel_size, *, strides=1, padding="same", depth_multiplier=1, activation="relu",
                      use_bn=True, use_bias=None, bn_epsilon=None, bn_momentum=None, bn_scale=True,
                      weight_decay=None, name):
    """Depthwise convolution (one filter per channel), then batch norm, then the activation."""
    check_activation(activation)
    # 1 convolution, 2 batch norm, 3 activation: slim.separable_conv2d does all three
    return slim.separable_conv2d(
        x, None, kernel_size, depth_multiplier=depth_multiplier, stride=strides, padding=padding.upper(),
        use_bias=conv_bias(use_bias, use_bn), weights_initializer=defaults.KERNEL_INITIALIZER,
        weights_regularizer=l2(weight_decay), normalizer_fn=slim.batch_norm if use_bn else None,
        normalizer_params=_bn_params(bn_epsilon, bn_momentum, bn_scale), activation_fn=_slim_fn(activation),
        scope=name)


def dense(x, units, *, activation=None, use_bias=True, weight_decay=None, name):
    """Fully connected layer ``x @ W + b``, then the activation."""
    check_activation(activation)
    # 1 matrix multiply, 3 activation: slim.fully_connected does both
    return slim.fully_connected(
        x, units, biases_initializer="zeros" if use_bias else None, weights_initializer=defaults.DENSE_INITIALIZER,
        weights_regularizer=l2(weight_decay), activation_fn=_slim_fn(activation), scope=name)


def max_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Max pooling."""
    return slim.max_pool2d(x, pool_size, stride=strides or pool_size, padding=padding.upper(), scope=name)


def avg_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Average pooling."""
    return slim.avg_pool2d(x, pool_size, stride=strides or pool_size, padding=padding.upper(), scope=name)


def global_pool(x, *, mode="avg", name):
    """Global average (or max) pooling over height and width."""
    return slim.global_pool(x, pooling_type=mode.upper(), scope=name)


def flatten(x, *, name):
    """Flatten everything but the batch axis."""
    return slim.flatten(x, scope=name)


def dropout(x, rate, *, name):
    """Inverted dropout: identity at inference, kept units scaled by ``1/(1-rate)`` in training."""
    return slim.dropout(x, keep_prob=1.0 - rate, scope=name)


def zero_pad(x, padding, *, name):
    """Explicit zero padding (an int or ``((top, bottom), (left, right))``)."""
    return slim.pad(x, padding, scope=name)


def add(xs, *, name):
    """Element-wise sum (a residual connection)."""
    return slim.merge(xs, "add", scope=name)


def multiply(xs, *, name):
    """Element-wise product (attention masks, squeeze-and-excitation)."""
    return slim.merge(xs, "multiply", scope=name)


def concat(xs, *, axis=-1, name):
    """Concatenate along channels (Inception branches), or along ``axis`` (CBAM stacks two pooled maps)."""
    return slim.merge(xs, "concat", scope=name, axis=axis)


def lrn(x, *, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name):
    """Local response normalisation across channels."""
    return slim.lrn(x, depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta, scope=name)


