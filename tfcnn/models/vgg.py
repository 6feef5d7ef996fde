"""VGG: very deep networks from nothing but 3x3 convolutions and 2x2 max pools.

Reference: K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015, arXiv:1409.1556.

The paper's Table 1 is :data:`VGG_STAGES`: five blocks of 3x3 convolutions
(stride 1, SAME), each closed by a 2x2/2 max pool, then FC-4096, FC-4096 (each
with dropout 0.5 in training) and the classifier. Configurations A, B, D, E
are ``vgg11``, ``vgg13``, ``vgg16``, ``vgg19``; the ``_bn`` variants add batch
normalisation after every convolution (not in the paper; torchvision's
``vgg*_bn``), whose convolutions then drop their bias because BN's beta
replaces it.

About 90 % of VGG16's 138M parameters sit in the FC layers (fc1 alone is
7x7x512x4096 = 102.8M), which is why later networks replaced them with global
average pooling.

Layer names are the same in all three styles: ``block{b}_conv_{i}_conv`` /
``_relu`` (the TF-Slim ``repeat`` numbering), ``block{b}_pool``, ``fc1``, ``fc2``,
``logits``. ``vgg16`` and ``vgg19`` map onto Keras Applications' ``VGG16`` and
``VGG19`` (``block1_conv1``, ``fc1``, ``predictions``) through
:mod:`tfcnn.models._pretrained`. Keras's VGG has no dropout layers; dropout
is the identity at inference, so logits and parameter counts still agree.

With ``style='slim'`` the network is written as the TF-Slim original writes
it (``slim.repeat`` inside ``slim.arg_scope``; see :func:`_vgg_slim`).
"""

from __future__ import annotations

import re

from tfcnn.layers import slim
from tfcnn.layers._common import l2
from tfcnn.layers.raw import activation_fn
from tfcnn.models._common import begin, check_rate, check_weight_decay, fc_head, finish, model_input
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.registry import ModelConfig, register_model

# Table 1 of the paper: per block, (number of 3x3 convolutions, filters).
VGG_STAGES = {
    "A": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),  # vgg11
    "B": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),  # vgg13
    "D": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),  # vgg16
    "E": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),  # vgg19
}
VGG_FC = (("fc1", 4096), ("fc2", 4096))

REFERENCE = "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, arXiv:1409.1556"
OPTIONS = {"dropout_rate": 0.5, "weight_decay": None}


def _vgg_facade(inputs, stages, L, *, batch_norm, dropout_rate, weight_decay, include_top, pooling, num_classes):
    """VGG through the style façade (keras and raw styles)."""
    x = inputs
    for b, (repeats, filters) in enumerate(stages, start=1):
        for i in range(1, repeats + 1):
            x = L.conv_bn(x, filters, 3, use_bn=batch_norm, activation="relu", weight_decay=weight_decay,
                          name=f"block{b}_conv_{i}")
        x = L.max_pool(x, 2, strides=2, name=f"block{b}_pool")
    return fc_head(x, L, VGG_FC, include_top=include_top, pooling=pooling, num_classes=num_classes,
                   dropout_rate=dropout_rate, weight_decay=weight_decay)


def _vgg_slim(inputs, stages, *, batch_norm, dropout_rate, weight_decay, include_top, pooling, num_classes):
    """VGG as TF-Slim writes it (``nets/vgg.py``): ``repeat`` + ``arg_scope``, same layers as the façade build."""
    # scale=True: tfcnn's BN keeps gamma in every style, so weights copy across by name.
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=activation_fn("relu"),
                        weights_regularizer=l2(weight_decay)):
        with slim.arg_scope([slim.conv2d], padding="SAME", normalizer_fn=slim.batch_norm if batch_norm else None,
                            normalizer_params={"scale": True}):
            net = inputs
            for b, (repeats, filters) in enumerate(stages, start=1):
                net = slim.repeat(net, repeats, slim.conv2d, filters, [3, 3], scope=f"block{b}_conv")
                net = slim.max_pool2d(net, [2, 2], scope=f"block{b}_pool")
        if not include_top:
            return slim.global_pool(net, pooling.upper(), scope=f"{pooling}_pool") if pooling else net
        net = slim.flatten(net, scope="flatten")
        for fc, units in VGG_FC:
            net = slim.fully_connected(net, units, scope=fc)
            if dropout_rate:
                net = slim.dropout(net, keep_prob=1.0 - dropout_rate, scope=f"{fc}_dropout")
        return slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")


def _vgg(config_letter, *, config, input_shape, num_classes, include_top, pooling, weights, style, name,
         batch_norm, dropout_rate, weight_decay):
    check_weight_decay(weight_decay)
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    stages = VGG_STAGES[config_letter]
    inputs = model_input(input_shape)
    kwargs = {"batch_norm": batch_norm, "dropout_rate": dropout_rate, "weight_decay": weight_decay,
              "include_top": include_top, "pooling": pooling, "num_classes": num_classes}
    if style == "slim":
        outputs = _vgg_slim(inputs, stages, **kwargs)
    else:
        outputs = _vgg_facade(inputs, stages, L, **kwargs)
    return finish(inputs, outputs, name=name, weights=plan)


def _keras_name(layer_name: str) -> str | None:
    """tfcnn VGG layer -> Keras Applications layer (``block1_conv_1_conv`` -> ``block1_conv1``)."""
    m = re.fullmatch(r"block(\d)_conv_(\d)_conv", layer_name)
    if m:
        return f"block{m[1]}_conv{m[2]}"
    return {"fc1": "fc1", "fc2": "fc2", "logits": "predictions"}.get(layer_name)


