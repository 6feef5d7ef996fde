"""The arithmetic of convolution: output sizes, padding, parameter counts, receptive fields.

Chapter 3 of the notes as functions, so every number in the lecture can be
recomputed (and tested):

* output size ``(N + 2P - F) / S + 1`` (rounded down), for VALID, SAME and
  explicit padding;
* the padding that keeps the size for an odd kernel, ``P = (F - 1) / 2``;
* parameters with weight sharing (a conv layer), without it (a locally
  connected layer) and fully connected;
* the receptive field of a stack (two 3x3 convolutions see 5x5, three see 7x7).

The same arithmetic applied to whole models (chapter 4's "structure
comparison"): :func:`summarize` gives every layer's output shape,
parameters, multiply-accumulates and receptive field; :func:`profile_flops`
asks TensorFlow's profiler for its FLOP count to cross-check; and
:func:`compare_architectures` tabulates the zoo beside the papers' errors.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from typing import Any


def _positive_int(argname: str, value, *, allow_zero: bool = False) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{argname} must be {kind} int. Received: {argname}={value!r}")
    return value


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid") -> int:
    """Spatial output size of a convolution or pooling window along one axis.

    ``'valid'``: ``floor((N - F) / S) + 1``; ``'same'``: ``ceil(N / S)``
    (TensorFlow pads as needed); an int ``P``: ``floor((N + 2P - F) / S) + 1``.

    Raises:
        ValueError: a non-integer or non-positive size, stride <= 0, or a
            kernel larger than the padded input.

    Example:
        >>> conv_output_size(32, 5, 1, "valid")
        28
        >>> conv_output_size(227, 11, 4, "valid")
        55
    """
    n = _positive_int("input_size", input_size)
    f = _positive_int("kernel_size", kernel_size)
    s = _positive_int("stride", stride)
    if isinstance(padding, str):
        if padding.lower() == "same":
            return math.ceil(n / s)
        if padding.lower() != "valid":
            raise ValueError(f"padding must be 'same', 'valid' or a non-negative int. Received: padding={padding!r}")
        p = 0
    else:
        p = _positive_int("padding", padding, allow_zero=True)
    if f > n + 2 * p:
        raise ValueError(f"kernel_size is larger than the padded input ({n} + 2*{p}). Received: kernel_size={f}")
    return (n + 2 * p - f) // s + 1


def same_padding(kernel_size: int) -> int:
    """The zero padding per side that keeps the size at stride 1: ``(F - 1) / 2`` (3->1, 5->2, 7->3).

    Raises:
        ValueError: an even kernel, which cannot be centred and so cannot keep
            the size with symmetric padding (one reason kernels are odd).
    """
    f = _positive_int("kernel_size", kernel_size)
    if f % 2 == 0:
        raise ValueError(f"kernel_size must be odd to keep the size with symmetric padding. Received: kernel_size={f}")
    return (f - 1) // 2


def conv_params(kernel_size: int, in_channels: int, filters: int, *, use_bias: bool = True) -> int:
    """Parameters of a conv layer: weights are shared over positions, ``F*F*C_in*K (+ K)``.

    Example:
        >>> conv_params(5, 3, 100)   # the notes: 100 5x5 filters on 32x32x3
        7600
    """
    f = _positive_int("kernel_size", kernel_size)
    c = _positive_int("in_channels", in_channels)
    k = _positive_int("filters", filters)
    return f * f * c * k + (k if use_bias else 0)


def locally_connected_params(kernel_size: int, in_channels: int, filters: int, output_size: int | tuple[int, int],
                             *, use_bias: bool = True) -> int:
    """Parameters without weight sharing: every output position has its own ``F*F*C_in`` weights.

    ``F*F*C_in*K*H_out*W_out`` weights (plus one bias per output unit).
    """
    f = _positive_int("kernel_size", kernel_size)
    c = _positive_int("in_channels", in_channels)
    k = _positive_int("filters", filters)
    h, w = (output_size, output_size) if isinstance(output_size, int) else output_size
    positions = _positive_int("output_size", h) * _positive_int("output_size", w)
    return f * f * c * k * positions + (k * positions if use_bias else 0)


def dense_params(in_units: int, out_units: int, *, use_bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``in * out (+ out)``."""
    i = _positive_int("in_units", in_units)
    o = _positive_int("out_units", out_units)
    return i * o + (o if use_bias else 0)


