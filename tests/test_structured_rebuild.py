"""Structured pruning rebuilds a thinner model that computes exactly the original with the removed channels cut.

The exactness check runs over every registered model: the original with
random, non-trivial batch-norm statistics and gammas, the thinner model at
50 %, and the original whose readers ignore the removed channels
(``mask_removed``) must agree to 1e-5 before any fine-tuning.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from zoo_checks import zoo_param

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras
from tfcnn.compress.structured import channel_graph, mask_removed, plan_channels, prune_channels, rebuild
from tfcnn.errors import CompressError

MODELS = tfcnn.list_models()
SLIM = ("lenet", "resnet18", "mobilenet_v1", "mobilenet_v2")


def _small(name, style="keras"):
    card = tfcnn.get_config(name)
    return tfcnn.create_model(name, style=style, input_shape=card.contract_input, num_classes=3,
                              **card.contract_options), card.contract_input


def _randomise(model, seed=0):
    """Non-trivial batch-norm statistics, gammas and biases, so that a mistake in any slice shows."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if "gamma" in v.name or "variance" in v.name
                               else rng.normal(0, 0.2, w.shape) for v, w in zip(layer.weights, layer.get_weights())])
        elif kind in ("Conv2D", "Dense", "DepthwiseConv2D", "SeparableConv2D") and len(layer.weights) > 1:
            values = layer.get_weights()
            layer.set_weights(values[:-1] + [rng.normal(0, 0.1, values[-1].shape)])


def _assert_exact(model, input_shape, ratio=0.5, **options):
    _randomise(model)
    graph, removed = plan_channels(model, ratio=ratio, **options)
    assert removed, "something was pruned"
    thin, table = rebuild(graph, removed)
    x = np.random.default_rng(1).uniform(0, 1, (2, *input_shape)).astype("float32")
    unmasked = model(x, training=False).numpy()
    want = mask_removed(graph, removed, inplace=True)(x, training=False).numpy()
    got = thin(x, training=False).numpy()
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= 1e-5 * scale
    assert not np.allclose(want, unmasked, atol=1e-6), "the mask changed something"
    assert thin.count_params() < model.count_params()
    return thin, table


@pytest.mark.parametrize("name", [zoo_param(n) for n in MODELS])
def test_rebuild_is_exact_for_every_zoo_model(name):
    model, shape = _small(name)
    _assert_exact(model, shape)
    keras.backend.clear_session()


