"""Way 1: raw ``tf.nn`` with explicit weights (``filter_weight``, ``biases``).

The pure functions (``conv2d``, ``batch_norm``, ``conv2d_im2col``, ...) live in
:mod:`tfcnn.layers.raw` and are re-exported here; the façade below builds
models from the thin raw layers that call them. Compare this file with
``style_keras.py`` and ``style_slim.py``: the steps are the same, only the API
differs.

Every function adds layers to the functional graph of ``x`` and returns the
new tensor. Layer names: ``conv_bn(name=N)`` creates ``N_conv``, ``N_bn`` and
``N_<activation>``; ``dense(name=N)`` creates ``N`` and ``N_<activation>``.
"""

from __future__ import annotations

from tfcnn import defaults
from tfcnn.layers import _common
from tfcnn.layers._common import act_name, check_activation, conv_bias, resolve_weight_decay
from tfcnn.layers.raw import (  # noqa: F401  (re-exported: the lesson's pure functions)
    RawActivation,
    RawBatchNorm,
    RawChannelSlice,
    RawConv2D,
    RawDense,
    RawDepthwiseConv2D,
    RawDropout,
    RawFlatten,
    RawGlobalPool,
    RawLRN,
    RawPool2D,
    RawZeroPad,
    batch_norm,
    batch_norm_train,
    conv2d,
    conv2d_im2col,
    depthwise_conv2d,
    im2col,
)

# Merge ops hold no weights: the raw and keras façades share one definition.
add, multiply, concat = _common.add, _common.multiply, _common.concat
# Channel ops with no per-style lesson (ShuffleNet's shuffle and split, CBAM's pool, ECA's convolution):
# one definition for every style.
channel_pool, channel_conv = _common.channel_pool, _common.channel_conv
channel_shuffle, channel_slice = _common.channel_shuffle, _common.channel_slice

STYLE = "raw"


def _activation(x, activation, name):
    if activation in (None, "linear"):
        return x
    return RawActivation(activation, name=act_name(name, activation))(x)


def activation(x, activation, *, name):
    """Apply an activation as its own layer named ``name``."""
    check_activation(activation)
    return RawActivation(activation or "linear", name=name)(x)


def conv_bn(x, filters, kernel_size, *, strides=1, padding="same", activation="relu", use_bn=True,
            use_bias=None, groups=1, bn_epsilon=None, bn_momentum=None, bn_scale=True, weight_decay=None,
            name):
    """Convolution, then (optionally) batch norm, then the activation."""
    check_activation(activation)
    # 1 convolution
    x = RawConv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups,
        use_bias=conv_bias(use_bias, use_bn), kernel_initializer=defaults.KERNEL_INITIALIZER,
        weight_decay=resolve_weight_decay(weight_decay), name=f"{name}_conv")(x)
    # 2 batch norm
    if use_bn:
        x = RawBatchNorm(
            momentum=bn_momentum or defaults.BN_MOMENTUM, epsilon=bn_epsilon or defaults.BN_EPSILON,
            scale=bn_scale, name=f"{name}_bn")(x)
    # 3 activation
    return _activation(x, activation, name)


def bn_act(x, *, activation="relu", bn_epsilon=None, bn_momentum=None, bn_scale=True, name):
    """Batch norm, then the activation, with no convolution (pre-activation residual units)."""
    check_activation(activation)
    # 2 batch norm
    x = RawBatchNorm(
        momentum=bn_momentum or defaults.BN_MOMENTUM, epsilon=bn_epsilon or defaults.BN_EPSILON,
        scale=bn_scale, name=f"{name}_bn")(x)
    # 3 activation
    return _activation(x, activation, name)


def depthwise_conv_bn(x, kernel_size, *, strides=1, padding="same", depth_multiplier=1, activation="relu",
                      use_bn=True, use_bias=None, bn_epsilon=None, bn_momentum=None, bn_scale=True,
                      weight_decay=None, name):
    """Depthwise convolution (one filter per channel), then batch norm, then the activation."""
    check_activation(activation)
    # 1 convolution
    x = RawDepthwiseConv2D(
        kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
        use_bias=conv_bias(use_bias, use_bn), kernel_initializer=defaults.KERNEL_INITIALIZER,
        weight_decay=resolve_weight_decay(weight_decay), name=f"{name}_conv")(x)
    # 2 batch norm
    if use_bn:
        x = RawBatchNorm(
            momentum=bn_momentum or defaults.BN_MOMENTUM, epsilon=bn_epsilon or defaults.BN_EPSILON,
            scale=bn_scale, name=f"{name}_bn")(x)
    # 3 activation
    return _activation(x, activation, name)


def dense(x, units, *, activation=None, use_bias=True, weight_decay=None, name):
    """Fully connected layer ``x @ W + b``, then the activation."""
    check_activation(activation)
    # 1 matrix multiply
    x = RawDense(units, use_bias=use_bias, kernel_initializer=defaults.DENSE_INITIALIZER,
                 weight_decay=resolve_weight_decay(weight_decay), name=name)(x)
    # 3 activation
    return _activation(x, activation, name)


def max_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Max pooling."""
    return RawPool2D("max", pool_size, strides=strides, padding=padding, name=name)(x)


def avg_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Average pooling."""
    return RawPool2D("avg", pool_size, strides=strides, padding=padding, name=name)(x)


def global_pool(x, *, mode="avg", name):
    """Global average (or max) pooling over height and width."""
    return RawGlobalPool(mode, name=name)(x)


def flatten(x, *, name):
    """Flatten everything but the batch axis."""
    return RawFlatten(name=name)(x)


def dropout(x, rate, *, name):
    """Inverted dropout: identity at inference, kept units scaled by ``1/(1-rate)`` in training."""
    return RawDropout(rate, name=name)(x)




def zero_pad(x, padding, *, name):
    """Explicit zero padding (an int or ``((top, bottom), (left, right))``) with ``tf.pad``."""
    return RawZeroPad(padding, name=name)(x)


def lrn(x, *, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name):
    """Local response normalisation across channels with ``tf.nn.local_response_normalization``."""
    return RawLRN(depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta, name=name)(x)


