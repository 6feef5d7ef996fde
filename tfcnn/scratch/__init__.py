"""Every layer of the notes written from scratch in NumPy: forward, backward, checked numerically.

Each layer is a pair of functions::

    y, cache = forward(x, params, **hyper)    # params: dict of arrays named as in Keras
    dx, dparams = backward(dy, cache)         # dparams has the same keys as params

Parameterless layers take no ``params`` and return ``dparams == {}``. Arrays are
NHWC (as TensorFlow) and float64 by default, so a centred finite difference is
accurate to about 1e-9 and a hand-written gradient can be checked to 1e-7.
Weights use the Keras names (``kernel``, ``bias``, ``gamma``, ``beta``,
``moving_mean``, ``moving_variance``), so they copy into the matching
``tf_keras`` layer by name (:func:`tfcnn.scratch.gradcheck.compare_with_keras`).

The modules are NumPy only; only ``gradcheck.compare_with_keras`` loads
TensorFlow, and only when called.

Modules, in the notes' order:
    :mod:`~tfcnn.scratch.conv` (naive loops, im2col/col2im; stride, padding, dilation, groups),
    :mod:`~tfcnn.scratch.pool` (max and average), :mod:`~tfcnn.scratch.activations`
    (ReLU, sigmoid, tanh), :mod:`~tfcnn.scratch.batchnorm`, :mod:`~tfcnn.scratch.dense`
    (affine, flatten), :mod:`~tfcnn.scratch.dropout`, :mod:`~tfcnn.scratch.losses`
    (softmax cross-entropy, L1, L2, smooth L1, weight penalties), :mod:`~tfcnn.scratch.lrn`,
    :mod:`~tfcnn.scratch.gradcheck` and :mod:`~tfcnn.scratch.lenet` (a LeNet trained by hand).

Example:
    >>> import numpy as np
    >>> from tfcnn.scratch import conv, gradcheck
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 5, 3))
    >>> params = {"kernel": rng.normal(size=(3, 3, 3, 4)), "bias": rng.normal(size=4)}
    >>> errors = gradcheck.check_layer(conv.conv_forward_im2col, conv.conv_backward_im2col, x, params)
    >>> max(errors.values()) < 1e-7
    True
"""

from __future__ import annotations

from tfcnn.scratch import activations, batchnorm, conv, dense, dropout, gradcheck, lenet, losses, lrn, pool

__all__ = ["activations", "batchnorm", "conv", "dense", "dropout", "gradcheck", "lenet", "losses", "lrn", "pool"]