def receptive_field(layers: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Receptive field size and jump (stride in input pixels) of a stack of ``(kernel, stride)`` layers.

    ``r_out = r_in + (F - 1) * j_in`` and ``j_out = j_in * S``, starting from a
    single pixel (``r = 1, j = 1``).

    Example:
        >>> receptive_field([(3, 1), (3, 1)])          # two 3x3 = one 5x5
        (5, 1)
        >>> receptive_field([(3, 1)] * 3)              # three 3x3 = one 7x7
        (7, 1)
    """
    r, j = 1, 1
    for i, item in enumerate(layers):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"each layer must be (kernel_size, stride). Received: layers[{i}]={item!r}")
        f = _positive_int("kernel_size", item[0])
        s = _positive_int("stride", item[1])
        r += (f - 1) * j
        j *= s
    return r, j


# ---------------------------------------------------------------------------
# Whole-model analysis: per-layer shapes, parameters, MACs, receptive fields
# ---------------------------------------------------------------------------
#
# Conventions (the ones papers use when they quote "multiply-adds"):
#
# * MACs count the multiply-accumulates of layers with weights: convolutions
#   (``H_out * W_out * k_h * k_w * C_in/groups * C_out``), depthwise
#   convolutions (``H_out * W_out * k_h * k_w * C_in * depth_multiplier``),
#   separable and transposed convolutions, and dense layers (``in * out``),
#   per example. Bias additions, batch norm (foldable into the preceding
#   convolution at inference), activations, pooling, LRN and element-wise
#   Add/Multiply/Concatenate count 0 MACs: they are O(activations), not
#   O(weights), and would be counted differently by every tool. TensorFlow's
#   profiler counts 2 FLOPs per MAC for Conv2D/DepthwiseConv2dNative/MatMul
#   and 1 FLOP per element for BiasAdd, Add, Mul and pooling, so its total
#   is 2 x MACs plus a few percent; :func:`profile_flops` reports it per op
#   type so the two can be matched exactly.
# * Receptive field: size ``r`` and jump ``j`` (the distance in input pixels
#   between neighbouring outputs) per axis, ``r_out = r_in + (k_eff - 1) * j_in``,
#   ``j_out = j_in * s`` with ``k_eff = d * (k - 1) + 1`` for dilation ``d``.
#   Where branches meet (Add, Concatenate, Multiply) the largest field and
#   jump over the inbound paths are taken. Flatten and global pooling see
#   the whole feature map (``k = H_in``); up-sampling by ``u`` divides the
#   jump by ``u``. Padding moves a field's centre, not its size, so it is
#   ignored, and fields are not clipped to the image (ResNet-50's is 483
#   pixels on a 224 image).
# * Depth: the number of weighted layers (conv, depthwise conv, dense) on the
#   longest input-to-output path, the convention behind "VGG-16", "ResNet-50",
#   GoogLeNet's "22 layers" and MobileNet's "28 layers" (depthwise and
#   pointwise counted separately).


@dataclasses.dataclass(frozen=True)
class LayerSummary:
    """One layer of a :class:`Summary`.

    Attributes:
        name: the layer's name.
        type: its class name (``Conv2D``, ``RawConv2D``...).
        output_shape: output shape without the batch axis (a list of shapes
            for a layer with several outputs).
        params: weights, trainable or not.
        macs: multiply-accumulates per example (0 for layers without weights).
        receptive_field: ``(height, width)`` in input pixels, ``None`` for
            the non-spatial layers before any spatial one.
        jump: ``(height, width)`` distance in input pixels between adjacent outputs.
        depth: weighted layers on the longest path from the input up to and including this one.
        inbound: names of the layers feeding this one.
    """

    name: str
    type: str
    output_shape: Any
    params: int
    macs: int
    receptive_field: tuple[int, int] | None
    jump: tuple[float, float] | None
    depth: int
    inbound: tuple[str, ...]


def _fmt_pair(pair) -> str:
    if pair is None:
        return "-"
    a, b = (_fmt_num(v) for v in pair)
    return a if a == b else f"{a}x{b}"


def _fmt_num(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def _fmt_shape(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_fmt_shape(s) for s in shape)
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _si(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(int(n))


@dataclasses.dataclass(frozen=True)
class Summary:
    """What :func:`summarize` returns: per-layer rows and the model's totals.

    Attributes:
        model_name: the Keras model's name.
        input_shape: ``(H, W, C)`` analysed.
        layers: one :class:`LayerSummary` per layer, in graph order.
        total_params: ``model.count_params()``.
        trainable_params: parameters that training updates.
        total_macs: multiply-accumulates per example (see the conventions above).
        fc_params: parameters of fully connected (Dense) layers.
        depth: weighted layers on the longest input-to-output path.
        unrecognised: types with weights whose MACs are not modelled (counted as 0).
    """

    model_name: str
    input_shape: tuple
    layers: tuple[LayerSummary, ...]
    total_params: int
    trainable_params: int
    total_macs: int
    fc_params: int
    depth: int
    unrecognised: tuple[str, ...] = ()

    @property
    def fc_share(self) -> float:
        """Share of the parameters in fully connected layers (0..1)."""
        return self.fc_params / self.total_params if self.total_params else 0.0

    @property
    def receptive_field(self) -> tuple[int, int] | None:
        """The largest receptive field of a spatial (H, W, C) feature map: VGG-16's 212, ResNet-50's 483.

        Flatten and global pooling, which see the whole map, are left out.
        """
        fields = [layer.receptive_field for layer in self.layers if layer.receptive_field is not None
                  and not isinstance(layer.output_shape, list) and len(layer.output_shape) == 3]
        return max(fields, key=lambda r: r[0] * r[1]) if fields else None

    def layer(self, name: str) -> LayerSummary:
        """The row of the layer called ``name``.

        Raises:
            KeyError: no such layer.
        """
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer of that name in {self.model_name}. Received: name={name!r}")

    def to_dict(self) -> dict:
        """A JSON-ready dictionary (tuples become lists)."""
        return json.loads(json.dumps({
            "model": self.model_name,
            "input_shape": list(self.input_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "fc_params": self.fc_params,
            "fc_share": self.fc_share,
            "depth": self.depth,
            "receptive_field": self.receptive_field,
            "unrecognised": list(self.unrecognised),
            "layers": [dataclasses.asdict(row) for row in self.layers],
        }))

    def to_text(self, *, max_name: int = 40) -> str:
        """A fixed-width table, one row per layer, then the totals."""
        header = ("Layer", "Type", "Output shape", "Params", "MACs", "RF", "Jump")
        rows = [header]
        for row in self.layers:
            name = row.name if len(row.name) <= max_name else row.name[: max_name - 1] + "~"
            rows.append((name, row.type, _fmt_shape(row.output_shape), f"{row.params:,}", f"{row.macs:,}",
                         _fmt_pair(row.receptive_field), _fmt_pair(row.jump)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        right = {3, 4, 5, 6}
        lines = []
        for k, r in enumerate(rows):
            cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("-" * len(lines[0]))
        rule = "=" * max(len(line) for line in lines)
        lines += [
            rule,
            f"Model: {self.model_name}  input {_fmt_shape(self.input_shape)}",
            (f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}); "
             f"in Dense layers: {self.fc_params:,} ({100 * self.fc_share:.1f} %)"),
            (f"MACs per example: {self.total_macs:,} ({_si(self.total_macs)}; FLOPs ~ 2 x MACs = "
             f"{_si(2 * self.total_macs)})"),
            (f"Depth (weighted layers on the longest path): {self.depth}; largest receptive field: "
             f"{_fmt_pair(self.receptive_field)}"),
        ]
        if self.unrecognised:
            lines.append(f"Not modelled (0 MACs counted): {', '.join(self.unrecognised)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _hw(shape):
    """(H, W) of an NHWC shape (with batch axis), or ``None`` if not 4-D."""
    if shape is None or isinstance(shape, list) or len(shape) != 4:
        return None
    return shape[1], shape[2]


def _layer_kinds():
    """Map each modelled layer class to a kind; raw layers are tfcnn's own ``tf.nn`` layers."""
    from tfcnn._compat import keras
    from tfcnn.layers import raw

    kl = keras.layers
    # Order matters: subclasses before their bases (DepthwiseConv2D and
    # Conv2DTranspose derive from the generic convolution classes).
    return (
        ((kl.DepthwiseConv2D, raw.RawDepthwiseConv2D), "depthwise"),
        ((kl.SeparableConv2D,), "separable"),
        ((kl.Conv2DTranspose,), "transpose"),
        ((kl.Conv2D, raw.RawConv2D), "conv"),
        ((kl.Dense, raw.RawDense), "dense"),
        ((kl.MaxPooling2D, kl.AveragePooling2D, raw.RawPool2D), "pool"),
        ((kl.GlobalAveragePooling2D, kl.GlobalMaxPooling2D, raw.RawGlobalPool, kl.Flatten, raw.RawFlatten),
         "global"),
        ((kl.UpSampling2D,), "upsample"),
        ((kl.InputLayer,), "input"),
    )


def _kind(layer, kinds) -> str:
    for classes, kind in kinds:
        if isinstance(layer, classes):
            return kind
    return "other"


def _pair_attr(layer, attr, default=1):
    value = getattr(layer, attr, default)
    return (value, value) if isinstance(value, int) else tuple(value)


def _layer_macs(layer, kind, in_shape, out_shape) -> int:
    """Multiply-accumulates per example of one layer (see the module conventions)."""
    import numpy as np

    if kind in ("conv", "depthwise", "separable", "transpose"):
        kh, kw = _pair_attr(layer, "kernel_size")
        c_in = int(in_shape[-1])
        h_out, w_out = (int(d) for d in out_shape[1:3])
        if kind == "conv":
            return h_out * w_out * kh * kw * (c_in // int(getattr(layer, "groups", 1) or 1)) * int(layer.filters)
        if kind == "depthwise":
            return h_out * w_out * kh * kw * c_in * int(layer.depth_multiplier)
        if kind == "separable":
            mid = c_in * int(layer.depth_multiplier)
            return h_out * w_out * (kh * kw * mid + mid * int(layer.filters))
        h_in, w_in = (int(d) for d in in_shape[1:3])  # transposed: every input pixel scatters a kernel
        return h_in * w_in * kh * kw * c_in * int(layer.filters)
    if kind == "dense":
        positions = int(np.prod([int(d) for d in out_shape[1:-1]])) if len(out_shape) > 2 else 1
        return positions * int(in_shape[-1]) * int(layer.units)
    return 0


def _propagate_rf(layer, kind, inbound_fields, in_shape):
    """Receptive field and jump of ``layer``'s output from those of its inputs."""
    known = [f for f in inbound_fields if f is not None]
    if kind == "input":
        return (1, 1), (1, 1)
    if not known:
        return None, None
    r = tuple(max(f[0][i] for f in known) for i in range(2))
    j = tuple(max(f[1][i] for f in known) for i in range(2))
    if kind in ("conv", "depthwise", "separable", "pool"):
        k = _pair_attr(layer, "kernel_size" if kind != "pool" else "pool_size")
        s = _pair_attr(layer, "strides")
        d = _pair_attr(layer, "dilation_rate")
        k_eff = tuple(d[i] * (k[i] - 1) + 1 for i in range(2))
        return tuple(r[i] + (k_eff[i] - 1) * j[i] for i in range(2)), tuple(j[i] * s[i] for i in range(2))
    if kind == "transpose":
        k = _pair_attr(layer, "kernel_size")
        s = _pair_attr(layer, "strides")
        j_out = tuple(j[i] / s[i] for i in range(2))
        return tuple(r[i] + (k[i] - 1) * j_out[i] for i in range(2)), j_out
    if kind == "upsample":
        u = _pair_attr(layer, "size")
        return r, tuple(j[i] / u[i] for i in range(2))
    if kind == "global":
        hw = _hw(in_shape)
        if hw is None or None in hw:
            return r, j  # already non-spatial (a Flatten after a Dense)
        return tuple(r[i] + (int(hw[i]) - 1) * j[i] for i in range(2)), j
    return r, j


def _with_input_shape(model, input_shape):
    """``model`` rebuilt on a new ``Input`` of ``input_shape`` (fresh weights; shapes are all we need)."""
    from tfcnn._compat import keras

    try:
        return keras.models.clone_model(model, input_tensors=keras.Input(shape=tuple(input_shape)))
    except Exception as err:  # any build failure means the shape does not fit the model
        raise ValueError(f"the model cannot be rebuilt at this input ({type(err).__name__}: {err}). "
                         f"Received: input_shape={tuple(input_shape)}") from err


def _check_shape(input_shape):
    if input_shape is None:
        return None
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape)):
        raise ValueError(f"input_shape must be (height, width, channels) of positive ints. "
                         f"Received: input_shape={input_shape!r}")
    return tuple(input_shape)


