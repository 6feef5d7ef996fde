"""Whole-model analysis: every layer's output shape, parameters, multiply-accumulates and receptive field.

Chapter 4's "structure comparison" applied to a built model: :func:`summarize`
walks a flat functional model once and counts by the conventions below.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tfcnn._compat import keras
from tfcnn.errors import ModelError, UsageError
from tfcnn.layers import raw
from tfcnn.models.registry import create_model

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
        ((raw.RawChannelConv,), "channel_conv"),
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
    if kind == "channel_conv":  # ECA: k weights slide along the C channels of every position
        return int(np.prod([int(d) for d in out_shape[1:]])) * int(layer.kernel_size)
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
    try:
        return keras.models.clone_model(model, input_tensors=keras.Input(shape=tuple(input_shape)))
    except Exception as err:  # any build failure means the shape does not fit the model
        raise ModelError(f"the model cannot be rebuilt at this input ({type(err).__name__}: {err}). "
                         f"Received: input_shape={tuple(input_shape)}") from err


def _check_shape(input_shape):
    if input_shape is None:
        return None
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape)):
        raise UsageError(f"input_shape must be (height, width, channels) of positive ints. "
                         f"Received: input_shape={input_shape!r}")
    return tuple(input_shape)


def _resolve_model(model, input_shape):
    """A built functional model with a fully known input shape."""
    input_shape = _check_shape(input_shape)
    if isinstance(model, str):
        return create_model(model, input_shape=input_shape)
    if not hasattr(model, "layers") or not hasattr(model, "inputs") or model.inputs is None:
        raise TypeError(f"model must be a functional tf_keras Model or a registered name. "
                        f"Received: model={type(model).__name__}")
    if len(model.inputs) != 1:
        raise ModelError(f"only single-input models are supported. Received: {len(model.inputs)} inputs")
    current = tuple(model.inputs[0].shape[1:])
    if input_shape is not None and current != input_shape:
        model = _with_input_shape(model, input_shape)
    elif None in current:
        raise UsageError(f"the model's input has unknown dimensions; pass input_shape. Received: input_shape=None "
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
    return isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                              keras.layers.PReLU, raw.RawBatchNorm, raw.RawLRN))
