"""The numbers behind every picture in tfcnn.viz: each test checks what the figure shows, not that it exists."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from tfcnn import analysis, viz
from tfcnn._compat import keras, tf
from tfcnn.layers import get_style


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images(fig):
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def _conv_stack(style: str = "keras", size: int = 12):
    """Two valid 3x3 convolutions with ReLU: each unit of the second sees a 5x5 window of the input."""
    keras.utils.set_random_seed(1)
    L = get_style(style)
    inputs = keras.Input((size, size, 1), name="input")
    x = L.conv_bn(inputs, 4, 3, padding="valid", use_bn=False, use_bias=True, name="c1")
    x = L.conv_bn(x, 3, 3, padding="valid", use_bn=False, use_bias=True, name="c2")
    x = L.global_pool(x, name="avg_pool")
    x = L.dense(x, 2, name="logits")
    return keras.Model(inputs, x)


def test_confusion_counts_and_figure_annotations_match_the_labels():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    counts = viz.confusion_counts(y_true, y_pred, 3)
    assert counts.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    fig = viz.confusion_matrix(counts, class_names=["a", "b", "c"], normalize=False)
    shown = np.asarray(_images(fig)[0])
    np.testing.assert_array_equal(shown, counts)
    shares = np.asarray(_images(viz.confusion_matrix(counts))[0])
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    texts = sorted((t.get_position(), t.get_text()) for t in fig.axes[0].texts)
    assert ((1, 1), "2") in [((int(p[1]), int(p[0])), s) for p, s in texts]
    with pytest.raises(ValueError, match="Received"):
        viz.confusion_counts([0, 1], [0])


def test_filters_grid_shows_the_layers_actual_kernel_values():
    model = _conv_stack()
    kernel = model.get_layer("c1_conv").get_weights()[0]
    np.testing.assert_array_equal(viz.conv_kernel(model, "c1_conv"), kernel)
    fig = viz.plot_filters(model, "c1_conv")
    tiles = _images(fig)
    assert len(tiles) == kernel.shape[-1]
    for i, tile in enumerate(tiles):
        np.testing.assert_allclose(np.asarray(tile), kernel[:, :, 0, i])
    # Several input channels: one chosen channel is shown exactly.
    tiles2 = _images(viz.plot_filters(model, "c2_conv", channel=2))
    np.testing.assert_allclose(np.asarray(tiles2[1]), model.get_layer("c2_conv").get_weights()[0][:, :, 2, 1])
    with pytest.raises(ValueError, match="Received: layer_name='logits'"):
        viz.conv_kernel(model, "logits")


@pytest.mark.parametrize("style", ["keras", "raw", "slim"])
def test_feature_maps_equal_the_convolution_of_the_image(style):
    model = _conv_stack(style)
    image = np.random.default_rng(0).random((12, 12, 1)).astype(np.float32)
    w, b = model.get_layer("c1_conv").get_weights()
    expected = tf.nn.relu(tf.nn.conv2d(image[None], w, 1, "VALID") + b).numpy()[0]
    maps = viz.feature_maps(model, "c1_relu", image)
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    shown = _images(viz.plot_feature_maps(model, "c1_relu", image))
    np.testing.assert_allclose(np.asarray(shown[1]), expected[..., 0], atol=1e-5)
    # uint8 images are scaled to [0, 1] like the training pipeline.
    np.testing.assert_allclose(viz.feature_maps(model, "c1_relu", (image * 255).round().astype(np.uint8)),
                               expected, atol=0.02)
    with pytest.raises(ValueError, match="Received: layer_name='nope'"):
        viz.feature_maps(model, "nope", image)


@pytest.mark.parametrize("mode", ["guided", "deconv"])
@pytest.mark.parametrize("style", ["keras", "raw"])
def test_reconstruction_of_a_unit_lies_inside_its_receptive_field(style, mode):
    model = _conv_stack(style, size=14)
    image = np.random.default_rng(2).random((14, 14, 1)).astype(np.float32)
    rf, jump = analysis.receptive_field([(3, 1), (3, 1)])
    assert (rf, jump) == (5, 1)
    maps = viz.feature_maps(model, "c2_relu", image)
    unit = int(np.argmax(maps.reshape(-1, maps.shape[-1]).max(axis=0)))
    positions = [(r, c) for r, c in [(0, 0), (4, 7), (9, 9), (2, 8), (8, 1)] if maps[r, c, unit] > 0]
    assert len(positions) >= 2  # a unit that is off has nothing to reconstruct
    for r, c in positions:
        rec = viz.deconv_reconstruction(model, image, "c2_relu", unit=unit, position=(r, c), mode=mode)[..., 0]
        inside = np.zeros_like(rec, dtype=bool)
        inside[r:r + rf, c:c + rf] = True  # valid padding: unit (r, c) sees rows r..r+4
        assert np.abs(rec[~inside]).max() == 0.0
        assert np.abs(rec[inside]).max() > 0.0


@pytest.mark.parametrize("mode", ["guided", "deconv"])
def test_reconstruction_applies_the_rectification_rule_at_each_relu(mode):
    model = _conv_stack("keras", size=10)
    image = np.random.default_rng(8).random((10, 10, 1)).astype(np.float32)
    (w1, b1), (w2, b2) = model.get_layer("c1_conv").get_weights(), model.get_layer("c2_conv").get_weights()
    maps = viz.feature_maps(model, "c2_relu", image)
    r, c, unit = np.unravel_index(int(np.argmax(maps)), maps.shape)
    x = tf.constant(image[None])
    pre1 = tf.nn.conv2d(x, w1, 1, "VALID") + b1
    a1 = tf.Variable(tf.nn.relu(pre1))
    with tf.GradientTape() as tape:
        target = (tf.nn.conv2d(a1, w2, 1, "VALID") + b2)[0, r, c, unit]
    g_a1 = tape.gradient(target, a1)
    # Guided: rectify the signal and keep only where the forward ReLU was on; deconvnet: rectify only.
    g_pre1 = tf.nn.relu(g_a1) * tf.cast(pre1 > 0, tf.float32) if mode == "guided" else tf.nn.relu(g_a1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        proxy = tf.reduce_sum((tf.nn.conv2d(x, w1, 1, "VALID") + b1) * g_pre1)
    expected = tape.gradient(proxy, x).numpy()[0]
    got = viz.deconv_reconstruction(model, image, "c2_relu", unit=int(unit), position=(r, c), mode=mode)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    other = viz.deconv_reconstruction(model, image, "c2_relu", unit=int(unit), position=(r, c),
                                      mode="deconv" if mode == "guided" else "guided")
    assert np.abs(other - got).max() > 1e-3  # the two rules really differ on this input


def test_guided_backprop_through_one_conv_is_the_units_filter_and_model_is_restored():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((9, 9, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    model.get_layer("conv").set_weights([np.abs(model.get_layer("conv").get_weights()[0]), np.ones(2)])
    image = np.ones((9, 9, 1), np.float32)
    rec = viz.deconv_reconstruction(model, image, "conv", unit=1, position=(2, 3))[..., 0]
    expected = np.zeros((9, 9))
    expected[2:5, 3:6] = model.get_layer("conv").get_weights()[0][:, :, 0, 1]
    np.testing.assert_allclose(rec, expected, atol=1e-6)
    # The rectified ReLUs are restored: the ordinary gradient flows again through a negative pre-activation.
    assert model.get_layer("conv").activation.__name__ == "relu"


def _left_half_model():
    """Sees only the left half: crop the right half away, pad zeros back, then convolve."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Cropping2D(((0, 0), (0, 8)))(inputs)
    x = keras.layers.ZeroPadding2D(((0, 0), (0, 8)))(x)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def test_gradcam_of_a_model_that_sees_only_the_left_half_puts_its_mass_there():
    model = _left_half_model()
    image = np.random.default_rng(5).random((16, 16, 1)).astype(np.float32)
    for class_index in range(3):
        heat = viz.gradcam(model, image, "conv", class_index=class_index)
        # every class of this seeded model has positive evidence somewhere: an all-zero map is a failure
        assert heat.shape == (16, 16) and heat.max() == pytest.approx(1.0)
        left, right = heat[:, :8].sum(), heat[:, 8:].sum()
        assert left / (left + right) > 0.9, (class_index, left, right)
        # Not transposed: top and bottom halves hold comparable mass.
        assert heat[:8].sum() > 0.2 * heat.sum() and heat[8:].sum() > 0.2 * heat.sum()
    fig = viz.plot_gradcam(model, image, "conv", class_index=0)
    np.testing.assert_allclose(np.asarray(fig.axes[1].images[0].get_array()),
                               viz.gradcam(model, image, "conv", class_index=0))
    assert viz.last_conv_layer_name(model) == "conv"
    with pytest.raises(ValueError, match="Received: class_index=7"):
        viz.gradcam(model, image, "conv", class_index=7)


