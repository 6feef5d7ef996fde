"""GoogLeNet (Inception v1): nine Inception modules with 1x1 reductions, and two auxiliary classifiers.

Reference: C. Szegedy et al., "Going Deeper with Convolutions", CVPR 2015,
arXiv:1409.4842.

The modules are the rows of the paper's Table 1 (:data:`GOOGLENET_MODULES`:
#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) read by one function,
:func:`inception_module`. Layers are named ``inception_3a_branch2_reduce_conv``
and so on (underscores rather than the paper's ``inception_3a/3x3_reduce``:
``/`` is Keras's weight-scope separator, so it would make ``.h5`` group names
ambiguous).

Faithful to the paper by default: biases in every convolution, no batch norm,
local response normalisation after the first pooling and the second
convolution (Fig. 3), 40 % dropout before the classifier. The paper gives no
LRN constants; tfcnn uses Caffe's ``bvlc_googlenet`` ones (size 5,
alpha 1e-4, beta 0.75, k = 1) converted to TensorFlow's convention, which does
not divide alpha by the window size. ``use_bn=True`` gives the
torchvision-style variant (convolutions without bias, each followed by batch
norm, no LRN).

Parameter counts (1,000 classes, 224x224x3, auxiliary classifiers off):
    * 6,998,552 as the paper: the widths of Table 1 with kernels and biases.
      The paper's "6.8M" cannot be reproduced from its own table: its params
      column counts kernels in units of 1,024 and disagrees with its widths
      for most rows (4c lists 463K; its widths give 509,440 kernel weights =
      497.5K), so tfcnn asserts the count of the widths.
    * ``use_bn=True``: 7,005,832 trainable (7,020,392 with BN's moving
      statistics). torchvision's ``googlenet`` has 6,624,904 trainable
      parameters because its "5x5" branch uses 3x3 kernels (a bug it keeps for
      weight compatibility); a test checks that the difference is exactly
      those kernels' 16 missing weights per input-output channel pair.
    * ``aux_logits=True`` adds 3,188,840 (aux1 after 4a) + 3,190,888 (aux2 after 4d).
"""

from __future__ import annotations

from tfcnn._compat import keras
from tfcnn.errors import ModelError
from tfcnn.models._common import begin, check_rate, finish, model_input, pooled_head
from tfcnn.models.registry import ModelConfig, register_model

# Paper Table 1: (module, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); "poolN" = 3x3/2 max pooling.
GOOGLENET_MODULES = (
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    "pool3",
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128),
    "pool4",
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
)
AUX_AFTER = ("4a", "4d")  # Sec. 5: auxiliary classifiers on the outputs of 4a and 4d
AUX_LOSS_WEIGHT = 0.3  # Sec. 5: "their loss is added to the total loss with a discount weight of 0.3"
# Caffe bvlc_googlenet's LRN (local_size 5, alpha 1e-4, beta 0.75, k 1) in TensorFlow's convention (alpha / 5).
LRN_PARAMS = {"depth_radius": 2, "bias": 1.0, "alpha": 1e-4 / 5, "beta": 0.75}
MIN_INPUT_AUX = 65  # aux pooling is 5x5/3 VALID on the 1/16 map: ceil(H / 16) >= 5


def inception_module(x, L, widths, *, name="inception", use_bn=False):
    """One Inception module (paper Fig. 2b): 1x1, 1x1->3x3, 1x1->5x5 and 3x3 pool->1x1, concatenated.

    Args:
        x: input tensor.
        L: the layer style module.
        widths: ``(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)``.
        name: the module's prefix, e.g. ``inception_3a``.
        use_bn: batch norm after each convolution (no conv bias then).

    Returns:
        The concatenated output, a layer named ``{name}_out``.
    """
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = widths
    conv = {"use_bn": use_bn}
    b1 = L.conv_bn(x, n1x1, 1, name=f"{name}_branch1", **conv)
    b2 = L.conv_bn(x, n3x3_reduce, 1, name=f"{name}_branch2_reduce", **conv)
    b2 = L.conv_bn(b2, n3x3, 3, name=f"{name}_branch2", **conv)
    b3 = L.conv_bn(x, n5x5_reduce, 1, name=f"{name}_branch3_reduce", **conv)
    b3 = L.conv_bn(b3, n5x5, 5, name=f"{name}_branch3", **conv)
    b4 = L.max_pool(x, 3, strides=1, padding="same", name=f"{name}_branch4_pool")
    b4 = L.conv_bn(b4, pool_proj, 1, name=f"{name}_branch4", **conv)
    return L.concat([b1, b2, b3, b4], name=f"{name}_out")


def _aux_head(x, L, num_classes, *, name, use_bn):
    """Auxiliary classifier (Sec. 5): avgpool 5x5/3, 1x1 conv 128, FC 1024, dropout 0.7, FC classes."""
    x = L.avg_pool(x, 5, strides=3, padding="valid", name=f"{name}_pool")
    x = L.conv_bn(x, 128, 1, use_bn=use_bn, name=name)
    x = L.flatten(x, name=f"{name}_flatten")
    x = L.dense(x, 1024, activation="relu", name=f"{name}_fc")
    x = L.dropout(x, 0.7, name=f"{name}_dropout")
    return L.dense(x, num_classes, name=f"{name}_logits")


