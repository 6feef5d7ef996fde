"""Losses and weight penalties from scratch, each with its gradient.

Every loss is a mean over the batch (Keras's default reduction), returns a
scalar and a cache, and its backward takes the upstream gradient of that
scalar (1.0 at the top of a network) and returns ``(dpred, {})``.

Softmax cross-entropy is the one the notes' classifier uses. With
``p = softmax(z)`` and the negative log-likelihood ``L = -log p_y``, the
gradient on the logits is simply ``p - onehot(y)`` (divided by ``N`` for the
mean): the softmax's Jacobian and the log's ``1/p`` cancel. Computing
``log softmax`` as ``z - max(z) - log(sum(exp(z - max(z))))`` keeps it finite.
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError


def _onehot(labels, num_classes):
    labels = np.asarray(labels)
    if labels.ndim == 2:  # already one-hot (or soft) targets
        return labels.astype(float)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise UsageError(f"labels must be in [0, {num_classes}). Received: labels in "
                         f"[{labels.min()}, {labels.max()}]")
    return np.eye(num_classes)[labels]


def log_softmax(z):
    """``log(softmax(z))`` along the last axis, stable for any logits."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy_forward(logits, labels):
    """Mean ``-log softmax(logits)[label]``; Keras's ``SparseCategoricalCrossentropy(from_logits=True)``.

    Args:
        logits: ``(N, K)``.
        labels: ``(N,)`` integers, or ``(N, K)`` one-hot/soft targets.

    Returns:
        ``(loss, cache)``.

    Raises:
        UsageError: a label outside ``[0, K)``.

    Example:
        >>> loss, _ = softmax_cross_entropy_forward(np.zeros((1, 4)), np.array([2]))
        >>> round(float(loss), 4) == round(float(np.log(4)), 4)
        True
    """
    y = _onehot(labels, logits.shape[-1])
    logp = log_softmax(logits)
    loss = -np.sum(y * logp) / logits.shape[0]
    return loss, {"p": np.exp(logp), "y": y}


def softmax_cross_entropy_backward(dloss, cache):
    """``dloss * (p - y) / N``. Returns ``(dlogits, {})``."""
    return dloss * (cache["p"] - cache["y"]) / cache["p"].shape[0], {}


def _per_sample_mean(values):
    """Keras's reduction: mean over the last axis per sample, then mean over samples (= mean of all)."""
    return values.mean()


def l2_loss_forward(pred, target):
    """Mean squared error (Keras's ``MeanSquaredError``). Returns ``(loss, cache)``.

    Example:
        >>> float(l2_loss_forward(np.array([[1.0, 3.0]]), np.array([[0.0, 0.0]]))[0])
        5.0
    """
    diff = pred - target
    return _per_sample_mean(diff ** 2), {"diff": diff}


def l2_loss_backward(dloss, cache):
    """``dloss * 2 (pred - target) / size``. Returns ``(dpred, {})``."""
    diff = cache["diff"]
    return dloss * 2 * diff / diff.size, {}


def l1_loss_forward(pred, target):
    """Mean absolute error (Keras's ``MeanAbsoluteError``). Returns ``(loss, cache)``.

    Example:
        >>> float(l1_loss_forward(np.array([[1.0, -3.0]]), np.array([[0.0, 0.0]]))[0])
        2.0
    """
    diff = pred - target
    return _per_sample_mean(np.abs(diff)), {"diff": diff}


def l1_loss_backward(dloss, cache):
    """``dloss * sign(pred - target) / size`` (0 at a tie, as TensorFlow's ``Abs`` gradient). Returns ``(dpred, {})``."""
    diff = cache["diff"]
    return dloss * np.sign(diff) / diff.size, {}


def smooth_l1_loss_forward(pred, target, *, delta=1.0):
    """Smooth L1 (Fast R-CNN) = Huber with ``delta``: ``0.5 d^2`` if ``|d| <= delta`` else ``delta (|d| - delta / 2)``.

    Quadratic near 0 (a gradient that shrinks as the error does), linear far
    away (a gradient capped at ``delta``, so outliers cannot dominate).
    Keras's ``Huber(delta)``. Returns ``(loss, cache)``.

    Reference: R. Girshick, "Fast R-CNN", ICCV 2015, arXiv:1504.08083.

    Example:
        >>> float(smooth_l1_loss_forward(np.array([[0.5, 3.0]]), np.zeros((1, 2)))[0])
        1.3125
    """
    diff = pred - target
    small = np.abs(diff) <= delta
    values = np.where(small, 0.5 * diff ** 2, delta * (np.abs(diff) - 0.5 * delta))
    return _per_sample_mean(values), {"diff": diff, "small": small, "delta": delta}


def smooth_l1_loss_backward(dloss, cache):
    """``d`` inside ``[-delta, delta]``, ``delta * sign(d)`` outside, over ``size``. Returns ``(dpred, {})``."""
    diff = cache["diff"]
    grad = np.where(cache["small"], diff, cache["delta"] * np.sign(diff))
    return dloss * grad / diff.size, {}


def l2_penalty(weights, lam):
    """``(lam / 2) * sum(w^2)`` and its gradient ``lam * w``.

    With this penalty, one SGD step is ``w <- w - lr (g + lam w) = (1 - lr lam) w - lr g``:
    weight decay. Keras's ``regularizers.L2(l)`` is ``l * sum(w^2)`` (no 1/2), so it
    equals this penalty at ``lam = 2 l``.

    Returns:
        ``(penalty, gradient)``.

    Example:
        >>> l2_penalty(np.array([1.0, -2.0]), 0.1)
        (0.25, array([ 0.1, -0.2]))
    """
    return float(0.5 * lam * np.sum(weights ** 2)), lam * weights


def l1_penalty(weights, lam):
    """``lam * sum(|w|)`` and its (sub)gradient ``lam * sign(w)``: a constant pull to 0, which makes weights sparse.

    Keras's ``regularizers.L1(lam)``.

    Returns:
        ``(penalty, gradient)``.

    Example:
        >>> l1_penalty(np.array([1.0, -2.0]), 0.1)
        (0.30000000000000004, array([ 0.1, -0.1]))
    """
    return float(lam * np.sum(np.abs(weights))), lam * np.sign(weights)


LOSSES = {
    "cross_entropy": (softmax_cross_entropy_forward, softmax_cross_entropy_backward),
    "l1": (l1_loss_forward, l1_loss_backward),
    "l2": (l2_loss_forward, l2_loss_backward),
    "smooth_l1": (smooth_l1_loss_forward, smooth_l1_loss_backward),
}