def test_gradcam_follows_the_evidence_for_the_explained_class():
    # Channel 0 detects vertical bars, channel 1 horizontal bars; logit k reads channel k.
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", use_bias=False, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, use_bias=False, name="logits")(x))
    vertical = np.array([[-1, 2, -1]] * 3, np.float32)
    model.get_layer("conv").set_weights([np.stack([vertical, vertical.T], -1)[:, :, None, :]])
    model.get_layer("logits").set_weights([np.eye(2, dtype=np.float32)])
    image = np.zeros((16, 16, 1), np.float32)
    image[2:14, 4, 0] = 1.0   # a vertical bar on the left
    image[11, 9:15, 0] = 1.0  # a horizontal bar on the right
    heat_v = viz.upsample(viz.gradcam(model, image, "conv", class_index=0), (16, 16))
    heat_h = viz.upsample(viz.gradcam(model, image, "conv", class_index=1), (16, 16))
    assert heat_v[:, :8].sum() > 3 * heat_v[:, 8:].sum()
    assert heat_h[:, 8:].sum() > 3 * heat_h[:, :8].sum()


def _attention_model():
    keras.utils.set_random_seed(6)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b_conv")(inputs)
    s = keras.layers.GlobalAveragePooling2D(keepdims=True, name="b_se_squeeze")(x)
    s = keras.layers.Conv2D(4, 1, activation="sigmoid", name="b_se_excite")(s)
    x = keras.layers.Multiply(name="b_se_scale")([x, s])
    m = keras.layers.Conv2D(4, 1, activation="sigmoid", name="b_mask")(x)
    x = keras.layers.Multiply(name="b_attend")([x, m])
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))


