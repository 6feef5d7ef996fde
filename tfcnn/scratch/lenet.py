"""A LeNet in NumPy, trained by hand: the scratch layers chained, backward through all of them, plain SGD.

Same layers, names and weight shapes as ``tfcnn.create_model("lenet")``
(conv1 6@5x5 SAME -> ReLU -> 2x2 max pool -> conv2 16@5x5 -> ReLU -> 2x2 max
pool -> flatten -> fc1 120 -> ReLU -> fc2 84 -> ReLU -> logits 10), so the
weights copy into the Keras model layer by layer and the two can be trained
side by side from the same start on the same batches.

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based
learning applied to document recognition", Proc. IEEE 86(11), 1998.

Example:
    >>> import numpy as np
    >>> params = init_lenet(seed=0)
    >>> x, y = np.random.default_rng(0).random((4, 28, 28, 1)), np.array([0, 1, 2, 3])
    >>> loss, grads = loss_and_grads(params, x, y)
    >>> sorted(grads) == sorted(params)
    True
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError
from tfcnn.scratch import activations, conv, dense, losses, pool

# (Keras layer name, kind, hyper-parameters), in order; the table is the network.
LENET_LAYERS = (
    ("conv1_conv", "conv", {"padding": "same"}),
    ("conv1_relu", "relu", {}),
    ("pool1", "max_pool", {"pool_size": 2}),
    ("conv2_conv", "conv", {"padding": "valid"}),
    ("conv2_relu", "relu", {}),
    ("pool2", "max_pool", {"pool_size": 2}),
    ("flatten", "flatten", {}),
    ("fc1", "dense", {}),
    ("fc1_relu", "relu", {}),
    ("fc2", "dense", {}),
    ("fc2_relu", "relu", {}),
    ("logits", "dense", {}),
)

_KINDS = {
    "conv": (conv.conv_forward_im2col, conv.conv_backward_im2col),
    "relu": (activations.relu_forward, activations.relu_backward),
    "max_pool": (pool.max_pool_forward, pool.max_pool_backward),
    "flatten": (dense.flatten_forward, dense.flatten_backward),
    "dense": (dense.dense_forward, dense.dense_backward),
}


def _glorot_uniform(rng, shape, fan_in, fan_out):
    """Keras's default initialiser: U(-l, l) with l = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def _s4_side(n):
    """Side of the S4 map: SAME 5x5 conv keeps n, pool halves, VALID 5x5 takes 4, pool halves."""
    return (n // 2 - 4) // 2


def init_lenet(*, input_shape=(28, 28, 1), num_classes=10, seed=0):
    """Fresh LeNet weights (Glorot uniform kernels, zero biases), float64.

    Args:
        input_shape: ``(H, W, C)``; H and W must survive SAME conv, pool, VALID 5x5 conv, pool.
        num_classes: size of the logits.
        seed: seed of the initialiser.

    Returns:
        ``{layer_name: {"kernel": ..., "bias": ...}}`` for the five layers with weights.

    Raises:
        UsageError: the input is too small for LeNet.
    """
    h, w, c = input_shape
    if min(h, w) < 16:
        raise UsageError(f"LeNet needs at least 16x16 inputs. Received: input_shape={input_shape}")
    rng = np.random.default_rng(seed)
    shapes = {"conv1_conv": (5, 5, c, 6), "conv2_conv": (5, 5, 6, 16),
              "fc1": (_s4_side(h) * _s4_side(w) * 16, 120), "fc2": (120, 84), "logits": (84, num_classes)}
    params = {}
    for name, shape in shapes.items():
        receptive = int(np.prod(shape[:-2]))  # conv: fan = kh*kw*channels, as Keras computes it
        params[name] = {"kernel": _glorot_uniform(rng, shape, receptive * shape[-2], receptive * shape[-1]),
                        "bias": np.zeros(shape[-1])}
    return params


def lenet_forward(x, params):
    """Logits of a batch ``(N, H, W, C)`` and the per-layer caches backward needs."""
    caches = []
    for name, kind, hyper in LENET_LAYERS:
        fwd = _KINDS[kind][0]
        x, cache = fwd(x, params[name], **hyper) if name in params else fwd(x, **hyper)
        caches.append(cache)
    return x, caches


def lenet_backward(dlogits, caches):
    """Walk the table backwards; returns the gradients ``{layer_name: {"kernel", "bias"}}``."""
    grads, d = {}, dlogits
    for (name, kind, _), cache in zip(reversed(LENET_LAYERS), reversed(caches)):
        d, dparams = _KINDS[kind][1](d, cache)
        if dparams:
            grads[name] = dparams
    return grads


def loss_and_grads(params, x, y):
    """Mean softmax cross-entropy of the batch and its gradient for every weight."""
    logits, caches = lenet_forward(x, params)
    loss, lcache = losses.softmax_cross_entropy_forward(logits, y)
    dlogits, _ = losses.softmax_cross_entropy_backward(1.0, lcache)
    return float(loss), lenet_backward(dlogits, caches)


def sgd_step(params, grads, lr, *, weight_decay=0.0):
    """Plain SGD in place: ``w <- (1 - lr * weight_decay) w - lr g`` (weight decay on kernels only)."""
    for name, layer in params.items():
        for key, value in layer.items():
            if weight_decay and key == "kernel":
                value *= 1 - lr * weight_decay
            value -= lr * grads[name][key]


def batch_indices(n, batch_size, *, epochs=1, seed=0):
    """The shuffled mini-batches of ``epochs`` passes, as index arrays (give them to Keras too)."""
    rng = np.random.default_rng(seed)
    return [perm[i:i + batch_size] for perm in (rng.permutation(n) for _ in range(epochs))
            for i in range(0, n, batch_size)]


def train(params, x, y, batches, *, lr=0.05, weight_decay=0.0, callback=None):
    """Train in place on the given mini-batches; returns the loss of every step (before its update).

    Args:
        params: from :func:`init_lenet` (modified).
        x, y: float images ``(N, H, W, C)`` and integer labels.
        batches: index arrays, e.g. :func:`batch_indices`.
        lr: SGD learning rate.
        weight_decay: decoupled L2 factor (see :func:`sgd_step`).
        callback: called as ``callback(step, loss)`` after each step.

    Returns:
        List of losses.
    """
    history = []
    for step, idx in enumerate(batches):
        loss, grads = loss_and_grads(params, x[idx], y[idx])
        sgd_step(params, grads, lr, weight_decay=weight_decay)
        history.append(loss)
        if callback is not None:
            callback(step, loss)
    return history


def predict(params, x, *, batch_size=500):
    """Class of each image (arg-max of the logits)."""
    return np.concatenate([lenet_forward(x[i:i + batch_size], params)[0].argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


def keras_weights(params):
    """``{layer_name: [kernel, bias]}``: ``model.get_layer(name).set_weights(w)`` for each puts them into Keras."""
    return {name: [layer["kernel"], layer["bias"]] for name, layer in params.items()}
