"""SqueezeNet 1.1, ShuffleNet v2, GhostNet: published MACs, torchvision's counts, and the three lessons' mechanics.

Parameter counts against the golden numbers, the three styles, one training
step and TFMOT are the contract suite's (tests/test_models_contract.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras
from tfcnn.layers import STYLES, get_style
from tfcnn.models import lightweight

# name -> (published multiply-adds at 224x224, source; torchvision/timm trainable parameters)
PUBLISHED = {
    # torchvision SqueezeNet1_1_Weights "GFLOPS 0.35" (torchvision counts multiply-adds); the official
    # DeepScale/SqueezeNet v1.1 README: "2.4x less computation than SqueezeNet 1.0" (0.82 G / 2.4 = 0.34 G).
    "squeezenet1_1": (349e6, 1_235_496),
    # Ma et al., arXiv:1807.11164, Table 5 ("FLOPs" there are multiply-adds): 1x 146M, 0.5x 41M.
    "shufflenet_v2_x1_0": (146e6, 2_278_604),
    "shufflenet_v2_x0_5": (41e6, 1_366_792),
    # Han et al., arXiv:1911.11907, Table 7: GhostNet 1.0x, 141M FLOPs (multiply-adds), 5.2M parameters.
    "ghostnet": (141e6, 5_182_508),
}


def _trainable(model) -> int:
    return int(sum(int(w.shape.num_elements()) for w in model.trainable_weights))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_macs_at_224_are_the_papers_and_trainable_counts_the_references(name):
    macs, trainable = PUBLISHED[name]
    model = tfcnn.create_model(name)
    summary = analysis.summarize(model)
    assert summary.total_macs == pytest.approx(macs, rel=0.03)
    assert _trainable(model) == trainable
    assert not summary.unrecognised  # the shuffle and slice layers are weightless
    keras.backend.clear_session()


def _apply(style, fn, x, **kwargs):
    inputs = keras.Input(x.shape[1:])
    return keras.Model(inputs, getattr(get_style(style), fn)(inputs, **kwargs))(x).numpy()


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("groups", [2, 3])
def test_channel_shuffle_is_torchs_view_transpose(style, groups):
    b, h, w, c = 2, 3, 4, 12
    x = np.random.default_rng(0).normal(size=(b, h, w, c)).astype("float32")
    # torchvision's channel_shuffle, in NCHW: x.view(b, g, c // g, h, w).transpose(1, 2).reshape(b, c, h, w)
    nchw = x.transpose(0, 3, 1, 2).reshape(b, groups, c // groups, h, w).transpose(0, 2, 1, 3, 4).reshape(b, c, h, w)
    got = _apply(style, "channel_shuffle", x, groups=groups, name="shuffle")
    np.testing.assert_array_equal(got, nchw.transpose(0, 2, 3, 1))
    # channel g * (c // groups) + i lands at i * groups + g: with 2 groups the two halves interleave
    order = _apply(style, "channel_shuffle", np.arange(c, dtype="float32").reshape(1, 1, 1, c), groups=groups,
                   name="shuffle")
    assert order.ravel().tolist() == [g * (c // groups) + i for i in range(c // groups) for g in range(groups)]


def test_a_stride_1_shuffle_unit_passes_half_its_channels_through_untouched():
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 24)).astype("float32")
    inputs = keras.Input(x.shape[1:])
    unit = keras.Model(inputs, lightweight.shuffle_unit(inputs, get_style("keras"), 24, strides=1, name="u"))
    y = unit(x, training=False).numpy()
    assert y.shape == x.shape
    np.testing.assert_array_equal(y[..., 0::2], x[..., :12])  # the left half, spread over the even channels
    down = keras.Model(inputs, lightweight.shuffle_unit(inputs, get_style("keras"), 48, strides=2, name="d"))
    assert down.output_shape == (None, 4, 4, 48)  # stride 2: both branches convolved, channels doubled


@pytest.mark.parametrize("filters,slices", [(7, True), (8, False)])
def test_ghost_module_concatenates_primary_and_cheap_and_cuts_to_filters(filters, slices):
    x = np.random.default_rng(2).normal(size=(1, 5, 5, 6)).astype("float32")
    inputs = keras.Input(x.shape[1:])
    out = lightweight.ghost_module(inputs, get_style("keras"), filters, name="g")
    model = keras.Model(inputs, out)
    primary, cheap = model.get_layer("g_primary_conv"), model.get_layer("g_cheap_conv")
    assert primary.filters == 4 and primary.kernel_size == (1, 1)
    assert isinstance(cheap, keras.layers.DepthwiseConv2D) and cheap.kernel_size == (3, 3)
    assert model.get_layer("g_concat").output_shape[-1] == primary.filters + 4
    assert model.output_shape[-1] == filters
    assert ("g_out" in {layer.name for layer in model.layers}) == slices
    whole = keras.Model(inputs, model.get_layer("g_concat").output)
    np.testing.assert_array_equal(model(x).numpy(), whole(x).numpy()[..., :filters])


def test_fire_module_outputs_expand1x1_plus_expand3x3_channels():
    x = np.random.default_rng(3).normal(size=(1, 6, 6, 10)).astype("float32")
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, lightweight.fire_module(inputs, get_style("keras"), 4, 5, 7, name="fire"))
    assert model.get_layer("fire_squeeze_conv").filters == 4
    assert model.output_shape == (None, 6, 6, 5 + 7)
    e1 = keras.Model(inputs, model.get_layer("fire_expand1x1_relu").output)
    np.testing.assert_array_equal(model(x).numpy()[..., :5], e1(x).numpy())


def test_squeezenet_maps_follow_torchs_ceil_mode_pools_and_its_head_averages_logits():
    def torch_ceil_pool(n):
        return -(-(n - 3) // 2) + 1

    for side in (224, 66, 17):
        model = tfcnn.create_model("squeezenet1_1", input_shape=(side, side, 3), num_classes=5)
        n = (side - 3) // 2 + 1
        for pool in ("pool1", "pool3", "pool5"):
            n = torch_ceil_pool(n)
            assert model.get_layer(f"{pool}_pool").output_shape[1:3] == (n, n), (side, pool)
    # The head: dropout -> 1x1 conv -> average, no ReLU (the reference's final ReLU is dropped: logits can be < 0),
    # the same function as pooling first and applying the conv's weights as a Dense layer.
    model = tfcnn.create_model("squeezenet1_1", input_shape=(32, 32, 3), num_classes=5)
    assert "logits_relu" not in {layer.name for layer in model.layers}
    x = np.random.default_rng(4).uniform(size=(2, 32, 32, 3)).astype("float32")
    features = keras.Model(model.inputs, model.get_layer("fire9_out").output)(x).numpy().mean(axis=(1, 2))
    kernel, bias = model.get_layer("logits_conv").get_weights()
    np.testing.assert_allclose(model(x).numpy(), features @ kernel[0, 0] + bias, rtol=1e-4, atol=1e-5)


def test_ghostnet_table_shortcuts_and_hard_sigmoid_gates():
    model = tfcnn.create_model("ghostnet", input_shape=(32, 32, 3), num_classes=5)
    names = {layer.name for layer in model.layers}
    assert sum(n.endswith("_add") for n in names) == len(lightweight.GHOSTNET_ROWS) == 16
    with_se = [i for i, row in enumerate(lightweight.GHOSTNET_ROWS) if row[3]]
    assert {n[: -len("_se_excite")] for n in names if n.endswith("_se_excite")} == {f"block{i}" for i in with_se}
    assert model.get_layer("block3_se_reduce_conv").filters == 20  # make_divisible(72 * 0.25, 4)
    assert model.get_layer("block3_se_expand_hard_sigmoid") is not None
    # a projection shortcut wherever shapes change, stride 1 included (80 -> 112 in block 9); identity elsewhere
    projected = {n[: -len("_shortcut_pw_conv")] for n in names if n.endswith("_shortcut_pw_conv")}
    assert projected == {"block1", "block3", "block5", "block9", "block11"}
    assert model.get_layer("conv_last_conv").filters == 960 and model.get_layer("conv_head").units == 1280


def test_shufflenet_shuffle_and_split_convert_to_tflite_and_agree():
    from ai_edge_litert.interpreter import Interpreter

    from tfcnn.compress import to_tflite

    model = tfcnn.create_model("shufflenet_v2_x0_5", input_shape=(32, 32, 3), num_classes=3)
    interpreter = Interpreter(model_content=to_tflite(model, "float32"))
    interpreter.allocate_tensors()
    x = np.random.default_rng(5).uniform(size=(1, 32, 32, 3)).astype("float32")
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, model(x, training=False).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("option,value", [("width", 0), ("dropout_rate", 1.0)])
def test_ghostnet_refuses_a_bad_width_or_rate(option, value):
    with pytest.raises(ValueError, match=f"Received: {option}="):
        tfcnn.create_model("ghostnet", input_shape=(32, 32, 3), **{option: value})