def test_attention_weights_are_the_se_excitation_and_the_soft_mask():
    model = _attention_model()
    image = np.random.default_rng(7).random((8, 8, 1)).astype(np.float32)
    conv = tf.nn.relu(tf.nn.conv2d(image[None], *model.get_layer("b_conv").get_weights()[:1], 1, "SAME")
                      + model.get_layer("b_conv").get_weights()[1]).numpy()[0]
    w, b = model.get_layer("b_se_excite").get_weights()
    expected_se = 1 / (1 + np.exp(-(conv.mean(axis=(0, 1)) @ w[0, 0] + b)))
    se = viz.attention_weights(model, image, "b_se_excite")
    np.testing.assert_allclose(se, expected_se, rtol=1e-5)
    mask = viz.attention_weights(model, image, "b_mask")
    assert mask.shape == (8, 8, 4) and 0 < mask.min() and mask.max() < 1
    fig = viz.plot_attention(model, image, ["b_se_excite", "b_mask"])
    heights = [p.get_height() for p in fig.axes[1].patches]
    np.testing.assert_allclose(heights, se, rtol=1e-6)
    overlay = np.asarray(fig.axes[2].images[1].get_array())
    np.testing.assert_allclose(overlay, viz.upsample(mask.mean(axis=-1), (8, 8)), atol=1e-6)