def test_the_graph_follows_channels_through_shufflenets_permutation():
    """Channel g*(C/g)+i of the concatenation is channel i*g+g of the shuffle's output, id for id; the split
    halves read those ids, and the inner width of every unit still prunes while the shuffled channels stay."""
    model, _ = _small("shufflenet_v2_x0_5")
    graph = channel_graph(model)
    shuffle = next(layer.name for layer in model.layers if layer.name.endswith("_shuffle"))
    concat = model.get_layer(f"{shuffle}_reshape").inbound_nodes[0].inbound_layers.name
    ids_in, ids_out = graph.output[concat], graph.output[shuffle]
    c = len(ids_in)
    assert sorted(ids_in) == sorted(ids_out) and ids_in != ids_out
    assert ids_out == [ids_in[g * (c // 2) + i] for i in range(c // 2) for g in range(2)]
    assert graph.group_of(ids_out[0]).fixed.startswith("channel permutation")
    inner = [g for g in graph.prunable() if any(p.endswith("_conv1") or "pw1" in p for p in g.producers)]
    assert inner, [g.producers for g in graph.prunable()][:5]


def test_a_reshape_that_moves_the_spatial_axes_is_refused_naming_it():
    x = keras.Input((4, 4, 8))
    y = keras.layers.Conv2D(8, 1, name="conv")(x)
    y = keras.layers.Reshape((16, 8), name="to_rows")(y)
    with pytest.raises(CompressError, match=r"follow a Reshape only when .*Received: layer=to_rows "
                                            r"target_shape=\(16, 8\)"):
        channel_graph(keras.Model(x, y))


def test_a_slice_keeps_reading_its_part_after_the_channels_before_it_are_removed():
    """A slice of channels 4:12 of a 16-wide conv: removing channels before 4 moves its bounds, exactly."""
    from tfcnn.layers.raw import RawChannelSlice

    x = keras.Input((6, 6, 3))
    y = keras.layers.Conv2D(16, 3, padding="same", name="conv")(x)
    y = RawChannelSlice(4, 12, name="part")(y)
    y = keras.layers.Conv2D(5, 1, name="head")(y)
    model = keras.Model(x, keras.layers.GlobalAveragePooling2D()(y))
    graph = channel_graph(model)
    kept_before = np.array([0, 2, 5, 6, 7, 9, 13, 15])  # 2 before the slice, 4 inside it
    removed = {cid for i, cid in enumerate(graph.output["conv"]) if i not in kept_before}
    thin, _ = rebuild(graph, removed)
    assert (thin.get_layer("part").start, thin.get_layer("part").stop) == (2, 6)
    xs = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    want = mask_removed(graph, removed)(xs).numpy()
    np.testing.assert_allclose(thin(xs).numpy(), want, atol=1e-5)


@pytest.mark.parametrize("name", SLIM)
def test_rebuild_is_exact_in_the_slim_style(name):
    model, shape = _small(name, style="slim")
    _assert_exact(model, shape)
    keras.backend.clear_session()


def test_resnet18_half_the_channels_quarter_the_macs():
    model, _ = _small("resnet18")
    thin, table = prune_channels(model, ratio=0.5, round_to=8)
    before, after = analysis.summarize(model).total_macs, analysis.summarize(thin).total_macs
    # Every inner conv loses half its inputs and half its outputs; the stem input and the logits stay.
    assert 0.2 * before < after < 0.35 * before
    rows = {r["layer"]: r for r in table}
    assert rows["logits"]["after"] == rows["logits"]["before"] == 3
    assert all(r["after"] % 8 == 0 and r["after"] <= r["before"] for r in table if r["layer"] != "logits")


def _tiny_cnn(widths=(16, 16)):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(widths[0], 3, padding="same", name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="c1_bn")(x)
    x = keras.layers.ReLU(name="c1_relu")(x)
    x = keras.layers.Conv2D(widths[1], 3, padding="same", name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def _removed_columns(model, **options):
    graph, removed = plan_channels(model, **options)
    return {name: sorted(i for i, cid in enumerate(graph.output[name]) if cid in removed) for name in ("c1", "c2")}


def test_l1_and_l2_remove_the_filters_of_smallest_norm():
    model = _tiny_cnn()
    kernel, bias = model.get_layer("c1").get_weights()
    kernel[..., [3, 5, 7, 9, 11, 13, 15, 0]] *= 1e-3
    model.get_layer("c1").set_weights([kernel, bias])
    for criterion in ("l1", "l2"):
        assert _removed_columns(model, ratio=0.5, criterion=criterion)["c1"] == [0, 3, 5, 7, 9, 11, 13, 15]


def test_bn_criterion_removes_the_smallest_gammas():
    model = _tiny_cnn()
    bn = model.get_layer("c1_bn")
    values = bn.get_weights()
    values[0] = np.arange(16, 0, -1, dtype="float32")  # gamma: channel 15 smallest
    values[0][2] = -100.0  # |gamma| counts, not gamma
    bn.set_weights(values)
    removed = _removed_columns(model, ratio=0.25, criterion="bn")
    assert removed["c1"] == [12, 13, 14, 15]
    assert removed["c2"] == [], "a group without batch norm keeps every channel under the bn criterion"


def test_taylor_ignores_a_filter_with_no_effect_on_the_loss():
    model = _tiny_cnn()
    kernel, bias = model.get_layer("c2").get_weights()
    dead = [1, 4, 6, 10]
    kernel[..., dead] = 0
    bias[dead] = 0
    model.get_layer("c2").set_weights([kernel, bias])
    rng = np.random.default_rng(0)
    data = [(rng.uniform(size=(8, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 8)) for _ in range(3)]
    assert set(dead) <= set(_removed_columns(model, ratio=0.5, criterion="taylor", data=data)["c2"])
    with pytest.raises(CompressError, match="Received: data=None"):
        plan_channels(model, criterion="taylor")


def test_global_scope_takes_more_from_the_weaker_layer_and_refuses_to_empty_one():
    model = _tiny_cnn()
    kernel, bias = model.get_layer("c1").get_weights()
    kernel[..., :12] *= 1e-3
    model.get_layer("c1").set_weights([kernel, bias])
    removed = _removed_columns(model, ratio=0.4, criterion="l1", scope="global")
    assert len(removed["c1"]) > len(removed["c2"])
    kernel[..., 12:] *= 1e-6  # now every c1 filter is weaker than any c2 filter
    model.get_layer("c1").set_weights([kernel, bias * 0])
    with pytest.raises(CompressError, match="every channel of layer c1. Received: ratio=0.6"):
        plan_channels(model, ratio=0.6, criterion="l2", scope="global")


def test_round_to_and_protect():
    model = _tiny_cnn((20, 12))
    thin, table = prune_channels(model, ratio=0.5, round_to=8, protect=["c1"])
    widths = {r["layer"]: r["after"] for r in table}
    assert widths == {"c1": 20, "c2": 8, "logits": 3}
    assert thin.get_layer("c2").filters == 8 and thin.get_layer("avg_pool").output_shape == (None, 8)


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2, True, "half"])
def test_a_ratio_outside_zero_one_is_refused(ratio):
    with pytest.raises(CompressError, match=f"Received: ratio={ratio!r}"):
        prune_channels(_tiny_cnn(), ratio=ratio)


def test_bad_criterion_scope_round_to_and_protect_are_named():
    model = _tiny_cnn()
    for options, received in [({"criterion": "l3"}, "criterion='l3'"), ({"scope": "all"}, "scope='all'"),
                              ({"round_to": 0}, "round_to=0"), ({"protect": ["stem"]}, "protect=['stem']")]:
        with pytest.raises(CompressError, match=re.escape(f"Received: {received}")):
            prune_channels(model, **options)


def test_a_model_without_batch_norm_refuses_the_bn_criterion():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="c1")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1, name="c2")(x))
    with pytest.raises(CompressError, match="criterion='bn'"):
        prune_channels(model, criterion="bn")
    assert channel_graph(model).prunable()[0].producers == ["c1"]