def _imagenet_file(stem):
    def file_for(args):
        return f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if args.get('include_top', True) else '_notop'}.h5"

    return file_for


def _keras(name):
    """Keras ships VGG-16 and VGG-19 (without batch norm)."""
    if name not in ("vgg16", "vgg19"):
        return None
    return KerasCounterpart(name.upper(), _keras_name, _imagenet_file(name), name)


def _config(name, letter, batch_norm):
    return ModelConfig(
        name=name, family="vgg", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
        reference=REFERENCE + (" (+ batch norm, as torchvision's vgg*_bn)" if batch_norm else f", configuration {letter}"),
        options=OPTIONS, keras=_keras(name))


@register_model(_config("vgg11", "A", False))
def vgg11(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
          name="vgg11", dropout_rate=0.5, weight_decay=None):
    """VGG-11, configuration A: 132,863,336 parameters at 224x224x3, 1000 classes (paper Table 2: 133M).

    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file (Keras ships no VGG-11).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("A", config=vgg11.config, **locals(), batch_norm=False)


@register_model(_config("vgg13", "B", False))
def vgg13(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
          name="vgg13", dropout_rate=0.5, weight_decay=None):
    """VGG-13, configuration B: 133,047,848 parameters at 224x224x3, 1000 classes (paper Table 2: 133M).

    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file (Keras ships no VGG-13).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("B", config=vgg13.config, **locals(), batch_norm=False)


@register_model(_config("vgg16", "D", False))
def vgg16(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
          name="vgg16", dropout_rate=0.5, weight_decay=None):
    """VGG-16, configuration D: 138,357,544 parameters at 224x224x3, 1000 classes (paper Table 2: 138M).

    Identical in parameters and logits to Keras Applications' ``VGG16`` once
    weights are copied (``tests/test_zoo_keras_fidelity.py``).

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (five 2x2 pools); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep fc1, fc2 and the logits; otherwise return the last feature map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file, from the Keras cache or downloaded
            when online); the path of a Keras Applications ``VGG16`` ``.h5`` file; or a
            tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` (written as TF-Slim's ``vgg_16``) or ``'raw'``.
        name: the model's name.
        dropout_rate: dropout after fc1 and fc2 (paper: 0.5).
        weight_decay: L2 coefficient on kernels (paper: 5e-4); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``dropout_rate``.
        tfcnn.models._pretrained.PretrainedWeightsUnavailable: ``weights='imagenet'``
            offline with no cached file.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("vgg16").count_params()
        138357544
        >>> cifar = tfcnn.create_model("vgg16", input_shape=(32, 32, 3), num_classes=10)
    """
    return _vgg("D", config=vgg16.config, **locals(), batch_norm=False)


@register_model(_config("vgg19", "E", False))
def vgg19(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
          name="vgg19", dropout_rate=0.5, weight_decay=None):
    """VGG-19, configuration E: 143,667,240 parameters at 224x224x3, 1000 classes (paper Table 2: 144M).

    Arguments as :func:`vgg16`; ``weights`` also takes ``'imagenet'`` or a Keras Applications ``VGG19`` file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("E", config=vgg19.config, **locals(), batch_norm=False)


@register_model(_config("vgg11_bn", "A", True))
def vgg11_bn(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="vgg11_bn", dropout_rate=0.5, weight_decay=None):
    """VGG configuration A with BN after every conv; counts: its card (``tfcnn.models.cards.FACTS``).

    torchvision's ``vgg11_bn`` has 132,868,840 parameters; tfcnn drops the conv biases that BN makes
    redundant and counts BN's moving statistics as (non-trainable) parameters, as Keras does.
    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("A", config=vgg11_bn.config, **locals(), batch_norm=True)


@register_model(_config("vgg13_bn", "B", True))
def vgg13_bn(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="vgg13_bn", dropout_rate=0.5, weight_decay=None):
    """VGG configuration B with BN after every conv; counts: its card (``tfcnn.models.cards.FACTS``).

    torchvision's ``vgg13_bn`` has 133,053,736 parameters; tfcnn drops the conv biases that BN makes
    redundant and counts BN's moving statistics as (non-trainable) parameters, as Keras does.
    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("B", config=vgg13_bn.config, **locals(), batch_norm=True)


@register_model(_config("vgg16_bn", "D", True))
def vgg16_bn(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="vgg16_bn", dropout_rate=0.5, weight_decay=None):
    """VGG configuration D with BN after every conv; counts: its card (``tfcnn.models.cards.FACTS``).

    torchvision's ``vgg16_bn`` has 138,365,992 parameters; tfcnn drops the conv biases that BN makes
    redundant and counts BN's moving statistics as (non-trainable) parameters, as Keras does.
    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("D", config=vgg16_bn.config, **locals(), batch_norm=True)


@register_model(_config("vgg19_bn", "E", True))
def vgg19_bn(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="vgg19_bn", dropout_rate=0.5, weight_decay=None):
    """VGG configuration E with BN after every conv; counts: its card (``tfcnn.models.cards.FACTS``).

    torchvision's ``vgg19_bn`` has 143,678,248 parameters; tfcnn drops the conv biases that BN makes
    redundant and counts BN's moving statistics as (non-trainable) parameters, as Keras does.
    Arguments as :func:`vgg16`; ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _vgg("E", config=vgg19_bn.config, **locals(), batch_norm=True)
