"""Dense (affine) and flatten layers from scratch.

``y = x @ kernel + bias`` has the three gradients every layer of a network
reduces to: ``dx = dy @ kernel.T``, ``dkernel = x.T @ dy``, ``dbias = sum(dy)``.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the docstring examples use np)

from tfcnn.errors import UsageError


def dense_forward(x, params):
    """Affine layer, Keras's ``Dense`` without activation.

    Args:
        x: ``(N, D)``.
        params: ``{"kernel": (D, M), "bias": (M,)}`` (bias optional).

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(N, M)``.

    Raises:
        UsageError: ``x`` is not ``(N, D)`` with ``D == kernel.shape[0]``.

    Example:
        >>> dense_forward(np.ones((1, 2)), {"kernel": np.eye(2), "bias": np.array([1.0, 2.0])})[0]
        array([[2., 3.]])
    """
    kernel = params["kernel"]
    if x.ndim != 2 or x.shape[1] != kernel.shape[0]:
        raise UsageError(f"dense expects x of shape (N, {kernel.shape[0]}); flatten first. Received: x.shape={x.shape}")
    y = x @ kernel
    if params.get("bias") is not None:
        y = y + params["bias"]
    return y, {"x": x, "params": params}


def dense_backward(dy, cache):
    """Returns ``(dx, {"kernel": x.T @ dy, "bias": sum(dy)})``."""
    x, params = cache["x"], cache["params"]
    grads = {"kernel": x.T @ dy}
    if params.get("bias") is not None:
        grads["bias"] = dy.sum(axis=0)
    return dy @ params["kernel"].T, grads


def flatten_forward(x):
    """``(N, H, W, C) -> (N, H*W*C)`` in row-major order, as Keras's ``Flatten`` on NHWC.

    Example:
        >>> flatten_forward(np.zeros((2, 3, 3, 4)))[0].shape
        (2, 36)
    """
    return x.reshape(x.shape[0], -1), {"shape": x.shape}


def flatten_backward(dy, cache):
    """Reshape the gradient back; flatten moves numbers, it computes nothing. Returns ``(dx, {})``."""
    return dy.reshape(cache["shape"]), {}
