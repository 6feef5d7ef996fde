"""Batch normalisation from scratch: training and inference mode, two backward passes.

Statistics are taken over every axis but the last (the channels), so the same
functions serve a dense layer ``(N, C)`` and a convolution ``(N, H, W, C)``,
as Keras's ``BatchNormalization(axis=-1)``.

Training mode normalises with the batch's mean and (biased) variance, and the
gradient must flow through those statistics too: :func:`batchnorm_backward`
is the compact closed form, :func:`batchnorm_backward_graph` walks the
computation graph one node at a time (the derivation, readable line by line).
Inference mode uses the moving statistics, which are constants, so the layer
is an affine map per channel and its gradient is ``dy * gamma / sqrt(var + eps)``.

Reference: S. Ioffe, C. Szegedy, "Batch normalization: accelerating deep
network training by reducing internal covariate shift", ICML 2015, arXiv:1502.03167.
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x, params, *, training=True, momentum=0.99, epsilon=1e-3):
    """``gamma * (x - mean) / sqrt(var + eps) + beta``.

    Args:
        x: ``(..., C)``.
        params: ``gamma``, ``beta`` (trained) and ``moving_mean``, ``moving_variance`` (``(C,)`` each).
        training: batch statistics (and an updated moving average) or the moving ones.
        momentum: Keras's: ``moving = momentum * moving + (1 - momentum) * batch``.
        epsilon: added to the variance (Keras's default 1e-3).

    Returns:
        ``(y, cache)``; in training ``cache["moving_mean"]``/``cache["moving_variance"]`` are the updated averages.

    Example:
        >>> x = np.array([[1.0], [3.0]])
        >>> p = {"gamma": np.ones(1), "beta": np.zeros(1), "moving_mean": np.zeros(1), "moving_variance": np.ones(1)}
        >>> np.round(batchnorm_forward(x, p, epsilon=0.0)[0], 6)
        array([[-1.],
               [ 1.]])
    """
    axes = tuple(range(x.ndim - 1))
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = params["moving_mean"], params["moving_variance"]
    inv_std = 1.0 / np.sqrt(var + epsilon)
    xhat = (x - mean) * inv_std
    y = params["gamma"] * xhat + params["beta"]
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "epsilon": epsilon,
             "params": params, "training": training, "axes": axes}
    if training:
        cache["moving_mean"] = momentum * params["moving_mean"] + (1 - momentum) * mean
        cache["moving_variance"] = momentum * params["moving_variance"] + (1 - momentum) * var
    return y, cache


def batchnorm_backward(dy, cache):
    """Compact backward: ``dx = gamma / sigma * (dy - mean(dy) - xhat * mean(dy * xhat))``.

    The two means are what the batch statistics contribute: shifting every
    input moves the mean with it (so ``dx`` sums to 0 per channel), and
    scaling every input moves sigma with it (so ``dx`` is orthogonal to ``xhat``).

    Returns:
        ``(dx, {"gamma": ..., "beta": ...})``.
    """
    axes, xhat, gamma = cache["axes"], cache["xhat"], cache["params"]["gamma"]
    grads = {"gamma": np.sum(dy * xhat, axis=axes), "beta": np.sum(dy, axis=axes)}
    if not cache["training"]:
        return dy * gamma * cache["inv_std"], grads
    dxhat = dy * gamma
    dx = cache["inv_std"] * (dxhat - dxhat.mean(axis=axes) - xhat * np.mean(dxhat * xhat, axis=axes))
    return dx, grads


def batchnorm_backward_graph(dy, cache):
    """Training-mode backward one graph node at a time, the way the chain rule derives it.

    Forward graph: ``mu = mean(x)``, ``xc = x - mu``, ``var = mean(xc^2)``,
    ``inv = (var + eps)^-1/2``, ``xhat = xc * inv``, ``y = gamma * xhat + beta``.
    Walk it backwards, summing where a node fed several others.

    Returns:
        ``(dx, {"gamma": ..., "beta": ...})``, equal to :func:`batchnorm_backward`'s.
    """
    axes, gamma = cache["axes"], cache["params"]["gamma"]
    m = cache["x"].size // cache["x"].shape[-1]  # values per channel
    xc, inv = cache["x"] - cache["mean"], cache["inv_std"]
    dbeta = np.sum(dy, axis=axes)                         # y = ... + beta
    dgamma = np.sum(dy * cache["xhat"], axis=axes)        # y = gamma * xhat + ...
    dxhat = dy * gamma
    dinv = np.sum(dxhat * xc, axis=axes)                  # xhat = xc * inv (inv is per channel: sum)
    dxc = dxhat * inv                                     # ... and the xc branch of the same product
    dvar = dinv * -0.5 * (cache["var"] + cache["epsilon"]) ** -1.5  # inv = (var + eps)^(-1/2)
    dxc = dxc + dvar * 2 * xc / m                         # var = mean(xc^2): xc's second use
    dmu = -np.sum(dxc, axis=axes)                         # xc = x - mu
    dx = dxc + dmu / m                                    # mu = mean(x): x's second use
    return dx, {"gamma": dgamma, "beta": dbeta}
