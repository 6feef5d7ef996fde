"""Which output channels of a flat functional model must be removed together: the dependency graph.

Every channel of every tensor gets an id. A layer that *produces* channels
(``Conv2D``, ``Dense``, ``SeparableConv2D``) gives its outputs new ids; a
layer that works channel by channel (batch norm, activations, pooling,
padding, dropout, up-sampling, a depthwise convolution with
``depth_multiplier=1``) passes its input's ids through; ``Add`` and
``Multiply`` make channel ``i`` of every input one channel (union-find);
``Concatenate`` lays its inputs' ids side by side at their offsets, and
``Flatten`` repeats the ids once per spatial position, so the ``Dense``
after it sees ``channel x position`` rows. The classes of the union-find
are the :class:`ChannelGroup` s: removing one removes an output column of
each producer in it, the matching entries of each batch norm and depthwise
kernel in it, and the matching input rows of every consumer.

A group is *fixed* (never pruned) when it touches the model's input or
output, a protected layer, a layer that mixes neighbouring channels (LRN,
ECA's 1-D convolution across channels, a softmax) or reduces over all of
them (CBAM's channel pool), a channel permutation (ShuffleNet's shuffle: a
``Reshape`` that splits the channel axis into groups, a ``Permute`` of those
axes and a ``Reshape`` back; the graph follows every channel through it, but a
thinner tensor would no longer split into the same groups), a one-channel input that a ``Multiply``
broadcasts over the channels (CBAM's spatial mask), or a grouped
convolution. ``Concatenate`` along a spatial axis stacks maps of the same
channels, so it joins them as ``Add`` does. A contiguous channel slice
(ShuffleNet v2's split) reads its part of the ids; its bounds shrink with the
channels removed before them. A layer type the graph does not know is
refused with one :class:`~tfcnn.errors.CompressError` naming it.

Reference: Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023, arXiv:2301.12900.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tfcnn._compat import keras
from tfcnn.errors import CompressError

PRODUCERS = ("Conv2D", "Dense", "SeparableConv2D")
# Channel-wise layers: output channel i is a function of input channel i only.
PASSTHROUGH = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "MaxPooling2D",
               "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
               "Cropping2D", "Dropout", "SpatialDropout2D", "UpSampling2D", "DepthwiseConv2D")
MERGES = ("Add", "Multiply", "Subtract", "Maximum", "Minimum", "Average")
# Layers that mix neighbouring channels: their channels stay as they are.
CHANNEL_MIXING = ("RawLRN", "RawChannelConv")
# Layers that reduce over every channel (CBAM's mean and max across channels): a removed channel
# would change the mean, so their inputs stay; their outputs are new channels of their own.
CHANNEL_REDUCING = ("RawChannelPool",)
# Layers that move channels without computing: a contiguous slice (ShuffleNet v2's channel split, GhostNet's
# cut), and a Reshape/Permute that splits, transposes and merges the channel axis (ShuffleNet's shuffle).
CHANNEL_MOVING = ("RawChannelSlice", "Reshape", "Permute")


@dataclass
class ChannelGroup:
    """Output channels removed together: ``size`` channels shared by every layer listed.

    ``producers`` make the channels (their kernels lose output columns),
    ``followers`` carry them channel by channel (batch norm, depthwise),
    ``consumers`` read them (their kernels lose input rows). ``fixed`` says
    why the group cannot be pruned, or is empty.
    """

    gid: int
    channels: list = field(default_factory=list)  # channel ids, in the producers' output order
    producers: list = field(default_factory=list)
    followers: list = field(default_factory=list)
    consumers: list = field(default_factory=list)
    fixed: str = ""

    @property
    def size(self) -> int:
        return len(self.channels)


class _UnionFind:
    def __init__(self):
        self.parent = []

    def new(self, n):
        start = len(self.parent)
        self.parent.extend(range(start, start + n))
        return list(range(start, start + n))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class ChannelGraph:
    """The channel ids of every layer's inputs and output, and the groups they form.

    Build it with :func:`channel_graph`. ``inputs[name]`` is one id list per
    input tensor of layer ``name``, ``output[name]`` the id list of its
    output (ids are canonical: equal ids are one channel).
    """

    def __init__(self, model, inputs, output, groups, root):
        self.model, self.inputs, self.output, self.groups, self._root = model, inputs, output, groups, root

    def group_of(self, channel_id) -> ChannelGroup:
        return self.groups[self._root[channel_id]]

    def prunable(self) -> list[ChannelGroup]:
        """The groups that may lose channels, in model order."""
        return [g for g in self.groups.values() if not g.fixed]


def _layers_in_order(model):
    """Layers of a flat functional model, each called once, in graph order."""
    if not isinstance(model, keras.Model) or not getattr(model, "_is_graph_network", False):
        raise CompressError(f"structured pruning needs a functional model. Received: model={type(model).__name__}")
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            raise CompressError(f"structured pruning needs a flat model, not a nested one. "
                                f"Received: layer={layer.name} ({type(layer).__name__})")
        if len(layer.inbound_nodes) > 1:
            raise CompressError(f"structured pruning needs every layer called once. Received: layer={layer.name} "
                                f"called {len(layer.inbound_nodes)} times")
    return model.layers


def _inbound(layer):
    node = layer.inbound_nodes[0]
    return [t._keras_history.layer.name for t in node.keras_inputs]


def _check_known(layer):
    kind = type(layer).__name__
    known = (PRODUCERS + PASSTHROUGH + MERGES + CHANNEL_MIXING + CHANNEL_REDUCING + CHANNEL_MOVING
             + ("InputLayer", "Concatenate", "Flatten"))
    if kind not in known:
        raise CompressError(f"structured pruning does not know layer type {kind}. "
                            f"Received: layer={layer.name} ({kind})")
    axis = layer.get_config().get("axis")
    if kind == "BatchNormalization":
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if [a % len(layer.input_shape) for a in axes] != [len(layer.input_shape) - 1]:
            raise CompressError(f"structured pruning needs {kind} on the channel axis. "
                                f"Received: layer={layer.name} axis={axis}")
    if kind == "DepthwiseConv2D" and layer.depth_multiplier != 1:
        raise CompressError(f"structured pruning needs depth_multiplier=1 in a depthwise convolution. "
                            f"Received: layer={layer.name} depth_multiplier={layer.depth_multiplier}")
    if kind in ("Reshape", "Permute"):
        _channel_axes(layer)  # refuses a reshape or permutation that moves the spatial axes
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise CompressError(f"structured pruning needs channels_last. Received: layer={layer.name} "
                            f"data_format={layer.data_format}")


def _channel_axes(layer):
    """``(input channel shape, output channel shape)`` of a Reshape/Permute that only regroups the channels.

    The first two axes after the batch (height, width) must stay as they are;
    the axes after them hold the channels, as one axis or as groups.
    """
    kind = type(layer).__name__
    shape_in, shape_out = (tuple(s[1:]) for s in (layer.input_shape, layer.output_shape))
    if kind == "Permute":
        dims = tuple(layer.dims)
        ok = len(shape_in) > 2 and dims[:2] == (1, 2)
    else:
        ok = (len(shape_in) > 2 and len(shape_out) > 2 and shape_in[:2] == shape_out[:2]
              and int(np.prod(shape_in[2:])) == int(np.prod(shape_out[2:])))
    if not ok:
        setting = f"dims={tuple(layer.dims)}" if kind == "Permute" else f"target_shape={tuple(layer.target_shape)}"
        raise CompressError(f"structured pruning can follow a {kind} only when it keeps height and width and "
                            f"regroups the channels. Received: layer={layer.name} {setting}")
    return shape_in[2:], shape_out[2:]


def _moved(layer, ids, fixed):
    """The output ids of a layer that only moves channels: a slice reads its part, a regrouping permutes them."""
    kind = type(layer).__name__
    if kind == "RawChannelSlice":
        return list(ids[layer.start:layer.stop])
    shape_in, _ = _channel_axes(layer)
    grid = np.array(ids).reshape(shape_in)
    if kind == "Permute":  # dims after height and width, 1-based over the whole tensor
        grid = grid.transpose([d - 3 for d in layer.dims[2:]])
    # a thinner tensor would not regroup the same way: these channels stay
    fixed.update(dict.fromkeys(ids, f"channel permutation in {layer.name} ({kind})"))
    return [int(i) for i in grid.ravel()]


def _trace(layers, uf):
    """Channel ids of each layer's inputs and output, before the unions are resolved; fixed ids with reasons."""
    inputs, output, fixed = {}, {}, {}
    for layer in layers:
        _check_known(layer)
        kind, name = type(layer).__name__, layer.name
        if kind == "InputLayer":
            output[name] = uf.new(layer.output_shape[0][-1] if isinstance(layer.output_shape, list)
                                  else layer.output_shape[-1])
            fixed.update(dict.fromkeys(output[name], "the model input"))
            continue
        ins = [output[n] for n in _inbound(layer)]
        inputs[name] = ins
        if kind in PRODUCERS:
            output[name] = uf.new(layer.output_shape[-1])
            if getattr(layer, "groups", 1) != 1:
                reason = f"grouped convolution {name}"
                fixed.update(dict.fromkeys(ins[0] + output[name], reason))
            if kind == "SeparableConv2D" and layer.depth_multiplier != 1:
                fixed.update(dict.fromkeys(ins[0], f"depth_multiplier in {name}"))
        elif kind in PASSTHROUGH:
            output[name] = list(ins[0])
            if kind == "Activation" and layer.get_config()["activation"] in ("softmax", "log_softmax"):
                fixed.update(dict.fromkeys(ins[0], f"softmax in {name}"))
        elif kind == "Multiply" and len(ins) == 2 and min(map(len, ins)) == 1 < max(map(len, ins)):
            mask, full = sorted(ins, key=len)  # a one-channel mask scales every channel: nothing is coupled
            fixed.update(dict.fromkeys(mask, f"one-channel mask broadcast over the channels in {name}"))
            output[name] = list(full)
        elif kind in MERGES:
            for ids in ins[1:]:
                if len(ids) != len(ins[0]):
                    raise CompressError(f"structured pruning needs merged inputs of one width (no broadcast over "
                                        f"channels). Received: layer={name} widths={[len(i) for i in ins]}")
                for a, b in zip(ins[0], ids):
                    uf.union(a, b)
            output[name] = list(ins[0])
        elif kind == "Concatenate" and layer.axis % len(layer.output_shape) != len(layer.output_shape) - 1:
            if layer.axis % len(layer.output_shape) == 0:
                raise CompressError(f"structured pruning cannot follow a concatenation over the batch. "
                                    f"Received: layer={name} axis={layer.axis}")
            for ids in ins[1:]:  # maps stacked side by side in space: channel i of every input is one channel
                for a, b in zip(ins[0], ids):
                    uf.union(a, b)
            output[name] = list(ins[0])
        elif kind == "Concatenate":
            output[name] = [i for ids in ins for i in ids]
        elif kind in CHANNEL_REDUCING:
            output[name] = uf.new(layer.output_shape[-1])
            reason = f"{kind} {name} reduces over every channel"
            fixed.update(dict.fromkeys(ins[0] + output[name], reason))
        elif kind in CHANNEL_MOVING:
            output[name] = _moved(layer, ins[0], fixed)
        elif kind == "Flatten":
            positions = int(np.prod(layer.input_shape[1:-1]))
            output[name] = list(ins[0]) * positions  # channels_last: index = position * C + channel
        else:  # CHANNEL_MIXING
            output[name] = list(ins[0])
            fixed.update(dict.fromkeys(ins[0], f"{kind} {name} mixes neighbouring channels"))
    return inputs, output, fixed


