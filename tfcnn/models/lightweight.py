"""SqueezeNet 1.1, ShuffleNet v2 and GhostNet: three more ways to spend few multiply-adds.

References: F. N. Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x
fewer parameters and <0.5MB model size", arXiv:1602.07360 (v1.1 is the
official repository's revision). N. Ma, X. Zhang, H.-T. Zheng, J. Sun,
"ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
ECCV 2018, arXiv:1807.11164. K. Han et al., "GhostNet: More Features from
Cheap Operations", CVPR 2020, arXiv:1911.11907.

Chapter 16's three answers to "make the convolutions cheaper":

* **SqueezeNet** (:data:`SQUEEZENET_1_1`) keeps plain convolutions but makes
  most of them 1x1: a *fire module* squeezes to a few channels with 1x1
  convolutions, then expands with parallel 1x1 and 3x3 convolutions whose
  outputs are concatenated. v1.1 (a 3x3/2 stem of 64 and earlier pooling) needs
  2.4x less computation than v1.0 at the same accuracy.
* **ShuffleNet v2** (:data:`SHUFFLENET_V2_WIDTHS`, Table 5) splits the channels
  of a unit in two, leaves one half alone and runs the other through
  1x1 -> depthwise 3x3 -> 1x1, concatenates, and *shuffles* the channels so
  that the next unit's split mixes both halves. A stride-2 unit sends the whole
  input down two branches and so doubles the channels.
* **GhostNet** (:data:`GHOSTNET_ROWS`, Table 1) makes half of each 1x1
  convolution's outputs with a cheap depthwise 3x3 of the other half (the
  *ghost module*), and stacks ghost bottlenecks (ghost, optional stride-2
  depthwise, squeeze-and-excitation with a hard-sigmoid gate, ghost, shortcut)
  as MobileNet v3 stacks inverted residuals.

All three reproduce the PyTorch reference code layer for layer (torchvision's
``squeezenet1_1`` and ``shufflenet_v2_x*``, huawei-noah's GhostNet as timm's
``ghostnet_100``): the same parameter counts, and a stride-2 layer pads
``k // 2`` pixels on every side as PyTorch does (``zero_pad``, then VALID;
before a max pool this equals PyTorch's ``-inf`` padding because its input
comes out of a ReLU). BN epsilon is PyTorch's 1e-5. The channel split and
shuffle are weightless Keras layers (``L.channel_slice``: tfcnn's
:class:`~tfcnn.layers.raw.RawChannelSlice`; ``L.channel_shuffle``: Reshape,
Permute, Reshape), so TFMOT prunes the models and the TFLite converter takes them.

tfcnn's heads end in logits, each with the reference's parameter count:

* SqueezeNet's classifier is dropout, a 1x1 convolution to the classes
  (``logits_conv``), ReLU and global average pooling. tfcnn keeps the order
  and drops only the ReLU, which clamps every negative score to zero (useless
  before a softmax, which wants scores of either sign): the
  output is the average of per-position logits. Pooling first and then a
  ``Dense`` would compute the same function with the same 513,000 weights and
  86.5M fewer multiply-adds at 224x224 (a quarter of the network's), but the
  MACs would no longer be the published 0.35G.
* GhostNet's ``conv_head`` (a 1x1 convolution with bias on the pooled 1x1
  map, then ReLU) is the equivalent ``Dense`` named ``conv_head``.
"""

from __future__ import annotations

from tfcnn.models._common import (
    begin,
    check_positive,
    check_rate,
    check_weight_decay,
    finish,
    make_divisible,
    model_input,
    pooled_head,
    squeeze_excite,
)
from tfcnn.models.registry import ModelConfig, register_model

TORCH_BN_EPSILON = 1e-5  # PyTorch's BatchNorm2d default, used by all three reference implementations

SQUEEZENET_REFERENCE = ("Iandola et al., SqueezeNet: AlexNet-level accuracy with 50x fewer parameters, "
                        "arXiv:1602.07360 (v1.1: the official DeepScale/SqueezeNet repository)")
SHUFFLENET_V2_REFERENCE = "Ma et al., ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design, " \
                          "ECCV 2018, arXiv:1807.11164"
