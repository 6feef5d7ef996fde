"""ResNet v1 and SE-ResNet: residual learning, ``y = F(x) + x``.

Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016, arXiv:1512.03385. SE-ResNet: J. Hu, L. Shen, G. Sun,
"Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507.

The paper's Table 1 is :data:`RESNET_STAGES`: a 7x7/2 stem and a 3x3/2 max
pool, four stages of basic (two 3x3) or bottleneck (1x1, 3x3, 1x1 with 4x
expansion) blocks, the first block of stages 2-4 down-sampling by 2 with a
projection shortcut (option B), then global average pooling and one FC layer.

Two forms, chosen by ``variant``:

* ``'keras'``: Keras Applications' ResNet: every convolution keeps a bias even
  though BN follows it, BN epsilon 1.001e-5. Its parameter counts and logits
  equal ``tf_keras.applications.ResNet50/101/152`` (25,636,712 for ResNet-50)
  and Keras's ImageNet weights load as they are.
* ``'paper'``: no conv biases (BN's beta makes them redundant), BN epsilon
  1e-5, as the paper's Caffe models and torchvision (25,557,032 trainable
  parameters for ResNet-50).

Both use the explicit paddings of the reference code (3 before the 7x7/2
convolution, 1 before the 3x3/2 pool, both then VALID) and put the
down-sampling stride in the first 1x1 convolution of a bottleneck, as the
paper's models do (torchvision's "v1.5" moves it to the 3x3; same parameters).
Default: ``'keras'`` for ResNet-50/101/152, which Keras ships, so
``weights='imagenet'`` and Keras ``.h5`` files work without options;
``'paper'`` for ResNet-18/34 and SE-ResNet-50, which Keras does not ship and
whose reference counts (torchvision, timm) have no conv biases.

tfcnn counts BN's moving mean and variance as (non-trainable) parameters, as
Keras does; torchvision does not. The tests compare trainable counts with
torchvision/timm and total counts with Keras.

Layer names are Keras Applications' (``conv1_conv``, ``conv2_block1_1_conv``,
``conv2_block1_0_bn`` for the projection, ``conv2_block1_add``,
``conv2_block1_out``, ``avg_pool``) except the classifier, ``logits``.
"""

from __future__ import annotations

from tfcnn.errors import ModelError
from tfcnn.models._common import (
    begin,
    check_choice,
    check_positive,
    check_weight_decay,
    eca_kernel_size,
    finish,
    model_input,
    pooled_head,
)
from tfcnn.models._common import cbam as _cbam
from tfcnn.models._common import eca as _eca
from tfcnn.models._common import squeeze_excite as _squeeze_excite
from tfcnn.models.cards import KerasCounterpart, renamed
from tfcnn.models.registry import ModelConfig, register_model

# Table 1 of the paper: depth -> (block type, blocks per stage); stage widths below.
RESNET_STAGES = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
STAGE_WIDTHS = (64, 128, 256, 512)
BOTTLENECK_EXPANSION = 4

# variant -> (conv bias, BN epsilon)
VARIANTS = {"keras": (True, 1.001e-5), "paper": (False, 1e-5)}

REFERENCE = "He et al., Deep Residual Learning for Image Recognition, arXiv:1512.03385"
SE_REFERENCE = "Hu et al., Squeeze-and-Excitation Networks, arXiv:1709.01507"
CBAM_REFERENCE = "Woo et al., CBAM: Convolutional Block Attention Module, arXiv:1807.06521"
ECA_REFERENCE = "Wang et al., ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks, arXiv:1910.03151"
ATTENTIONS = (None, "se", "cbam", "eca")
# ECA-Net's released ResNet-50 ("eca_resnet50_k3557", official README): kernel sizes per stage.
ECA_RESNET50_KERNELS = (3, 5, 5, 7)


