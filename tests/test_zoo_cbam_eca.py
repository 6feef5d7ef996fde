"""CBAM and ECA as attention options of ResNet-50: counts against their papers, each gate against its formula.

CBAM's channel MLP is computed once on a 1x2 map of the two pooled
descriptors (so every layer is called once); these tests rebuild the
official form, ``sigmoid(MLP(avg) + MLP(max))`` with ``fc2`` half of
tfcnn's ``_cbam_expand``, in numpy and compare. ECA's gate is compared
with a 1-D convolution over the pooled channels written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras
from tfcnn.compress.structured import channel_graph
from tfcnn.layers import STYLES, get_style
from tfcnn.models import resnet
from tfcnn.models._common import cbam, eca, eca_kernel_size

SMALL = (32, 32, 3)


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _gate_model(block, style="keras", shape=(6, 5, 8), **kwargs):
    inputs = keras.Input(shape, name="input")
    return keras.Model(inputs, block(inputs, get_style(style), name="b", **kwargs))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_counts_are_se_resnet50_plus_the_spatial_gates_and_resnet50_plus_k_weights():
    paper = _trainable(tfcnn.create_model("resnet50", variant="paper"))
    se = _trainable(tfcnn.create_model("se_resnet50"))
    cbam_model = tfcnn.create_model("cbam_resnet50")
    eca_model = tfcnn.create_model("eca_resnet50")
    assert paper == 25_557_032 and se == 28_088_024  # torchvision resnet50, timm seresnet50
    # CBAM = SE's MLP (with biases) + per block a 7x7x2 kernel, no bias, and a batch norm's gamma and beta.
    assert _trainable(cbam_model) == se + 16 * (7 * 7 * 2 + 2) == 28_089_624  # paper Table 4: 28.09M
    # ECA-Net50 as released (k = 3, 5, 5, 7 for the 3, 4, 6, 3 blocks of the four stages).
    assert _trainable(eca_model) == paper + 3 * 3 + 4 * 5 + 6 * 5 + 3 * 7 == 25_557_112
    kernels = {int(layer.name[4]): layer.kernel_size for layer in eca_model.layers if layer.name.endswith("_eca_conv")}
    assert kernels == {2: 3, 3: 5, 4: 5, 5: 7}
    adaptive = tfcnn.create_model("eca_resnet50", input_shape=SMALL, eca_kernel_sizes="adaptive")
    assert [adaptive.get_layer(f"conv{s}_block1_eca_conv").kernel_size for s in (2, 3, 4, 5)] == [5, 5, 5, 7]


def test_ecas_adaptive_kernel_follows_the_papers_rule():
    # k = |log2(C)/2 + 1/2|_odd: the nearest odd number at or above int(t).
    assert [eca_kernel_size(c) for c in (16, 64, 128, 256, 512, 1024, 2048, 4096)] == [3, 3, 5, 5, 5, 5, 7, 7]
    assert eca_kernel_size(256, gamma=1, b=0) == 9


@pytest.mark.parametrize("style", STYLES)
def test_cbam_equals_the_official_two_pass_mlp_and_the_spatial_gate(style):
    model = _gate_model(cbam, style, squeeze_channels=3)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # non-trivial weights and batch-norm statistics everywhere
        layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if i in (0, 3) and "bn" in layer.name
                           else rng.normal(0, 0.5, w.shape) for i, w in enumerate(layer.get_weights())])
    x = rng.normal(size=(2, 6, 5, 8)).astype("float32")
    w1, b1 = model.get_layer("b_cbam_reduce_conv").get_weights()
    w2, b2 = (v / 2 for v in model.get_layer("b_cbam_expand_conv").get_weights())  # the official fc2
    w1, w2 = w1[0, 0], w2[0, 0]

    def mlp(v):
        return np.maximum(v @ w1 + b1, 0) @ w2 + b2

    channel = _sigmoid(mlp(x.mean(axis=(1, 2))) + mlp(x.max(axis=(1, 2))))[:, None, None, :]
    f = x * channel
    pooled = np.concatenate([f.mean(-1, keepdims=True), f.max(-1, keepdims=True)], -1)  # [avg; max] over channels
    kernel = model.get_layer("b_cbam_spatial_conv").get_weights()[0]  # 7x7x2x1, 'same' padding
    padded = np.pad(pooled, [(0, 0), (3, 3), (3, 3), (0, 0)])
    conv = np.array([[[np.sum(padded[n, i:i + 7, j:j + 7] * kernel[..., 0]) for j in range(5)] for i in range(6)]
                     for n in range(2)])
    gamma, beta, mean, var = model.get_layer("b_cbam_spatial_bn").get_weights()
    spatial = _sigmoid(gamma * (conv - mean) / np.sqrt(var + 1e-5) + beta)[..., None]
    np.testing.assert_allclose(model(x, training=False).numpy(), f * spatial, rtol=1e-4, atol=1e-5)
    masks = keras.Model(model.input, model.get_layer("b_cbam_spatial_sigmoid").output)(x).numpy()
    assert masks.shape == (2, 6, 5, 1) and ((masks > 0) & (masks < 1)).all()  # one weight per position


@pytest.mark.parametrize("style", STYLES)
def test_eca_is_a_zero_padded_1d_convolution_across_the_pooled_channels(style):
    model = _gate_model(eca, style, shape=(4, 4, 9), kernel_size=5)
    kernel = np.array([0.3, -0.7, 1.1, 0.4, -0.2], "float32")
    model.get_layer("b_eca_conv").set_weights([kernel.reshape(5, 1, 1)])
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 9)).astype("float32")
    pooled = np.pad(x.mean(axis=(1, 2)), [(0, 0), (2, 2)])  # zeros beyond the first and last channel
    conv = np.stack([pooled[:, c:c + 5] @ kernel for c in range(9)], axis=-1)
    np.testing.assert_allclose(model(x).numpy(), x * _sigmoid(conv)[:, None, None, :], rtol=1e-5, atol=1e-6)
    assert model.get_layer("b_eca_conv").count_params() == 5  # SE at r=16 would need 2 * 9 * 1 + 1 + 9


def test_the_gates_sit_on_the_residual_branch_before_the_addition():
    for name, last in (("cbam_resnet50", "conv2_block1_cbam_excite"), ("eca_resnet50", "conv2_block1_eca_excite")):
        model = tfcnn.create_model(name, input_shape=SMALL, num_classes=3)
        add = model.get_layer("conv2_block1_add")
        assert sorted(t._keras_history.layer.name for t in add.input) == ["conv2_block1_0_bn", last]
        gates = [layer for layer in model.layers if layer.name.endswith(last[len("conv2_block1"):])]
        assert len(gates) == 16  # one per bottleneck block


def test_structured_pruning_keeps_channels_the_gates_read_across():
    """Removing a channel would change CBAM's mean over channels and ECA's neighbours: those groups stay."""
    for name, reason in (("cbam_resnet50", "RawChannelPool conv2_block1_cbam_pool reduces over every channel"),
                         ("eca_resnet50", "RawChannelConv conv2_block1_eca_conv mixes neighbouring channels")):
        graph = channel_graph(tfcnn.create_model(name, input_shape=SMALL, num_classes=3))
        group = graph.group_of(graph.output["conv2_block1_3_conv"][0])
        assert group.fixed == reason
        inner = graph.group_of(graph.output["conv2_block1_1_conv"][0])
        assert not inner.fixed and inner.size == 64  # the bottleneck's inner widths still prune
    graph = channel_graph(tfcnn.create_model("cbam_resnet50", input_shape=SMALL, num_classes=3))
    hidden = graph.group_of(graph.output["conv3_block2_cbam_reduce_conv"][0])
    assert not hidden.fixed and hidden.size == 512 // 16  # the channel MLP's hidden width is prunable
    mask = graph.group_of(graph.output["conv3_block2_cbam_spatial_conv"][0])
    assert mask.fixed.startswith("one-channel mask broadcast over the channels")


@pytest.mark.parametrize("name,kwargs,arg", [
    ("cbam_resnet50", {"cbam_reduction": 0}, "cbam_reduction"),
    ("cbam_resnet50", {"spatial_kernel": 4}, "spatial_kernel"),
    ("eca_resnet50", {"eca_kernel_sizes": (3, 5, 5)}, "eca_kernel_sizes"),
    ("eca_resnet50", {"eca_kernel_sizes": (3, 4, 5, 7)}, "eca_kernel_sizes"),
    ("eca_resnet50", {"eca_kernel_sizes": "auto"}, "eca_kernel_sizes"),
])
def test_bad_attention_options_name_the_option(name, kwargs, arg):
    with pytest.raises(ValueError, match=f"{arg}.*Received: {arg}="):
        tfcnn.create_model(name, input_shape=SMALL, **kwargs)


@pytest.mark.slow
def test_cbam_and_eca_gates_survive_int8_after_a_short_digits_training(tmp_path):
    """Channel pool, the 1-D channel convolution and the broadcast mask convert to int8 and keep the predictions.

    Measured here (seed 0, 6 epochs, 360 test digits): ECA float 1.000 -> int8
    1.000; CBAM 0.989 -> 0.964, agreement 0.967. CBAM's gates alone keep 0.992
    (channel) and 0.994 (spatial) agreement; the two in sequence lose more, so
    CBAM's bar is 0.95 agreement and 3 points, ECA's the 0.98 and 2 points
    asked of MobileNet v3.
    """
    bars = {"cbam": (0.95, 0.03), "eca": (0.98, 0.02)}
    from tfcnn.compress import to_tflite
    from tfcnn.data import load_digits
    from tfcnn.litert import evaluate

    data = load_digits()
    x_train, x_test = ((d.astype("float32") / 255.0) for d in (data.x_train, data.x_test))
    L = get_style("keras")
    for attention in ("cbam", "eca"):
        keras.utils.set_random_seed(0)
        inputs = x = keras.Input(x_train.shape[1:], name="input")
        x = L.conv_bn(x, 16, 3, name="stem")
        attend = resnet.attention_gate(attention, L=L, reduction=4)
        for b, (filters, strides) in enumerate(((16, 1), (32, 2), (32, 1)), start=1):
            x = resnet.basic_block(x, L, filters, strides=strides, attend=attend, name=f"block{b}")
        x = L.global_pool(x, name="avg_pool")
        model = keras.Model(inputs, L.dense(x, 10, name="logits"))
        model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x_train, data.y_train, batch_size=64, epochs=6, verbose=0)
        float_pred = model.predict(x_test, verbose=0).argmax(-1)
        float_acc = float(np.mean(float_pred == data.y_test))
        assert float_acc > 0.8, f"{attention}: the short training must learn first, float accuracy {float_acc:.3f}"
        path = tmp_path / f"{attention}_int8.tflite"
        path.write_bytes(to_tflite(model, "int8", representative=x_train[:200]))
        result = evaluate(path, x_test, data.y_test, reference_pred=float_pred, latency_images=10)
        print(f"{attention}: float {float_acc:.3f}, int8 {result['accuracy']:.3f}, agreement {result['agreement']:.3f}")
        agreement, points = bars[attention]
        assert result["agreement"] >= agreement and abs(result["accuracy"] - float_acc) <= points, (attention, result)
        keras.backend.clear_session()
