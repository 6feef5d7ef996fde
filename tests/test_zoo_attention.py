"""Residual Attention Network: module counts, the soft mask, (1 + M) * T, styles, training."""

from __future__ import annotations

import numpy as np
import pytest
from golden_params import GOLDEN_PARAMS

import tfcnn
from tfcnn._compat import keras
from tfcnn.models.attention import mask_layer_names

SMALL = (32, 32, 3)


@pytest.fixture(scope="module")
def small56():
    return tfcnn.create_model("attention56", input_shape=SMALL, num_classes=10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["attention56", "attention92"])
def test_attention_golden_params_and_default_forward(name):
    model = tfcnn.create_model(name)
    assert model.count_params() == GOLDEN_PARAMS[(name, ())][0]
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)
    # The paper's 56/28/14 attention stages (Table 2).
    masks = mask_layer_names(model)
    sizes = [model.get_layer(n).output_shape[1] for n in masks]
    assert sorted(set(sizes), reverse=True) == [56, 28, 14]
    modules = [sum(m.startswith(f"stage{s}_") for m in masks) for s in (1, 2, 3)]
    assert modules == {"attention56": [1, 1, 1], "attention92": [1, 2, 3]}[name]


def test_attention56_has_one_module_per_stage(small56):
    masks = mask_layer_names(small56)
    assert [sum(m.startswith(f"stage{s}_") for m in masks) for s in (1, 2, 3)] == [1, 1, 1]


def test_mask_branch_down_and_up_samples_per_stage(small56):
    """Stage 1/2/3 masks pool 3/2/1 times and bilinearly up-sample back to the trunk's size."""
    for stage, levels in (("stage1", 3), ("stage2", 2), ("stage3", 1)):
        prefix = f"{stage}_attention1_mask"
        pools = [layer for layer in small56.layers if layer.name.startswith(prefix) and layer.name.endswith("_pool")]
        ups = [layer for layer in small56.layers if isinstance(layer, keras.layers.UpSampling2D)
               and layer.name.startswith(prefix)]
        assert len(pools) == len(ups) == levels, stage
        assert all(u.interpolation == "bilinear" for u in ups)
        trunk = small56.get_layer(f"{stage}_attention1_trunk_2_add").output_shape
        assert small56.get_layer(f"{prefix}_sigmoid").output_shape == trunk


def test_output_is_one_plus_mask_times_trunk(small56):
    names = ("stage2_attention1_mask_sigmoid", "stage2_attention1_trunk_2_add", "stage2_attention1_attend")
    probe = keras.Model(small56.input, [small56.get_layer(n).output for n in names])
    x = np.random.default_rng(0).uniform(size=(2, *SMALL)).astype("float32")
    mask, trunk, out = (t.numpy() for t in probe(x))
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    np.testing.assert_allclose(out, (1.0 + mask) * trunk, rtol=1e-5, atol=1e-6)


def test_units_are_pre_activation_bottlenecks(small56):
    """BN-ReLU before the 1x1/3x3/1x1 convs, widths filters/4, projection only when the shape changes."""
    assert small56.get_layer("stage2_unit_2_conv").kernel.shape == (3, 3, 128, 128)
    assert small56.get_layer("stage2_unit_2_conv").strides == (2, 2)
    assert small56.get_layer("stage2_unit_3_conv").kernel.shape == (1, 1, 128, 512)
    assert small56.get_layer("stage2_unit_shortcut_conv").input is small56.get_layer("stage2_unit_preact_relu").output
    assert "stage2_attention1_pre_1_shortcut_conv" not in {layer.name for layer in small56.layers}


def test_attention_input_limits():
    for bad in [(16, 16, 3), (48, 48, 3)]:
        with pytest.raises(ValueError, match="input_shape"):
            tfcnn.create_model("attention56", input_shape=bad)


def test_attention_bad_options_name_the_option():
    with pytest.raises(ValueError, match="pooling"):
        tfcnn.create_model("attention56", input_shape=SMALL, include_top=False, pooling="sum")
    with pytest.raises(TypeError):
        tfcnn.create_model("attention56", input_shape=SMALL, groups=2)