def _resolve_model(model, input_shape):
    """A built functional model with a fully known input shape."""
    input_shape = _check_shape(input_shape)
    if isinstance(model, str):
        from tfcnn.models.registry import create_model

        return create_model(model, input_shape=input_shape)
    if not hasattr(model, "layers") or not hasattr(model, "inputs") or model.inputs is None:
        raise TypeError(f"model must be a functional tf_keras Model or a registered name. "
                        f"Received: model={type(model).__name__}")
    if len(model.inputs) != 1:
        raise ValueError(f"only single-input models are supported. Received: {len(model.inputs)} inputs")
    current = tuple(model.inputs[0].shape[1:])
    if input_shape is not None and current != input_shape:
        model = _with_input_shape(model, input_shape)
    elif None in current:
        raise ValueError(f"the model's input has unknown dimensions; pass input_shape. Received: input_shape=None "
                         f"for model input {current}")
    return model


def _model_nodes(model):
    """Each layer's node inside ``model`` (a flat functional model calls each layer once)."""
    network_nodes = getattr(model, "_network_nodes", set())
    nodes = {}
    for layer in model.layers:
        for index, node in enumerate(layer._inbound_nodes):
            # tf_keras keys a model's nodes as "<layer>_ib-<index>" (functional._make_node_key)
            if f"{layer.name}_ib-{index}" in network_nodes:
                nodes[layer.name] = node
                break
    return nodes


