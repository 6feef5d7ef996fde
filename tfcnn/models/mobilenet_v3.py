"""MobileNet v3 small and large: MobileNet v2's blocks, searched, with hard-swish and squeeze-and-excitation.

Reference: A. Howard, M. Sandler, G. Chu, L.-C. Chen, B. Chen, M. Tan, W. Wang,
Y. Zhu, R. Pang, V. Vasudevan, Q. V. Le, H. Adam, "Searching for
MobileNetV3", ICCV 2019, arXiv:1905.02244.

Each row of the paper's Tables 1 (large) and 2 (small) is an inverted
residual (:func:`tfcnn.models.mobilenet.inverted_residual`'s expand ->
depthwise -> linear project) with three new choices per block: the kernel
(3x3 or 5x5), an SE gate after the depthwise convolution (squeeze to a
quarter of the expanded width, rounded to a multiple of 8, gated by the
*hard* sigmoid ``relu6(x + 3) / 6``), and the activation: ReLU in the early
blocks, *hard-swish* ``x * relu6(x + 3) / 6`` later, where the paper found
the non-linearity worth most and the maps are smallest (Sec. 5.2). Both hard
functions are piecewise linear, so they quantize well. The head is also new:
the last 1x1 convolution moves after the global pool (1280 or 1024 units on a
1x1 map, 7x7 times cheaper), with hard-swish, dropout 0.2, then the logits.

``minimalistic=True`` is the paper's variant for hardware without SE or
hard-swish: 3x3 kernels everywhere, no SE, ReLU only.

tfcnn reproduces Keras Applications' ``MobileNetV3Small`` / ``Large`` layer
for layer, whose block table (:data:`SMALL_ROWS`, :data:`LARGE_ROWS`) is
TF-Slim's ``mobilenet_v3.py`` one: identical parameter counts and logits
once weights are copied. Keras's builders put a ``Rescaling(1/127.5, -1)``
layer in front by default (``include_preprocessing=True``); tfcnn's models
keep preprocessing outside, so a tfcnn model equals Keras's built with
``include_preprocessing=False``, and a user feeds it images scaled to
[-1, 1] (what that ``Rescaling`` computes from 0..255 pixels). Keras's head
is two 1x1 convolutions on a 1x1 map then ``Flatten``; tfcnn's is the same
two layers as ``Dense`` (same weights, reshaped). BN momentum is tfcnn's 0.9
rather than Keras's 0.999 (training only).
"""

from __future__ import annotations

import re

from tfcnn.models._common import (
    begin,
    check_positive,
    check_rate,
    check_weight_decay,
    correct_pad,
    finish,
    make_divisible,
    model_input,
    squeeze_excite,
)
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.mobilenet import BN_EPSILON
from tfcnn.models.registry import ModelConfig, register_model

REFERENCE = "Howard et al., Searching for MobileNetV3, ICCV 2019 (arXiv:1905.02244)"
STEM = 16
SE_RATIO = 0.25