def test_activation_derivatives_equal_finite_differences():
    x = np.linspace(-4, 4, 81) + 0.013  # avoid ReLU's kink at exactly 0
    curves = viz.activation_derivatives(("sigmoid", "tanh", "relu", "swish"), x)
    h = 1e-6
    for name, (xs, y, dy) in curves.items():
        fn = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0),
              "swish": lambda v: v / (1 + np.exp(-v))}[name]
        np.testing.assert_allclose(y, fn(xs), atol=1e-12)
        np.testing.assert_allclose(dy, (fn(xs + h) - fn(xs - h)) / (2 * h), atol=1e-6, err_msg=name)
    assert curves["sigmoid"][2].max() <= 0.25 + 1e-12  # why deep sigmoid nets vanish
    fig = viz.plot_activations(("sigmoid", "relu"), x)
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), curves["sigmoid"][2])


def test_decision_grid_of_a_linear_classifier_is_its_half_plane():
    w, b = np.array([1.0, -2.0]), 0.5
    xx, yy, labels = viz.decision_grid(lambda p: p @ w + b, (-3, 3), (-3, 3), resolution=50)
    np.testing.assert_array_equal(labels, (xx * w[0] + yy * w[1] + b > 0).astype(int))
    # A Keras model with 3 outputs: argmax.
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    model.layers[-1].set_weights([np.array([[1.0, 0, -1], [0, 1, 0]], np.float32), np.zeros(3, np.float32)])
    xx, yy, labels = viz.decision_grid(model, (-1, 1), (-1, 1), resolution=21)
    np.testing.assert_array_equal(labels, np.stack([xx, yy, -xx], -1).argmax(-1))
    x = np.random.default_rng(0).normal(size=(40, 2))
    fig = viz.plot_decision_boundary(model, x, np.zeros(40, int))
    np.testing.assert_allclose(fig.axes[0].collections[-1].get_offsets(), x)


def test_compression_plot_places_each_variant_at_its_size_and_accuracy():
    """One point per variant at (size, accuracy); the legend names each; a family shares a colour."""
    variants = [{"name": "float32", "size": 903488, "accuracy": 0.9795},
                {"name": "int8", "size": 235488, "accuracy": 0.9790},
                {"name": "pruned80_int8", "size": 120000, "accuracy": 0.9750}]
    fig = viz.plot_compression(variants)
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(points, [[903488, 0.9795], [235488, 0.9790], [120000, 0.9750]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["float32", "int8", "pruned80_int8"]
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert colours[0] == colours[1] != colours[2]  # post-training vs pruned
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="Received: variants\\[0\\]"):
        viz.plot_compression([{"name": "x", "accuracy": 0.5}])


def test_save_figure_writes_a_png(tmp_path):
    path = viz.save_figure(viz.plot_activations(), tmp_path / "act.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_attention_weights_of_an_se_block_are_its_sigmoid_gates():
    """Naming the SE Multiply reads the per-channel gates, which rescale the block's channels."""
    import numpy as np

    from tfcnn._compat import keras
    from tfcnn.layers import get_style
    from tfcnn.models.resnet import squeeze_excite

    L = get_style("keras")
    inputs = keras.Input((8, 8, 3))
    x = L.conv_bn(inputs, 8, 3, name="stem")
    y = squeeze_excite(x, L, reduction=2, name="blk")
    model = keras.Model(inputs, y)
    image = np.random.default_rng(0).uniform(size=(8, 8, 3)).astype("float32")
    gates = viz.attention_weights(model, image, "blk_se_excite")
    assert gates.shape == (8,) and np.all((gates > 0) & (gates < 1))
    features = viz.feature_maps(model, "stem_relu", image)
    excited = viz.feature_maps(model, "blk_se_excite", image)
    np.testing.assert_allclose(excited, features * gates, rtol=1e-5, atol=1e-6)
