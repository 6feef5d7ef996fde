"""What every builder shares: input checks, the classifier head, weights, feature extractors."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tfcnn._compat import keras
from tfcnn.errors import ModelError
from tfcnn.layers import get_style
from tfcnn.models import _pretrained
from tfcnn.models.cards import ModelCard

POOLINGS = (None, "avg", "max")


def check_input_shape(config: ModelCard, input_shape) -> tuple[int, int, int]:
    """Validate ``input_shape`` (rank 3, positive ints, large enough) and return it as a tuple.

    Raises:
        ModelError: wrong rank or type, or smaller than the architecture's down-sampling allows.
    """
    if input_shape is None:
        return tuple(config.input_shape)
    if (
        not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape)
    ):
        raise ModelError(f"input_shape must be (height, width, channels) of positive ints. Received: input_shape={input_shape!r}")
    h, w, _ = input_shape
    if min(h, w) < config.min_input_size:
        raise ModelError(
            f"{config.name} down-samples too much for this input; it needs at least "
            f"{config.min_input_size}x{config.min_input_size}. Received: input_shape={tuple(input_shape)}")
    return tuple(input_shape)


def model_input(input_shape):
    """The model's ``Input`` layer, always named ``input``."""
    return keras.Input(shape=input_shape, name="input")