# One row per block: (expansion, output channels, kernel, stride, squeeze-excite, activation).
# kernel "k" is 5 (3 when minimalistic); activation "hs" is hard-swish (ReLU when minimalistic).
# Expansions are Keras's/TF-Slim's ratios of the block's input width (72/16 = the paper's "exp size 72").
SMALL_ROWS = ((1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"), (88 / 24, 24, 3, 1, False, "relu"),
              (4, 40, "k", 2, True, "hs"), (6, 40, "k", 1, True, "hs"), (6, 40, "k", 1, True, "hs"),
              (3, 48, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"), (6, 96, "k", 2, True, "hs"),
              (6, 96, "k", 1, True, "hs"), (6, 96, "k", 1, True, "hs"))
LARGE_ROWS = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
              (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
              (6, 80, 3, 2, False, "hs"), (2.5, 80, 3, 1, False, "hs"), (2.3, 80, 3, 1, False, "hs"),
              (2.3, 80, 3, 1, False, "hs"), (6, 112, 3, 1, True, "hs"), (6, 112, 3, 1, True, "hs"),
              (6, 160, "k", 2, True, "hs"), (6, 160, "k", 1, True, "hs"), (6, 160, "k", 1, True, "hs"))
# The 1x1 layer after the global pool (before the logits), per size.
HEAD_UNITS = {"small": 1024, "large": 1280}


def v3_block(x, L, *, expansion, filters, kernel_size, strides, se: bool, activation, weight_decay, name):
    """Expand 1x1 -> depthwise kxk -> [SE, hard-sigmoid gate] -> linear project 1x1, with a skip when shapes match."""
    in_channels = int(x.shape[-1])
    common = {"bn_epsilon": BN_EPSILON, "weight_decay": weight_decay}
    expanded = make_divisible(in_channels * expansion, 8)
    y = x
    if expansion != 1:
        y = L.conv_bn(y, expanded, 1, activation=activation, name=f"{name}_expand", **common)
    padding = "same"
    if strides == 2:
        y = correct_pad(y, L, kernel_size, name=f"{name}_pad")
        padding = "valid"
    y = L.depthwise_conv_bn(y, kernel_size, strides=strides, padding=padding, activation=activation,
                            name=f"{name}_dw", **common)
    if se:
        y = squeeze_excite(y, L, squeeze_channels=make_divisible(expanded * SE_RATIO, 8), gate="hard_sigmoid",
                           name=name)
    y = L.conv_bn(y, filters, 1, activation=None, name=f"{name}_project", **common)
    if strides == 1 and in_channels == filters:
        y = L.add([x, y], name=f"{name}_add")
    return y


def _mobilenet_v3(size, *, card, input_shape, num_classes, include_top, pooling, weights, style, name, alpha,
                  minimalistic, dropout_rate, weight_decay):
    check_positive("alpha", alpha)
    if not isinstance(minimalistic, bool):
        from tfcnn.errors import ModelError

        raise ModelError(f"minimalistic must be True or False. Received: minimalistic={minimalistic!r}")
    check_rate("dropout_rate", dropout_rate)
    check_weight_decay(weight_decay)
    input_shape, L, plan = begin(card, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style, alpha=alpha,
                                 minimalistic=minimalistic)
    late = "relu" if minimalistic else "hard_swish"
    common = {"bn_epsilon": BN_EPSILON, "weight_decay": weight_decay}

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, STEM, 3, strides=2, activation=late, name="conv1", **common)
    for i, (t, c, k, s, se, act) in enumerate(SMALL_ROWS if size == "small" else LARGE_ROWS):
        x = v3_block(x, L, expansion=t, filters=make_divisible(c * alpha, 8),
                     kernel_size=(3 if minimalistic else 5) if k == "k" else k, strides=s,
                     se=se and not minimalistic, activation=late if act == "hs" else "relu",
                     weight_decay=weight_decay, name=f"block{i}")
    x = L.conv_bn(x, make_divisible(int(x.shape[-1]) * 6, 8), 1, activation=late, name="conv_last", **common)
    if include_top:
        units = make_divisible(HEAD_UNITS[size] * alpha, 8) if alpha > 1.0 else HEAD_UNITS[size]
        x = L.global_pool(x, mode="avg", name="avg_pool")
        # The paper's efficient last stage: this 1x1 layer runs on the pooled vector (Sec. 5.3, Fig. 5).
        x = L.dense(x, units, activation=late, weight_decay=weight_decay, name="conv_head")
        if dropout_rate:
            x = L.dropout(x, dropout_rate, name="dropout")
        x = L.dense(x, num_classes, weight_decay=weight_decay, name="logits")
    elif pooling:
        x = L.global_pool(x, mode=pooling, name=f"{pooling}_pool")
    return finish(inputs, x, name=name, weights=plan)


# ----- Keras Applications correspondence -----

def _keras_name(layer_name: str) -> str | None:
    """``block0_dw_conv`` -> ``expanded_conv/depthwise``, ``block3_se_reduce_conv`` -> ``expanded_conv_3/squeeze_excite/Conv``."""
    fixed = {"conv1_conv": "Conv", "conv1_bn": "Conv/BatchNorm", "conv_last_conv": "Conv_1",
             "conv_last_bn": "Conv_1/BatchNorm", "conv_head": "Conv_2", "logits": "Logits"}
    if layer_name in fixed:
        return fixed[layer_name]
    m = re.fullmatch(r"block(\d+)_(expand|dw|project|se_reduce|se_expand)_(conv|bn)", layer_name)
    if not m:
        return None
    prefix = "expanded_conv/" if m[1] == "0" else f"expanded_conv_{m[1]}/"
    op = {"expand": "expand", "dw": "depthwise", "project": "project", "se_reduce": "squeeze_excite/Conv",
          "se_expand": "squeeze_excite/Conv_1"}[m[2]]
    return prefix + op + ("/BatchNorm" if m[3] == "bn" else "")


def _imagenet_file(size):
    def file_for(args):
        alpha, minimal = float(args.get("alpha", 1.0)), bool(args.get("minimalistic", False))
        if alpha not in ((1.0,) if minimal else (0.75, 1.0)):
            return None
        if tuple(args.get("input_shape") or (224, 224, 3))[:2] != (224, 224) and args.get("include_top", True):
            return None
        top = "" if args.get("include_top", True) else "_no_top_v2"
        return f"weights_mobilenet_v3_{size}{'_minimalistic' if minimal else ''}_224_{alpha}_float{top}.h5"
    return file_for


def _keras_kwargs(args):
    return {"alpha": args.get("alpha", 1.0), "minimalistic": args.get("minimalistic", False),
            "dropout_rate": args.get("dropout_rate", 0.2), "include_preprocessing": False}


def _card(size):
    keras = KerasCounterpart(f"MobileNetV3{size.title()}", _keras_name, _imagenet_file(size), "mobilenet_v3",
                             _keras_kwargs)
    return ModelConfig(
        name=f"mobilenet_v3_{size}", family="mobilenet", input_shape=(224, 224, 3), num_classes=1000,
        min_input_size=32, reference=REFERENCE,
        options={"alpha": 1.0, "minimalistic": False, "dropout_rate": 0.2, "weight_decay": None},
        keras=keras, contract_options={"alpha": 0.35} if size == "large" else {"alpha": 0.5})


@register_model(_card("small"))
def mobilenet_v3_small(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                       style="keras", name="mobilenet_v3_small", alpha=1.0, minimalistic=False, dropout_rate=0.2,
                       weight_decay=None):
    """MobileNet v3 small: 2,554,968 parameters at 224x224x3, 1000 classes (as Keras's ``MobileNetV3Small``).

    2,542,856 of them trainable (the paper's Table 4: 2.5M; 56 M multiply-adds at 224x224).

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
            Pixels scaled to [-1, 1], as Keras's built-in ``Rescaling`` would.
        num_classes: size of the logits layer.
        include_top: keep the pooled head (1x1 layer of 1024 units, dropout, logits).
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file for this ``alpha``/``minimalistic``, 224x224);
            the path of a Keras Applications ``MobileNetV3Small`` ``.h5``; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        alpha: width multiplier (> 0; Keras ships 0.75 and 1.0), channels rounded to multiples of 8.
        minimalistic: 3x3 kernels, no SE, ReLU only (the paper's variant for simple hardware).
        dropout_rate: dropout before the logits (paper and Keras: 0.2).
        weight_decay: L2 coefficient on kernels (paper: 1e-5); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``alpha``, ``minimalistic`` or
            ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("mobilenet_v3_small").count_params()
        2554968
    """
    return _mobilenet_v3("small", card=mobilenet_v3_small.config, **locals())


@register_model(_card("large"))
def mobilenet_v3_large(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                       style="keras", name="mobilenet_v3_large", alpha=1.0, minimalistic=False, dropout_rate=0.2,
                       weight_decay=None):
    """MobileNet v3 large: 5,507,432 parameters at 224x224x3, 1000 classes (as Keras's ``MobileNetV3Large``).

    5,483,032 of them trainable (the paper's Table 3: 5.4M; 219 M multiply-adds at 224x224).
    Arguments as :func:`mobilenet_v3_small`; the pooled head has 1280 units.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("mobilenet_v3_large").count_params()
        5507432
    """
    return _mobilenet_v3("large", card=mobilenet_v3_large.config, **locals())
