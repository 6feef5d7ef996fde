"""Small helpers shared by the three style modules (argument checks, naming)."""

from __future__ import annotations

from tfcnn import defaults
from tfcnn._compat import keras


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


def concat(xs, *, name):
    """Concatenate along channels (Inception branches)."""
    return keras.layers.Concatenate(axis=-1, name=name)(list(xs))
