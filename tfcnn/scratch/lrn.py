"""Local response normalisation (AlexNet) from scratch, forward and backward.

``y_c = x_c / (bias + alpha * sum_{|c'-c| <= r} x_c'^2) ^ beta``, across
channels, exactly as ``tf.nn.local_response_normalization`` (whose ``alpha``
is *not* divided by the window size, unlike the paper's formula).

Reference: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification
with deep convolutional neural networks", NeurIPS 2012.
"""

from __future__ import annotations

import numpy as np


def _window_sum(a, radius):
    """Sum over channels ``c - radius .. c + radius`` (clipped at the edges), by a cumulative sum."""
    c = a.shape[-1]
    csum = np.concatenate([np.zeros(a.shape[:-1] + (1,)), np.cumsum(a, axis=-1)], axis=-1)
    hi = np.minimum(np.arange(c) + radius + 1, c)
    lo = np.maximum(np.arange(c) - radius, 0)
    return csum[..., hi] - csum[..., lo]


def lrn_forward(x, *, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    """LRN with TensorFlow's arguments and defaults. Returns ``(y, cache)``.

    Example:
        >>> np.round(lrn_forward(np.array([[3.0, 4.0]]), depth_radius=1, alpha=1.0, beta=0.5, bias=0.0)[0], 3)
        array([[0.6, 0.8]])
    """
    scale = bias + alpha * _window_sum(x ** 2, depth_radius)
    y = x * scale ** -beta
    return y, {"x": x, "scale": scale, "radius": depth_radius, "alpha": alpha, "beta": beta}


def lrn_backward(dy, cache):
    """``dx_k = dy_k s_k^-b - 2 a b x_k sum_{j near k} dy_j x_j s_j^(-b-1)`` (the window is symmetric).

    Returns:
        ``(dx, {})``.
    """
    x, s, a, b = cache["x"], cache["scale"], cache["alpha"], cache["beta"]
    through_scale = _window_sum(dy * x * s ** (-b - 1), cache["radius"])
    return dy * s ** -b - 2 * a * b * x * through_scale, {}
