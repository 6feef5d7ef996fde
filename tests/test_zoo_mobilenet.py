"""MobileNet v1/v2: counts, width multiplier, inverted residuals, Keras's rounding, styles, training, TFMOT."""

from __future__ import annotations

import numpy as np
import pytest
from golden_params import GOLDEN_PARAMS
from zoo_checks import assert_prunable

import tfcnn
from tfcnn._compat import keras
from tfcnn.models import mobilenet
from tfcnn.models._common import make_divisible

SMALL = (32, 32, 3)


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_mobilenet_golden_params_and_forward_at_default_input(name):
    model = tfcnn.create_model(name)
    assert model.count_params() == GOLDEN_PARAMS[(name, ())][0]
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)


def test_mobilenet_v2_trainable_count_is_torchvisions():
    model = tfcnn.create_model("mobilenet_v2", input_shape=SMALL)
    assert int(sum(np.prod(w.shape) for w in model.trainable_weights)) == 3_504_872  # torchvision mobilenet_v2


def test_v1_is_depthwise_separable_and_alpha_thins_every_layer():
    model = tfcnn.create_model("mobilenet_v1", input_shape=SMALL, alpha=0.5, depth_multiplier=2)
    dws = [layer for layer in model.layers if isinstance(layer, keras.layers.DepthwiseConv2D)]
    assert len(dws) == 13 and all(d.kernel_size == (3, 3) and d.depth_multiplier == 2 for d in dws)
    pw = [model.get_layer(f"block{i}_pw_conv") for i in range(1, 14)]
    assert [p.filters for p in pw] == [int(f * 0.5) for f, _ in mobilenet.MOBILENET_V1_BLOCKS]
    assert all(p.kernel_size == (1, 1) for p in pw)


def test_v2_rows_residuals_and_linear_bottlenecks():
    model = tfcnn.create_model("mobilenet_v2", input_shape=SMALL, num_classes=10)
    adds = [layer.name for layer in model.layers if layer.name.endswith("_add")]
    assert len(adds) == sum(n - 1 for _, _, n, _ in mobilenet.MOBILENET_V2_ROWS)  # 10: every repeat after the first
    assert not any(layer.name.startswith("block0_expand") for layer in model.layers)  # t = 1: no expansion
    assert model.get_layer("block1_expand_conv").filters == 6 * 16
    names = {layer.name for layer in model.layers}
    assert "block1_project_relu6" not in names and "block1_dw_relu6" in names  # the projection is linear
    assert model.get_layer("conv_last_conv").filters == 1280


def test_make_divisible_follows_the_reference_rule():
    assert [make_divisible(v, 8) for v in (32 * 0.35, 16 * 0.35, 24 * 0.35, 1280 * 1.4, 100)] == [16, 8, 8, 1792, 104]
    assert all(make_divisible(v, 8) >= 0.9 * v and make_divisible(v, 8) % 8 == 0 for v in range(1, 400))


def test_mobilenet_tfmot_prune_and_quantize():
    import tensorflow_model_optimization as tfmot

    assert_prunable(tfcnn.create_model("mobilenet_v1", input_shape=SMALL, num_classes=10, alpha=0.25))
    assert_prunable(tfcnn.create_model("mobilenet_v2", input_shape=SMALL, num_classes=10, alpha=0.35))
    q = tfmot.quantization.keras.quantize_model(
        tfcnn.create_model("mobilenet_v2", input_shape=SMALL, num_classes=10, alpha=0.35))
    assert q(np.zeros((1, *SMALL), "float32")).shape == (1, 10)


def test_mobilenet_headless_pooling():
    assert tfcnn.create_model("mobilenet_v2", input_shape=SMALL, alpha=0.35, include_top=False,
                              pooling="avg").output_shape == (None, 1280)
    assert tfcnn.create_model("mobilenet_v1", input_shape=SMALL, alpha=0.25,
                              include_top=False).output_shape == (None, 1, 1, 256)


@pytest.mark.parametrize("name,kwargs,arg", [
    ("mobilenet_v1", {"alpha": 0}, "alpha"), ("mobilenet_v2", {"alpha": 0}, "alpha"),
    ("mobilenet_v2", {"alpha": -1.0}, "alpha"), ("mobilenet_v1", {"alpha": 0.001}, "alpha"),
    ("mobilenet_v1", {"depth_multiplier": 0}, "depth_multiplier"),
    ("mobilenet_v1", {"depth_multiplier": 1.5}, "depth_multiplier"),
    ("mobilenet_v2", {"dropout_rate": -0.1}, "dropout_rate"),
    ("mobilenet_v2", {"input_shape": (31, 31, 3)}, "input_shape"),
    ("mobilenet_v1", {"input_shape": (224, 224)}, "input_shape"),
])
def test_mobilenet_bad_options_name_the_option(name, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tfcnn.create_model(name, **kwargs)
