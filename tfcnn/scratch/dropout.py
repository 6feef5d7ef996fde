"""Inverted dropout from scratch.

Training: keep each unit with probability ``1 - rate`` and scale the kept ones
by ``1 / (1 - rate)``, so the expected activation is unchanged and inference
is the identity (no rescaling at test time, unlike the original paper's
``p * w``). The mask lives in the cache: backward multiplies by the *same*
mask, so a dropped unit gets no gradient.

Reference: N. Srivastava et al., "Dropout: a simple way to prevent neural
networks from overfitting", JMLR 15, 2014.
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError


def dropout_forward(x, *, rate=0.5, training=True, rng=None, mask=None):
    """Inverted dropout.

    Args:
        x: any shape.
        rate: fraction of units dropped, in ``[0, 1)``.
        training: ``False`` returns ``x`` unchanged.
        rng: a ``numpy.random.Generator`` (default: seeded 0, so a run repeats).
        mask: an explicit 0/1 keep mask of ``x``'s shape (to replay TensorFlow's, or a test's).

    Returns:
        ``(y, cache)``; ``cache["mask"]`` is the scaled keep mask (0 or ``1 / (1 - rate)``).

    Raises:
        UsageError: rate outside ``[0, 1)`` or a mask of the wrong shape.

    Example:
        >>> y, cache = dropout_forward(np.ones((1000,)), rate=0.2)
        >>> round(float(y.mean()), 1)
        1.0
    """
    if not 0 <= rate < 1:
        raise UsageError(f"dropout rate must be in [0, 1). Received: rate={rate!r}")
    if not training or rate == 0:
        return x, {"mask": None}
    if mask is None:
        rng = np.random.default_rng(0) if rng is None else rng
        mask = rng.random(x.shape) >= rate
    elif np.shape(mask) != x.shape:
        raise UsageError(f"mask must have x's shape {x.shape}. Received: mask.shape={np.shape(mask)}")
    scaled = np.asarray(mask, dtype=x.dtype) / (1 - rate)
    return x * scaled, {"mask": scaled}


def dropout_backward(dy, cache):
    """``dy * mask``: the same units are off on the way back. Returns ``(dx, {})``."""
    return (dy if cache["mask"] is None else dy * cache["mask"]), {}