def _googlenet(*, config, input_shape, num_classes, include_top, pooling, weights, style, name, aux_logits,
               use_bn, dropout_rate):
    for argname, value in (("aux_logits", aux_logits), ("use_bn", use_bn)):
        if value is not True and value is not False:
            raise ModelError(f"{argname} must be True or False. Received: {argname}={value!r}")
    check_rate("dropout_rate", dropout_rate)
    if aux_logits and not include_top:
        raise ModelError("aux_logits=True needs include_top=True (the auxiliary heads are classifiers). "
                         f"Received: aux_logits={aux_logits!r}")
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    if aux_logits and min(input_shape[:2]) < MIN_INPUT_AUX:
        raise ModelError(f"with aux_logits=True googlenet needs at least {MIN_INPUT_AUX}x{MIN_INPUT_AUX} (the "
                         f"auxiliary 5x5/3 pooling). Received: input_shape={input_shape}")
    lrn = not use_bn

    inputs = x = model_input(input_shape)
    x = L.conv_bn(x, 64, 7, strides=2, use_bn=use_bn, name="conv1")
    x = L.max_pool(x, 3, strides=2, padding="same", name="pool1")
    if lrn:
        x = L.lrn(x, **LRN_PARAMS, name="pool1_lrn")
    x = L.conv_bn(x, 64, 1, use_bn=use_bn, name="conv2_reduce")
    x = L.conv_bn(x, 192, 3, use_bn=use_bn, name="conv2")
    if lrn:
        x = L.lrn(x, **LRN_PARAMS, name="conv2_lrn")
    x = L.max_pool(x, 3, strides=2, padding="same", name="pool2")
    aux = []
    for row in GOOGLENET_MODULES:
        if isinstance(row, str):
            x = L.max_pool(x, 3, strides=2, padding="same", name=row)
            continue
        module, *widths = row
        x = inception_module(x, L, widths, name=f"inception_{module}", use_bn=use_bn)
        if aux_logits and module in AUX_AFTER:
            aux.append(_aux_head(x, L, num_classes, name=f"aux{len(aux) + 1}", use_bn=use_bn))
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes,
                    dropout_rate=dropout_rate)
    return finish(inputs, [x, *aux] if aux else x, name=name, weights=plan)


@register_model(ModelConfig(
    name="googlenet", family="googlenet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
    reference="Szegedy et al., Going Deeper with Convolutions, arXiv:1409.4842",
    options={"aux_logits": False, "use_bn": False, "dropout_rate": 0.4},
))
def googlenet(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
              name="googlenet", aux_logits=False, use_bn=False, dropout_rate=0.4):
    """GoogLeNet / Inception v1 (6,998,552 parameters at 224x224x3, 1,000 classes, as the paper).

    Reference: Szegedy et al., arXiv:1409.4842, Table 1.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (the output stride), 65x65
            with ``aux_logits``; default 224x224x3.
        num_classes: size of the logits layers.
        include_top: global average pooling, dropout and the logits; otherwise
            the ``inception_5b_out`` map (pooled if ``pooling`` asks).
        pooling: with ``include_top=False``, ``'avg'``/``'max'``.
        weights: ``None`` or a path of weights saved from a tfcnn GoogLeNet.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        aux_logits: add the two auxiliary classifiers; the model then has
            three outputs ``[logits, aux1_logits, aux2_logits]`` (see
            :func:`aux_loss_weights` and :func:`without_aux`).
        use_bn: batch norm after every convolution instead of biases and LRN
            (the torchvision variant).
        dropout_rate: dropout before the classifier (paper: 0.4).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits (a list of
        three with ``aux_logits``).

    Raises:
        ValueError: ``input_shape`` too small or malformed; ``aux_logits``
            without ``include_top``; a non-boolean ``aux_logits``/``use_bn``;
            bad ``dropout_rate``.

    Example:
        >>> import tfcnn
        >>> from tfcnn.models.googlenet import aux_loss_weights, without_aux
        >>> model = tfcnn.create_model("googlenet", aux_logits=True, input_shape=(96, 96, 3), num_classes=10)
        >>> model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        ...               loss_weights=aux_loss_weights(model))
        >>> inference_model = without_aux(model)  # shares the trained weights
    """
    return _googlenet(config=googlenet.config, input_shape=input_shape, num_classes=num_classes,
                      include_top=include_top, pooling=pooling, weights=weights, style=style, name=name,
                      aux_logits=aux_logits, use_bn=use_bn, dropout_rate=dropout_rate)


def aux_loss_weights(model, aux_weight: float = AUX_LOSS_WEIGHT) -> dict[str, float]:
    """Loss weights for ``model.compile(loss_weights=...)``: 1 for ``logits``, 0.3 for each auxiliary head.

    Raises:
        ValueError: ``model`` has no ``logits`` output.
    """
    names = list(model.output_names)
    if "logits" not in names:
        raise ModelError(f"the model has no 'logits' output. Received: output_names={names}")
    return {n: 1.0 if n == "logits" else float(aux_weight) for n in names}


def without_aux(model):
    """The inference model: same input, only the main ``logits`` output, sharing ``model``'s weights.

    The auxiliary heads only help training (paper Sec. 5: "at inference time,
    these auxiliary networks are discarded").
    """
    return keras.Model(model.inputs, model.get_layer("logits").output, name=model.name)
