"""The analyser: MACs agree with TensorFlow's profiler, receptive fields with the chapter-3 arithmetic.

The profiler counts 2 FLOPs per multiply-accumulate for Conv2D, depthwise
conv and MatMul, so its FLOPs of those ops must be exactly 2 x the analytic
MACs; its total adds bias/Add/pooling FLOPs, a fraction of a percent more.
"""

from __future__ import annotations

import json

import pytest

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras

SMALL = (32, 32, 3)
MATMUL_OPS = ("Conv2D", "DepthwiseConv2dNative", "MatMul")
ELEMENTWISE_OPS = ("BiasAdd", "Add", "AddV2", "AddN", "Mul", "MaxPool", "AvgPool", "Mean", "Rsqrt", "Sub", "RealDiv",
                   "Softmax")


def _assert_profiler_agrees(model):
    summary = analysis.summarize(model)
    profile = analysis.profile_flops(model)
    assert summary.total_macs > 0
    assert profile.uncounted_calls == ()
    assert profile.matmul_like == 2 * summary.total_macs, profile.by_op
    # Bias adds, residual adds, scaling and pooling are O(activations): a small surplus, never a deficit.
    assert set(profile.by_op) <= set(MATMUL_OPS) | set(ELEMENTWISE_OPS), profile.by_op
    assert 2 * summary.total_macs <= profile.total <= 1.03 * 2 * summary.total_macs
    return summary


@pytest.mark.parametrize("style", ["keras", "raw", "slim"])
def test_summarize_lenet_macs_match_profiler_in_every_style(style):
    _assert_profiler_agrees(tfcnn.create_model("lenet", style=style))


@pytest.mark.parametrize("name", ["vgg16", "resnet50", "eca_resnet50", "cbam_resnet50"])
def test_summarize_zoo_macs_match_profiler_small_input(name):
    model = tfcnn.create_model(name, input_shape=SMALL)
    summary = _assert_profiler_agrees(model)
    assert summary.total_params == model.count_params()


def test_summarize_keras_mobilenet_v2_depthwise_macs_match_profiler():
    model = keras.applications.MobileNetV2(weights=None, input_shape=SMALL)
    summary = _assert_profiler_agrees(model)
    assert summary.total_params == model.count_params()
    assert summary.depth == 53  # the depth Keras and MATLAB quote for MobileNetV2


@pytest.mark.slow
@pytest.mark.parametrize("name,paper_gmacs", [("vgg16", 15.5), ("resnet50", 3.9)])
def test_summarize_zoo_default_input_matches_profiler_and_paper(name, paper_gmacs):
    # Papers: VGG-16 "15.5 G" (as usually quoted), ResNet-50 "3.8 x 10^9 FLOPs" (multiply-adds, Table 1).
    model = tfcnn.create_model(name)
    summary = _assert_profiler_agrees(model)
    assert summary.total_macs / 1e9 == pytest.approx(paper_gmacs, rel=0.04)


