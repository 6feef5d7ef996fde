"""AlexNet and ZFNet: the two ImageNet winners that made CNNs mainstream.

References:
    A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with Deep
    Convolutional Neural Networks", NIPS 2012.
    M. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional
    Networks", ECCV 2014, arXiv:1311.2901.

Both are five convolutions and three fully connected layers, read from one
table per network by :func:`_alexnet_family`.

Input size. The AlexNet paper says 224x224, but its 11x11/4 first layer only
gives the paper's 55x55 map on a 227x227 input (the Caffe convention). tfcnn
keeps the paper's 224x224 and pads the first convolution SAME
(ceil(224/4) = 56 -> pools 27, 13, 6), so the classifier sees the paper's
6x6x256 = 9,216 features and the parameter count is the paper's.

Local response normalisation. The paper's formula,
``b = a / (k + alpha * sum_{5 neighbours} a**2) ** beta`` with ``k=2, n=5,
alpha=1e-4, beta=0.75``, is exactly ``tf.nn.local_response_normalization``
with ``depth_radius=2, bias=2, alpha=1e-4, beta=0.75``: the paper does *not*
divide alpha by n. Caffe's LRN layer does (``alpha/n``, with ``k=1``), so
ports of Caffe's ``bvlc_alexnet`` use ``alpha=2e-5, bias=1``; tfcnn follows
the paper. A test checks the layer against the paper's formula.

Parameter counts (1,000 classes, biases everywhere, no BN):
    * ``alexnet(groups=2)``: 60,965,224, the paper's two-GPU layout (conv2,
      conv4, conv5 see only their own GPU's half of the channels). This is
      the count of Caffe's ``bvlc_alexnet`` (the "60 million parameters" of
      the paper).
    * ``alexnet(groups=1)`` (default): 62,378,344, the same widths as one
      tower. (torchvision's ``alexnet`` is 61,100,840 because it uses the
      "one weird trick" widths 64/192/384/256/256, not the paper's.)
    * ``zfnet``: 62,357,608 from the layer sizes of Zeiler & Fergus Fig. 3
      (7x7 first layer: 14,208 weights instead of 34,944).
"""

from __future__ import annotations

from tfcnn.errors import ModelError
from tfcnn.models._common import begin, check_rate, fc_head, finish, model_input
from tfcnn.models.registry import ModelConfig, register_model

# (name, filters, kernel, stride, padding, grouped, then: tuple of 'lrn'/'pool' in order).
# AlexNet (paper Sec. 3.5, Fig. 2): LRN follows conv1 and conv2; max pooling follows both LRNs and conv5.
ALEXNET_CONVS = (
    ("conv1", 96, 11, 4, "same", False, ("lrn", "pool")),
    ("conv2", 256, 5, 1, "same", True, ("lrn", "pool")),
    ("conv3", 384, 3, 1, "same", False, ()),
    ("conv4", 384, 3, 1, "same", True, ()),
    ("conv5", 256, 3, 1, "same", True, ("pool",)),
)
# ZFNet (Fig. 3): 7x7/2 then 5x5/2; pooling precedes the contrast normalisation. The figure's map sizes
# (110, 55, 26, 13, 13, 6) need a 1-pixel pad before conv1 and SAME (Caffe ceil-mode) pools 1 and 2.
ZFNET_CONVS = (
    ("conv1", 96, 7, 2, "pad1", False, ("pool_same", "lrn")),
    ("conv2", 256, 5, 2, "valid", False, ("pool_same", "lrn")),
    ("conv3", 384, 3, 1, "same", False, ()),
    ("conv4", 384, 3, 1, "same", False, ()),
    ("conv5", 256, 3, 1, "same", False, ("pool",)),
)
FC_UNITS = (("fc6", 4096), ("fc7", 4096))
# Paper constants (AlexNet Sec. 3.3), in TensorFlow's convention (which is the paper's: no alpha/n).
LRN_PARAMS = {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}
GROUPS = (1, 2)


