"""Choose the channels to drop and rebuild a thinner flat functional model with the kept weights.

Not masks: the new model has fewer filters, so it is smaller and faster.
Before any fine-tuning it computes exactly what the original computes when
the removed channels are cut off where they are read (:func:`mask_removed`).

A MACs target instead of a ratio (``target_macs=0.4``: at most 40 % of the
model's multiply-accumulates) is met by :func:`ratio_for_macs`, which bisects
the ratio and counts the rebuilt model's MACs with
:func:`tfcnn.analysis.summarize`; the scores are computed once.

Example:
    >>> from tfcnn.compress.structured import prune_channels
    >>> thin, table = prune_channels(model, ratio=0.5, criterion="l1", round_to=8)  # doctest: +SKIP
    >>> thin, table = prune_channels(model, target_macs=0.4, round_to=8)  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from tfcnn import analysis
from tfcnn._compat import keras
from tfcnn.compress.structured.criteria import channel_scores
from tfcnn.compress.structured.graph import CHANNEL_MIXING, PRODUCERS, channel_graph
from tfcnn.errors import CompressError

SCOPES = ("layer", "global")


def _check(ratio, scope, round_to):
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio < 1:
        raise CompressError(f"ratio must be a fraction of channels to remove, in (0, 1). Received: ratio={ratio!r}")
    if scope not in SCOPES:
        raise CompressError(f"scope must be 'layer' or 'global'. Received: scope={scope!r}")
    if isinstance(round_to, bool) or not isinstance(round_to, int) or round_to < 1:
        raise CompressError(f"round_to must be a positive integer. Received: round_to={round_to!r}")


def _round_up(keep, size, round_to):
    return min(size, math.ceil(keep / round_to) * round_to)


def _keep_counts(graph, scores, ratio, scope, round_to):
    groups = {g.gid: g for g in graph.prunable() if g.gid in scores}
    if scope == "layer":
        return {gid: _round_up(max(1, round(g.size * (1 - ratio))), g.size, round_to) for gid, g in groups.items()}
    # Global: one threshold over every prunable channel of the model (Network Slimming's rule).
    pooled = np.concatenate([scores[gid] for gid in groups]) if groups else np.zeros(0)
    cut = np.sort(pooled)[int(len(pooled) * ratio)] if len(pooled) else 0.0
    counts = {}
    for gid, group in groups.items():
        keep = int((scores[gid] >= cut).sum())
        if keep == 0:
            raise CompressError(f"a global ratio would remove every channel of layer {group.producers[0]}. "
                                f"Received: ratio={ratio}")
        counts[gid] = _round_up(keep, group.size, round_to)
    return counts


def plan_channels(model, *, ratio: float = 0.5, criterion: str = "l1", protect=(), round_to: int = 1,
                  scope: str = "layer", data=None, batches: int = 4):
    """The graph of ``model`` and the set of channel ids to remove.

    Each prunable group keeps its highest-scoring channels: ``1 - ratio`` of
    them (``scope="layer"``) or those above one threshold over the whole
    model (``scope="global"``), rounded up to a multiple of ``round_to``.

    Returns:
        ``(graph, removed)``: a :class:`ChannelGraph` and a ``set`` of channel ids.

    Raises:
        CompressError: a ratio outside (0, 1), an unknown criterion or scope, a global ratio that empties a layer.
    """
    _check(ratio, scope, round_to)
    graph = channel_graph(model, protect=protect)
    scores = channel_scores(graph, criterion, data=data, batches=batches)
    return graph, _removed(graph, scores, ratio, scope, round_to)


def _removed(graph, scores, ratio, scope, round_to):
    removed = set()
    for gid, keep in _keep_counts(graph, scores, ratio, scope, round_to).items():
        order = np.argsort(-scores[gid], kind="stable")
        removed.update(graph.groups[gid].channels[i] for i in order[keep:])
    return removed


def check_target_macs(target_macs, *, argname: str = "target_macs") -> float:
    """``target_macs`` as a float, or :class:`CompressError` unless it is a fraction in (0, 1)."""
    if isinstance(target_macs, bool) or not isinstance(target_macs, (int, float)) or not 0 < target_macs < 1:
        raise CompressError(f"{argname} must be the fraction of the model's MACs to keep, in (0, 1). "
                            f"Received: {argname}={target_macs!r}")
    return float(target_macs)


def ratio_for_macs(model, target_macs: float, *, criterion: str = "l1", protect=(), round_to: int = 1,
                   scope: str = "layer", data=None, batches: int = 4, steps: int = 12) -> float:
    """The smallest ratio whose rebuilt model keeps at most ``target_macs`` of ``model``'s MACs.

    Bisection over the ratio (``steps`` halvings, about 1/4096 apart); each
    step rebuilds the model and counts its MACs. Fixed groups (the stem
    under ``protect``, residual sums touching the input, the classifier)
    keep their MACs, so a small target can be out of reach.

    Raises:
        CompressError: a target outside (0, 1), or one that even a model with one channel left in every
            prunable group (a ``round_to`` multiple) does not reach.
    """
    target = check_target_macs(target_macs)
    _check(0.5, scope, round_to)
    graph = channel_graph(model, protect=protect)
    scores = channel_scores(graph, criterion, data=data, batches=batches)
    total = analysis.summarize(model).total_macs

    def fraction(ratio):
        try:
            removed = _removed(graph, scores, ratio, scope, round_to)
        except CompressError:  # a global threshold that empties a layer: too far
            return None
        return analysis.summarize(rebuild(graph, removed)[0]).total_macs / total

    largest = max((g.size for g in graph.prunable()), default=1)
    hi = 1 - 1 / (2 * largest)  # every prunable group down to one channel (or to its round_to multiple)
    smallest = fraction(hi)
    if smallest is None:  # a global threshold empties a layer first: search the largest ratio that does not
        ok, bad = 0.0, hi
        for _ in range(12):
            mid = (ok + bad) / 2
            ok, bad = (mid, bad) if fraction(mid) is not None else (ok, mid)
        hi, smallest = ok, fraction(ok)
    if smallest is None or smallest > target:
        raise CompressError(f"target_macs cannot be reached by removing channels (the thinnest rebuild keeps "
                            f"{smallest:.3f} of the MACs: the fixed layers keep theirs). "
                            f"Received: target_macs={target_macs!r}")
    lo = 0.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        got = fraction(mid)
        if got is not None and got <= target:
            hi = mid
        else:
            lo = mid
    return hi


def _kept(ids, removed):
    return np.array([i for i, cid in enumerate(ids) if cid not in removed], dtype=int)


def _sliced_weights(layer, keep_in, keep_out):
    kind, weights = type(layer).__name__, layer.get_weights()
    if kind == "Conv2D":
        if layer.groups != 1:  # the graph fixes a grouped convolution's channels: nothing to slice
            return weights
        return [weights[0][:, :, keep_in][..., keep_out]] + [b[keep_out] for b in weights[1:]]
    if kind == "Dense":
        return [weights[0][keep_in][:, keep_out]] + [b[keep_out] for b in weights[1:]]
    if kind == "SeparableConv2D":
        mult = layer.depth_multiplier
        rows = np.array([c * mult + m for c in keep_in for m in range(mult)], dtype=int)
        return [weights[0][:, :, keep_in], weights[1][:, :, rows][..., keep_out]] + [b[keep_out] for b in weights[2:]]
    if kind == "DepthwiseConv2D":
        return [weights[0][:, :, keep_out]] + [b[keep_out] for b in weights[1:]]
    if kind in CHANNEL_MIXING:  # ECA's k shared weights: its channels are fixed, nothing to slice
        return weights
    return [w[..., keep_out] for w in weights]  # batch norm, PReLU: one entry per channel


def rebuild(graph, removed, *, name: str | None = None):
    """A new flat functional model without the ``removed`` channels, with every kept weight copied.

    Returns:
        ``(model, table)``: the thinner model and one row per convolution/dense layer,
        ``{"layer", "type", "before", "after"}`` (output widths).
    """
    model, widths, weights, bounds = graph.model, {}, {}, {}
    for layer in model.layers:
        if layer.name not in graph.inputs:
            continue
        if type(layer).__name__ == "RawChannelSlice":  # the kept channels before and inside the slice
            before = len(_kept(graph.inputs[layer.name][0][:layer.start], removed))
            bounds[layer.name] = (before, before + len(_kept(graph.output[layer.name], removed)))
        keep_in = _kept(graph.inputs[layer.name][0], removed)
        keep_out = _kept(graph.output[layer.name], removed)
        if layer.weights:
            weights[layer.name] = _sliced_weights(layer, keep_in, keep_out)
        if type(layer).__name__ in PRODUCERS:
            widths[layer.name] = (len(graph.output[layer.name]), len(keep_out))

    def clone(layer):
        config = layer.get_config()
        if layer.name in widths:
            config["units" if type(layer).__name__ == "Dense" else "filters"] = widths[layer.name][1]
        if layer.name in bounds:
            config["start"], config["stop"] = bounds[layer.name]
        return type(layer).from_config(config)

    thin = keras.models.clone_model(model, clone_function=clone)
    for layer_name, values in weights.items():
        thin.get_layer(layer_name).set_weights(values)
    if name:
        thin._name = name
    table = [{"layer": n, "type": type(model.get_layer(n)).__name__, "before": b, "after": a}
             for n, (b, a) in widths.items()]
    return thin, table


def mask_removed(graph, removed, *, inplace: bool = False):
    """The original model in which every reader of a removed channel ignores it (its input rows zeroed).

    The reference the rebuilt model must match exactly: removing a channel
    changes nothing else, since every layer between its producers and its
    readers works channel by channel. A copy, unless ``inplace`` (cheaper for
    a deep model: the graph's model itself is masked and returned).
    """
    model = graph.model
    copy = model if inplace else keras.models.clone_model(model)
    if not inplace:
        copy.set_weights(model.get_weights())
    for layer in copy.layers:
        kind = type(layer).__name__
        if kind not in PRODUCERS:
            continue
        drop = np.array([i for i, cid in enumerate(graph.inputs[layer.name][0]) if cid in removed], dtype=int)
        if not drop.size:
            continue
        values = layer.get_weights()
        if kind == "Dense":
            values[0][drop] = 0
        elif kind == "Conv2D":
            values[0][:, :, drop] = 0
        else:  # SeparableConv2D: its depthwise outputs for the channel are never read
            mult = layer.depth_multiplier
            values[1][:, :, np.array([c * mult + m for c in drop for m in range(mult)])] = 0
        layer.set_weights(values)
    return copy


def prune_channels(model, *, ratio: float | None = None, target_macs: float | None = None, criterion: str = "l1",
                   protect=(), round_to: int = 1, scope: str = "layer", data=None, batches: int = 4):
    """Remove ``ratio`` of the channels of every prunable group and rebuild a thinner model.

    Args:
        model: a flat functional tf_keras model.
        ratio: fraction of channels to remove, in (0, 1) (default 0.5 without ``target_macs``).
        target_macs: instead of a ratio, the fraction of the model's MACs to keep, in (0, 1): the smallest
            ratio that reaches it (:func:`ratio_for_macs`).
        criterion: ``"l1"``, ``"l2"``, ``"bn"`` or ``"taylor"`` (see :mod:`.criteria`).
        protect: names of layers whose output channels stay (the stem); the model's output always stays.
        round_to: kept widths are rounded up to a multiple of this (8 suits SIMD kernels).
        scope: ``"layer"`` (the same ratio in every group) or ``"global"`` (one threshold over the model).
        data: ``(images, labels)`` batches for ``criterion="taylor"``.
        batches: how many batches Taylor reads.

    Returns:
        ``(thin_model, table)``: the new model and its per-layer widths before and after.

    Raises:
        CompressError: an unknown layer type, a ratio outside (0, 1), both a ratio and a MACs target,
            a target that empties a layer or cannot be reached.

    Example:
        >>> thin, table = prune_channels(tfcnn.create_model("resnet18", input_shape=(32, 32, 3)),
        ...                              ratio=0.5, round_to=8)  # doctest: +SKIP
    """
    if ratio is not None and target_macs is not None:
        raise CompressError(f"give a ratio or a MACs target, not both. Received: ratio={ratio!r}, "
                            f"target_macs={target_macs!r}")
    if target_macs is not None:
        ratio = ratio_for_macs(model, target_macs, criterion=criterion, protect=protect, round_to=round_to,
                               scope=scope, data=data, batches=batches)
    elif ratio is None:
        ratio = 0.5
    graph, removed = plan_channels(model, ratio=ratio, criterion=criterion, protect=protect, round_to=round_to,
                                   scope=scope, data=data, batches=batches)
    return rebuild(graph, removed)
