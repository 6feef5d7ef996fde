"""The channel dependency graph: which output channels must be removed together, for every coupling the zoo uses."""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras
from tfcnn.compress.structured import channel_graph, mask_removed, rebuild
from tfcnn.errors import CompressError


def _small(name, style="keras"):
    card = tfcnn.get_config(name)
    return tfcnn.create_model(name, style=style, input_shape=card.contract_input, num_classes=3,
                              **card.contract_options)


def _group(graph, producer):
    return next(g for g in graph.groups.values() if producer in g.producers)


def _exact(model, removed_of, shape):
    """Remove the channels ``removed_of(graph)`` picks; the rebuilt model equals the masked original."""
    graph = channel_graph(model)
    removed = removed_of(graph)
    thin, _ = rebuild(graph, removed)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    want = mask_removed(graph, removed)(x).numpy()
    np.testing.assert_allclose(thin(x).numpy(), want, atol=1e-5)
    return graph, thin


def test_a_residual_sum_couples_every_branch_that_reaches_it():
    graph = channel_graph(_small("resnet18"))
    stage2 = _group(graph, "conv2_block1_2_conv")
    assert stage2.producers == ["conv1_conv", "conv2_block1_2_conv", "conv2_block2_2_conv"]
    assert {"conv1_bn", "conv2_block1_2_bn", "conv2_block2_2_bn"} <= set(stage2.followers)
    assert {"conv2_block2_1_conv", "conv3_block1_0_conv", "conv3_block1_1_conv"} <= set(stage2.consumers)
    inner = _group(graph, "conv2_block1_1_conv")
    assert inner.producers == ["conv2_block1_1_conv"] and inner.consumers == ["conv2_block1_2_conv"]
    assert not stage2.fixed and not inner.fixed


def test_the_se_gate_joins_the_channels_it_scales():
    graph = channel_graph(_small("se_resnet50"))
    trunk = _group(graph, "conv2_block1_3_conv")
    assert {"conv2_block1_se_expand_conv", "conv2_block1_0_conv", "conv2_block2_se_expand_conv"} <= set(trunk.producers)
    squeeze = _group(graph, "conv2_block1_se_reduce_conv")
    assert squeeze.size == 16 and squeeze.consumers == ["conv2_block1_se_expand_conv"]


def test_a_depthwise_convolution_follows_its_input():
    graph = channel_graph(_small("mobilenet_v2"))
    expand = _group(graph, "block1_expand_conv")
    assert expand.followers == ["block1_expand_bn", "block1_dw_conv", "block1_dw_bn"]
    assert expand.consumers == ["block1_project_conv"]


def test_concatenate_lays_its_inputs_side_by_side():
    graph = channel_graph(_small("googlenet"))
    branches = ["inception_3a_branch1_conv", "inception_3a_branch2_conv", "inception_3a_branch3_conv",
                "inception_3a_branch4_conv"]
    joined = [cid for b in branches for cid in graph.output[b]]
    assert graph.inputs["inception_3b_branch1_conv"][0] == joined
    assert len({_group(graph, b).gid for b in branches}) == 4, "each branch keeps its own width"


def test_flatten_into_dense_reads_channel_times_position():
    model = _small("lenet")
    graph = channel_graph(model)
    conv = graph.output["conv2_conv"]
    positions = int(np.prod(model.get_layer("conv2_conv").output_shape[1:3]))
    pooled = int(np.prod(model.get_layer("fc1").input_shape[1:])) // len(conv)
    assert graph.inputs["fc1"][0] == conv * pooled and pooled <= positions

    def drop_two(g):
        return {graph.output["conv2_conv"][i] for i in (0, 5)}

    _, thin = _exact(model, drop_two, tfcnn.get_config("lenet").contract_input)
    assert thin.get_layer("fc1").get_weights()[0].shape[0] == pooled * (len(conv) - 2)


def test_lrn_and_the_model_ends_are_never_pruned():
    graph = channel_graph(_small("alexnet"))
    assert "conv1_lrn" in _group(graph, "conv1_conv").fixed
    assert _group(graph, "logits").fixed == "the model output"
    assert not _group(graph, "conv3_conv").fixed


def _separable_grouped():
    inputs = keras.Input((8, 8, 4))
    a = keras.layers.Conv2D(8, 3, padding="same", name="a")(inputs)
    s = keras.layers.SeparableConv2D(8, 3, padding="same", name="sep")(a)
    g = keras.layers.Conv2D(8, 3, padding="same", groups=2, name="grouped")(s)
    x = keras.layers.Concatenate(name="cat")([s, keras.layers.ZeroPadding2D(0, name="pad")(g)])
    x = keras.layers.Dropout(0.1, name="drop")(x)
    x = keras.layers.GlobalMaxPooling2D(name="gmp")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(x))


def test_separable_is_pruned_and_grouped_convolutions_are_fixed():
    model = _separable_grouped()

    def half_of_every_free_group(graph):
        return {cid for g in graph.prunable() for cid in g.channels[::2]}

    graph, thin = _exact(model, half_of_every_free_group, (8, 8, 4))
    assert {g.producers[0] for g in graph.prunable()} == {"a"}
    assert "grouped convolution grouped" in _group(graph, "sep").fixed
    assert thin.get_layer("a").filters == 4 and thin.get_layer("sep").get_weights()[0].shape[2] == 4


def test_an_unknown_layer_is_refused_with_its_name():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2D(4, 1, name="c")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2DTranspose(2, 2, name="up_by_hand")(x))
    with pytest.raises(CompressError, match=r"layer type Conv2DTranspose\. Received: layer=up_by_hand "
                                            r"\(Conv2DTranspose\)"):
        channel_graph(model)


def test_a_nested_model_or_a_shared_layer_is_refused():
    inner = keras.Sequential([keras.layers.Conv2D(2, 1)], name="inner")
    inputs = keras.Input((4, 4, 2))
    with pytest.raises(CompressError, match="Received: layer=inner"):
        channel_graph(keras.Model(inputs, inner(inputs)))
    shared = keras.layers.Conv2D(2, 1, name="shared")
    with pytest.raises(CompressError, match="Received: layer=shared called 2 times"):
        channel_graph(keras.Model(inputs, shared(shared(inputs))))
