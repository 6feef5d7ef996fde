"""MobileNet v1 and v2: networks designed to be light.

References: A. G. Howard et al., "MobileNets: Efficient Convolutional Neural
Networks for Mobile Vision Applications", arXiv:1704.04861 (v1). M. Sandler,
A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: Inverted Residuals
and Linear Bottlenecks", CVPR 2018, arXiv:1801.04381 (v2).

v1 replaces each 3x3 convolution by a *depthwise-separable* pair: a 3x3
depthwise convolution (one filter per channel) then a 1x1 pointwise one, about
8-9x fewer multiply-adds. ``alpha`` (width multiplier) thins every layer;
``depth_multiplier`` (the paper's resolution multiplier is the input size)
gives each channel several depthwise filters.

v2 stacks *inverted residual* blocks from the paper's Table 2
(:data:`MOBILENET_V2_ROWS`, rows ``(t, c, n, s)``): a 1x1 expansion by ``t``
with ReLU6, a 3x3 depthwise convolution with ReLU6, and a *linear* 1x1
projection to ``c`` channels, with a residual connection when shapes allow.

Both reproduce Keras Applications' ``MobileNet`` and ``MobileNetV2`` layer for
layer (identical parameter counts and logits once weights are copied): a
stride-2 depthwise convolution is a zero padding then a VALID convolution
(v1 pads bottom/right by one; v2 uses Keras's ``correct_pad``), channel counts
are ``int(c * alpha)`` (v1) or rounded to multiples of 8 (v2,
:func:`~tfcnn.models._common.make_divisible`), BN epsilon is 1e-3. BN
momentum is tfcnn's 0.9 rather than Keras's 0.99/0.999 (it only matters in
training; see :mod:`tfcnn.defaults`). Keras's v1 classifies with a 1x1
convolution on the pooled map, tfcnn with the equivalent ``Dense``.
"""

from __future__ import annotations

import re

from tfcnn.errors import ModelError
from tfcnn.models._common import (
    begin,
    check_positive,
    check_rate,
    check_weight_decay,
    correct_pad,
    finish,
    make_divisible,
    model_input,
    pooled_head,
)
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.registry import ModelConfig, register_model

BN_EPSILON = 1e-3  # Keras Applications' and TF-Slim's MobileNet epsilon

# v1, Table 1 of the paper: the stem conv, then (pointwise filters, stride) of each separable block.
MOBILENET_V1_STEM = 32
MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                       (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))

# v2, Table 2 of the paper: (expansion t, output channels c, repeats n, first stride s).
MOBILENET_V2_STEM = 32
MOBILENET_V2_ROWS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                     (6, 320, 1, 1))
MOBILENET_V2_LAST = 1280

V1_REFERENCE = "Howard et al., MobileNets: Efficient CNNs for Mobile Vision Applications, arXiv:1704.04861"
V2_REFERENCE = "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, arXiv:1801.04381"


def _check_width(alpha, channels) -> None:
    check_positive("alpha", alpha)
    if int(channels * alpha) < 1:
        raise ModelError(f"alpha is so small that a layer has no channels. Received: alpha={alpha!r}")


def separable_block(x, L, filters, *, strides, depth_multiplier, weight_decay, name):
    """Depthwise 3x3 (+BN+ReLU6), then pointwise 1x1 (+BN+ReLU6): MobileNet v1's building block."""
    padding = "same"
    if strides == 2:
        x = L.zero_pad(x, ((0, 1), (0, 1)), name=f"{name}_pad")  # Keras's v1: one row/column bottom-right
        padding = "valid"
    x = L.depthwise_conv_bn(x, 3, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                            activation="relu6", bn_epsilon=BN_EPSILON, weight_decay=weight_decay, name=f"{name}_dw")
    return L.conv_bn(x, filters, 1, activation="relu6", bn_epsilon=BN_EPSILON, weight_decay=weight_decay,
                     name=f"{name}_pw")


