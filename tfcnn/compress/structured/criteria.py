"""How much each channel of a group matters: filter norms, batch-norm scales, first-order Taylor.

Each criterion returns one score per channel of each prunable group (higher
is kept). Scores are summed over every layer of the group (all producers of
a residual sum, all batch norms), so coupled channels are judged together.
Filter norms are taken per weight (mean |w|, root mean square) so that a
global ranking compares layers of different fan-in; batch-norm scales and
Taylor scores are compared as they are, as Network Slimming does.

References:
    Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017, arXiv:1608.08710 (L1 / L2 filter norms).
    Liu et al., "Learning Efficient Convolutional Networks through Network Slimming", ICCV 2017,
    arXiv:1708.06519 (|gamma| of batch norm).
    Molchanov et al., "Importance Estimation for Neural Network Pruning", CVPR 2019, arXiv:1906.10771
    (first-order Taylor: (sum of gradient x weight over a filter)^2, accumulated over batches).
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import keras, tf
from tfcnn.errors import CompressError

CRITERIA = ("l1", "l2", "bn", "taylor")


def _columns(graph, layer_name, group):
    """Output column of ``layer_name`` holding each channel of ``group``."""
    position = {cid: i for i, cid in enumerate(graph.output[layer_name])}
    return np.array([position[cid] for cid in group.channels])


def _norm_scores(graph, group, order):
    total = np.zeros(group.size)
    for name in group.producers:
        layer = graph.model.get_layer(name)
        kernel = layer.get_weights()[1 if type(layer).__name__ == "SeparableConv2D" else 0]
        flat = kernel.reshape(-1, kernel.shape[-1])[:, _columns(graph, name, group)]
        # Per weight (mean |w|, root mean square), so that layers of different fan-in compare in a global ranking.
        total += np.abs(flat).mean(0) if order == 1 else np.sqrt((flat ** 2).mean(0))
    return total


def _bn_scores(graph, group):
    bns = [n for n in group.followers if type(graph.model.get_layer(n)).__name__ == "BatchNormalization"]
    if not bns:
        return None
    total = np.zeros(group.size)
    for name in bns:
        layer = graph.model.get_layer(name)
        gamma = layer.gamma.numpy() if layer.scale else np.ones(layer.beta.shape)
        total += np.abs(gamma[_columns(graph, name, group)])
    return total


def _taylor_scores(graph, groups, data, batches):
    if data is None:
        raise CompressError("criterion='taylor' needs data: batches of (images, labels). Received: data=None")
    model = graph.model
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    variables = {(layer.name, i): w for layer in model.layers for i, w in enumerate(layer.weights) if w.trainable}
    sums = {key: np.zeros(v.shape[-1]) for key, v in variables.items()}
    seen = 0
    for x, y in data:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=False))
        grads = tape.gradient(loss, list(variables.values()))
        for (key, var), grad in zip(variables.items(), grads):
            if grad is not None:
                product = tf.reshape(grad * var, [-1, var.shape[-1]])
                sums[key] += tf.reduce_sum(product, 0).numpy() ** 2
        seen += 1
        if seen >= batches:
            break
    if not seen:
        raise CompressError("criterion='taylor' needs at least one batch. Received: data with no batches")
    scores = {}
    for group in groups:
        total = np.zeros(group.size)
        for name in group.producers + group.followers:
            layer = model.get_layer(name)
            for i, w in enumerate(layer.weights):
                if (name, i) in sums and w.shape[-1] == len(graph.output[name]) and "depthwise_kernel" not in w.name:
                    total += sums[(name, i)][_columns(graph, name, group)]
        scores[group.gid] = total
    return scores


def channel_scores(graph, criterion: str = "l1", *, data=None, batches: int = 4) -> dict[int, np.ndarray]:
    """One importance score per channel of each prunable group of ``graph``, keyed by group id.

    Args:
        graph: a :class:`~tfcnn.compress.structured.graph.ChannelGraph`.
        criterion: ``"l1"`` or ``"l2"`` (filter norms), ``"bn"`` (|gamma|; groups without a batch norm are
            left out and keep every channel), ``"taylor"`` (needs ``data``).
        data: an iterable of ``(images, labels)`` batches, labels as class indices (Taylor only).
        batches: how many batches of ``data`` the Taylor criterion reads.

    Raises:
        CompressError: an unknown criterion, Taylor without data, ``bn`` on a model without batch norm.
    """
    if criterion not in CRITERIA:
        raise CompressError(f"criterion must be one of {', '.join(CRITERIA)}. Received: criterion={criterion!r}")
    groups = graph.prunable()
    if criterion == "taylor":
        return _taylor_scores(graph, groups, data, batches)
    if criterion == "bn":
        scores = {g.gid: s for g in groups for s in [_bn_scores(graph, g)] if s is not None}
        if groups and not scores:
            raise CompressError("criterion='bn' needs BatchNormalization after the pruned layers. "
                                f"Received: criterion='bn' for model {graph.model.name}")
        return scores
    return {g.gid: _norm_scores(graph, g, 1 if criterion == "l1" else 2) for g in groups}
