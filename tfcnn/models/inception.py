"""Inception v3: factorised convolutions (two 3x3 for a 5x5, 1xn then nx1).

Reference: C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna,
"Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
arXiv:1512.00567.

The network is the table :data:`INCEPTION_V3_MODULES` read by one module
function. It matches Keras Applications' ``InceptionV3`` exactly (same
topology, same branch order, convolutions without bias followed by batch
norm with ``scale=False`` and epsilon 1e-3; 23,851,784 parameters at
299x299x3 with 1,000 classes), so Keras weights map onto it layer by layer:
Keras names these layers by creation order (``conv2d_57``), and its own
``.h5`` loader pairs weighted layers in that order, which is tfcnn's graph
order too (the card's counterpart has no name map for that reason). Differences from Keras, none of which change
the computation: tfcnn's layers have meaningful names (``mixed4_branch3_2_conv``
rather than ``conv2d_57``), the classifier is named ``logits`` and outputs
logits, and the BN momentum is tfcnn's 0.9 rather than Keras's 0.99 (it only
affects training).

Like Keras (and unlike the paper's Table 1, which the TF-Slim and Keras
implementations do not follow literally), the 35x35 modules keep a 5x5
branch; the paper's factorisation appears in the 3x3-double branch and the
1x7/7x1 pairs of the 17x17 modules.
"""

from __future__ import annotations

from tfcnn.models._common import begin, finish, model_input, pooled_head
from tfcnn.models.cards import KerasCounterpart
from tfcnn.models.registry import ModelConfig, register_model


def _c(filters, kh, kw=None, strides=1, padding="same"):
    """A conv op of a branch: ``filters`` of ``kh x kw`` (square when ``kw`` is omitted)."""
    return ("conv", filters, (kh, kw or kh), strides, padding)


AVG = ("avg_pool",)  # 3x3/1 SAME average pooling, then a 1x1 projection
MAX = ("max_pool",)  # 3x3/2 VALID max pooling in the grid-size reductions


def _split(filters):
    """The 8x8 modules' fork: 1x3 and 3x1 convolutions on one tensor, concatenated (paper Fig. 7)."""
    return ("split", filters)


def _module_a(pool_proj):  # 35x35 (paper Fig. 5, with Keras's 5x5 branch)
    return ((_c(64, 1),), (_c(48, 1), _c(64, 5)), (_c(64, 1), _c(96, 3), _c(96, 3)), (AVG, _c(pool_proj, 1)))


def _module_c(n):  # 17x17, n x n factorised into 1xn and nx1 with n = 7 (paper Fig. 6)
    return ((_c(192, 1),),
            (_c(n, 1), _c(n, 1, 7), _c(192, 7, 1)),
            (_c(n, 1), _c(n, 7, 1), _c(n, 1, 7), _c(n, 7, 1), _c(192, 1, 7)),
            (AVG, _c(192, 1)))


_MODULE_E = ((_c(320, 1),), (_c(384, 1), _split(384)), (_c(448, 1), _c(384, 3), _split(384)), (AVG, _c(192, 1)))

# Stem (paper Table 1): (name, filters, kernel, strides, padding); 'pool' = 3x3/2 VALID max pooling.
INCEPTION_V3_STEM = (
    ("conv1a", 32, 3, 2, "valid"),
    ("conv2a", 32, 3, 1, "valid"),
    ("conv2b", 64, 3, 1, "same"),
    "pool1",
    ("conv3b", 80, 1, 1, "valid"),
    ("conv4a", 192, 3, 1, "valid"),
    "pool2",
)

# mixed0..mixed10: each module is a tuple of branches, each branch a sequence of ops.
INCEPTION_V3_MODULES = (
    _module_a(32), _module_a(64), _module_a(64),
    # mixed3: 35x35 -> 17x17 grid reduction (paper Fig. 10)
    ((_c(384, 3, strides=2, padding="valid"),), (_c(64, 1), _c(96, 3), _c(96, 3, strides=2, padding="valid")), (MAX,)),
    _module_c(128), _module_c(160), _module_c(160), _module_c(192),
    # mixed8: 17x17 -> 8x8 grid reduction
    ((_c(192, 1), _c(320, 3, strides=2, padding="valid")),
     (_c(192, 1), _c(192, 1, 7), _c(192, 7, 1), _c(192, 3, strides=2, padding="valid")), (MAX,)),
    _MODULE_E, _MODULE_E,
)

