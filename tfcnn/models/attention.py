"""Residual Attention Network: trunk branch plus a soft mask branch, output ``(1 + M) * T``.

Reference: F. Wang, M. Jiang, C. Qian, S. Yang, C. Li, H. Zhang, X. Wang,
X. Tang, "Residual Attention Network for Image Classification", CVPR 2017,
arXiv:1704.06904.

Structure (paper Sec. 3 and Table 2, hyper-parameters p=1, t=2, r=1):

* pre-activation bottleneck residual units (BN-ReLU-1x1, BN-ReLU-3x3,
  BN-ReLU-1x1, He et al. 2016) everywhere;
* an attention module is ``p`` units, then a trunk of ``t`` units and a soft
  mask branch, then ``p`` units. The mask branch max-pools down
  (``r`` units after each pooling, a skip unit at each level but the lowest,
  ``2r`` units at the lowest resolution), then bilinearly up-samples as many
  times, adding the skip unit's output at each level, and ends in
  BN-ReLU-1x1-BN-ReLU-1x1-sigmoid. The module's output is
  ``T + M * T = (1 + M) * T`` (attention residual learning, Eq. 3);
* stages at 56, 28 and 14 pixels have 3, 2 and 1 max-pooling levels in the
  mask; Attention-56 has 1/1/1 modules per stage and Attention-92 1/2/3.

The mask layers are named ``{module}_mask_sigmoid`` (e.g.
``stage2_attention1_mask_sigmoid``); :func:`mask_layer_names` lists them so a
visualiser can draw the masks.

Parameter counts (224x224x3, 1,000 classes; Keras counts BN's moving mean
and variance too, the "trainable" figure leaves them out):

* ``attention56``: 31,883,432 total, 31,810,728 trainable. Paper Table 2:
  31.9M, 0.3 % above our trainable count.
* ``attention92``: 52,599,976 total, 52,466,344 trainable. Paper: 51.3M,
  2.3 % below. The 20.7M that Attention-92's three extra modules (one at
  28x28, two at 14x14) add here against the paper's 19.4M suggest the authors'
  modules were slightly lighter than the paper's description; the paper does
  not give the unit layout, and the authors' released Caffe models
  (``fwang91/residual-attention-network``, ``Attention-56/92-deploy.prototxt``)
  differ in details (a BN after every pooling and sum), so no count here is
  the paper's exactly. tfcnn follows the paper's text (p=1, t=2, r=1, 2r
  units at the lowest resolution, skip units between the bottom-up and
  top-down paths); the golden file asserts these counts as tfcnn's own.

Up-sampling is ``tf_keras.layers.UpSampling2D(interpolation='bilinear')`` in
every style (it has no weights). It doubles the map exactly, so each side of
the input must be a multiple of 32 (224 gives the paper's 56/28/14/7 maps).
"""

from __future__ import annotations

from tfcnn._compat import keras
from tfcnn.errors import ModelError
from tfcnn.models._common import begin, check_input_shape, finish, model_input, pooled_head
from tfcnn.models.registry import ModelConfig, register_model

# Table 2: (stage, bottleneck output channels, stride of the stage's first unit, mask pooling levels).
ATTENTION_STAGES = (
    ("stage1", 256, 1, 3),
    ("stage2", 512, 2, 2),
    ("stage3", 1024, 2, 1),
)
FINAL_STAGE = ("stage4", 2048, 2, 3)  # three residual units, no attention
ATTENTION_MODULES = {"attention56": (1, 1, 1), "attention92": (1, 2, 3)}
P, T, R = 1, 2, 1  # paper Sec. 4: "hyper-parameter setting: {p = 1, t = 2, r = 1}"
INPUT_MULTIPLE = 32  # stem /4, then the stage-1 mask halves 3 more times and must double back exactly


