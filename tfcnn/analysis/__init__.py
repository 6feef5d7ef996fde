"""Counting what a CNN costs: the conv arithmetic of the notes, model summaries, a profiler cross-check.

* :mod:`tfcnn.analysis.arithmetic`: output sizes, padding, parameter counts
  and receptive fields as scalar formulas (chapter 3);
* :mod:`tfcnn.analysis.summary`: :func:`summarize`, every layer's output
  shape, parameters, MACs and receptive field of a built model (chapter 4);
* :mod:`tfcnn.analysis.profiler`: :func:`profile_flops`, TensorFlow's own
  FLOP count, to cross-check the MACs;
* :mod:`tfcnn.analysis.compare`: :func:`compare_architectures`, the zoo
  beside the errors the papers publish (read from the model cards).

Every public name is importable as ``tfcnn.analysis.X``.

Example:
    >>> from tfcnn import analysis
    >>> analysis.conv_output_size(32, 5, padding="valid")
    28
    >>> analysis.summarize("lenet").total_params
    61706
"""

from __future__ import annotations

from tfcnn.analysis.arithmetic import (
    conv_output_size,
    conv_params,
    dense_params,
    locally_connected_params,
    receptive_field,
    same_padding,
)
from tfcnn.analysis.compare import compare_architectures, format_comparison, notes_order, published_errors
from tfcnn.analysis.profiler import FlopProfile, profile_flops
from tfcnn.analysis.summary import LayerSummary, Summary, summarize
from tfcnn.models.cards import PublishedError

__all__ = [
    "PUBLISHED_ERRORS",
    "FlopProfile",
    "LayerSummary",
    "PublishedError",
    "Summary",
    "compare_architectures",
    "conv_output_size",
    "conv_params",
    "dense_params",
    "format_comparison",
    "locally_connected_params",
    "notes_order",
    "profile_flops",
    "published_errors",
    "receptive_field",
    "same_padding",
    "summarize",
]


def __getattr__(name: str):
    # PUBLISHED_ERRORS is read from the model cards when asked for, so importing analysis loads no family.
    if name == "PUBLISHED_ERRORS":
        return published_errors()
    raise AttributeError(f"module 'tfcnn.analysis' has no attribute {name!r}")
