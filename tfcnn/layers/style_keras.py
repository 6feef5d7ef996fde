"""Way 3: Keras layers. Conv2D, BatchNormalization and the activation are three layers.

Keeping them separate is the pattern TFMOT folds for quantization-aware
training (the BN is folded into the conv). Compare this file with
``style_raw.py`` and ``style_slim.py``: the steps are the same, only the API
differs.

Every function adds layers to the functional graph of ``x`` and returns the
new tensor. Layer names: ``conv_bn(name=N)`` creates ``N_conv``, ``N_bn`` and
``N_<activation>``; ``dense(name=N)`` creates ``N`` and ``N_<activation>``.
"""

from __future__ import annotations

from tfcnn import defaults
from tfcnn._compat import keras
from tfcnn.layers import _common
from tfcnn.layers._common import act_name, check_activation, conv_bias, l2
from tfcnn.layers.raw import RawLRN, activation_fn

# Keras 2 has no MobileNet-v3 hard activations (its ``hard_sigmoid`` is 0.2x+0.5):
# an ``Activation`` layer holds tfcnn's registered function instead of a name.
_HARD = ("hard_sigmoid", "hard_swish")

# Merge ops hold no weights: the raw and keras façades share one definition.
add, multiply, concat = _common.add, _common.multiply, _common.concat
# Channel ops with no per-style lesson (ShuffleNet's shuffle and split, CBAM's pool, ECA's convolution):
# one definition for every style.
channel_pool, channel_conv = _common.channel_pool, _common.channel_conv
channel_shuffle, channel_slice = _common.channel_shuffle, _common.channel_slice

STYLE = "keras"


def _activation(x, activation, name):
    if activation in (None, "linear"):
        return x
    if activation == "relu6":
        return keras.layers.ReLU(6.0, name=act_name(name, activation))(x)
    fn = activation_fn(activation) if activation in _HARD else activation
    return keras.layers.Activation(fn, name=act_name(name, activation))(x)


def activation(x, activation, *, name):
    """Apply an activation as its own layer named ``name``."""
    check_activation(activation)
    if activation == "relu6":
        return keras.layers.ReLU(6.0, name=name)(x)
    fn = activation_fn(activation) if activation in _HARD else activation
    return keras.layers.Activation(fn or "linear", name=name)(x)


def conv_bn(x, filters, kernel_size, *, strides=1, padding="same", activation="relu", use_bn=True,
            use_bias=None, groups=1, bn_epsilon=None, bn_momentum=None, bn_scale=True, weight_decay=None,
            name):
    """Convolution, then (optionally) batch norm, then the activation."""
    check_activation(activation)
    # 1 convolution
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups,
        use_bias=conv_bias(use_bias, use_bn), kernel_initializer=defaults.KERNEL_INITIALIZER,
        kernel_regularizer=l2(weight_decay), name=f"{name}_conv")(x)
    # 2 batch norm
    if use_bn:
        x = keras.layers.BatchNormalization(
            momentum=bn_momentum or defaults.BN_MOMENTUM, epsilon=bn_epsilon or defaults.BN_EPSILON,
            scale=bn_scale, name=f"{name}_bn")(x)
    # 3 activation
    return _activation(x, activation, name)


def bn_act(x, *, activation="relu", bn_epsilon=None, bn_momentum=None, bn_scale=True, name):
    """Batch norm, then the activation, with no convolution (pre-activation residual units)."""
    check_activation(activation)
    # 2 batch norm
    x = keras.layers.BatchNormalization(
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
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
        use_bias=conv_bias(use_bias, use_bn), depthwise_initializer=defaults.KERNEL_INITIALIZER,
        depthwise_regularizer=l2(weight_decay), name=f"{name}_conv")(x)
    # 2 batch norm
    if use_bn:
        x = keras.layers.BatchNormalization(
            momentum=bn_momentum or defaults.BN_MOMENTUM, epsilon=bn_epsilon or defaults.BN_EPSILON,
            scale=bn_scale, name=f"{name}_bn")(x)
    # 3 activation
    return _activation(x, activation, name)


def dense(x, units, *, activation=None, use_bias=True, weight_decay=None, name):
    """Fully connected layer ``x @ W + b``, then the activation."""
    check_activation(activation)
    # 1 matrix multiply
    x = keras.layers.Dense(units, use_bias=use_bias, kernel_initializer=defaults.DENSE_INITIALIZER,
                           kernel_regularizer=l2(weight_decay), name=name)(x)
    # 3 activation
    return _activation(x, activation, name)


def max_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Max pooling."""
    return keras.layers.MaxPooling2D(pool_size, strides=strides, padding=padding, name=name)(x)


def avg_pool(x, pool_size, *, strides=None, padding="valid", name):
    """Average pooling."""
    return keras.layers.AveragePooling2D(pool_size, strides=strides, padding=padding, name=name)(x)


def global_pool(x, *, mode="avg", name):
    """Global average (or max) pooling over height and width."""
    layer = keras.layers.GlobalAveragePooling2D if mode == "avg" else keras.layers.GlobalMaxPooling2D
    return layer(name=name)(x)


def flatten(x, *, name):
    """Flatten everything but the batch axis."""
    return keras.layers.Flatten(name=name)(x)


def dropout(x, rate, *, name):
    """Inverted dropout: identity at inference, kept units scaled by ``1/(1-rate)`` in training."""
    return keras.layers.Dropout(rate, name=name)(x)


def zero_pad(x, padding, *, name):
    """Explicit zero padding (an int or ``((top, bottom), (left, right))``), as Keras Applications' ResNet uses."""
    return keras.layers.ZeroPadding2D(padding, name=name)(x)


def lrn(x, *, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name):
    """Local response normalisation across channels (AlexNet; paper constants n=5, k=2, alpha=1e-4, beta=0.75).

    Keras has no LRN layer, so this uses tfcnn's :class:`~tfcnn.layers.raw.RawLRN` in every style.
    """
    return RawLRN(depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta, name=name)(x)