def summarize(model, *, input_shape: tuple[int, int, int] | None = None) -> Summary:
    """Per-layer output shape, parameters, MACs and receptive field of a model, with totals.

    Works on any flat functional ``tf_keras`` model in any of tfcnn's three
    layer styles (Keras layers, tfcnn's raw ``tf.nn`` layers, the slim
    façade) and on Keras Applications models. The counting conventions are
    in the module comment above: MACs of weighted layers only; receptive
    fields per axis, the maximum over branches; depth as weighted layers on
    the longest path.

    Args:
        model: a ``tf_keras.Model``, or a registered name (built with default options).
        input_shape: ``(H, W, C)`` to analyse at; the model is rebuilt on that
            input (with fresh weights) if it differs from the model's own.

    Returns:
        A :class:`Summary`; ``print(summary)`` shows the table, ``summary.to_dict()`` is JSON-ready.

    Raises:
        ValueError: a bad ``input_shape``, or one the model cannot take.
        TypeError: ``model`` is neither a functional model nor a name.

    Example:
        >>> import tfcnn
        >>> from tfcnn.analysis import summarize
        >>> s = summarize(tfcnn.create_model("lenet"))
        >>> s.total_params, s.total_macs
        (61706, 416520)
    """
    model = _resolve_model(model, input_shape)
    kinds = _layer_kinds()
    nodes = _model_nodes(model)
    fields: dict[str, tuple] = {}
    depths: dict[str, int] = {}
    rows = []
    unrecognised = []
    fc_params = 0
    for layer in model.layers:
        node = nodes.get(layer.name)
        inbound = [] if node is None else [entry[0].name for entry in node.iterate_inbound()]
        in_shape = None if node is None else node.input_shapes
        out_shape = layer.output_shape if node is None else node.output_shapes
        if isinstance(in_shape, list) and len(in_shape) == 1:
            in_shape = in_shape[0]
        kind = _kind(layer, kinds)
        macs = 0
        if kind not in ("input", "other") and not isinstance(in_shape, list):
            macs = _layer_macs(layer, kind, in_shape, out_shape)
        params = int(layer.count_params())
        if kind == "other" and params and not _is_elementwise_weighted(layer):
            unrecognised.append(type(layer).__name__)
        if kind == "dense":
            fc_params += params
        rf, jump = _propagate_rf(layer, kind, [fields.get(n) for n in inbound],
                                 in_shape if not isinstance(in_shape, list) else None)
        fields[layer.name] = (rf, jump) if rf is not None else None
        weighted = kind in ("conv", "depthwise", "separable", "transpose", "dense")
        depths[layer.name] = max((depths.get(n, 0) for n in inbound), default=0) + int(weighted)
        rows.append(LayerSummary(
            name=layer.name, type=type(layer).__name__, output_shape=_strip_batch(out_shape), params=params,
            macs=int(macs), receptive_field=None if rf is None else tuple(_num(v) for v in rf),
            jump=None if jump is None else tuple(_num(v) for v in jump), depth=depths[layer.name],
            inbound=tuple(inbound)))
    outputs = [t._keras_history.layer.name for t in model.outputs]
    return Summary(
        model_name=model.name, input_shape=tuple(model.inputs[0].shape[1:]), layers=tuple(rows),
        total_params=int(model.count_params()),
        trainable_params=int(sum(int(w.shape.num_elements()) for w in model.trainable_weights)),
        total_macs=int(sum(r.macs for r in rows)), fc_params=fc_params,
        depth=max(depths[n] for n in outputs), unrecognised=tuple(sorted(set(unrecognised))))


