"""Max and average pooling from scratch, forward and backward.

The notes say "池化层是没有参数的,所以进行BP的时候是无关池化层的事情" (pooling has no
parameters, so back-propagation has nothing to do with it). The first half is
true, the second is not: the gradient of everything *below* a pooling layer
passes *through* it. Max pooling sends each output's gradient to the one input
that won the window (the arg-max) and zero to the rest; average pooling spreads
it evenly over the window. :func:`max_pool_backward` and
:func:`avg_pool_backward` are those two rules.

Like TensorFlow: NHWC; ``'same'`` padding pads max pooling with -inf (a padded
pixel never wins) and makes average pooling divide by the number of *real*
pixels in the window; on a tie the first maximum in row-major window order gets
the whole gradient (TensorFlow's ``MaxPoolGrad`` on CPU does the same).
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError
from tfcnn.scratch._common import output_size, pad_amounts, pair


def _geometry(x, pool_size, strides, padding):
    if x.ndim != 4:
        raise UsageError(f"pooling expects x of shape (N, H, W, C). Received: x.shape={x.shape}")
    (kh, kw) = pair(pool_size, "pool_size")
    (sh, sw) = (kh, kw) if strides is None else pair(strides, "strides")
    pt, pb = pad_amounts(x.shape[1], kh, sh, 1, padding)
    pl, pr = pad_amounts(x.shape[2], kw, sw, 1, padding)
    out = (output_size(x.shape[1], kh, sh, 1, pt, pb), output_size(x.shape[2], kw, sw, 1, pl, pr))
    return {"kernel": (kh, kw), "stride": (sh, sw), "pads": ((pt, pb), (pl, pr)), "out": out, "x_shape": x.shape}


def _taps(geo):
    """Yield ``(t, rows, cols)`` for each window position ``t`` (row-major): one strided slice of the padded input.

    Tap ``t`` of every output window at once, so the loops run over the
    KH*KW window positions (4 for 2x2), not over every output pixel.
    """
    (kh, kw), (sh, sw), (ho, wo) = geo["kernel"], geo["stride"], geo["out"]
    for a in range(kh):
        for b in range(kw):
            yield a * kw + b, slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw)


def max_pool_forward(x, *, pool_size=2, strides=None, padding="valid"):
    """Max pooling: each output is the largest input of its window.

    Args:
        x: ``(N, H, W, C)``.
        pool_size: window, int or pair.
        strides: int or pair; default the window size (Keras's default).
        padding: ``'valid'`` or ``'same'``.

    Returns:
        ``(y, cache)``; the cache holds the arg-max of every window, which is all backward needs.

    Raises:
        UsageError: a bad shape, window, stride or padding.

    Example:
        >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4.]]).reshape(1, 4, 4, 1)
        >>> max_pool_forward(x)[0][0, :, :, 0]
        array([[6., 8.],
               [3., 4.]])
    """
    geo = _geometry(x, pool_size, strides, padding)
    xp = np.pad(x, ((0, 0), *geo["pads"], (0, 0)), constant_values=-np.inf)
    windows = np.stack([xp[:, rows, cols, :] for _, rows, cols in _taps(geo)])  # (KH*KW, N, HO, WO, C)
    argmax = np.argmax(windows, axis=0)  # first maximum in row-major window order on a tie, as TensorFlow
    y = np.take_along_axis(windows, argmax[None], axis=0)[0]
    return y, {"geo": geo, "argmax": argmax, "padded_shape": xp.shape}


def max_pool_backward(dy, cache):
    """Route each output's gradient to its window's arg-max; every other input gets 0.

    Returns:
        ``(dx, {})``: pooling has no parameters, but ``dx`` is not zero.
    """
    geo, argmax = cache["geo"], cache["argmax"]
    dxp = np.zeros(cache["padded_shape"], dtype=dy.dtype)
    for t, rows, cols in _taps(geo):
        # += because overlapping windows (stride < window) can pick the same pixel twice.
        dxp[:, rows, cols, :] += np.where(argmax == t, dy, 0)
    return _unpad(dxp, geo), {}


def avg_pool_forward(x, *, pool_size=2, strides=None, padding="valid"):
    """Average pooling: each output is the mean of the real (unpadded) pixels of its window.

    Arguments as :func:`max_pool_forward`.

    Example:
        >>> x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4.]]).reshape(1, 4, 4, 1)
        >>> avg_pool_forward(x)[0][0, :, :, 0]
        array([[3.25, 5.25],
               [2.  , 2.  ]])
    """
    geo = _geometry(x, pool_size, strides, padding)
    xp = np.pad(x, ((0, 0), *geo["pads"], (0, 0)))
    real = np.pad(np.ones(x.shape[1:3]), geo["pads"])  # 1 on real pixels, 0 on padding
    counts = sum(real[rows, cols] for _, rows, cols in _taps(geo))  # (HO, WO) real pixels per window
    y = sum(xp[:, rows, cols, :] for _, rows, cols in _taps(geo)) / counts[:, :, None]
    return y, {"geo": geo, "counts": counts, "padded_shape": xp.shape}


def avg_pool_backward(dy, cache):
    """Spread each output's gradient evenly, ``dy / count``, over its window.

    Returns:
        ``(dx, {})``.
    """
    geo = cache["geo"]
    share = dy / cache["counts"][:, :, None]
    dxp = np.zeros(cache["padded_shape"], dtype=dy.dtype)
    for _, rows, cols in _taps(geo):
        dxp[:, rows, cols, :] += share
    return _unpad(dxp, geo), {}


def _unpad(dxp, geo):
    (pt, _), (pl, _) = geo["pads"]
    h, w = geo["x_shape"][1:3]
    return dxp[:, pt:pt + h, pl:pl + w, :]
