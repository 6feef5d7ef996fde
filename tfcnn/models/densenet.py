"""DenseNet-121, -169 and -201: every layer sees the feature maps of all layers before it.

Reference: G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely
Connected Convolutional Networks", CVPR 2017, arXiv:1608.06993.

Not in the notes, but the natural contrast to ResNet: where a residual unit
*adds* its output to its input (``x + F(x)``, the width stays), a dense layer
*concatenates* (``[x, F(x)]``): each layer adds only ``growth_rate`` (k = 32)
new channels, and a block of n layers grows its input by n*k. Every layer is
BN -> ReLU -> 1x1 conv to 4k ("bottleneck", the paper's DenseNet-B) -> BN ->
ReLU -> 3x3 conv to k (pre-activation, as in He et al.'s second ResNet
paper). Between blocks a *transition* (BN -> ReLU -> 1x1 conv halving the
channels, the paper's compression theta = 0.5, then 2x2 average pooling)
shrinks the map. Block sizes (Table 1): 121 = (6, 12, 24, 16), 169 =
(6, 12, 32, 32), 201 = (6, 12, 48, 32).

tfcnn reproduces Keras Applications' ``DenseNet121/169/201`` layer for layer
(identical parameter counts and logits once weights are copied; BN epsilon
1.001e-5 as Keras's, momentum tfcnn's 0.9 rather than 0.99, training only).
"""

from __future__ import annotations

from tfcnn.models._common import begin, check_weight_decay, finish, model_input, pooled_head
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.registry import ModelConfig, register_model

REFERENCE = "Huang et al., Densely Connected Convolutional Networks, CVPR 2017 (arXiv:1608.06993)"
BN_EPSILON = 1.001e-5
GROWTH_RATE = 32
COMPRESSION = 0.5
STEM = 64
BLOCKS = {"densenet121": (6, 12, 24, 16), "densenet169": (6, 12, 32, 32), "densenet201": (6, 12, 48, 32)}


def dense_layer(x, L, *, growth_rate, weight_decay, name):
    """BN-ReLU-1x1 conv (4k) -> BN-ReLU-3x3 conv (k), concatenated to the input: the block grows by k channels."""
    y = L.bn_act(x, bn_epsilon=BN_EPSILON, name=f"{name}_0")
    y = L.conv_bn(y, 4 * growth_rate, 1, use_bn=False, use_bias=False, activation=None, weight_decay=weight_decay,
                  name=f"{name}_1")
    y = L.bn_act(y, bn_epsilon=BN_EPSILON, name=f"{name}_1")
    y = L.conv_bn(y, growth_rate, 3, use_bn=False, use_bias=False, activation=None, weight_decay=weight_decay,
                  name=f"{name}_2")
    return L.concat([x, y], name=f"{name}_concat")


def transition(x, L, *, weight_decay, name):
    """BN-ReLU-1x1 conv to ``COMPRESSION`` of the channels, then 2x2 average pooling."""
    y = L.bn_act(x, bn_epsilon=BN_EPSILON, name=name)
    y = L.conv_bn(y, int(int(x.shape[-1]) * COMPRESSION), 1, use_bn=False, use_bias=False, activation=None,
                  weight_decay=weight_decay, name=name)
    return L.avg_pool(y, 2, strides=2, name=f"{name}_pool")


def _densenet(*, card, input_shape, num_classes, include_top, pooling, weights, style, name, weight_decay):
    check_weight_decay(weight_decay)
    input_shape, L, plan = begin(card, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    blocks = BLOCKS[card.name]

    inputs = x = model_input(input_shape)
    x = L.zero_pad(x, 3, name="conv1_pad")
    x = L.conv_bn(x, STEM, 7, strides=2, padding="valid", bn_epsilon=BN_EPSILON, weight_decay=weight_decay,
                  name="conv1")
    x = L.zero_pad(x, 1, name="pool1_pad")
    x = L.max_pool(x, 3, strides=2, name="pool1")
    for stage, n in enumerate(blocks, start=2):
        for i in range(1, n + 1):
            x = dense_layer(x, L, growth_rate=GROWTH_RATE, weight_decay=weight_decay, name=f"conv{stage}_block{i}")
        if stage < 1 + len(blocks):
            x = transition(x, L, weight_decay=weight_decay, name=f"pool{stage}")
    x = L.bn_act(x, bn_epsilon=BN_EPSILON, name="final")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


# ----- Keras Applications correspondence -----

def _keras_name(layer_name: str) -> str | None:
    """tfcnn's names are Keras's but for the stem (``conv1/conv``), the last BN (``bn``) and the logits."""
    return {"conv1_conv": "conv1/conv", "conv1_bn": "conv1/bn", "final_bn": "bn",
            "logits": "predictions"}.get(layer_name, layer_name)


def _imagenet_file(model):
    def file_for(args):
        if args.get("include_top", True) and tuple(args.get("input_shape") or (224, 224, 3))[:2] != (224, 224):
            return None
        return f"{model}_weights_tf_dim_ordering_tf_kernels{'' if args.get('include_top', True) else '_notop'}.h5"
    return file_for


def _card(model):
    counterpart = KerasCounterpart("DenseNet" + model[len("densenet"):], _keras_name, _imagenet_file(model),
                                   "densenet")
    return ModelConfig(name=model, family="densenet", input_shape=(224, 224, 3), num_classes=1000,
                       min_input_size=32, reference=REFERENCE, options={"weight_decay": None}, keras=counterpart)


@register_model(_card("densenet121"))
def densenet121(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
                name="densenet121", weight_decay=None):
    """DenseNet-121: 8,062,504 parameters at 224x224x3, 1000 classes (as Keras's ``DenseNet121``).

    7,978,856 of them trainable; the paper's Table 3 reports 8.0M.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file); the path of a Keras Applications
            ``DenseNet121`` ``.h5`` file; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        weight_decay: L2 coefficient on kernels (paper: 1e-4); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``weight_decay``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("densenet121").count_params()
        8062504
    """
    return _densenet(card=densenet121.config, **locals())


@register_model(_card("densenet169"))
def densenet169(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
                name="densenet169", weight_decay=None):
    """DenseNet-169: 14,307,880 parameters at 224x224x3 (as Keras's ``DenseNet169``; paper: 14.1M).

    Arguments as :func:`densenet121`.
    """
    return _densenet(card=densenet169.config, **locals())


@register_model(_card("densenet201"))
def densenet201(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
                name="densenet201", weight_decay=None):
    """DenseNet-201: 20,242,984 parameters at 224x224x3 (as Keras's ``DenseNet201``; paper: 20.0M).

    Arguments as :func:`densenet121`.
    """
    return _densenet(card=densenet201.config, **locals())