def _num(v):
    return int(v) if float(v).is_integer() else float(v)


def _strip_batch(shape):
    if isinstance(shape, list):
        return [_strip_batch(s) for s in shape]
    return tuple(shape[1:]) if shape is not None else None


def _is_elementwise_weighted(layer) -> bool:
    """Weighted layers whose cost is O(activations): normalisations, PReLU, LRN, scaling."""
    from tfcnn._compat import keras
    from tfcnn.layers import raw

    return isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                              keras.layers.PReLU, raw.RawBatchNorm, raw.RawLRN))


# ---------------------------------------------------------------------------
# TensorFlow's own FLOP count, for cross-checking
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FlopProfile:
    """FLOPs that ``tf.compat.v1.profiler`` counts on a model's inference graph (batch 1).

    Attributes:
        total: all counted FLOPs.
        by_op: FLOPs per TensorFlow op type (``Conv2D``, ``MatMul``, ``BiasAdd``...).
        uncounted_calls: names of function-call ops whose insides the profiler
            does not see: tf_keras runs a grouped ``Conv2D`` (``groups > 1``) as
            an XLA-compiled ``tf.function``, so its FLOPs are missing here
            (tfcnn's ``RawConv2D`` with groups is counted).
    """

    total: int
    by_op: dict
    uncounted_calls: tuple[str, ...] = ()

    @property
    def matmul_like(self) -> int:
        """FLOPs of convolutions and matrix products only: exactly 2 x the analytic MACs."""
        keys = ("Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2", "Conv2DBackpropInput")
        return int(sum(self.by_op.get(k, 0) for k in keys))

    def __int__(self) -> int:
        return self.total