def inverted_residual(x, L, *, expansion, filters, strides, weight_decay, name):
    """Expand 1x1 (+ReLU6) -> depthwise 3x3 (+ReLU6) -> linear project 1x1, with a skip when shapes match."""
    in_channels = int(x.shape[-1])
    y = x
    if expansion != 1:
        y = L.conv_bn(y, expansion * in_channels, 1, activation="relu6", bn_epsilon=BN_EPSILON,
                      weight_decay=weight_decay, name=f"{name}_expand")
    padding = "same"
    if strides == 2:
        y = correct_pad(y, L, 3, name=f"{name}_pad")  # Keras's v2: (1, 1) on an odd side, (0, 1) on an even one
        padding = "valid"
    y = L.depthwise_conv_bn(y, 3, strides=strides, padding=padding, activation="relu6", bn_epsilon=BN_EPSILON,
                            weight_decay=weight_decay, name=f"{name}_dw")
    # Linear bottleneck: no activation after the projection (the paper's Sec. 3.2).
    y = L.conv_bn(y, filters, 1, activation=None, bn_epsilon=BN_EPSILON, weight_decay=weight_decay,
                  name=f"{name}_project")
    if strides == 1 and in_channels == filters:
        y = L.add([x, y], name=f"{name}_add")
    return y


# ----- Keras Applications correspondence -----

def _v1_keras_name(layer_name: str) -> str | None:
    """``block3_dw_conv`` -> ``conv_dw_3``, ``block3_pw_bn`` -> ``conv_pw_3_bn``, ``logits`` -> ``conv_preds``."""
    m = re.fullmatch(r"block(\d+)_(dw|pw)_(conv|bn)", layer_name)
    if m:
        return f"conv_{m[2]}_{m[1]}" + ("_bn" if m[3] == "bn" else "")
    return {"conv1_conv": "conv1", "conv1_bn": "conv1_bn", "logits": "conv_preds"}.get(layer_name)


def _v2_keras_name(layer_name: str) -> str | None:
    """``block0_dw_conv`` -> ``expanded_conv_depthwise``, ``block5_expand_bn`` -> ``block_5_expand_BN``..."""
    fixed = {"conv1_conv": "Conv1", "conv1_bn": "bn_Conv1", "conv_last_conv": "Conv_1", "conv_last_bn": "Conv_1_bn",
             "logits": "predictions"}
    if layer_name in fixed:
        return fixed[layer_name]
    m = re.fullmatch(r"block(\d+)_(expand|dw|project)_(conv|bn)", layer_name)
    if not m:
        return None
    prefix = "expanded_conv_" if m[1] == "0" else f"block_{m[1]}_"
    op = {"expand": "expand", "dw": "depthwise", "project": "project"}[m[2]]
    return prefix + op + ("_BN" if m[3] == "bn" else "")


def _rows(args, sizes):
    """The input size whose ImageNet file Keras would use, or ``None``."""
    h, w = tuple(args.get("input_shape") or (224, 224, 3))[:2]
    if h == w and h in sizes:
        return h
    return None if args.get("include_top", True) else 224  # Keras falls back to 224 weights without the top


def _v1_file(args):
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}.get(float(args.get("alpha", 1.0)))
    rows = _rows(args, (128, 160, 192, 224))
    if alpha_text is None or rows is None or args.get("depth_multiplier", 1) != 1:
        return None
    return f"mobilenet_{alpha_text}_{rows}_tf{'' if args.get('include_top', True) else '_no_top'}.h5"


def _v2_file(args):
    alpha = float(args.get("alpha", 1.0))
    rows = _rows(args, (96, 128, 160, 192, 224))
    if alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4) or rows is None:
        return None
    return (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}"
            f"{'' if args.get('include_top', True) else '_no_top'}.h5")


def _v1_kwargs(args):
    return {"alpha": args.get("alpha", 1.0), "depth_multiplier": args.get("depth_multiplier", 1),
            "dropout": args.get("dropout_rate", 1e-3)}


def _v2_kwargs(args):
    return {"alpha": args.get("alpha", 1.0)}


V1_KERAS = KerasCounterpart("MobileNet", _v1_keras_name, _v1_file, "mobilenet", _v1_kwargs)
V2_KERAS = KerasCounterpart("MobileNetV2", _v2_keras_name, _v2_file, "mobilenet_v2", _v2_kwargs)


@register_model(ModelConfig(
    name="mobilenet_v1", family="mobilenet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
    reference=V1_REFERENCE, options={"alpha": 1.0, "depth_multiplier": 1, "dropout_rate": 1e-3, "weight_decay": None},
    keras=V1_KERAS, contract_options={"alpha": 0.25}))