def residual_unit(x, L, filters, *, strides=1, name="unit"):
    """Pre-activation bottleneck unit: BN-ReLU, 1x1 (filters/4), 3x3 (filters/4, strided), 1x1 (filters), + shortcut.

    The shortcut is the identity, or a strided 1x1 projection of the
    pre-activated input when the shape changes (He et al., Identity Mappings).
    """
    pre = L.bn_act(x, name=f"{name}_preact")
    y = L.conv_bn(pre, filters // 4, 1, name=f"{name}_1")
    y = L.conv_bn(y, filters // 4, 3, strides=strides, name=f"{name}_2")
    y = L.conv_bn(y, filters, 1, use_bn=False, use_bias=False, activation=None, name=f"{name}_3")
    if strides != 1 or x.shape[-1] != filters:
        x = L.conv_bn(pre, filters, 1, strides=strides, use_bn=False, use_bias=False, activation=None,
                      name=f"{name}_shortcut")
    return L.add([x, y], name=f"{name}_add")


def _units(x, L, filters, count, name):
    for k in range(1, count + 1):
        x = residual_unit(x, L, filters, name=f"{name}_{k}")
    return x


def attention_module(x, L, filters, levels=1, *, name="attention"):
    """Trunk (t units) times a soft mask from ``levels`` down/up-samplings: ``(1 + M) * T``."""
    x = _units(x, L, filters, P, f"{name}_pre")
    trunk = _units(x, L, filters, T, f"{name}_trunk")

    # Bottom-up: max pooling enlarges the receptive field fast; skip units keep each scale.
    y, skips = x, []
    for level in range(1, levels + 1):
        y = L.max_pool(y, 3, strides=2, padding="same", name=f"{name}_mask_down{level}_pool")
        y = _units(y, L, filters, R, f"{name}_mask_down{level}")
        if level < levels:
            skips.append(_units(y, L, filters, 1, f"{name}_mask_skip{level}"))
    y = _units(y, L, filters, R, f"{name}_mask_bottom")  # 2r units in all at the lowest resolution
    # Top-down: bilinear up-sampling back to the trunk's size, adding the skip of each scale.
    for level in range(levels, 0, -1):
        y = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_mask_up{level}")(y)
        if level > 1:
            y = L.add([y, skips[level - 2]], name=f"{name}_mask_up{level}_add")
            y = _units(y, L, filters, R, f"{name}_mask_up{level}")
    y = L.bn_act(y, name=f"{name}_mask_preact")
    y = L.conv_bn(y, filters, 1, name=f"{name}_mask_1")
    mask = L.conv_bn(y, filters, 1, use_bn=False, use_bias=False, activation="sigmoid", name=f"{name}_mask")

    # Attention residual learning: (1 + M) * T = T + M * T, with no Lambda layer.
    x = L.add([trunk, L.multiply([mask, trunk], name=f"{name}_mask_mul")], name=f"{name}_attend")
    return _units(x, L, filters, P, f"{name}_post")


def _residual_attention(*, config, modules, input_shape, num_classes, include_top, pooling, weights, style,
                        name):
    input_shape = check_input_shape(config, input_shape)
    if any(d % INPUT_MULTIPLE for d in input_shape[:2]):
        raise ModelError(f"{config.name}'s mask branch halves and doubles the feature map, so height and width "
                         f"must be multiples of {INPUT_MULTIPLE}. Received: input_shape={input_shape}")
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, 64, 7, strides=2, name="conv1")
    x = L.max_pool(x, 3, strides=2, padding="same", name="pool1")
    for (stage, filters, strides, levels), count in zip(ATTENTION_STAGES, modules):
        x = residual_unit(x, L, filters, strides=strides, name=f"{stage}_unit")
        for i in range(1, count + 1):
            x = attention_module(x, L, filters, levels, name=f"{stage}_attention{i}")
    stage, filters, strides, count = FINAL_STAGE
    for k in range(1, count + 1):
        x = residual_unit(x, L, filters, strides=strides if k == 1 else 1, name=f"{stage}_unit{k}")
    x = L.bn_act(x, name="post")  # pre-activation nets end with BN-ReLU before pooling
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


def mask_layer_names(model) -> list[str]:
    """Names of the soft-mask sigmoid layers of a Residual Attention Network, in depth order."""
    return [layer.name for layer in model.layers if layer.name.endswith("_mask_sigmoid")]


_CONFIG = {"family": "attention", "input_shape": (224, 224, 3), "num_classes": 1000,
           "min_input_size": INPUT_MULTIPLE,
           "reference": "Wang et al., Residual Attention Network for Image Classification, arXiv:1704.06904"}

_DOC_ARGS = """
    Args:
        input_shape: ``(H, W, C)`` with H and W multiples of 32; default 224x224x3.
        num_classes: size of the logits layer.
        include_top: global average pooling and the logits; otherwise the last feature map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a path of weights saved from the same tfcnn model.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: ``input_shape`` malformed, smaller than 32 or not a multiple of 32; bad ``pooling``/``num_classes``.
"""


@register_model(ModelConfig(name="attention56", **_CONFIG))
def attention56(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
                name="attention56"):
    return _residual_attention(config=attention56.config, modules=ATTENTION_MODULES["attention56"],
                               input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                               pooling=pooling, weights=weights, style=style, name=name)


@register_model(ModelConfig(name="attention92", **_CONFIG))
def attention92(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
                name="attention92"):
    return _residual_attention(config=attention92.config, modules=ATTENTION_MODULES["attention92"],
                               input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                               pooling=pooling, weights=weights, style=style, name=name)


attention56.__doc__ = """Attention-56: one attention module per stage (31,883,432 parameters at 224x224x3).

    Reference: Wang et al., arXiv:1704.06904, Table 2 (31.9M).
""" + _DOC_ARGS + """
    Example:
        >>> import tfcnn
        >>> model = tfcnn.create_model("attention56", input_shape=(32, 32, 3), num_classes=10)
        >>> len(mask_layer_names(model))
        3
"""

attention92.__doc__ = """Attention-92: 1, 2 and 3 attention modules per stage (52,599,976 parameters at 224x224x3).

    Reference: Wang et al., arXiv:1704.06904, Table 2 (51.3M).
""" + _DOC_ARGS + """
    Example:
        >>> import tfcnn
        >>> model = tfcnn.create_model("attention92", input_shape=(32, 32, 3), num_classes=10)
        >>> len(mask_layer_names(model))
        6
"""