def profile_flops(model, input_shape: tuple[int, int, int] | None = None) -> FlopProfile:
    """Count FLOPs with TensorFlow's profiler on the frozen inference graph, one example.

    The model is traced as a ``tf.function`` at batch 1 in inference mode
    and ``tf.compat.v1.profiler`` counts the float operations of the traced
    graph (the widely used ``get_flops`` recipe, minus its freezing step,
    which changes no count). The profiler counts 2 FLOPs per multiply-add for
    Conv2D/MatMul and 1 per element for BiasAdd, Add, Mul and pooling, and
    nothing for fused batch norm or activations. It does not look inside
    nested function calls (see :attr:`FlopProfile.uncounted_calls`).

    Args:
        model: a ``tf_keras.Model`` or a registered name.
        input_shape: ``(H, W, C)``; as for :func:`summarize`.

    Returns:
        A :class:`FlopProfile` (``int(profile)`` is the total).

    Example:
        >>> p = profile_flops("lenet")
        >>> p.matmul_like == 2 * summarize("lenet").total_macs
        True
    """
    from tfcnn._compat import tf

    model = _resolve_model(model, input_shape)
    spec = tf.TensorSpec([1, *model.inputs[0].shape[1:]], model.inputs[0].dtype)

    def forward(x):
        return model(x, training=False)

    concrete = tf.function(forward, autograph=False).get_concrete_function(spec)
    # The recipe usually freezes variables to constants first; the profiler only needs shapes, and
    # freezing VGG-16's 138 M weights takes a minute, so the traced graph is profiled as it is.
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    result = tf.compat.v1.profiler.profile(graph=concrete.graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                           options=options)
    # The "op" view is a chain (each op type is the only child of the previous one), not a flat list.
    by_op, stack = {}, list(result.children)
    while stack:
        node = stack.pop()
        if node.float_ops:
            by_op[node.name] = by_op.get(node.name, 0) + int(node.float_ops)
        stack.extend(node.children)
    calls = tuple(op.name for op in concrete.graph.get_operations()
                  if op.type in ("PartitionedCall", "StatefulPartitionedCall"))
    return FlopProfile(total=int(result.total_float_ops), by_op=by_op, uncounted_calls=calls)


# ---------------------------------------------------------------------------
# The "structure comparison" chapter as a table
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PublishedError:
    """A top-1 (and top-5) ImageNet error rate as the paper reports it.

    Attributes:
        top1: top-1 error in percent, or ``None`` where the paper gives none.
        top5: top-5 error in percent, or ``None``.
        protocol: how it was measured (data split, crops, scales, single model).
        source: paper, table, and the row cited.
    """

    top1: float | None
    top5: float | None
    protocol: str
    source: str


_HE = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv:1512.03385)"
_HU = "Hu et al., Squeeze-and-Excitation Networks, CVPR 2018 (arXiv:1709.01507)"
_VGG = "Simonyan & Zisserman, Very Deep Convolutional Networks, ICLR 2015 (arXiv:1409.1556)"
_RAN = "Wang et al., Residual Attention Network for Image Classification, CVPR 2017 (arXiv:1704.06904)"
_VGG_PROTOCOL = ("ILSVRC-2012 val, single model, dense evaluation at a single scale Q=256, trained at S=256; "
                 "multi-crop + dense, multi-scale evaluation gives less (Table 5: 24.4 for D)")