def mobilenet_v1(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                 style="keras", name="mobilenet_v1", alpha=1.0, depth_multiplier=1, dropout_rate=1e-3,
                 weight_decay=None):
    """MobileNet v1: 4,253,864 parameters at 224x224x3, 1000 classes, ``alpha=1`` (as Keras's ``MobileNet``).

    4,231,976 of them trainable; the paper's Table 8 reports 4.2M.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling, dropout and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file for this ``alpha`` and input size,
            from the Keras cache or downloaded when online); the path of a Keras
            Applications ``MobileNet`` ``.h5`` file; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        alpha: width multiplier (> 0; the paper uses 1, 0.75, 0.5, 0.25).
        depth_multiplier: depthwise filters per input channel (positive int).
        dropout_rate: dropout before the logits (Keras and TF-Slim: 1e-3).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``alpha``,
            ``depth_multiplier`` or ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("mobilenet_v1").count_params()
        4253864
        >>> small = tfcnn.create_model("mobilenet_v1", alpha=0.25, input_shape=(32, 32, 3), num_classes=10)
    """
    _check_width(alpha, MOBILENET_V1_STEM)
    check_weight_decay(weight_decay)
    check_positive("depth_multiplier", depth_multiplier, integer=True)
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(mobilenet_v1.config, input_shape=input_shape, num_classes=num_classes,
                                 include_top=include_top, pooling=pooling, weights=weights, style=style, alpha=alpha,
                                 depth_multiplier=depth_multiplier)

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, int(MOBILENET_V1_STEM * alpha), 3, strides=2, activation="relu6", bn_epsilon=BN_EPSILON,
                  weight_decay=weight_decay, name="conv1")
    for i, (filters, strides) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        x = separable_block(x, L, int(filters * alpha), strides=strides, depth_multiplier=depth_multiplier,
                            weight_decay=weight_decay, name=f"block{i}")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes,
                    dropout_rate=dropout_rate)
    return finish(inputs, x, name=name, weights=plan)


@register_model(ModelConfig(
    name="mobilenet_v2", family="mobilenet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
    reference=V2_REFERENCE, options={"alpha": 1.0, "dropout_rate": 0.0, "weight_decay": None},
    keras=V2_KERAS, contract_options={"alpha": 0.35}))
def mobilenet_v2(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                 style="keras", name="mobilenet_v2", alpha=1.0, dropout_rate=0.0, weight_decay=None):
    """MobileNet v2: 3,538,984 parameters at 224x224x3, 1000 classes, ``alpha=1`` (as Keras's ``MobileNetV2``).

    3,504,872 of them trainable, as torchvision's ``mobilenet_v2``; the paper's Table 4 reports 3.4M.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file for this ``alpha`` and input size);
            the path of a Keras Applications ``MobileNetV2`` ``.h5`` file; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        alpha: width multiplier (> 0; the paper uses 0.35 to 1.4). The last
            1x1 convolution keeps 1280 channels unless ``alpha > 1``.
        dropout_rate: dropout before the logits (Keras: none; TF-Slim: 0.2).
        weight_decay: L2 coefficient on kernels (paper: 4e-5); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``alpha`` or ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("mobilenet_v2").count_params()
        3538984
    """
    _check_width(alpha, MOBILENET_V2_STEM)
    check_weight_decay(weight_decay)
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(mobilenet_v2.config, input_shape=input_shape, num_classes=num_classes,
                                 include_top=include_top, pooling=pooling, weights=weights, style=style, alpha=alpha)

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, make_divisible(MOBILENET_V2_STEM * alpha, 8), 3, strides=2, activation="relu6",
                  bn_epsilon=BN_EPSILON, weight_decay=weight_decay, name="conv1")
    block = 0
    for t, c, n, s in MOBILENET_V2_ROWS:
        filters = make_divisible(int(c * alpha), 8)
        for i in range(n):
            x = inverted_residual(x, L, expansion=t, filters=filters, strides=s if i == 0 else 1,
                                  weight_decay=weight_decay, name=f"block{block}")
            block += 1
    last = make_divisible(MOBILENET_V2_LAST * alpha, 8) if alpha > 1.0 else MOBILENET_V2_LAST
    x = L.conv_bn(x, last, 1, activation="relu6", bn_epsilon=BN_EPSILON, weight_decay=weight_decay,
                  name="conv_last")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes,
                    dropout_rate=dropout_rate)
    return finish(inputs, x, name=name, weights=plan)