GHOSTNET_REFERENCE = "Han et al., GhostNet: More Features from Cheap Operations, CVPR 2020, arXiv:1911.11907"

# SqueezeNet v1.1 after its 3x3/2 conv of 64: fire modules (squeeze, expand 1x1, expand 3x3), named fire2..fire9
# as in the paper, and the 3x3/2 max pools ("pool") between them.
SQUEEZENET_STEM = 64
SQUEEZENET_1_1 = ("pool", (16, 64, 64), (16, 64, 64), "pool", (32, 128, 128), (32, 128, 128), "pool",
                  (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))

# ShuffleNet v2, Table 5: units per stage (stages 2-4), and width -> output channels of conv1, stages 2-4, conv5.
SHUFFLENET_V2_REPEATS = (4, 8, 4)
SHUFFLENET_V2_WIDTHS = {0.5: (24, 48, 96, 192, 1024), 1.0: (24, 116, 232, 464, 1024),
                        1.5: (24, 176, 352, 704, 1024), 2.0: (24, 244, 488, 976, 2048)}
SHUFFLE_GROUPS = 2

# GhostNet 1.0x, Table 1: (depthwise kernel, expansion channels, output channels, SE ratio, stride) per bottleneck.
GHOSTNET_STEM = 16
GHOSTNET_ROWS = ((3, 16, 16, 0, 1), (3, 48, 24, 0, 2), (3, 72, 24, 0, 1), (5, 72, 40, 0.25, 2),
                 (5, 120, 40, 0.25, 1), (3, 240, 80, 0, 2), (3, 200, 80, 0, 1), (3, 184, 80, 0, 1),
                 (3, 184, 80, 0, 1), (3, 480, 112, 0.25, 1), (3, 672, 112, 0.25, 1), (5, 672, 160, 0.25, 2),
                 (5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1), (5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1))
GHOSTNET_LAST = 960  # the 1x1 convolution after the bottlenecks (scaled by width)
GHOSTNET_HEAD = 1280  # conv_head, not scaled
GHOST_RATIO = 2  # s in the paper: 1/s of the outputs come from the 1x1 convolution, the rest are ghosts


