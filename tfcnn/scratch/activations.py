"""ReLU, sigmoid and tanh from scratch, with their derivatives.

Each derivative is written in terms of the forward output where that is
cheapest, which is how frameworks store it: ``sigmoid' = s(1 - s)`` (at most
0.25, so a chain of sigmoids shrinks the gradient by 4x per layer at best: the
notes' 梯度弥散, vanishing gradient), ``tanh' = 1 - t^2`` (at most 1),
``relu' = 1 if x > 0 else 0`` (0 at exactly 0, as TensorFlow's ``ReluGrad``).
"""

from __future__ import annotations

import numpy as np


def relu_forward(x):
    """``max(x, 0)``. Returns ``(y, cache)``.

    Example:
        >>> relu_forward(np.array([-1.0, 0.0, 2.0]))[0]
        array([0., 0., 2.])
    """
    y = np.maximum(x, 0)
    return y, {"y": y}


def relu_backward(dy, cache):
    """``dy`` where the unit was on (``y > 0``), else 0. Returns ``(dx, {})``."""
    return dy * (cache["y"] > 0), {}


def sigmoid_forward(x):
    """``1 / (1 + e^-x)``, computed without overflow for large ``|x|``. Returns ``(y, cache)``.

    Example:
        >>> sigmoid_forward(np.array([0.0]))[0]
        array([0.5])
    """
    e = np.exp(-np.abs(x))  # never exp of a large positive number
    y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return y, {"y": y}


def sigmoid_backward(dy, cache):
    """``dy * s (1 - s)``. Returns ``(dx, {})``."""
    y = cache["y"]
    return dy * y * (1 - y), {}


def tanh_forward(x):
    """``tanh(x)``. Returns ``(y, cache)``.

    Example:
        >>> tanh_forward(np.array([0.0]))[0]
        array([0.])
    """
    y = np.tanh(x)
    return y, {"y": y}


def tanh_backward(dy, cache):
    """``dy * (1 - t^2)``. Returns ``(dx, {})``."""
    return dy * (1 - cache["y"] ** 2), {}


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