def test_summarize_grouped_depthwise_separable_and_raw_layers_match_profiler():
    from tfcnn.layers.raw import RawConv2D, RawDense, RawDepthwiseConv2D

    x = inputs = keras.Input((16, 16, 8))
    x = RawConv2D(16, 3, groups=4, padding="same")(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same")(x)
    x = keras.layers.SeparableConv2D(8, 3, dilation_rate=2, padding="same")(x)
    x = RawConv2D(12, 3, strides=1, padding="valid", groups=2)(x)
    x = RawDepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = RawDense(10)(x)
    model = keras.Model(inputs, x)
    summary = _assert_profiler_agrees(model)
    grouped = summary.layers[1]
    assert grouped.macs == 16 * 16 * 3 * 3 * (8 // 4) * 16  # H*W*k*k*(C_in/groups)*C_out


def test_keras_grouped_conv_macs_equal_raw_and_the_profiler_says_what_it_misses():
    from tfcnn.layers.raw import RawConv2D

    def model(layer):
        x = keras.Input((16, 16, 8))
        return keras.Model(x, layer(x))

    keras_grouped = model(keras.layers.Conv2D(16, 3, groups=4, padding="same"))
    raw_grouped = model(RawConv2D(16, 3, groups=4, padding="same"))
    assert analysis.summarize(keras_grouped).total_macs == analysis.summarize(raw_grouped).total_macs
    # tf_keras wraps grouped convolution in an XLA-compiled function the profiler does not enter.
    assert analysis.profile_flops(keras_grouped).uncounted_calls


def test_summarize_params_equal_count_params_and_fc_share():
    model = keras.applications.VGG16(weights=None, input_shape=SMALL, classes=10)
    summary = analysis.summarize(model)
    dense = sum(layer.count_params() for layer in model.layers if isinstance(layer, keras.layers.Dense))
    assert summary.total_params == model.count_params()
    assert sum(row.params for row in summary.layers) == model.count_params()
    assert summary.fc_params == dense
    assert summary.fc_share == pytest.approx(dense / model.count_params())


def test_summarize_is_the_same_in_all_three_styles():
    def rows(style):
        s = analysis.summarize(tfcnn.create_model("lenet", style=style))
        return [(r.name, r.output_shape, r.params, r.macs, r.receptive_field, r.jump, r.depth) for r in s.layers]

    keras_rows = rows("keras")
    assert rows("raw") == keras_rows
    assert rows("slim") == keras_rows


def _chain_layers(model):
    """(kernel, stride) of every spatial layer of a plain chain, read from the Keras configs."""
    out = []
    for layer in model.layers:
        cfg = layer.get_config()
        if "kernel_size" in cfg or "pool_size" in cfg:
            k = cfg.get("kernel_size", cfg.get("pool_size"))
            out.append((layer.name, (k[0], cfg["strides"][0])))
    return out


@pytest.mark.parametrize("source", ["keras", "tfcnn"])
def test_receptive_fields_follow_the_stack_arithmetic(source):
    if source == "keras":
        model = keras.applications.VGG16(weights=None, include_top=False, input_shape=SMALL)
    else:
        model = tfcnn.create_model("vgg16", input_shape=SMALL)
    summary = analysis.summarize(model)
    chain = _chain_layers(model)
    assert len(chain) == 13 + 5
    for i, (name, _) in enumerate(chain):
        want = analysis.receptive_field([ks for _, ks in chain[: i + 1]])
        row = summary.layer(name)
        assert (row.receptive_field[0], row.jump[0]) == want
    # Two stacked 3x3 convolutions see 5x5, three see 7x7 (VGG's argument).
    assert summary.layer(chain[1][0]).receptive_field == (5, 5)
    assert summary.receptive_field == (212, 212)  # VGG-16's published field


def test_receptive_field_takes_the_largest_branch_and_handles_dilation_and_upsampling():
    x = inputs = keras.Input((32, 32, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="a")(x)
    b = keras.layers.Conv2D(4, 7, padding="same", name="b")(x)
    m = keras.layers.Add(name="merge")([a, b])
    c = keras.layers.Concatenate(name="cat")([a, m])
    d = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same", name="dil")(c)
    p = keras.layers.MaxPooling2D(2, name="pool")(d)
    u = keras.layers.UpSampling2D(2, name="up")(p)
    e = keras.layers.Conv2D(4, 3, padding="same", name="after_up")(u)
    s = analysis.summarize(keras.Model(inputs, e))
    assert s.layer("merge").receptive_field == (7, 7)
    assert s.layer("cat").receptive_field == (7, 7)
    assert s.layer("dil").receptive_field == (analysis.receptive_field([(7, 1), (5, 1)])[0],) * 2  # k_eff = 5
    pool_r, pool_j = analysis.receptive_field([(7, 1), (5, 1), (2, 2)])
    assert (s.layer("pool").receptive_field, s.layer("pool").jump) == ((pool_r, pool_r), (pool_j, pool_j))
    assert s.layer("up").jump == (1, 1)
    assert s.layer("after_up").receptive_field == (pool_r + 2, pool_r + 2)
    assert s.depth == 3  # a/b -> dil -> after_up


def test_summarize_resnet50_receptive_field_and_depth():
    model = keras.applications.ResNet50(weights=None, input_shape=SMALL, classes=10)
    summary = analysis.summarize(model)
    assert summary.receptive_field == (483, 483)  # the widely quoted ResNet-50 field (Araujo et al., Distill 2019)
    assert summary.depth == 50


def test_depth_matches_the_conventional_layer_counts():
    assert analysis.summarize(tfcnn.create_model("lenet")).depth == 5
    # The shallowest and a deep member of each family (all of them would cost ~30 s here).
    for name in [n for n in ("vgg11", "vgg19", "resnet18", "resnet50") if n in tfcnn.list_models()]:
        summary = analysis.summarize(tfcnn.create_model(name, input_shape=SMALL, num_classes=10))
        assert summary.depth == int(name.removeprefix("vgg").removeprefix("resnet")), name


def test_summarize_input_shape_rebuilds_the_model():
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=SMALL)
    small = analysis.summarize(model)
    big = analysis.summarize(model, input_shape=(64, 64, 3))
    assert big.input_shape == (64, 64, 3)
    assert big.total_macs == 4 * small.total_macs  # conv MACs scale with the pixel count
    assert big.total_params == small.total_params


@pytest.mark.parametrize("bad", [(32, 32), (0, 32, 3), "32,32,3", (32.0, 32, 3)])
def test_summarize_rejects_bad_input_shape(bad):
    with pytest.raises(ValueError, match=r"input_shape.*Received: input_shape="):
        analysis.summarize(tfcnn.create_model("lenet"), input_shape=bad)


def test_summary_text_and_dict():
    summary = analysis.summarize("lenet")
    text = summary.to_text()
    assert str(summary) == text
    for row in summary.layers:
        assert row.name in text
    assert f"{summary.total_params:,}" in text and f"{summary.total_macs:,}" in text
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["total_macs"] == sum(layer["macs"] for layer in data["layers"])
    assert [layer["name"] for layer in data["layers"]] == [row.name for row in summary.layers]


def test_compare_architectures_rows_agree_with_summaries():
    rows = analysis.compare_architectures(["lenet"])
    model = tfcnn.create_model("lenet")
    summary = analysis.summarize(model)
    assert rows == [{
        "name": "lenet", "input_shape": [28, 28, 1], "depth": summary.depth, "params": model.count_params(),
        "macs": summary.total_macs, "fc_share": summary.fc_share, "top1_error": None, "top5_error": None,
        "protocol": analysis.PUBLISHED_ERRORS["lenet"].protocol, "source": analysis.PUBLISHED_ERRORS["lenet"].source,
    }]
    with pytest.raises(ValueError, match="Received: name='nosuch'"):
        analysis.compare_architectures(["nosuch"])


def test_every_registered_architecture_has_a_cited_published_row():
    for name in tfcnn.list_models():
        assert name in analysis.PUBLISHED_ERRORS, f"add {name}'s paper figure (or None) to PUBLISHED_ERRORS"
    for name, row in analysis.PUBLISHED_ERRORS.items():
        assert row.source and row.protocol, name
        assert row.top1 is None or 0 < row.top1 < 100, name
    text = analysis.format_comparison(analysis.compare_architectures(["lenet"]), markdown=True)
    assert text.splitlines()[0].startswith("| Model |") and "LeCun" in text


@pytest.mark.parametrize("name,label", [("densenet121", "1-crop"), ("shufflenet_v2_x1_0", "1-crop"),
                                        ("googlenet", "1-crop"), ("alexnet", "10-crop"), ("resnet18", "10-crop"), ("vgg16", "dense, 1 scale"), ("squeezenet1_1", "1-crop"),
                                        ("lenet", "-")])
def test_compare_labels_each_rows_protocol_from_its_card(name, label):
    """A single-crop row that quotes a 10-crop figure in passing (DenseNet) is still a 1-crop row."""
    from tfcnn.analysis.compare import _short_protocol

    assert _short_protocol(tfcnn.get_config(name).published_error.protocol) == label
