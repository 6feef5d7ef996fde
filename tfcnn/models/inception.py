"""Inception v3: factorised convolutions (two 3x3 for a 5x5, 1xn then nx1).

Reference: C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna,
"Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
arXiv:1512.00567.

The network is the table :data:`INCEPTION_V3_MODULES` read by one module
function. It matches Keras Applications' ``InceptionV3`` exactly (same
topology, same branch order, convolutions without bias followed by batch
norm with ``scale=False`` and epsilon 1e-3; 23,851,784 parameters at
299x299x3 with 1,000 classes), so Keras weights map onto it layer by layer
(:func:`keras_layer_mapping`). Differences from Keras, none of which change
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

import os

from tfcnn.layers import get_style
from tfcnn.models import _pretrained
from tfcnn.models._common import check_head, check_input_shape, finish, model_input, pooled_head
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


def _conv(L, x, op, name):
    _, filters, kernel, strides, padding = op
    return L.conv_bn(x, filters, kernel, strides=strides, padding=padding, bn_scale=False, bn_epsilon=BN_EPSILON,
                     name=name)


def inception_module(L, x, branches, *, name):
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
                left = _conv(L, y, _c(op[1], 1, 3), f"{prefix}a")
                right = _conv(L, y, _c(op[1], 3, 1), f"{prefix}b")
                y = L.concat([left, right], name=f"{name}_branch{b}_split")
            else:
                y = _conv(L, y, op, prefix)
        outputs.append(y)
    return L.concat(outputs, name=name)


def _inception_v3(*, config, input_shape, num_classes, include_top, pooling, weights, style, name):
    input_shape = check_input_shape(config, input_shape)
    check_head(include_top, pooling, num_classes)
    if isinstance(weights, str) and weights == "imagenet" and include_top and num_classes != 1000:
        raise ValueError(f"weights='imagenet' with include_top=True needs num_classes=1000. "
                         f"Received: num_classes={num_classes!r}")
    L = get_style(style)

    inputs = x = model_input(input_shape)
    for row in INCEPTION_V3_STEM:
        if isinstance(row, str):
            x = L.max_pool(x, 3, strides=2, padding="valid", name=row)
        else:
            layer, filters, kernel, strides, padding = row
            x = _conv(L, x, _c(filters, kernel, strides=strides, padding=padding), layer)
    for i, branches in enumerate(INCEPTION_V3_MODULES):
        x = inception_module(L, x, branches, name=f"mixed{i}")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    model = finish(inputs, x, name=name)
    _load(model, weights, include_top=include_top, input_shape=input_shape, num_classes=num_classes,
          pooling=pooling)
    return model


@register_model(ModelConfig(
    name="inception_v3", family="inception", input_shape=(299, 299, 3), num_classes=1000, min_input_size=75,
    reference="Szegedy et al., Rethinking the Inception Architecture for Computer Vision, arXiv:1512.00567",
    train={"dataset": "cifar10", "epochs": 30, "batch_size": 32, "optimizer": "rmsprop", "lr": 1e-3,
           "input_size": 75},
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


def keras_layer_mapping(keras_model, tfcnn_model) -> dict[str, str]:
    """Map the weighted layers of Keras's ``InceptionV3`` onto tfcnn's by graph position.

    Keras names these layers ``conv2d_N``/``batch_normalization_N`` (numbers
    depend on what was built before), and its own ``.h5`` loader matches them
    by topological order. Both models have the same graph, so their weighted
    layers pair up in topological order; the layer types and weight shapes are
    checked pair by pair.

    Returns:
        ``{keras_layer_name: tfcnn_layer_name}``.

    Raises:
        ValueError: the models differ in structure (count, type or shapes).

    Example:
        >>> from tfcnn._compat import keras
        >>> k = keras.applications.InceptionV3(weights=None, input_shape=(75, 75, 3), classes=10)
        >>> t = inception_v3(input_shape=(75, 75, 3), num_classes=10)
        >>> len(keras_layer_mapping(k, t))
        189
    """
    src = [layer for layer in keras_model.layers if layer.weights]
    dst = [layer for layer in tfcnn_model.layers if layer.weights]
    if len(src) != len(dst):
        raise ValueError(f"the models have different numbers of weighted layers. Received: {len(src)} vs {len(dst)}")
    mapping = {}
    for a, b in zip(src, dst):
        shapes_a = [tuple(w.shape) for w in a.weights]
        shapes_b = [tuple(w.shape) for w in b.weights]
        if shapes_a != shapes_b or _kind(a) != _kind(b):
            raise ValueError(f"layers do not correspond: {a.name} {shapes_a} vs {b.name} {shapes_b}")
        mapping[a.name] = b.name
    return mapping


def _kind(layer) -> str:
    """'conv', 'bn' or 'dense' for the Keras and raw/slim layer classes alike."""
    cls = type(layer).__name__.lower()
    for kind, keys in (("bn", ("batchnorm", "batchnormalization")), ("conv", ("conv",)), ("dense", ("dense",))):
        if any(k in cls for k in keys):
            return kind
    return cls


def copy_keras_weights(keras_model, tfcnn_model) -> int:
    """Copy a Keras Applications ``InceptionV3``'s weights into a tfcnn ``inception_v3`` (any style).

    Returns:
        The number of layers copied.

    Raises:
        ValueError: the models differ in structure.
    """
    mapping = keras_layer_mapping(keras_model, tfcnn_model)
    for src, dst in mapping.items():
        tfcnn_model.get_layer(dst).set_weights(keras_model.get_layer(src).get_weights())
    return len(mapping)


# ---------------------------------------------------------------------------
# Keras Applications weights
# ---------------------------------------------------------------------------


def conv_names_in_keras_order() -> list[str]:
    """tfcnn's conv-block names in the order Keras's ``InceptionV3`` code creates its ``conv2d_bn`` layers.

    The builder walks the stem and the module table in Keras's code order, so
    the k-th name here is Keras's k-th ``Conv2D``/``BatchNormalization`` pair.
    """
    names = [row[0] for row in INCEPTION_V3_STEM if not isinstance(row, str)]
    for i, branches in enumerate(INCEPTION_V3_MODULES):
        for b, ops in enumerate(branches, start=1):
            for j, op in enumerate(ops, start=1):
                if op[0] == "split":
                    names += [f"mixed{i}_branch{b}_{j}a", f"mixed{i}_branch{b}_{j}b"]
                elif op[0] == "conv":
                    names.append(f"mixed{i}_branch{b}_{j}")
    return names


def keras_name(layer_name: str) -> str | None:
    """Keras's name for a tfcnn layer in a freshly started session (``conv2d``, ``conv2d_1``, ...).

    Keras numbers its unnamed layers per session, so this name map is exact for
    a file saved from the first ``InceptionV3`` built in a process; the
    ``weights=`` loader does not rely on it and pairs layers by graph order,
    as Keras's own ``.h5`` loader does.
    """
    if layer_name == "logits":
        return "predictions"
    for suffix, keras_base in (("_conv", "conv2d"), ("_bn", "batch_normalization")):
        if layer_name.endswith(suffix):
            order = _KERAS_ORDER.get(layer_name[: -len(suffix)])
            if order is not None:
                return keras_base if order == 0 else f"{keras_base}_{order}"
    return None


_KERAS_ORDER = {name: k for k, name in enumerate(conv_names_in_keras_order())}
_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels{}.h5"


def _imagenet_file(args) -> tuple[str, str]:
    file_name = _WEIGHTS_FILE.format("" if args.get("include_top", True) else "_notop")
    return file_name, f"{_pretrained.KERAS_WEIGHTS_URL}inception_v3/{file_name}"


_pretrained.register_keras_application("inception_v3", "InceptionV3", keras_name, imagenet_file=_imagenet_file)


def _load(model, weights, **builder_args) -> None:
    """``weights=``: None, 'imagenet', a Keras ``.h5`` (paired by graph order) or a tfcnn-saved file."""
    is_h5 = isinstance(weights, (str, os.PathLike)) and str(weights).endswith((".h5", ".hdf5"))
    if not (weights == "imagenet" or (is_h5 and os.path.isfile(weights))):
        _pretrained.load_pretrained(model, weights, name="inception_v3", **builder_args)
        return
    if weights == "imagenet":  # num_classes was checked before building
        path = _pretrained.imagenet_path("inception_v3", builder_args)
    else:
        path = weights
    source = _pretrained.read_h5_weights(path)
    own = [layer.name for layer in model.layers if layer.weights]
    if set(own) <= set(source):  # a tfcnn-saved file
        name_map = {n: n for n in own}
    elif len(source) == len(own):  # Keras's layer order is the same graph order as tfcnn's
        name_map = dict(zip(own, source))
    else:
        raise ValueError(f"the file has {len(source)} weighted layers, {model.name} has {len(own)}. "
                         f"Received: weights={str(weights)!r}")
    _pretrained.apply_weights(model, source, name_map.get, what=f"weights={str(weights)!r}")
