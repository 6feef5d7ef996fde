"""Pictures that make a CNN visible, and the numbers behind them.

Every ``plot_*`` function (and :func:`training_curves`, :func:`confusion_matrix`)
returns a matplotlib ``Figure``; :func:`save_figure` writes it as a PNG. The
numbers each picture shows come from a function of their own, so they can be
checked (and the tests check them):

=====================================  =========================================
numbers                                picture
=====================================  =========================================
:func:`confusion_counts`               :func:`confusion_matrix` (of the counts)
:func:`conv_kernel`                    :func:`plot_filters`
:func:`feature_maps`                   :func:`plot_feature_maps`
:func:`deconv_reconstruction`          :func:`plot_deconv` (ZFNet / guided backprop)
:func:`gradcam`                        :func:`plot_gradcam`
:func:`attention_weights`              :func:`plot_attention` (SE and residual-attention masks)
:func:`activation_derivatives`         :func:`plot_activations`
:func:`decision_grid`                  :func:`plot_decision_boundary`
:func:`compression_points`             :func:`plot_compression`
=====================================  =========================================

Images passed to the model-based functions are one ``[H, W, C]`` image (or a
batch of one): ``uint8`` images are scaled to [0, 1] and resized to the
model's input exactly as :func:`tfcnn.data.preprocess` does for training;
float images must already match the model's input shape.

The package: ``plots`` (training, weights, feature maps, activations,
decision boundaries, compression), ``explain`` (deconvnet, guided backprop,
Grad-CAM, attention masks), ``_common``; ``cli`` is the command line, which
sits above the library and reads run folders through :mod:`tfcnn.runs`::

    python -m tfcnn.viz saved_models/lenet digit.png --layer conv1_conv --kind feature_maps

Figures are drawn with the non-interactive Agg backend when no display is
set, so the command line and CI work headless; in Jupyter they display inline.
"""

from __future__ import annotations

from tfcnn.viz._common import conv_layer_names, feature_maps, save_figure, spatial_layer_names
from tfcnn.viz.explain import (
    attention_weights,
    deconv_reconstruction,
    gradcam,
    last_conv_layer_name,
    plot_attention,
    plot_deconv,
    plot_gradcam,
    upsample,
)
from tfcnn.viz.plots import (
    activation_derivatives,
    annotate_points,
    compression_points,
    confusion_counts,
    confusion_matrix,
    conv_kernel,
    decision_grid,
    labels_overlap,
    plot_activations,
    plot_compression,
    plot_decision_boundary,
    plot_feature_maps,
    plot_filters,
    training_curves,
    variant_family,
)

__all__ = [
    "activation_derivatives",
    "annotate_points",
    "attention_weights",
    "compression_points",
    "confusion_counts",
    "confusion_matrix",
    "conv_kernel",
    "conv_layer_names",
    "decision_grid",
    "deconv_reconstruction",
    "feature_maps",
    "gradcam",
    "labels_overlap",
    "last_conv_layer_name",
    "plot_activations",
    "plot_attention",
    "plot_compression",
    "plot_decision_boundary",
    "plot_deconv",
    "plot_feature_maps",
    "plot_filters",
    "plot_gradcam",
    "save_figure",
    "spatial_layer_names",
    "training_curves",
    "upsample",
    "variant_family",
]