def _torch_pad(x, L, kernel_size, *, name):
    """PyTorch's ``padding=k // 2`` on every side, before a stride-2 layer run with VALID padding."""
    return L.zero_pad(x, kernel_size // 2, name=name)


# ----- SqueezeNet -----

def fire_module(x, L, squeeze, expand1x1, expand3x3, *, weight_decay=None, name):
    """Squeeze 1x1 (+ReLU), then expand with 1x1 and 3x3 (+ReLU) side by side; ``expand1x1 + expand3x3`` channels."""
    common = {"use_bn": False, "weight_decay": weight_decay}
    s = L.conv_bn(x, squeeze, 1, name=f"{name}_squeeze", **common)
    e1 = L.conv_bn(s, expand1x1, 1, name=f"{name}_expand1x1", **common)
    e3 = L.conv_bn(s, expand3x3, 3, name=f"{name}_expand3x3", **common)
    return L.concat([e1, e3], name=f"{name}_out")


def _ceil_max_pool(x, L, *, name):
    """A 3x3/2 max pool with PyTorch's ``ceil_mode=True``: pad an even side by one (the input is post-ReLU, >= 0)."""
    h, w = int(x.shape[1]), int(x.shape[2])
    if h % 2 == 0 or w % 2 == 0:
        x = L.zero_pad(x, ((0, 1 - h % 2), (0, 1 - w % 2)), name=f"{name}_pad")
    return L.max_pool(x, 3, strides=2, name=f"{name}_pool")


@register_model(ModelConfig(
    name="squeezenet1_1", family="lightweight", input_shape=(224, 224, 3), num_classes=1000, min_input_size=17,
    reference=SQUEEZENET_REFERENCE, options={"dropout_rate": 0.5, "weight_decay": None},
    contract_input=(32, 32, 3)))
def squeezenet1_1(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                  style="keras", name="squeezenet1_1", dropout_rate=0.5, weight_decay=None):
    """SqueezeNet 1.1: 1,235,496 parameters at 224x224x3, 1000 classes, as torchvision's ``squeezenet1_1``.

    No batch norm, biases everywhere; 349M multiply-adds. The head (dropout, 1x1 convolution
    ``logits_conv``, average pooling, no ReLU) is explained in the module docstring.

    Args:
        input_shape: ``(H, W, C)``, at least 17x17 (as torchvision); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep dropout, the 1x1 logits convolution and the pooling; otherwise return fire9's map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        dropout_rate: dropout before the logits (the reference: 0.5).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("squeezenet1_1").count_params()
        1235496
    """
    check_weight_decay(weight_decay)
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(squeezenet1_1.config, input_shape=input_shape, num_classes=num_classes,
                                 include_top=include_top, pooling=pooling, weights=weights, style=style)

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, SQUEEZENET_STEM, 3, strides=2, padding="valid", use_bn=False, weight_decay=weight_decay,
                  name="conv1")
    fire, pool = 2, 1
    for row in SQUEEZENET_1_1:
        if row == "pool":
            x = _ceil_max_pool(x, L, name=f"pool{pool}")
            pool += 2  # the paper's numbering: pool1, pool3, pool5
            continue
        x = fire_module(x, L, *row, weight_decay=weight_decay, name=f"fire{fire}")
        fire += 1
    if include_top:  # the reference's order: classify every position, then average (module docstring)
        if dropout_rate:
            x = L.dropout(x, dropout_rate, name="dropout")
        x = L.conv_bn(x, num_classes, 1, use_bn=False, activation=None, weight_decay=weight_decay, name="logits")
        x = L.global_pool(x, mode="avg", name="avg_pool")
    else:
        x = pooled_head(x, L, include_top=False, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


# ----- ShuffleNet v2 -----

def shuffle_unit(x, L, filters, *, strides, weight_decay=None, name):
    """ShuffleNet v2's unit (Fig. 3 c/d): split (or, with stride 2, copy), one branch convolved, concat, shuffle.

    The convolved branch is 1x1 (+BN+ReLU) -> depthwise 3x3 (+BN) -> 1x1 (+BN+ReLU);
    a stride-2 unit also convolves the other copy, depthwise 3x3/2 (+BN) -> 1x1
    (+BN+ReLU), so the output has ``filters`` channels, twice each branch's.
    """
    common = {"bn_epsilon": TORCH_BN_EPSILON, "weight_decay": weight_decay}
    half = filters // 2
    if strides == 1:
        channels = int(x.shape[-1])
        left = L.channel_slice(x, 0, channels // 2, name=f"{name}_split_left")
        right = L.channel_slice(x, channels // 2, channels, name=f"{name}_split_right")
    else:
        left = _torch_pad(x, L, 3, name=f"{name}_branch1_pad")
        left = L.depthwise_conv_bn(left, 3, strides=2, padding="valid", activation=None, name=f"{name}_branch1_dw",
                                   **common)
        left = L.conv_bn(left, half, 1, name=f"{name}_branch1_pw", **common)
        right = x
    right = L.conv_bn(right, half, 1, name=f"{name}_branch2_pw1", **common)
    if strides != 1:
        right = _torch_pad(right, L, 3, name=f"{name}_branch2_pad")
    right = L.depthwise_conv_bn(right, 3, strides=strides, padding="same" if strides == 1 else "valid",
                                activation=None, name=f"{name}_branch2_dw", **common)
    right = L.conv_bn(right, half, 1, name=f"{name}_branch2_pw2", **common)
    x = L.concat([left, right], name=f"{name}_concat")
    return L.channel_shuffle(x, SHUFFLE_GROUPS, name=f"{name}_shuffle")


def _shufflenet_v2(width, *, config, input_shape, num_classes, include_top, pooling, weights, style, name,
                   weight_decay):
    check_weight_decay(weight_decay)
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    stem, *stages, last = SHUFFLENET_V2_WIDTHS[width]
    common = {"bn_epsilon": TORCH_BN_EPSILON, "weight_decay": weight_decay}

    inputs = x = model_input(input_shape)
    x = _torch_pad(x, L, 3, name="conv1_pad")
    x = L.conv_bn(x, stem, 3, strides=2, padding="valid", name="conv1", **common)
    x = _torch_pad(x, L, 3, name="pool1_pad")
    x = L.max_pool(x, 3, strides=2, name="pool1_pool")
    for stage, (filters, repeats) in enumerate(zip(stages, SHUFFLENET_V2_REPEATS), start=2):
        for b in range(1, repeats + 1):
            x = shuffle_unit(x, L, filters, strides=2 if b == 1 else 1, weight_decay=weight_decay,
                             name=f"stage{stage}_block{b}")
    x = L.conv_bn(x, last, 1, name="conv5", **common)
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


def _shufflenet_config(name):
    return ModelConfig(name=name, family="lightweight", input_shape=(224, 224, 3), num_classes=1000,
                       min_input_size=32, reference=SHUFFLENET_V2_REFERENCE, options={"weight_decay": None})


@register_model(_shufflenet_config("shufflenet_v2_x1_0"))
def shufflenet_v2_x1_0(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                       style="keras", name="shufflenet_v2_x1_0", weight_decay=None):
    """ShuffleNet v2 1x: 2,278,604 trainable parameters at 224x224x3, 1000 classes, as torchvision's.

    Stages of 116, 232 and 464 channels (Table 5); 146 MFLOPs (multiply-adds) in the paper.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits; otherwise return conv5's map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        weight_decay: L2 coefficient on kernels (paper: 4e-5); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``weight_decay``.

    Example:
        >>> import tfcnn
        >>> model = tfcnn.create_model("shufflenet_v2_x1_0")
        >>> sum(int(w.shape.num_elements()) for w in model.trainable_weights)
        2278604
    """
    return _shufflenet_v2(1.0, config=shufflenet_v2_x1_0.config, **locals())


@register_model(_shufflenet_config("shufflenet_v2_x0_5"))
def shufflenet_v2_x0_5(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                       style="keras", name="shufflenet_v2_x0_5", weight_decay=None):
    """ShuffleNet v2 0.5x: 1,366,792 trainable parameters (stages of 48, 96, 192), as torchvision's; 41 MFLOPs.

    Arguments as :func:`shufflenet_v2_x1_0`.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _shufflenet_v2(0.5, config=shufflenet_v2_x0_5.config, **locals())


# ----- GhostNet -----

def ghost_module(x, L, filters, *, relu=True, weight_decay=None, name):
    """``ceil(filters / 2)`` channels by a 1x1 convolution, as many ghosts by a depthwise 3x3 of them, cut to ``filters``.

    Both halves have BN, and ReLU when ``relu``; the cut (``N_out``) is only
    needed for an odd ``filters``, where the concatenation has one channel too many.
    """
    common = {"activation": "relu" if relu else None, "bn_epsilon": TORCH_BN_EPSILON, "weight_decay": weight_decay}
    primary = -(-filters // GHOST_RATIO)
    y = L.conv_bn(x, primary, 1, name=f"{name}_primary", **common)
    ghosts = L.depthwise_conv_bn(y, 3, depth_multiplier=GHOST_RATIO - 1, name=f"{name}_cheap", **common)
    y = L.concat([y, ghosts], name=f"{name}_concat")
    if primary * GHOST_RATIO > filters:
        y = L.channel_slice(y, 0, filters, name=f"{name}_out")
    return y


def ghost_bottleneck(x, L, *, kernel_size, mid, filters, se_ratio, strides, weight_decay=None, name):
    """Ghost (+ReLU) -> [depthwise k x k / 2 + BN] -> [SE] -> ghost (linear), plus the shortcut.

    The shortcut is the identity when shapes match, else depthwise k x k (+BN,
    carrying the stride) -> 1x1 (+BN), as in the official code.
    """
    in_channels = int(x.shape[-1])
    common = {"activation": None, "bn_epsilon": TORCH_BN_EPSILON, "weight_decay": weight_decay}
    y = ghost_module(x, L, mid, relu=True, weight_decay=weight_decay, name=f"{name}_ghost1")
    if strides > 1:
        y = _torch_pad(y, L, kernel_size, name=f"{name}_pad")
        y = L.depthwise_conv_bn(y, kernel_size, strides=strides, padding="valid", name=f"{name}_dw", **common)
    if se_ratio:  # MobileNet v3's SE: reduce to make_divisible(C * ratio, 4), ReLU, hard-sigmoid gate
        y = squeeze_excite(y, L, squeeze_channels=make_divisible(mid * se_ratio, 4), gate="hard_sigmoid", name=name)
    y = ghost_module(y, L, filters, relu=False, weight_decay=weight_decay, name=f"{name}_ghost2")
    shortcut = x
    if strides > 1 or in_channels != filters:
        padding = "same"
        if strides > 1:
            shortcut = _torch_pad(x, L, kernel_size, name=f"{name}_shortcut_pad")
            padding = "valid"
        shortcut = L.depthwise_conv_bn(shortcut, kernel_size, strides=strides, padding=padding,
                                       name=f"{name}_shortcut_dw", **common)
        shortcut = L.conv_bn(shortcut, filters, 1, name=f"{name}_shortcut_pw", **common)
    return L.add([shortcut, y], name=f"{name}_add")


@register_model(ModelConfig(
    name="ghostnet", family="lightweight", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
    reference=GHOSTNET_REFERENCE, options={"width": 1.0, "dropout_rate": 0.2, "weight_decay": None},
    contract_options={"width": 0.5}))
def ghostnet(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="ghostnet", width=1.0, dropout_rate=0.2, weight_decay=None):
    """GhostNet 1.0x: 5,182,508 trainable parameters at 224x224x3, 1000 classes, as timm's ``ghostnet_100``.

    The paper's Table 7 reports 5.2M parameters and 141M FLOPs (multiply-adds); with BN's moving
    statistics Keras counts 5,204,476.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep pooling, ``conv_head`` (1280 + ReLU), dropout and the logits;
            otherwise return the 960-channel map of ``conv_last``.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        width: width multiplier (> 0; the paper uses 0.5, 1.0, 1.3); channels are rounded
            to multiples of 4, ``conv_head`` keeps 1280.
        dropout_rate: dropout before the logits (the reference: 0.2).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default (which the
            squeeze-and-excitation convolutions of :func:`~tfcnn.models._common.squeeze_excite` always use).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``width`` or ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> model = tfcnn.create_model("ghostnet")
        >>> sum(int(w.shape.num_elements()) for w in model.trainable_weights)
        5182508
    """
    check_positive("width", width)
    check_weight_decay(weight_decay)
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(ghostnet.config, input_shape=input_shape, num_classes=num_classes,
                                 include_top=include_top, pooling=pooling, weights=weights, style=style, width=width)
    common = {"bn_epsilon": TORCH_BN_EPSILON, "weight_decay": weight_decay}

    inputs = x = model_input(input_shape)
    x = _torch_pad(x, L, 3, name="conv_stem_pad")
    x = L.conv_bn(x, make_divisible(GHOSTNET_STEM * width, 4), 3, strides=2, padding="valid", name="conv_stem",
                  **common)
    for i, (k, exp, c, se, s) in enumerate(GHOSTNET_ROWS):
        x = ghost_bottleneck(x, L, kernel_size=k, mid=make_divisible(exp * width, 4),
                             filters=make_divisible(c * width, 4), se_ratio=se, strides=s, weight_decay=weight_decay,
                             name=f"block{i}")
    x = L.conv_bn(x, make_divisible(GHOSTNET_LAST * width, 4), 1, name="conv_last", **common)
    if include_top:
        x = L.global_pool(x, mode="avg", name="avg_pool")
        x = L.dense(x, GHOSTNET_HEAD, activation="relu", weight_decay=weight_decay, name="conv_head")
        if dropout_rate:
            x = L.dropout(x, dropout_rate, name="dropout")
        x = L.dense(x, num_classes, weight_decay=weight_decay, name="logits")
    else:
        x = pooled_head(x, L, include_top=False, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)
