"""Structured (channel) pruning: remove whole filters and rebuild a thinner, faster model.

``channel_graph`` finds which channels are coupled (residual sums,
concatenations, SE gates, flatten into dense), ``channel_scores`` ranks them
(L1/L2 filter norms, batch-norm |gamma|, first-order Taylor), and
``prune_channels`` rebuilds a new flat functional model with the kept
weights copied, to a ratio or to a MACs target (``target_macs``);
``slimming_train`` is Network Slimming's sparsity-training phase for the
``bn`` criterion. See ``docs/structured_pruning.md``.

Example:
    >>> from tfcnn.compress.structured import prune_channels
    >>> thin, table = prune_channels(model, ratio=0.5, criterion="bn", round_to=8)  # doctest: +SKIP
"""

from __future__ import annotations

from tfcnn.compress.structured.criteria import CRITERIA, channel_scores
from tfcnn.compress.structured.graph import ChannelGraph, ChannelGroup, channel_graph
from tfcnn.compress.structured.rebuild import (
    check_target_macs,
    mask_removed,
    plan_channels,
    prune_channels,
    ratio_for_macs,
    rebuild,
)
from tfcnn.compress.structured.slimming import check_strength, slimming_train, small_gamma_fraction

__all__ = ["CRITERIA", "ChannelGraph", "ChannelGroup", "channel_graph", "channel_scores", "check_strength",
           "check_target_macs", "mask_removed", "plan_channels", "prune_channels", "ratio_for_macs", "rebuild",
           "slimming_train", "small_gamma_fraction"]
