"""Convolution from scratch: a naive loop version and an im2col/col2im version, forward and backward.

Layout as TensorFlow: input ``(N, H, W, C)``, ``kernel`` ``(KH, KW, C // groups, O)``
(Keras's ``Conv2D.kernel``), ``bias`` ``(O,)``, output ``(N, HO, WO, O)``. Both
versions take the same hyper-parameters and return the same cache, so either
backward works after either forward; the tests check they agree with each other,
with finite differences and with ``tf_keras.layers.Conv2D``.

The backward pass of ``y = x * w + b`` (``*`` the sliding window product) is
three sums over the same windows: ``db`` adds ``dy`` up, ``dw`` correlates the
input with ``dy``, and ``dx`` scatters ``w`` weighted by ``dy`` back onto every
pixel a window touched (the "full" convolution with the flipped kernel).

Reference: K. Chellapilla, S. Puri, P. Simard, "High performance convolutional
neural networks for document processing", IWFHR 2006 (im2col).
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError
from tfcnn.scratch._common import output_size, pad_amounts, pair


def _setup(x, kernel, stride, padding, dilation, groups):
    """Check shapes and return the padded input and the geometry both versions share."""
    if x.ndim != 4 or kernel.ndim != 4:
        raise UsageError(f"conv expects x (N, H, W, C) and kernel (KH, KW, C/groups, O). "
                         f"Received: x.shape={x.shape}, kernel.shape={kernel.shape}")
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    kh, kw, cg, out = kernel.shape
    if not isinstance(groups, int) or groups < 1 or x.shape[3] != cg * groups or out % groups:
        raise UsageError(f"input channels must be kernel.shape[2] * groups and filters divisible by groups. "
                         f"Received: x.shape={x.shape}, kernel.shape={kernel.shape}, groups={groups!r}")
    pt, pb = pad_amounts(x.shape[1], kh, sh, dh, padding)
    pl, pr = pad_amounts(x.shape[2], kw, sw, dw, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    ho, wo = output_size(x.shape[1], kh, sh, dh, pt, pb), output_size(x.shape[2], kw, sw, dw, pl, pr)
    geo = {"stride": (sh, sw), "dilation": (dh, dw), "pads": (pt, pb, pl, pr), "out": (ho, wo), "groups": groups}
    return xp, geo


def _window(geo, i, j):
    """Row and column slices of the padded input seen by output pixel ``(i, j)`` (dilation = slice step)."""
    (sh, sw), (dh, dw) = geo["stride"], geo["dilation"]
    kh, kw = geo["kernel_hw"]
    return slice(i * sh, i * sh + dh * (kh - 1) + 1, dh), slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)


def conv_forward_naive(x, params, *, stride=1, padding="valid", dilation=1, groups=1):
    """Convolution as the notes draw it: slide the window, multiply, add; one output pixel at a time.

    Args:
        x: input ``(N, H, W, C)``.
        params: ``{"kernel": (KH, KW, C // groups, O), "bias": (O,)}`` (bias optional).
        stride: int or ``(sh, sw)``.
        padding: ``'valid'``, ``'same'`` (TensorFlow's) or an int ``P`` on every side.
        dilation: int or ``(dh, dw)``: the kernel taps are this many pixels apart.
        groups: split channels into this many independent convolutions (``groups=C``: depthwise).

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(N, HO, WO, O)``.

    Raises:
        UsageError: shapes or hyper-parameters do not fit together.

    Example:
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> y, _ = conv_forward_naive(x, {"kernel": np.ones((2, 2, 1, 1))}, stride=2)
        >>> y[0, :, :, 0]
        array([[10., 18.],
               [42., 50.]])
    """
    kernel = params["kernel"]
    xp, geo = _setup(x, kernel, stride, padding, dilation, groups)
    geo["kernel_hw"] = kernel.shape[:2]
    cg, og = kernel.shape[2], kernel.shape[3] // groups
    y = np.zeros((x.shape[0], *geo["out"], kernel.shape[3]), dtype=np.result_type(x, kernel))
    for i in range(geo["out"][0]):
        for j in range(geo["out"][1]):
            rows, cols = _window(geo, i, j)
            for o in range(kernel.shape[3]):
                g = o // og  # filter o sees only its group's input channels
                patch = xp[:, rows, cols, g * cg:(g + 1) * cg]  # (N, KH, KW, C/groups)
                y[:, i, j, o] = np.sum(patch * kernel[:, :, :, o], axis=(1, 2, 3))
    if params.get("bias") is not None:
        y = y + params["bias"]
    return y, {"x_shape": x.shape, "xp": xp, "params": params, "geo": geo}


def conv_backward_naive(dy, cache):
    """Backward of :func:`conv_forward_naive` with the same loops: each window gets ``dy * w`` back.

    Args:
        dy: upstream gradient ``(N, HO, WO, O)``.
        cache: from either forward.

    Returns:
        ``(dx, {"kernel": dkernel, "bias": dbias})``.
    """
    xp, params, geo = cache["xp"], cache["params"], cache["geo"]
    kernel = params["kernel"]
    geo = {**geo, "kernel_hw": kernel.shape[:2]}
    cg, og = kernel.shape[2], kernel.shape[3] // geo["groups"]
    dxp, dk = np.zeros_like(xp, dtype=np.result_type(xp, dy)), np.zeros_like(kernel, dtype=np.result_type(xp, dy))
    for i in range(geo["out"][0]):
        for j in range(geo["out"][1]):
            rows, cols = _window(geo, i, j)
            for o in range(kernel.shape[3]):
                g = o // og
                patch = xp[:, rows, cols, g * cg:(g + 1) * cg]
                weight = dy[:, i, j, o][:, None, None, None]
                dk[:, :, :, o] += np.sum(patch * weight, axis=0)
                dxp[:, rows, cols, g * cg:(g + 1) * cg] += kernel[:, :, :, o] * weight
    return _unpad(dxp, cache), _param_grads(dy, dk, params)


def _unpad(dxp, cache):
    pt, _, pl, _ = cache["geo"]["pads"]
    h, w = cache["x_shape"][1:3]
    return dxp[:, pt:pt + h, pl:pl + w, :]  # gradient that fell on padding goes nowhere


def _param_grads(dy, dk, params):
    grads = {"kernel": dk}
    if params.get("bias") is not None:
        grads["bias"] = dy.sum(axis=(0, 1, 2))
    return grads


def im2col(xp, kernel_hw, stride, dilation, out_hw):
    """Unfold every window of a padded input into a row: ``(N, HO, WO, KH, KW, C)``.

    The loop runs over the KH*KW kernel taps, not over output pixels: each tap
    is one strided slice of the whole input, which is why im2col is fast.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_hw, stride, dilation, out_hw
    cols = np.empty((xp.shape[0], ho, wo, kh, kw, xp.shape[3]), dtype=xp.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, :, a, b, :] = xp[:, a * dh:a * dh + sh * (ho - 1) + 1:sh, b * dw:b * dw + sw * (wo - 1) + 1:sw, :]
    return cols


def col2im(cols, padded_shape, stride, dilation):
    """The adjoint of :func:`im2col`: add every row back onto the pixels it came from.

    Overlapping windows (stride < kernel) add up, which is exactly the sum the
    chain rule asks for in ``dx``.
    """
    _, ho, wo, kh, kw, _ = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = np.zeros(padded_shape, dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            xp[:, a * dh:a * dh + sh * (ho - 1) + 1:sh, b * dw:b * dw + sw * (wo - 1) + 1:sw, :] += cols[:, :, :, a, b, :]
    return xp


def _group_matrices(cols, kernel, groups):
    """Per group ``g``: the ``(N*HO*WO, KH*KW*C/G)`` window matrix and the ``(KH*KW*C/G, O/G)`` kernel matrix."""
    kh, kw, cg, o = kernel.shape
    c = cols.reshape(-1, kh * kw, groups, cg)
    k = kernel.reshape(kh * kw, cg, groups, o // groups)
    return ([c[:, :, g, :].reshape(len(c), kh * kw * cg) for g in range(groups)],
            [k[:, :, g, :].reshape(kh * kw * cg, o // groups) for g in range(groups)])


def conv_forward_im2col(x, params, *, stride=1, padding="valid", dilation=1, groups=1):
    """Convolution as one matrix product per group: ``im2col(x) @ kernel``.

    Same arguments, output and cache as :func:`conv_forward_naive`.

    Example:
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> y, _ = conv_forward_im2col(x, {"kernel": np.ones((2, 2, 1, 1))}, stride=2)
        >>> y[0, :, :, 0]
        array([[10., 18.],
               [42., 50.]])
    """
    kernel = params["kernel"]
    xp, geo = _setup(x, kernel, stride, padding, dilation, groups)
    kh, kw, _, o = kernel.shape
    cols = im2col(xp, (kh, kw), geo["stride"], geo["dilation"], geo["out"])
    n, ho, wo = cols.shape[:3]
    c, k = _group_matrices(cols, kernel, groups)
    y = np.concatenate([c[g] @ k[g] for g in range(groups)], axis=1).reshape(n, ho, wo, o)
    if params.get("bias") is not None:
        y = y + params["bias"]
    return y, {"x_shape": x.shape, "xp": xp, "params": params, "geo": geo}


def conv_backward_im2col(dy, cache):
    """Backward of :func:`conv_forward_im2col`: two matrix products and a :func:`col2im`.

    Returns:
        ``(dx, {"kernel": dkernel, "bias": dbias})``, equal to :func:`conv_backward_naive`'s.
    """
    xp, params, geo = cache["xp"], cache["params"], cache["geo"]
    kernel, groups = params["kernel"], geo["groups"]
    kh, kw, cg, o = kernel.shape
    cols = im2col(xp, (kh, kw), geo["stride"], geo["dilation"], geo["out"])
    c, k = _group_matrices(cols, kernel, groups)
    d = dy.reshape(-1, groups, o // groups)
    # Per group: dkernel = cols^T @ dy, dcols = dy @ kernel^T (the dense layer's two products).
    dk = np.stack([(c[g].T @ d[:, g]).reshape(kh * kw, cg, o // groups) for g in range(groups)], axis=2)
    dcols = np.stack([(d[:, g] @ k[g].T).reshape(-1, kh * kw, cg) for g in range(groups)], axis=2)
    dk, dcols = dk.reshape(kernel.shape), dcols.reshape(cols.shape)
    dxp = col2im(dcols, xp.shape, geo["stride"], geo["dilation"])
    return _unpad(dxp, cache), _param_grads(dy, dk, params)