#: Published single-model ImageNet (ILSVRC-2012 validation unless said) errors, in percent.
#: Protocols differ (1 crop, 10 crops, dense): compare rows with the same protocol only.
#: Where a single-crop figure is published, it is the one given.
PUBLISHED_ERRORS: dict[str, PublishedError] = {
    "lenet": PublishedError(None, None, "not evaluated on ImageNet (MNIST: 0.95 % test error in the paper)",
                            "LeCun et al., Proc. IEEE 1998"),
    "alexnet": PublishedError(
        40.7, 18.2, "ILSVRC-2012 val, 1 CNN, 10 crops (4 corners + centre, and flips) averaged; the often-quoted "
        "37.5 / 17.0 is the ILSVRC-2010 *test* set (Table 1)",
        "Krizhevsky et al., ImageNet Classification with Deep CNNs, NIPS 2012, Table 2, row '1 CNN'"),
    "zfnet": PublishedError(
        38.4, 16.5, "ILSVRC-2012 val, 1 convnet (Fig. 3 architecture); crop protocol not restated in the table",
        "Zeiler & Fergus, Visualizing and Understanding CNNs, ECCV 2014 (arXiv:1311.2901), Table 2"),
    "vgg11": PublishedError(29.6, 10.4, _VGG_PROTOCOL, f"{_VGG}, Table 3, config A"),
    "vgg13": PublishedError(28.7, 9.9, _VGG_PROTOCOL, f"{_VGG}, Table 3, config B"),
    "vgg16": PublishedError(27.0, 8.8, _VGG_PROTOCOL, f"{_VGG}, Table 3, config D"),
    "vgg19": PublishedError(27.3, 9.0, _VGG_PROTOCOL, f"{_VGG}, Table 3, config E"),
    "vgg11_bn": PublishedError(None, None, "batch norm is not in the VGG paper", _VGG),
    "vgg13_bn": PublishedError(None, None, "batch norm is not in the VGG paper", _VGG),
    "vgg16_bn": PublishedError(None, None, "batch norm is not in the VGG paper", _VGG),
    "vgg19_bn": PublishedError(None, None, "batch norm is not in the VGG paper", _VGG),
    "googlenet": PublishedError(
        None, 10.07, "the paper reports top-5 only: 10.07 % for 1 model, 1 crop (6.67 % for 7 models, 144 crops)",
        "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv:1409.4842), Table 3"),
    "inception_v3": PublishedError(
        21.2, 5.6, "ILSVRC-2012 val, 1 model, 1 crop at 299x299 (12 crops: 19.47; 144 crops: 18.77, Table 4)",
        "Szegedy et al., Rethinking the Inception Architecture, CVPR 2016 (arXiv:1512.00567), Table 3, last row"),
    "resnet18": PublishedError(
        27.88, None, "ILSVRC-2012 val, 10-crop testing, identity/zero-padding shortcuts (option A)",
        f"{_HE}, Table 2"),
    "resnet34": PublishedError(
        24.52, 7.46, "ILSVRC-2012 val, 10-crop testing, projection shortcuts where dimensions grow (option B)",
        f"{_HE}, Table 3, 'ResNet-34 B'"),
    "resnet50": PublishedError(
        24.7, 7.8, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop in the ResNet paper: "
        "22.85, Table 3)", f"{_HU}, Table 2, 'original' column"),
    "resnet101": PublishedError(
        23.6, 7.1, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop: 21.75, ResNet paper "
        "Table 3)", f"{_HU}, Table 2, 'original' column"),
    "resnet152": PublishedError(
        23.0, 6.7, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop: 21.43, ResNet paper "
        "Table 3)", f"{_HU}, Table 2, 'original' column"),
    "se_resnet50": PublishedError(
        23.29, 6.62, "ILSVRC-2012 val, 1 crop 224x224 (same protocol as the ResNet-50 row)",
        f"{_HU}, Table 2, 'SENet' column"),
    "attention56": PublishedError(21.76, 5.9, "ILSVRC-2012 val, 1 model, 1 crop", f"{_RAN}, Table 6"),
    "attention92": PublishedError(19.5, 4.8, "ILSVRC-2012 val, 1 model, 1 crop", f"{_RAN}, Table 6"),
    "mobilenet_v1": PublishedError(
        29.4, None, "ILSVRC-2012 val, 1.0 MobileNet-224: 70.6 % top-1 accuracy",
        "Howard et al., MobileNets, arXiv:1704.04861, Table 8"),
    "mobilenet_v2": PublishedError(
        28.0, None, "ILSVRC-2012 val, 1.0 width at 224: 72.0 % top-1 accuracy",
        "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR 2018 (arXiv:1801.04381), "
        "Table 4"),
}