def squeeze_excite(x, L, *, reduction: int = 16, name: str = "se"):
    """SENet's squeeze-and-excitation with ``C / reduction`` squeeze channels, ReLU and a sigmoid gate.

    See :func:`tfcnn.models._common.squeeze_excite` (MobileNet v3 shares it with a hard-sigmoid gate).
    """
    return _squeeze_excite(x, L, squeeze_channels=max(1, int(x.shape[-1]) // reduction), name=name)


def bottleneck_block(x, L, filters, *, strides=1, conv_bias=True, bn_epsilon=1.001e-5, attend=None,
                     weight_decay=None, name="block"):
    """1x1 (reduce, carries the stride) -> 3x3 -> 1x1 (expand 4x), plus the shortcut.

    ``attend(y, name)``, when given, gates the residual branch after its last
    batch norm and before the addition: SE, CBAM and ECA all sit there.
    """
    out_channels = BOTTLENECK_EXPANSION * filters
    common = {"use_bias": conv_bias, "bn_epsilon": bn_epsilon, "weight_decay": weight_decay}
    if strides != 1 or int(x.shape[-1]) != out_channels:
        shortcut = L.conv_bn(x, out_channels, 1, strides=strides, activation=None, name=f"{name}_0", **common)
    else:
        shortcut = x
    y = L.conv_bn(x, filters, 1, strides=strides, name=f"{name}_1", **common)
    y = L.conv_bn(y, filters, 3, name=f"{name}_2", **common)
    y = L.conv_bn(y, out_channels, 1, activation=None, name=f"{name}_3", **common)
    if attend:
        y = attend(y, name)
    x = L.add([shortcut, y], name=f"{name}_add")
    return L.activation(x, "relu", name=f"{name}_out")


def basic_block(x, L, filters, *, strides=1, conv_bias=False, bn_epsilon=1e-5, attend=None, weight_decay=None,
                name="block"):
    """3x3 (carries the stride) -> 3x3, plus the shortcut; ``attend`` as in :func:`bottleneck_block`."""
    common = {"use_bias": conv_bias, "bn_epsilon": bn_epsilon, "weight_decay": weight_decay}
    if strides != 1 or int(x.shape[-1]) != filters:
        shortcut = L.conv_bn(x, filters, 1, strides=strides, activation=None, name=f"{name}_0", **common)
    else:
        shortcut = x
    y = L.conv_bn(x, filters, 3, strides=strides, name=f"{name}_1", **common)
    y = L.conv_bn(y, filters, 3, activation=None, name=f"{name}_2", **common)
    if attend:
        y = attend(y, name)
    x = L.add([shortcut, y], name=f"{name}_add")
    return L.activation(x, "relu", name=f"{name}_out")


def attention_gate(attention, *, L, weight_decay=None, reduction=16, eca_kernel=None, spatial_kernel=7):
    """The ``attend(y, name)`` function of an attention module: ``None``, ``'se'``, ``'cbam'`` or ``'eca'``.

    ``reduction`` is SE's and CBAM's ``r`` (``C / r`` hidden channels);
    ``eca_kernel`` is ECA's kernel size (``None``: the adaptive rule on the
    branch's channels); ``spatial_kernel`` is CBAM's spatial convolution.
    """
    if attention is None:
        return None
    if attention == "se":
        return lambda y, name: squeeze_excite(y, L, reduction=reduction, name=name)
    if attention == "cbam":
        return lambda y, name: _cbam(y, L, squeeze_channels=max(1, int(y.shape[-1]) // reduction),
                                     spatial_kernel=spatial_kernel, weight_decay=weight_decay, name=name)
    if attention == "eca":
        return lambda y, name: _eca(y, L, kernel_size=eca_kernel or eca_kernel_size(int(y.shape[-1])),
                                    weight_decay=weight_decay, name=name)
    raise ValueError(f"attention must be one of {ATTENTIONS}. Received: attention={attention!r}")


BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


def _check_eca_kernels(eca_kernel_sizes):
    """ECA's kernel size per stage: ``'adaptive'`` (the paper's rule on each stage's width) or 4 odd ints."""
    if eca_kernel_sizes == "adaptive":
        return
    if (not isinstance(eca_kernel_sizes, (tuple, list)) or len(eca_kernel_sizes) != len(STAGE_WIDTHS)
            or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 for k in eca_kernel_sizes)):
        raise ModelError(f"eca_kernel_sizes must be 'adaptive' or 4 positive odd ints, one per stage. "
                         f"Received: eca_kernel_sizes={eca_kernel_sizes!r}")


def _resnet(depth, *, config, input_shape, num_classes, include_top, pooling, weights, style, name, variant,
            weight_decay, attention=None, se_reduction=16, cbam_reduction=16, spatial_kernel=7,
            eca_kernel_sizes="adaptive"):
    check_weight_decay(weight_decay)
    check_choice("variant", variant, tuple(VARIANTS))
    check_positive("se_reduction", se_reduction, integer=True)
    check_positive("cbam_reduction", cbam_reduction, integer=True)
    if isinstance(spatial_kernel, bool) or not isinstance(spatial_kernel, int) or spatial_kernel < 1 \
            or spatial_kernel % 2 == 0:
        raise ModelError(f"spatial_kernel must be a positive odd int. Received: spatial_kernel={spatial_kernel!r}")
    _check_eca_kernels(eca_kernel_sizes)
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style, variant=variant)
    conv_bias, bn_epsilon = VARIANTS[variant]
    kind, repeats = RESNET_STAGES[depth]
    block = BLOCKS[kind]

    inputs = x = model_input(input_shape)
    x = L.zero_pad(x, 3, name="conv1_pad")
    x = L.conv_bn(x, 64, 7, strides=2, padding="valid", use_bias=conv_bias, bn_epsilon=bn_epsilon,
                  weight_decay=weight_decay, name="conv1")
    x = L.zero_pad(x, 1, name="pool1_pad")
    x = L.max_pool(x, 3, strides=2, name="pool1_pool")
    for stage, (filters, n) in enumerate(zip(STAGE_WIDTHS, repeats), start=2):
        attend = attention_gate(attention, L=L, weight_decay=weight_decay,
                                reduction=cbam_reduction if attention == "cbam" else se_reduction,
                                eca_kernel=None if eca_kernel_sizes == "adaptive" else eca_kernel_sizes[stage - 2],
                                spatial_kernel=spatial_kernel)
        for b in range(1, n + 1):
            strides = 2 if (b == 1 and stage > 2) else 1
            x = block(x, L, filters, strides=strides, conv_bias=conv_bias, bn_epsilon=bn_epsilon,
                      attend=attend, weight_decay=weight_decay, name=f"conv{stage}_block{b}")
    x = pooled_head(x, L, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish(inputs, x, name=name, weights=plan)


def _imagenet_file(stem):
    def file_for(args):
        if args.get("variant", "keras") != "keras":
            return None
        return f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if args.get('include_top', True) else '_notop'}.h5"

    return file_for


def _keras(name):
    """Keras ships ResNet-50/101/152 with tfcnn's layer names except the classifier."""
    keras_names = {"resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152"}
    if name not in keras_names:
        return None
    return KerasCounterpart(keras_names[name], renamed({"logits": "predictions"}), _imagenet_file(name), "resnet")


def _config(name, depth, variant, reference=REFERENCE, **attention_options):
    options = {"variant": variant, "weight_decay": None, **attention_options}
    return ModelConfig(name=name, family="resnet", input_shape=(224, 224, 3), num_classes=1000, min_input_size=32,
                       reference=reference, options=options, keras=_keras(name))


@register_model(_config("resnet18", 18, "paper"))
def resnet18(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="resnet18", variant="paper", weight_decay=None):
    """ResNet-18 (basic blocks 2-2-2-2): 11,689,512 trainable parameters, as torchvision's ``resnet18``.

    Arguments as :func:`resnet50` (default ``variant='paper'``: Keras ships no ResNet-18);
    ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _resnet(18, config=resnet18.config, **locals())


@register_model(_config("resnet34", 34, "paper"))
def resnet34(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="resnet34", variant="paper", weight_decay=None):
    """ResNet-34 (basic blocks 3-4-6-3): 21,797,672 trainable parameters, as torchvision's ``resnet34``.

    Arguments as :func:`resnet50` (default ``variant='paper'``: Keras ships no ResNet-34);
    ``weights`` is ``None`` or a tfcnn-saved file.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _resnet(34, config=resnet34.config, **locals())


@register_model(_config("resnet50", 50, "keras"))
def resnet50(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
             name="resnet50", variant="keras", weight_decay=None):
    """ResNet-50 (bottlenecks 3-4-6-3) at 224x224x3: 25,636,712 parameters as Keras; ``'paper'`` 25,557,032 trainable.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32 (down-samples by 32); default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits; otherwise return the last feature map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None``; ``'imagenet'`` (Keras's file, from the Keras cache or downloaded
            when online; needs ``variant='keras'``); the path of a Keras Applications
            ``ResNet50`` ``.h5`` file; or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        variant: ``'keras'`` (conv biases, BN epsilon 1.001e-5; default, so Keras's
            weights load) or ``'paper'`` (no conv biases, epsilon 1e-5). See the module docstring.
        weight_decay: L2 coefficient on kernels (paper: 1e-4); ``None`` = tfcnn's default.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``variant``; weights that do not fit.
        tfcnn.models._pretrained.PretrainedWeightsUnavailable: ``weights='imagenet'`` offline with no cached file.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("resnet50").count_params()
        25636712
        >>> features = tfcnn.create_model("resnet50", include_top=False, pooling="avg", input_shape=(64, 64, 3))
    """
    return _resnet(50, config=resnet50.config, **locals())


@register_model(_config("resnet101", 101, "keras"))
def resnet101(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
              name="resnet101", variant="keras", weight_decay=None):
    """ResNet-101 (bottlenecks 3-4-23-3): 44,707,176 parameters as Keras; ``'paper'`` 44,549,160 trainable.

    Arguments as :func:`resnet50`; ``weights`` also takes a Keras ``ResNet101`` file or ``'imagenet'``.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _resnet(101, config=resnet101.config, **locals())


@register_model(_config("resnet152", 152, "keras"))
def resnet152(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None, style="keras",
              name="resnet152", variant="keras", weight_decay=None):
    """ResNet-152 (bottlenecks 3-8-36-3): 60,419,944 parameters as Keras; ``'paper'`` 60,192,808 trainable.

    Arguments as :func:`resnet50`; ``weights`` also takes a Keras ``ResNet152`` file or ``'imagenet'``.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.
    """
    return _resnet(152, config=resnet152.config, **locals())


@register_model(_config("se_resnet50", 50, "paper", reference=SE_REFERENCE, se_reduction=16))
def se_resnet50(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                style="keras", name="se_resnet50", variant="paper", weight_decay=None, se_reduction=16):
    """SE-ResNet-50: ResNet-50 with a squeeze-and-excitation gate on every residual branch.

    28,088,024 trainable parameters at 1000 classes, as timm's ``seresnet50``
    (= torchvision's ResNet-50, 25,557,032, plus 2,530,992 in the SE layers
    with biases; the paper's Table 7 reports 28.1M). The gate sits after the
    last BN of the branch, before the addition (paper Fig. 3).

    Args:
        input_shape: ``(H, W, C)``, at least 32x32; default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        variant: ``'paper'`` (default; no conv biases) or ``'keras'`` (conv biases, as Keras's ResNet).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default.
        se_reduction: the excitation's bottleneck ratio r (paper: 16).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ValueError: bad ``input_shape``, ``pooling``, ``num_classes``, ``variant`` or ``se_reduction``.

    Example:
        >>> import tfcnn
        >>> m = tfcnn.create_model("se_resnet50")
        >>> sum(int(w.shape.num_elements()) for w in m.trainable_weights)
        28088024
    """
    return _resnet(50, config=se_resnet50.config, attention="se", **locals())


@register_model(_config("cbam_resnet50", 50, "paper", reference=CBAM_REFERENCE, cbam_reduction=16, spatial_kernel=7))
def cbam_resnet50(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                  style="keras", name="cbam_resnet50", variant="paper", weight_decay=None, cbam_reduction=16,
                  spatial_kernel=7):
    """CBAM-ResNet-50: ResNet-50 with channel, then spatial attention on every residual branch.

    The module (:func:`tfcnn.models._common.cbam`) sits where SE sits: after
    the branch's last batch norm, before the addition (paper Fig. 3, official
    ``attention-module`` code). 28,089,624 trainable parameters at 1000
    classes: SE-ResNet-50's 28,088,024 (the channel MLP is SE's, with
    biases) plus 100 per block for the spatial gate (a 7x7 filter over 2
    channels, no bias, and a batch norm's gamma and beta); the paper's Table
    4 reports 28.09M.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32; default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        variant: ``'paper'`` (default; no conv biases) or ``'keras'`` (conv biases, as Keras's ResNet).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default.
        cbam_reduction: the channel MLP's bottleneck ratio r (paper: 16).
        spatial_kernel: the spatial gate's kernel size (paper: 7, odd).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ModelError: bad ``input_shape``, ``pooling``, ``num_classes``, ``variant``, ``cbam_reduction`` or
            ``spatial_kernel``.

    Example:
        >>> import tfcnn
        >>> m = tfcnn.create_model("cbam_resnet50")
        >>> sum(int(w.shape.num_elements()) for w in m.trainable_weights)
        28089624
    """
    return _resnet(50, config=cbam_resnet50.config, attention="cbam", **locals())


@register_model(_config("eca_resnet50", 50, "paper", reference=ECA_REFERENCE, eca_kernel_sizes=ECA_RESNET50_KERNELS))
def eca_resnet50(*, input_shape=None, num_classes=1000, include_top=True, pooling=None, weights=None,
                 style="keras", name="eca_resnet50", variant="paper", weight_decay=None,
                 eca_kernel_sizes=ECA_RESNET50_KERNELS):
    """ECA-ResNet-50 (ECA-Net50): ResNet-50 with efficient channel attention on every residual branch.

    The module (:func:`tfcnn.models._common.eca`) sits where SE sits. Its
    1-D kernel has ``k`` weights per block: the default ``(3, 5, 5, 7)`` per
    stage is the authors' released ECA-Net50 (``eca_resnet50_k3557``), 80
    weights in all, so 25,557,112 trainable parameters at 1000 classes
    (torchvision's ResNet-50, 25,557,032, plus 80). ``'adaptive'`` applies
    the paper's rule (:func:`~tfcnn.models._common.eca_kernel_size`) to each
    stage's 256/512/1024/2048 channels: ``(5, 5, 5, 7)``, 86 weights. The
    authors' README and Table 2 give 24.37M for both ECA-Net50 and their
    ResNet-50 baseline: their counting differs from torchvision's by 1.19M,
    and ECA's 80 weights are below the table's resolution.

    Args:
        input_shape: ``(H, W, C)``, at least 32x32; default 224x224x3.
        num_classes: size of the logits layer.
        include_top: keep global average pooling and the logits.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a tfcnn-saved weights file.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        variant: ``'paper'`` (default; no conv biases) or ``'keras'`` (conv biases, as Keras's ResNet).
        weight_decay: L2 coefficient on kernels; ``None`` = tfcnn's default.
        eca_kernel_sizes: four odd kernel sizes, one per stage, or ``'adaptive'``.

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Raises:
        ModelError: bad ``input_shape``, ``pooling``, ``num_classes``, ``variant`` or ``eca_kernel_sizes``.

    Example:
        >>> import tfcnn
        >>> m = tfcnn.create_model("eca_resnet50")
        >>> sum(int(w.shape.num_elements()) for w in m.trainable_weights)
        25557112
    """
    return _resnet(50, config=eca_resnet50.config, attention="eca", **locals())
