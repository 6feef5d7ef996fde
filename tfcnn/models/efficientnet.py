"""EfficientNet B0-B3: one searched baseline, scaled in width, depth and resolution together.

Reference: M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019, arXiv:1905.11946.

B0 (Table 1 of the paper, :data:`B0_STAGES`) stacks *MBConv* blocks: MobileNet
v2's inverted residual (expand 1x1 by 6, depthwise 3x3 or 5x5, linear project
1x1) with a squeeze-and-excitation gate after the depthwise convolution
(squeeze to a quarter of the block's *input* width, swish, sigmoid gate) and
swish everywhere. Compound scaling (Sec. 3.3) grows all three dimensions by
one coefficient phi: depth d = 1.2^phi, width w = 1.1^phi, resolution
r = 1.15^phi, chosen so that FLOPs grow about 2^phi; :data:`SCALING` lists
the rounded (w, d, resolution, dropout) of B0-B3 as the reference code uses
them. Widths are rounded to multiples of 8
(:func:`~tfcnn.models._common.make_divisible`), repeats rounded up.

*Stochastic depth* (Huang et al. 2016) regularises training: each residual
branch is dropped for a whole example with a probability that grows linearly
from 0 at the first block to ``drop_connect_rate`` (0.2) at the last, and
survivors are scaled by 1/(1-p). It is Keras's ``Dropout`` with
``noise_shape=(None, 1, 1, 1)`` (one coin per example) in every style: the
lesson of this file is the architecture, not the mask.

tfcnn reproduces Keras Applications' ``EfficientNetB0``-``B3`` layer for layer
(same names, identical logits once weights are copied). Keras builds
preprocessing into the model: ``Rescaling(1/255)`` then a ``Normalization``
layer (7 numbers: mean, variance and count of 3 channels), which ImageNet
weights set to ImageNet's statistics. tfcnn's models keep preprocessing
outside: feed a tfcnn EfficientNet ``(x / 255 - mean) / std`` with ImageNet's
mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) to use Keras's
weights. That is why tfcnn's count is Keras's minus those 7 numbers. BN
epsilon is Keras's 1e-3; momentum is tfcnn's 0.9 rather than 0.99 (training
only).
"""

from __future__ import annotations

import math

from tfcnn._compat import keras
from tfcnn.models._common import (
    begin,
    check_rate,
    check_weight_decay,
    correct_pad,
    finish,
    make_divisible,
    model_input,
    pooled_head,
    squeeze_excite,
)
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.registry import ModelConfig, register_model

REFERENCE = "Tan & Le, EfficientNet: Rethinking Model Scaling for CNNs, ICML 2019 (arXiv:1905.11946)"
BN_EPSILON = 1e-3  # Keras's BatchNormalization default, which Keras Applications' EfficientNet keeps
STEM = 32
TOP = 1280
SE_RATIO = 0.25
KERAS_EFFICIENTNET_URL = "https://storage.googleapis.com/keras-applications/"
"""Keras Applications' EfficientNet files (``efficientnetb0.h5``...); it publishes SHA-256 sums, not MD5."""

# Table 1 of the paper: (kernel, repeats, output channels, expansion, first stride) per stage, after the stem.
B0_STAGES = ((3, 1, 16, 1, 1), (3, 2, 24, 6, 2), (5, 2, 40, 6, 2), (3, 3, 80, 6, 2), (5, 3, 112, 6, 1),
             (5, 4, 192, 6, 2), (3, 1, 320, 6, 1))

# name -> (width coefficient, depth coefficient, input resolution, dropout before the logits)
SCALING = {"efficientnet_b0": (1.0, 1.0, 224, 0.2), "efficientnet_b1": (1.0, 1.1, 240, 0.2),
           "efficientnet_b2": (1.1, 1.2, 260, 0.3), "efficientnet_b3": (1.2, 1.4, 300, 0.3)}


def mbconv(x, L, *, filters, kernel_size, strides, expansion, drop_rate, weight_decay, name):
    """Expand 1x1 (swish) -> depthwise kxk (swish) -> SE -> linear project 1x1, skip with stochastic depth."""
    in_channels = int(x.shape[-1])
    common = {"bn_epsilon": BN_EPSILON, "weight_decay": weight_decay}
    y = x
    if expansion != 1:
        y = L.conv_bn(y, in_channels * expansion, 1, activation="swish", name=f"{name}_expand", **common)
    padding = "same"
    if strides == 2:
        y = correct_pad(y, L, kernel_size, name=f"{name}_dwconv_pad")
        padding = "valid"
    y = L.depthwise_conv_bn(y, kernel_size, strides=strides, padding=padding, activation="swish",
                            name=f"{name}_dwconv", **common)
    y = squeeze_excite(y, L, squeeze_channels=max(1, int(in_channels * SE_RATIO)), activation="swish", name=name)
    y = L.conv_bn(y, filters, 1, activation=None, name=f"{name}_project", **common)
    if strides == 1 and in_channels == filters:
        if drop_rate > 0:
            y = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(y)
        y = L.add([y, x], name=f"{name}_add")
    return y