def compare_architectures(names: Iterable[str] | None = None) -> list[dict]:
    """One row per registered architecture: depth, parameters, MACs, FC share, published error.

    Every model is built at its paper's default input with ``weights=None``
    and analysed with :func:`summarize`; the published figures come from
    :data:`PUBLISHED_ERRORS` (``None`` where the paper gives none).

    Args:
        names: registry names; default: all of :func:`tfcnn.list_models`, in
            the order of the notes (LeNet, AlexNet, ... MobileNet).

    Returns:
        A list of dicts with keys ``name``, ``input_shape``, ``depth``,
        ``params``, ``macs``, ``fc_share`` (0..1), ``top1_error``,
        ``top5_error``, ``protocol`` and ``source``.

    Raises:
        ValueError: an unknown name.

    Example:
        >>> rows = compare_architectures(["lenet"])
        >>> rows[0]["params"], rows[0]["depth"]
        (61706, 5)
    """
    from tfcnn._compat import keras
    from tfcnn.models.registry import create_model, get_config, list_models

    if names is None:  # the order of the notes (PUBLISHED_ERRORS), then anything newer
        registered = list_models()
        names = [n for n in PUBLISHED_ERRORS if n in registered] + [n for n in registered if n not in PUBLISHED_ERRORS]
    names = list(names)
    for name in names:
        get_config(name)  # fail before the slow part
    rows = []
    for name in names:
        summary = summarize(create_model(name))
        published = PUBLISHED_ERRORS.get(name, PublishedError(None, None, "", ""))
        rows.append({
            "name": name, "input_shape": list(summary.input_shape), "depth": summary.depth,
            "params": summary.total_params, "macs": summary.total_macs, "fc_share": summary.fc_share,
            "top1_error": published.top1, "top5_error": published.top5, "protocol": published.protocol,
            "source": published.source,
        })
        keras.backend.clear_session()  # the zoo at 224x224 would otherwise pile up in memory
    return rows


def format_comparison(rows: list[dict], *, markdown: bool = False) -> str:
    """The rows of :func:`compare_architectures` as a text (or Markdown) table, then the sources.

    Example:
        >>> print(format_comparison(compare_architectures(["lenet"]), markdown=True))  # doctest: +SKIP
    """
    header = ("Model", "Input", "Depth", "Params", "MACs", "FC params", "Top-1 err %", "Protocol")
    table = [header]
    notes = []
    for row in rows:
        err = "-" if row["top1_error"] is None else str(float(row["top1_error"]))
        ref = ""
        if row["source"]:
            protocol = row["protocol"][:1].upper() + row["protocol"][1:]
            notes.append(f"{row['name']}: {row['source']}. {protocol}.")
            ref = f"[{len(notes)}]"
        table.append((row["name"], "x".join(str(d) for d in row["input_shape"]), str(row["depth"]),
                      f"{row['params'] / 1e6:.2f} M", _si(row["macs"]), f"{100 * row['fc_share']:.1f} %",
                      err, _short_protocol(row["protocol"]) + (f" {ref}" if ref else "")))
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
        lines += [""] + [f"{i}. {note}" for i, note in enumerate(notes, start=1)]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if 1 < i < 7 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in table]
    lines.insert(1, "-" * len(lines[0]))
    lines += ["", ("MACs: multiply-accumulates per image at the input shown (FLOPs ~ 2 x MACs); depth: weighted "
              "layers on the longest path; FC params: share of parameters in Dense layers.")]
    lines += [f"[{i}] {note}" for i, note in enumerate(notes, start=1)]
    return "\n".join(lines)


def _short_protocol(protocol: str) -> str:
    p = protocol.lower()
    if not protocol or "not" in p.split(",")[0] or "only" in p:
        return "-"
    if "1 crop" in p:  # before 10-crop: single-crop rows mention the 10-crop figure in passing
        return "1-crop"
    if "10-crop" in p or "10 crops" in p:
        return "10-crop"
    if "dense" in p:
        return "dense, 1 scale"
    return "as reported"
