"""MobileNet v3 and EfficientNet: what the papers add to MobileNet v2, checked on the built models.

Keras fidelity and the contract suite cover both families already; this file checks the parts that are the
lesson: where hard-swish and the SE gates sit, the minimalistic variant, stochastic depth's linear schedule and
per-example masks, and that the hard activations and SE gates survive full-integer quantization after a short
training on the bundled digits (the issue's target: agreement with the float model >= 98 %).
"""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.layers.raw import hard_sigmoid, hard_swish


def _activations(model, fn):
    return [layer.name for layer in model.layers
            if isinstance(layer, keras.layers.Activation) and layer.activation is fn]


def test_hard_functions_are_the_papers_not_keras_2s():
    x = tf.constant([-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 4.0])
    np.testing.assert_allclose(hard_sigmoid(x), np.clip(x.numpy() + 3, 0, 6) / 6, atol=1e-7)
    np.testing.assert_allclose(hard_swish(x), x.numpy() * np.clip(x.numpy() + 3, 0, 6) / 6, atol=1e-6)
    # Keras 2's hard_sigmoid is 0.2x + 0.5: a different function at x = 1 (0.7 vs 2/3).
    assert abs(float(keras.activations.hard_sigmoid(tf.constant(1.0))) - float(hard_sigmoid(tf.constant(1.0)))) > 0.03


def test_v3_large_uses_relu_early_hard_swish_late_and_hard_sigmoid_se_gates():
    model = tfcnn.create_model("mobilenet_v3_large", input_shape=(64, 64, 3), num_classes=10)
    swish = _activations(model, hard_swish)
    gates = _activations(model, hard_sigmoid)
    # Table 1: blocks 0-5 use ReLU, 6-14 hard-swish (expand and depthwise each), plus the stem, last conv, head.
    assert "conv1_hard_swish" in swish and "conv_head_hard_swish" in swish and "block5_dw_hard_swish" not in swish
    assert {f"block{i}_dw_hard_swish" for i in range(6, 15)} <= set(swish)
    # SE in blocks 3-5 and 10-14 (Table 1's "SE" column), each gated by a hard sigmoid.
    assert sorted(gates) == sorted(f"block{i}_se_expand_hard_sigmoid" for i in (3, 4, 5, 10, 11, 12, 13, 14))
    # The squeeze is a quarter of the expanded width, a multiple of 8: block 3 expands 24 -> 72, squeezes to 24.
    assert model.get_layer("block3_se_reduce_conv").filters == 24
    assert model.get_layer("block3_dw_conv").kernel_size == (5, 5)


def test_minimalistic_has_no_se_no_hard_swish_and_only_3x3_kernels():
    model = tfcnn.create_model("mobilenet_v3_small", input_shape=(64, 64, 3), minimalistic=True)
    assert not _activations(model, hard_swish) and not _activations(model, hard_sigmoid)
    assert not any(isinstance(layer, keras.layers.Multiply) for layer in model.layers)
    kernels = {layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.DepthwiseConv2D)}
    assert kernels == {(3, 3)}


def test_minimalistic_must_be_a_bool():
    with pytest.raises(ValueError, match="Received: minimalistic='yes'"):
        tfcnn.create_model("mobilenet_v3_small", minimalistic="yes")


def test_stochastic_depth_rate_grows_linearly_over_the_blocks():
    model = tfcnn.create_model("efficientnet_b0", input_shape=(32, 32, 3), num_classes=10, drop_connect_rate=0.2)
    drops = [layer for layer in model.layers if layer.name.endswith("_drop")]
    # 16 blocks (b = 0 for 1a ... 15 for 7a); block b drops with 0.2 * b / 16, and only blocks with an identity skip have a drop layer.
    assert [d.name for d in drops][:2] == ["block2b_drop", "block3b_drop"]
    assert drops[0].rate == pytest.approx(0.2 * 2 / 16) and drops[-1].rate == pytest.approx(0.2 * 14 / 16)
    assert all(d.noise_shape == (None, 1, 1, 1) for d in drops)


def test_stochastic_depth_drops_whole_examples_in_training_only():
    model = tfcnn.create_model("efficientnet_b0", input_shape=(32, 32, 3), num_classes=10, drop_connect_rate=0.9)
    drop = model.get_layer("block6d_drop")
    branch = keras.Model(model.input, [drop.input, drop.output])
    x = np.random.default_rng(0).normal(size=(64, 32, 32, 3)).astype("float32")
    before, after = (t.numpy() for t in branch(x, training=True))
    kept = np.array([np.any(a != 0) for a in after])
    scale = 1 / (1 - drop.rate)
    np.testing.assert_allclose(after[kept], before[kept] * scale, rtol=1e-5, atol=1e-5)
    assert 0 < kept.sum() < len(kept)  # some examples dropped whole, some kept (p = 0.84 each)
    inference_before, inference_after = (t.numpy() for t in branch(x, training=False))
    np.testing.assert_array_equal(inference_before, inference_after)


def _digits_at(size):
    from tfcnn.data import load_digits

    data = load_digits()

    def prep(x):
        return tf.image.resize(x.astype("float32") / 127.5 - 1.0, (size, size)).numpy()

    return prep(data.x_train), data.y_train, prep(data.x_test), data.y_test


@pytest.mark.slow
def test_v3_hard_swish_and_se_survive_int8_after_a_short_digits_training(tmp_path):
    from tfcnn.compress import to_tflite
    from tfcnn.litert import evaluate

    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = _digits_at(32)
    model = tfcnn.create_model("mobilenet_v3_small", input_shape=(32, 32, 1), num_classes=10, alpha=0.75)
    model.compile(keras.optimizers.Adam(2e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=5, verbose=0)
    float_pred = model.predict(x_test, verbose=0).argmax(-1)
    float_acc = float(np.mean(float_pred == y_test))
    assert float_acc > 0.8, f"the short training must learn something first: float accuracy {float_acc:.3f}"
    path = tmp_path / "v3_int8.tflite"
    path.write_bytes(to_tflite(model, "int8", representative=x_train[:200]))
    result = evaluate(path, x_test, y_test, reference_pred=float_pred, latency_images=10)
    print(f"float {float_acc:.3f}, int8 {result['accuracy']:.3f}, agreement {result['agreement']:.3f}")
    assert result["agreement"] >= 0.98, result
    assert abs(result["accuracy"] - float_acc) <= 0.02, (result["accuracy"], float_acc)