def check_choice(argname: str, value, choices) -> None:
    """Raise :class:`ModelError` naming ``argname`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ModelError(f"{argname} must be one of {tuple(choices)}. Received: {argname}={value!r}")


def check_head(include_top: bool, pooling, num_classes) -> None:
    check_choice("pooling", pooling, POOLINGS)
    if include_top and (not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1):
        raise ModelError(f"num_classes must be a positive int. Received: num_classes={num_classes!r}")


def pooled_head(x, L, *, include_top: bool, pooling, num_classes: int, dropout_rate: float = 0.0):
    """Keras Applications' head for fully convolutional nets: global pool, dropout, logits.

    With ``include_top=False`` the feature map is returned, pooled if ``pooling`` asks.
    """
    if include_top:
        x = L.global_pool(x, mode="avg", name="avg_pool")
        if dropout_rate:
            x = L.dropout(x, dropout_rate, name="dropout")
        return L.dense(x, num_classes, name="logits")
    if pooling == "avg":
        return L.global_pool(x, mode="avg", name="avg_pool")
    if pooling == "max":
        return L.global_pool(x, mode="max", name="max_pool")
    return x


def fc_head(x, L, fc_layers, *, include_top: bool, pooling, num_classes: int, activation: str = "relu",
            dropout_rate: float = 0.0, weight_decay=None):
    """The classic classifier head (LeNet, AlexNet, VGG): flatten, fully connected layers, logits.

    ``fc_layers`` is a sequence of ``(name, units)``; each FC layer is followed
    by dropout when ``dropout_rate`` is set. With ``include_top=False`` the
    feature map is returned, pooled if ``pooling`` asks.
    """
    if include_top:
        x = L.flatten(x, name="flatten")
        for layer, units in fc_layers:
            x = L.dense(x, units, activation=activation, weight_decay=weight_decay, name=layer)
            if dropout_rate:
                x = L.dropout(x, dropout_rate, name=f"{layer}_dropout")
        return L.dense(x, num_classes, weight_decay=weight_decay, name="logits")
    if pooling:
        return L.global_pool(x, mode=pooling, name=f"{pooling}_pool")
    return x


def begin(card: ModelCard, *, input_shape, num_classes, include_top: bool, pooling, weights, style: str,
          **options):
    """What every builder does before its first layer: check the input and head, resolve ``weights``, pick the style.

    A family checks its own options first, then calls this with them (they
    choose Keras's ImageNet file), builds, and ends with :func:`finish`.

    Returns:
        ``(input_shape, L, weights_plan)``: the checked shape, the layer style
        module, and what :func:`finish` loads.

    Raises:
        ModelError: bad ``input_shape``, ``pooling``, ``num_classes`` or ``weights``.
        PretrainedWeightsUnavailable: ``weights='imagenet'`` offline without a cached file.
    """
    input_shape = check_input_shape(card, input_shape)
    check_head(include_top, pooling, num_classes)
    plan = _pretrained.resolve_weights(card, weights, input_shape=input_shape, num_classes=num_classes,
                                       include_top=include_top, pooling=pooling, **options)
    return input_shape, get_style(style), plan


def finish(inputs, outputs, *, name: str, weights: _pretrained.WeightsPlan | None = None):
    """Make the flat functional model and load the weights :func:`begin` resolved, last, as Keras does."""
    model = keras.Model(inputs, outputs, name=name)
    _pretrained.load_weights(model, weights)
    return model


def copy_weights(src, dst, *, strict: bool = True) -> int:
    """Copy weights from ``src`` to ``dst`` layer by layer, matching layer names.

    This is how the three styles are compared: the raw, slim and keras builds
    of one architecture have the same layer names and weight shapes.

    Returns:
        The number of layers copied.

    Raises:
        ModelError: with ``strict``, a weighted layer of ``dst`` has no match in
            ``src``, or shapes differ.
    """
    by_name = {layer.name: layer for layer in src.layers}
    copied = 0
    for layer in dst.layers:
        if not layer.weights:
            continue
        other = by_name.get(layer.name)
        if other is None:
            if strict:
                raise ModelError(f"layer has no counterpart in the source model. Received: layer={layer.name!r}")
            continue
        values = other.get_weights()
        shapes = [tuple(w.shape) for w in layer.weights]
        if shapes != [tuple(v.shape) for v in values]:
            raise ModelError(
                f"weight shapes differ for layer {layer.name!r}: {shapes} vs {[v.shape for v in values]}")
        layer.set_weights(values)
        copied += 1
    return copied


def feature_extractor(model, layer_name: str | Sequence[str]):
    """A model from ``model``'s input to the output(s) of the named layer(s).

    The notes: the vector just before the classifier is the feature the
    network has learned; any earlier layer gives a feature map.

    Raises:
        ModelError: a name is not a layer of ``model``.
    """
    names = [layer_name] if isinstance(layer_name, str) else list(layer_name)
    known = {layer.name for layer in model.layers}
    for n in names:
        if n not in known:
            raise ModelError(f"no such layer in {model.name}. Received: layer_name={n!r}")
    outputs = [model.get_layer(n).output for n in names]
    return keras.Model(model.inputs, outputs[0] if isinstance(layer_name, str) else outputs,
                       name=f"{model.name}_features")


def correct_pad(x, L, kernel_size: int, *, name: str):
    """Keras Applications' ``correct_pad``: the zero padding before a stride-2 VALID ``kernel_size`` convolution.

    ``k // 2`` after, one less before on an even side: what TF-Slim's SAME
    padding does at stride 2, made explicit so Keras's weights line up.
    """
    h, w = int(x.shape[1]), int(x.shape[2])
    k = kernel_size // 2
    return L.zero_pad(x, ((k - 1 + h % 2, k), (k - 1 + w % 2, k)), name=name)


def squeeze_excite(x, L, *, squeeze_channels: int, activation: str = "relu", gate: str = "sigmoid",
                   name: str = "se"):
    """Squeeze-and-excitation (Hu et al. 2018): rescale each channel by a gate computed from the whole map.

    Squeeze = global average pooling (an average pool over the full map, so
    the result stays 4-D for the 1x1 convolutions); excitation = a 1x1
    convolution to ``squeeze_channels`` + ``activation``, one back to ``C`` +
    ``gate`` (sigmoid in SENet and EfficientNet, hard sigmoid in MobileNet v3
    and GhostNet); the gates multiply the channels. Names follow Keras
    Applications' EfficientNet: ``{name}_se_squeeze``, ``_se_reduce``,
    ``_se_expand``, ``_se_excite``.
    """
    channels = int(x.shape[-1])
    s = L.avg_pool(x, (int(x.shape[1]), int(x.shape[2])), name=f"{name}_se_squeeze")
    s = L.conv_bn(s, squeeze_channels, 1, use_bn=False, activation=activation, name=f"{name}_se_reduce")
    s = L.conv_bn(s, channels, 1, use_bn=False, activation=gate, name=f"{name}_se_expand")
    return L.multiply([x, s], name=f"{name}_se_excite")


def cbam(x, L, *, squeeze_channels: int, spatial_kernel: int = 7, weight_decay=None, name: str = "cbam"):
    """CBAM (Woo et al. 2018): a channel gate, then a spatial gate, each multiplying the map.

    *Channel attention* (Eq. 2): ``Mc = sigmoid(MLP(AvgPool(F)) + MLP(MaxPool(F)))``
    with one MLP (``C -> squeeze_channels``, ReLU, ``-> C``) shared by both
    descriptors. Here the two pooled vectors are stacked into a 1x2 map
    (``_cbam_stack``) and the MLP's first layer is a 1x1 convolution over it:
    the same weights at both positions, weight sharing as in any convolution.
    The second layer is linear, so ``W2 h_avg + b2 + W2 h_max + b2 =
    2 (W2 mean(h) + b2)``: the model averages the two hidden vectors
    (``_cbam_mean``) and its ``_cbam_expand`` holds twice the official
    ``fc2`` weights and bias. Same function, same parameter count, every layer
    called once (the structured-pruning graph and TFMOT need that).

    *Spatial attention* (Eq. 3): ``Ms = sigmoid(BN(conv7x7([AvgPool(F'); MaxPool(F')])))``,
    the pools taken across channels at every position (``_cbam_pool``, 2
    channels), one 7x7 filter with no bias and a batch norm as the official
    ``SpatialGate``; the one-channel mask broadcasts over the channels of the
    map. Names: ``{name}_cbam_*``.
    """
    h, w, channels = (int(d) for d in x.shape[1:])
    avg = L.avg_pool(x, (h, w), name=f"{name}_cbam_avg")
    peak = L.max_pool(x, (h, w), name=f"{name}_cbam_max")
    s = L.concat([avg, peak], axis=2, name=f"{name}_cbam_stack")  # [1, 2, C]: both descriptors, one MLP
    s = L.conv_bn(s, squeeze_channels, 1, use_bn=False, weight_decay=weight_decay, name=f"{name}_cbam_reduce")
    s = L.avg_pool(s, (1, 2), name=f"{name}_cbam_mean")
    s = L.conv_bn(s, channels, 1, use_bn=False, activation="sigmoid", weight_decay=weight_decay,
                  name=f"{name}_cbam_expand")
    x = L.multiply([x, s], name=f"{name}_cbam_channel")
    m = L.channel_pool(x, name=f"{name}_cbam_pool")
    m = L.conv_bn(m, 1, spatial_kernel, use_bias=False, bn_epsilon=1e-5, activation="sigmoid",
                  weight_decay=weight_decay, name=f"{name}_cbam_spatial")
    return L.multiply([x, m], name=f"{name}_cbam_excite")


def eca_kernel_size(channels: int, gamma: int = 2, b: int = 1) -> int:
    """ECA-Net's adaptive kernel size, ``k = |log2(C) / gamma + b / gamma|_odd`` (Wang et al. 2020, Eq. 12).

    ``|t|_odd`` is the nearest odd number: the official code takes
    ``int(t)`` and adds 1 when it is even. 256 -> 5, 512 -> 5, 1024 -> 5, 2048 -> 7.
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


def eca(x, L, *, kernel_size: int, weight_decay=None, name: str = "eca"):
    """ECA (Wang et al. 2020): SE without the bottleneck, a 1-D convolution across the pooled channels.

    ``w = sigmoid(conv1d_k(GAP(F)))``: each channel's gate looks at its
    ``k`` neighbours through ``k`` weights shared by every channel, instead
    of SE's two fully connected layers (``2 C^2 / r`` weights). No bias, as
    the official ``eca_layer``. Names: ``{name}_eca_squeeze``, ``_eca_conv``,
    ``_eca_gate``, ``_eca_excite``.
    """
    s = L.avg_pool(x, (int(x.shape[1]), int(x.shape[2])), name=f"{name}_eca_squeeze")
    s = L.channel_conv(s, kernel_size, weight_decay=weight_decay, name=f"{name}_eca_conv")
    s = L.activation(s, "sigmoid", name=f"{name}_eca_gate")
    return L.multiply([x, s], name=f"{name}_eca_excite")


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor``, never more than 10 % below ``value``.

    The rule of the MobileNet v2 reference code and Keras Applications
    (``_make_divisible``): hardware likes channel counts divisible by 8.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not remove more than 10 %
        rounded += divisor
    return rounded


def check_positive(argname: str, value, *, integer: bool = False) -> None:
    """Raise :class:`ModelError` naming ``argname`` unless ``value`` is a positive number (an int if ``integer``)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "int" if integer else "number"
        raise ModelError(f"{argname} must be a positive {kind}. Received: {argname}={value!r}")


def check_rate(argname: str, value) -> None:
    """Raise :class:`ModelError` naming ``argname`` unless ``0 <= value < 1``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ModelError(f"{argname} must be in [0, 1). Received: {argname}={value!r}")


def check_weight_decay(value) -> None:
    """Raise :class:`ModelError` unless ``weight_decay`` is ``None`` (tfcnn's default) or a number >= 0."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ModelError(f"weight_decay must be None or a number >= 0. Received: weight_decay={value!r}")
