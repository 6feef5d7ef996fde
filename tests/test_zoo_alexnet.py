"""AlexNet and ZFNet: paper parameter counts, the two-GPU grouped layout, the paper's LRN, styles, training."""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn.models.alexnet import LRN_PARAMS

SMALL = (64, 64, 3)


def test_alexnet_default_input_gives_the_papers_maps_and_logits():
    model = tfcnn.create_model("alexnet")
    assert model.input_shape == (None, 224, 224, 3)
    assert model.get_layer("pool5").output_shape == (None, 6, 6, 256)
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)


def test_zfnet_reproduces_the_map_sizes_of_its_figure_3():
    model = tfcnn.create_model("zfnet")
    sizes = [model.get_layer(n).output_shape[1] for n in ("conv1_conv", "pool1", "conv2_conv", "pool2", "pool5")]
    assert sizes == [110, 55, 26, 13, 6]
    assert model.get_layer("conv1_conv").kernel.shape == (7, 7, 3, 96)
    assert model.get_layer("conv2_conv").strides == (2, 2)
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)


def test_groups2_really_splits_conv2_conv4_conv5():
    one = tfcnn.create_model("alexnet", input_shape=SMALL, num_classes=10)
    two = tfcnn.create_model("alexnet", input_shape=SMALL, num_classes=10, groups=2)
    for layer in ("conv2_conv", "conv4_conv", "conv5_conv"):
        k1, k2 = one.get_layer(layer).kernel.shape, two.get_layer(layer).kernel.shape
        assert k2[2] * 2 == k1[2] and k2[3] == k1[3], layer
    for layer in ("conv1_conv", "conv3_conv"):  # conv3 talks across the GPUs in the paper
        assert one.get_layer(layer).kernel.shape == two.get_layer(layer).kernel.shape
    saved = sum(int(np.prod(one.get_layer(n).kernel.shape)) // 2 for n in ("conv2_conv", "conv4_conv", "conv5_conv"))
    assert one.count_params() - two.count_params() == saved


def test_grouped_conv_ignores_the_other_towers_channels():
    """With groups=2 the first half of conv2's outputs depends only on the first half of its inputs."""
    from tfcnn._compat import keras

    model = tfcnn.create_model("alexnet", input_shape=SMALL, num_classes=10, groups=2)
    lrn1 = model.get_layer("pool1").output
    conv2 = keras.Model(model.get_layer("conv2_conv").input, model.get_layer("conv2_conv").output)
    x = np.random.default_rng(0).normal(size=(1, *lrn1.shape[1:])).astype("float32")
    x2 = x.copy()
    x2[..., 48:] += 1.0  # change only tower 2's inputs
    a, b = conv2(x).numpy(), conv2(x2).numpy()
    np.testing.assert_allclose(a[..., :128], b[..., :128], atol=1e-5)
    assert np.abs(a[..., 128:] - b[..., 128:]).max() > 1e-3


def test_lrn_is_the_papers_formula():
    """b = a / (k + alpha * sum over n=5 neighbouring channels of a^2) ** beta, k=2, alpha=1e-4, beta=0.75."""
    model = tfcnn.create_model("alexnet", input_shape=SMALL, num_classes=10)
    layer = model.get_layer("conv1_lrn")
    a = np.random.default_rng(0).uniform(0, 30, (1, 3, 3, 12)).astype("float32")
    k, alpha, beta, half = 2.0, 1e-4, 0.75, 2
    sq = np.pad(a**2, [(0, 0)] * 3 + [(half, half)])
    window = sum(sq[..., i: i + a.shape[-1]] for i in range(2 * half + 1))
    np.testing.assert_allclose(layer(a).numpy(), a / (k + alpha * window) ** beta, rtol=1e-5)
    assert LRN_PARAMS == {"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}


@pytest.mark.parametrize("name,smallest", [("alexnet", 57), ("zfnet", 53)])
def test_smallest_input_builds_and_smaller_is_refused(name, smallest):
    model = tfcnn.create_model(name, input_shape=(smallest, smallest, 3), num_classes=10)
    assert model.get_layer("pool5").output_shape[1:3] == (1, 1)
    with pytest.raises(ValueError, match="input_shape"):
        tfcnn.create_model(name, input_shape=(smallest - 1, smallest - 1, 3))


@pytest.mark.parametrize("kwargs,arg", [
    ({"groups": 3}, "groups"), ({"groups": True}, "groups"), ({"dropout_rate": 1.0}, "dropout_rate"),
    ({"pooling": "sum", "include_top": False}, "pooling"), ({"input_shape": (64, 64)}, "input_shape"),
])
def test_alexnet_bad_options_name_the_option(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tfcnn.create_model("alexnet", **kwargs)


def test_alexnet_headless_pooling():
    model = tfcnn.create_model("alexnet", input_shape=SMALL, include_top=False, pooling="avg")
    assert model.output_shape == (None, 256)
    assert not any(layer.name.startswith("fc") for layer in model.layers)