def _efficientnet(*, card, input_shape, num_classes, include_top, pooling, weights, style, name, dropout_rate,
                  drop_connect_rate, weight_decay):
    check_rate("dropout_rate", dropout_rate)
    check_rate("drop_connect_rate", drop_connect_rate)
    check_weight_decay(weight_decay)
    input_shape, L, plan = begin(card, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    width, depth, _, _ = SCALING[card.name]
    common = {"bn_epsilon": BN_EPSILON, "weight_decay": weight_decay}

    inputs = x = model_input(input_shape)
    x = correct_pad(x, L, 3, name="stem_conv_pad")
    x = L.conv_bn(x, make_divisible(STEM * width, 8), 3, strides=2, padding="valid", activation="swish",
                  name="stem", **common)
    repeats = [math.ceil(depth * n) for _, n, _, _, _ in B0_STAGES]
    total, b = float(sum(repeats)), 0
    for stage, ((k, _, c, t, s), n) in enumerate(zip(B0_STAGES, repeats), start=1):
        for j in range(n):
            x = mbconv(x, L, filters=make_divisible(c * width, 8), kernel_size=k, strides=s if j == 0 else 1,
                       expansion=t, drop_rate=drop_connect_rate * b / total, weight_decay=weight_decay,
                       name=f"block{stage}{chr(ord('a') + j)}")
            b += 1
    x = L.conv_bn(x, make_divisible(TOP * width, 8), 1, activation="swish", name="top", **common)
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes,
                    dropout_rate=dropout_rate)
    return finish(inputs, x, name=name, weights=plan)


# ----- Keras Applications correspondence -----

def _keras_name(layer_name: str) -> str | None:
    """tfcnn's names are Keras's, but for ``_dwconv_conv``/``_dwconv_bn``, ``_se_*_conv`` and the logits."""
    if layer_name == "logits":
        return "predictions"
    if layer_name.endswith("_dwconv_conv"):
        return layer_name[: -len("_conv")]
    if layer_name.endswith("_dwconv_bn"):
        return layer_name[: -len("_dwconv_bn")] + "_bn"
    if layer_name.endswith(("_se_reduce_conv", "_se_expand_conv")):
        return layer_name[: -len("_conv")]
    return layer_name


def _imagenet_file(model):
    def file_for(args):
        size = SCALING[model][2]
        if args.get("include_top", True) and tuple(args.get("input_shape") or (size, size, 3))[:2] != (size, size):
            return None
        return f"{model.replace('efficientnet_', 'efficientnet')}{'' if args.get('include_top', True) else '_notop'}.h5"
    return file_for


def _card(model):
    _, _, size, dropout = SCALING[model]
    keras_name = "EfficientNet" + model.split("_")[1].upper()
    counterpart = KerasCounterpart(keras_name, _keras_name, _imagenet_file(model), "",
                                   lambda args: {"drop_connect_rate": args.get("drop_connect_rate", 0.2)},
                                   base_url=KERAS_EFFICIENTNET_URL)
    return ModelConfig(
        name=model, family="efficientnet", input_shape=(size, size, 3), num_classes=1000, min_input_size=32,
        reference=REFERENCE, options={"dropout_rate": dropout, "drop_connect_rate": 0.2, "weight_decay": None},
        keras=counterpart, contract_options={"drop_connect_rate": 0.0})  # a dropped branch would not train


@register_model(_card("efficientnet_b0"))
def efficientnet_b0(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                    style="keras", name="efficientnet_b0", dropout_rate=0.2, drop_connect_rate=0.2,
                    weight_decay=None):
    """EfficientNet-B0: 5,330,564 parameters at 224x224x3, 1000 classes.

    5,288,548 of them trainable; the paper's Table 2 reports 5.3M. Keras's
    ``EfficientNetB0`` counts 5,330,571: the same plus its 7 preprocessing numbers.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default the paper's resolution.
            Inputs standardised per channel (see the module docstring for Keras's weights).
        num_classes: size of the logits layer.
        include_top: keep global average pooling, dropout and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file); the path of a Keras Applications
            ``.h5`` file of the same model; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        dropout_rate: dropout before the logits.
        drop_connect_rate: stochastic depth's drop probability at the last block (0 at the first).
        weight_decay: L2 coefficient on kernels (paper: 1e-5); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``dropout_rate`` or ``drop_connect_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("efficientnet_b0").count_params()
        5330564
    """
    return _efficientnet(card=efficientnet_b0.config, **locals())


@register_model(_card("efficientnet_b1"))
def efficientnet_b1(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                    style="keras", name="efficientnet_b1", dropout_rate=0.2, drop_connect_rate=0.2,
                    weight_decay=None):
    """EfficientNet-B1: 7,856,232 parameters at 240x240x3, 1000 classes (Keras's ``EfficientNetB1``: 7,856,239).

    7,794,184 of them trainable; the paper's Table 2 reports 7.8M. Arguments as :func:`efficientnet_b0`.
    """
    return _efficientnet(card=efficientnet_b1.config, **locals())


@register_model(_card("efficientnet_b2"))
def efficientnet_b2(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                    style="keras", name="efficientnet_b2", dropout_rate=0.3, drop_connect_rate=0.2,
                    weight_decay=None):
    """EfficientNet-B2: 9,177,562 parameters at 260x260x3, 1000 classes (Keras's ``EfficientNetB2``: 9,177,569).

    9,109,994 of them trainable; the paper's Table 2 reports 9.2M. Arguments as :func:`efficientnet_b0`.
    """
    return _efficientnet(card=efficientnet_b2.config, **locals())


@register_model(_card("efficientnet_b3"))
def efficientnet_b3(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                    style="keras", name="efficientnet_b3", dropout_rate=0.3, drop_connect_rate=0.2,
                    weight_decay=None):
    """EfficientNet-B3: 12,320,528 parameters at 300x300x3, 1000 classes (Keras's ``EfficientNetB3``: 12,320,535).

    12,233,232 of them trainable; the paper's Table 2 reports 12M. Arguments as :func:`efficientnet_b0`.
    """
    return _efficientnet(card=efficientnet_b3.config, **locals())