def _alexnet_family(*, config, table, input_shape, num_classes, include_top, pooling, weights, style, name,
                    groups, dropout_rate):
    if isinstance(groups, bool) or groups not in GROUPS:
        raise ModelError(f"groups must be 1 (one tower) or 2 (the paper's two GPUs). Received: groups={groups!r}")
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)

    inputs = x = model_input(input_shape)
    for layer, filters, kernel, stride, padding, grouped, after in table:
        if padding == "pad1":
            x = L.zero_pad(x, 1, name=f"{layer}_pad")
            padding = "valid"
        x = L.conv_bn(x, filters, kernel, strides=stride, padding=padding, use_bn=False,
                      groups=groups if grouped else 1, name=layer)
        pool_index = layer[-1]
        for op in after:
            if op == "lrn":
                x = L.lrn(x, **LRN_PARAMS, name=f"{layer}_lrn")
            else:  # overlapping 3x3/2 max pooling (AlexNet Sec. 3.4)
                x = L.max_pool(x, 3, strides=2, padding="same" if op == "pool_same" else "valid",
                               name=f"pool{pool_index}")
    x = fc_head(x, L, FC_UNITS, include_top=include_top, pooling=pooling, num_classes=num_classes,
                dropout_rate=dropout_rate)
    return finish(inputs, x, name=name, weights=plan)


@register_model(ModelConfig(
    name="alexnet", family="alexnet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=57,
    reference="Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep CNNs, NIPS 2012",
    options={"groups": 1, "dropout_rate": 0.5},
))
def alexnet(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
            name="alexnet", groups=1, dropout_rate=0.5):
    """AlexNet: 62,378,344 parameters as one tower, 60,965,224 with ``groups=2`` (1,000 classes).

    Reference: Krizhevsky et al., NIPS 2012. ``groups=2`` counts as Caffe's ``bvlc_alexnet``.

    Args:
        input_shape: ``(H, W, C)``, at least 57x57; default 224x224x3. The
            classifier's input size (and so ``fc6``) follows the input.
        num_classes: size of the logits layer.
        include_top: keep fc6, fc7 and the logits; otherwise return the pool5 map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a path of weights saved from a tfcnn AlexNet.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        groups: 1 (one tower) or 2 (the paper's two-GPU split of conv2, conv4, conv5).
        dropout_rate: dropout after fc6 and fc7 (the paper's 0.5).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: ``input_shape`` too small or malformed, ``groups`` not 1 or 2, bad ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("alexnet", groups=2).count_params()
        60965224
    """
    return _alexnet_family(config=alexnet.config, table=ALEXNET_CONVS, input_shape=input_shape,
                           num_classes=num_classes, include_top=include_top, pooling=pooling, weights=weights,
                           style=style, name=name, groups=groups, dropout_rate=dropout_rate)


@register_model(ModelConfig(
    name="zfnet", family="alexnet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=53,
    reference="Zeiler, Fergus, Visualizing and Understanding Convolutional Networks, arXiv:1311.2901",
    options={"dropout_rate": 0.5},
))
def zfnet(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
          name="zfnet", dropout_rate=0.5):
    """ZFNet: AlexNet with a 7x7/2 first layer and a 5x5/2 second layer, 62,357,608 parameters.

    Reference: Zeiler & Fergus, arXiv:1311.2901, Fig. 3 (one tower: dense
    connections in every layer, so no ``groups`` option).

    Args:
        input_shape: ``(H, W, C)``, at least 53x53; default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep fc6, fc7 and the logits; otherwise return the pool5 map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a path of weights saved from a tfcnn ZFNet.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        dropout_rate: dropout after fc6 and fc7.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: ``input_shape`` too small or malformed, bad ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("zfnet").get_layer("conv1_conv").kernel.shape
        TensorShape([7, 7, 3, 96])
    """
    return _alexnet_family(config=zfnet.config, table=ZFNET_CONVS, input_shape=input_shape,
                           num_classes=num_classes, include_top=include_top, pooling=pooling, weights=weights,
                           style=style, name=name, groups=1, dropout_rate=dropout_rate)