BN_EPSILON = 1e-3  # Keras Applications' (and TF-Slim's) value for Inception v3


def _conv(x, L, op, name):
    _, filters, kernel, strides, padding = op
    return L.conv_bn(x, filters, kernel, strides=strides, padding=padding, bn_scale=False, bn_epsilon=BN_EPSILON,
                     name=name)


def inception_module(x, L, branches, *, name="mixed"):
    """One Inception module: run each branch of the table on ``x`` and concatenate along channels.

    Layers are named ``{name}_branch{b}_{j}_conv/_bn/_relu``, ``{name}_branch{b}_pool``,
    ``{name}_branch{b}_split`` and the module's output ``{name}`` (Keras's ``mixedN``).
    """
    outputs = []
    for b, ops in enumerate(branches, start=1):
        y = x
        for j, op in enumerate(ops, start=1):
            prefix = f"{name}_branch{b}_{j}"
            if op is AVG:
                y = L.avg_pool(y, 3, strides=1, padding="same", name=f"{name}_branch{b}_pool")
            elif op is MAX:
                y = L.max_pool(y, 3, strides=2, padding="valid", name=f"{name}_branch{b}_pool")
            elif op[0] == "split":
                left = _conv(y, L, _c(op[1], 1, 3), f"{prefix}a")
                right = _conv(y, L, _c(op[1], 3, 1), f"{prefix}b")
                y = L.concat([left, right], name=f"{name}_branch{b}_split")
            else:
                y = _conv(y, L, op, prefix)
        outputs.append(y)
    return L.concat(outputs, name=name)


def _inception_v3(*, config, input_shape, num_classes, include_top, pooling, weights, style, name):
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)

    inputs = x = model_input(input_shape)
    for row in INCEPTION_V3_STEM:
        if isinstance(row, str):
            x = L.max_pool(x, 3, strides=2, padding="valid", name=row)
        else:
            layer, filters, kernel, strides, padding = row
            x = _conv(x, L, _c(filters, kernel, strides=strides, padding=padding), layer)
    for i, branches in enumerate(INCEPTION_V3_MODULES):
        x = inception_module(x, L, branches, name=f"mixed{i}")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


def _imagenet_file(args) -> str:
    return f"inception_v3_weights_tf_dim_ordering_tf_kernels{'' if args.get('include_top', True) else '_notop'}.h5"


@register_model(ModelConfig(
    name="inception_v3", family="inception", input_shape=(299, 299, 3), num_classes=1000, min_input_size=75,
    reference="Szegedy et al., Rethinking the Inception Architecture for Computer Vision, arXiv:1512.00567",
    keras=KerasCounterpart("InceptionV3", None, _imagenet_file, "inception_v3"),
))
def inception_v3(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                 style="keras", name="inception_v3"):
    """Inception v3 (23,851,784 parameters at 299x299x3, 1,000 classes), layer for layer Keras's ``InceptionV3``.

    Reference: Szegedy et al., arXiv:1512.00567.

    Args:
        input_shape: ``(H, W, C)``, at least 75x75 (as Keras); default 299x299x3.
        num_classes: size of the logits layer.
        include_top: global average pooling and the logits; otherwise the ``mixed10`` map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``, ``'imagenet'`` (Keras's ImageNet file, from the Keras
            cache or downloaded when online), the path of a Keras ``InceptionV3``
            ``.h5`` file, or a path of weights saved from a tfcnn Inception v3.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: ``input_shape`` smaller than 75x75 or malformed; bad ``pooling``/``num_classes``;
            weights that do not fit.
        PretrainedWeightsUnavailable: ``weights='imagenet'`` offline without a cached file.

    Example:
        >>> import tfcnn
        >>> model = tfcnn.create_model("inception_v3", input_shape=(75, 75, 3), num_classes=10)
        >>> model.get_layer("mixed10").output_shape
        (None, 1, 1, 2048)
    """
    return _inception_v3(config=inception_v3.config, input_shape=input_shape, num_classes=num_classes,
                         include_top=include_top, pooling=pooling, weights=weights, style=style, name=name)
