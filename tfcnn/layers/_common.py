"""Small helpers shared by the three style modules (argument checks, naming)."""

from __future__ import annotations

from tfcnn import defaults
from tfcnn._compat import keras
from tfcnn.layers.raw import RawChannelConv, RawChannelPool, RawChannelSlice


def check_activation(activation) -> None:
    if activation is not None and activation not in defaults.ACTIVATIONS:
        raise ValueError(f"activation must be one of {defaults.ACTIVATIONS} or None. Received: activation={activation!r}")


def act_name(name: str, activation: str) -> str:
    return f"{name}_{activation}"


def conv_bias(use_bias, use_bn: bool) -> bool:
    """A conv followed by BN needs no bias (BN's beta replaces it) unless asked for."""
    return (not use_bn) if use_bias is None else bool(use_bias)


def resolve_weight_decay(value) -> float:
    return defaults.WEIGHT_DECAY if value is None else float(value)


def l2(value):
    wd = resolve_weight_decay(value)
    return keras.regularizers.L2(wd) if wd else None


# Merge layers hold no weights and no lesson, so the raw and keras styles share
# Keras's own (slim wraps the same layers in ``slim.merge``).
def add(xs, *, name):
    """Element-wise sum (a residual connection)."""
    return keras.layers.Add(name=name)(list(xs))


def multiply(xs, *, name):
    """Element-wise product (attention masks, squeeze-and-excitation)."""
    return keras.layers.Multiply(name=name)(list(xs))


def concat(xs, *, axis=-1, name):
    """Concatenate along channels (Inception branches), or along ``axis`` (CBAM stacks two pooled maps)."""
    return keras.layers.Concatenate(axis=axis, name=name)(list(xs))


def channel_pool(x, *, name):
    """Mean and maximum over the channels at every position, ``[H, W, C] -> [H, W, 2]`` (CBAM's spatial gate).

    Keras has no such layer, so every style uses tfcnn's :class:`~tfcnn.layers.raw.RawChannelPool`.
    """
    return RawChannelPool(name=name)(x)


def channel_conv(x, kernel_size, *, weight_decay=None, name):
    """A 1-D convolution of ``kernel_size`` shared weights along the channel axis (ECA-Net's gate).

    Keras has no layer that convolves along the channels of an image tensor,
    so every style uses tfcnn's :class:`~tfcnn.layers.raw.RawChannelConv`.
    """
    return RawChannelConv(kernel_size, weight_decay=resolve_weight_decay(weight_decay), name=name)(x)


def channel_shuffle(x, groups, *, name):
    """Interleave the channels of ``groups`` groups (ShuffleNet): reshape to groups, swap two axes, flatten back.

    Channel ``g * (C // groups) + i`` moves to ``i * groups + g``, as torch's
    ``x.view(b, g, C // g, h, w).transpose(1, 2)``; three weightless Keras
    layers ``N_reshape``, ``N_permute`` and ``N`` in every style (pure data
    movement: no ``tf.nn`` op or slim op to show).
    """
    h, w, c = (int(d) for d in x.shape[1:])
    if groups < 1 or c % groups:
        raise ValueError(f"channels ({c}) must split into equal groups. Received: groups={groups!r}")
    x = keras.layers.Reshape((h, w, groups, c // groups), name=f"{name}_reshape")(x)
    x = keras.layers.Permute((1, 2, 4, 3), name=f"{name}_permute")(x)
    return keras.layers.Reshape((h, w, c), name=name)(x)


def channel_slice(x, start, stop, *, name):
    """Channels ``start:stop`` (ShuffleNet v2's channel split, GhostNet's cut to ``out`` channels).

    Keras has no slicing layer, so this uses tfcnn's :class:`~tfcnn.layers.raw.RawChannelSlice` in every style.
    """
    return RawChannelSlice(start, stop, name=name)(x)