def channel_graph(model, *, protect=()) -> ChannelGraph:
    """The dependency graph of a flat functional tf_keras model.

    Args:
        model: a functional model whose layers are each called once.
        protect: names of layers whose output channels must stay (the stem, say).

    Returns:
        A :class:`ChannelGraph`; ``graph.prunable()`` lists the groups that may lose channels.

    Raises:
        CompressError: an unknown layer type, a nested model, a protected name the model lacks.

    Example:
        >>> graph = channel_graph(tfcnn.create_model("resnet18", input_shape=(32, 32, 3)))  # doctest: +SKIP
        >>> [g.producers for g in graph.prunable()][:2]  # doctest: +SKIP
    """
    layers = _layers_in_order(model)
    names = {layer.name for layer in layers}
    missing = sorted(set(protect) - names)
    if missing:
        raise CompressError(f"protect names layers the model does not have. Received: protect={missing}")
    uf = _UnionFind()
    inputs, output, fixed = _trace(layers, uf)
    for out in model.outputs:
        fixed.update(dict.fromkeys(output[out._keras_history.layer.name], "the model output"))
    for name in protect:
        fixed.update(dict.fromkeys(output[name], f"protected layer {name}"))
    root = {i: uf.find(i) for i in range(len(uf.parent))}
    inputs = {k: [[root[i] for i in ids] for ids in v] for k, v in inputs.items()}
    output = {k: [root[i] for i in v] for k, v in output.items()}
    groups = {}
    for layer in layers:
        kind, name = type(layer).__name__, layer.name
        if kind in PRODUCERS or kind in CHANNEL_REDUCING or kind == "InputLayer":
            for cid in dict.fromkeys(output[name]):
                group = groups.setdefault(cid, ChannelGroup(gid=len(groups)))
                group.producers.append(name)
        if kind in ("BatchNormalization", "DepthwiseConv2D"):
            for cid in dict.fromkeys(output[name]):
                groups[cid].followers.append(name)
        if kind in PRODUCERS:
            for cid in dict.fromkeys(inputs[name][0]):
                groups[cid].consumers.append(name)
    for cid, reason in fixed.items():
        group = groups[root[cid]]
        group.fixed = group.fixed or reason
    # One canonical id per channel: gather the ids that share their layers into one group (one prunable width).
    return _merge_by_layer(model, inputs, output, groups, root)


def _merge_by_layer(model, inputs, output, per_channel, root):
    """Gather canonical channel ids into one group per set of producing layers (one group = one prunable width)."""
    groups, key_to_gid, channel_gid = {}, {}, {}
    for cid, single in per_channel.items():
        key = (tuple(single.producers), tuple(single.followers), tuple(single.consumers))
        gid = key_to_gid.setdefault(key, len(key_to_gid))
        group = groups.setdefault(gid, ChannelGroup(gid=gid, producers=list(single.producers),
                                                    followers=list(single.followers),
                                                    consumers=list(single.consumers)))
        group.channels.append(cid)
        group.fixed = group.fixed or single.fixed
        channel_gid[cid] = gid
    root = {i: channel_gid[r] for i, r in root.items()}
    return ChannelGraph(model, inputs, output, groups, root)
