"""ResNet v1 and SE-ResNet-50: stage table, reference counts, keras/paper variants, SE gates, styles, TFMOT."""

from __future__ import annotations

import numpy as np
import pytest
from golden_params import GOLDEN_PARAMS
from zoo_checks import assert_prunable

import tfcnn
from tfcnn._compat import keras
from tfcnn.models import resnet
from tfcnn.models._common import feature_extractor

SMALL = (32, 32, 3)
# Trainable parameters of the references without conv biases: torchvision resnet*, timm seresnet50.
REFERENCE_TRAINABLE = {
    ("resnet18", ()): 11_689_512,
    ("resnet34", ()): 21_797_672,
    ("resnet50", (("variant", "paper"),)): 25_557_032,
    ("se_resnet50", ()): 28_088_024,
}


@pytest.fixture(scope="module")
def se_small():
    """One SE-ResNet-50 at 32x32 shared by the structural tests (building it is the slow part)."""
    return tfcnn.create_model("se_resnet50", input_shape=SMALL, num_classes=10)


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


@pytest.mark.parametrize("key", list(REFERENCE_TRAINABLE))  # resnet50/101/152 'keras': fidelity tests
def test_resnet_golden_and_reference_counts(key):
    name, overrides = key
    model = tfcnn.create_model(name, **dict(overrides))
    assert model.count_params() == GOLDEN_PARAMS[key][0]
    assert _trainable(model) == REFERENCE_TRAINABLE[key]


def test_resnet_stage_table_gives_the_papers_depths():
    for depth, (kind, repeats) in resnet.RESNET_STAGES.items():
        per_block = 2 if kind == "basic" else 3
        assert 1 + per_block * sum(repeats) + 1 == depth  # stem conv + blocks + FC


def test_resnet50_forward_at_default_input_and_feature_map_sizes():
    model = tfcnn.create_model("resnet50", variant="paper")
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)
    sizes = [model.get_layer(f"conv{s}_block1_out").output_shape[1] for s in (2, 3, 4, 5)]
    assert sizes == [56, 28, 14, 7]
    assert model.get_layer("conv5_block3_out").output_shape[-1] == 2048


def test_variants_differ_only_in_conv_bias_and_epsilon():
    keras_form = tfcnn.create_model("resnet18", input_shape=SMALL, variant="keras")
    paper_form = tfcnn.create_model("resnet18", input_shape=SMALL)
    convs = [layer.name for layer in paper_form.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(keras_form.get_layer(n).use_bias and not paper_form.get_layer(n).use_bias for n in convs)
    assert keras_form.get_layer("conv1_bn").epsilon == pytest.approx(1.001e-5)
    assert paper_form.get_layer("conv1_bn").epsilon == pytest.approx(1e-5)
    assert keras_form.count_params() - paper_form.count_params() == sum(
        paper_form.get_layer(n).filters for n in convs)
    assert resnet.resnet50.config.options["variant"] == "keras"
    assert resnet.resnet18.config.options["variant"] == "paper"


def test_projection_shortcuts_only_where_shapes_change(se_small):
    model = tfcnn.create_model("resnet18", input_shape=SMALL, num_classes=10)
    projections = sorted(layer.name for layer in model.layers if layer.name.endswith("_0_conv"))
    assert projections == ["conv3_block1_0_conv", "conv4_block1_0_conv", "conv5_block1_0_conv"]
    projections = sorted(layer.name for layer in se_small.layers if layer.name.endswith("_0_conv"))
    assert projections == [f"conv{s}_block1_0_conv" for s in (2, 3, 4, 5)]  # bottleneck: 64 -> 256 in conv2 too
    assert se_small.get_layer("conv3_block1_1_conv").strides == (2, 2)  # the stride sits in the first 1x1


def test_se_gates_are_channel_weights_in_0_1(se_small):
    model = se_small
    names = [layer.name for layer in model.layers]
    for suffix in ("_se_squeeze", "_se_reduce_conv", "_se_expand_conv", "_se_excite"):
        assert sum(n.endswith(suffix) for n in names) == 16, suffix  # one gate per block
    assert model.get_layer("conv2_block1_se_reduce_conv").filters == 256 // 16
    gates = feature_extractor(model, "conv2_block1_se_expand_sigmoid")
    g = gates(np.random.default_rng(0).uniform(0, 1, (2, *SMALL)).astype("float32")).numpy()
    assert g.shape == (2, 1, 1, 256) and (g > 0).all() and (g < 1).all()


def test_resnet_tfmot_prune_and_quantize(se_small):
    import tensorflow_model_optimization as tfmot

    assert_prunable(se_small)  # the last user of the shared model: pruning wraps its layers
    q = tfmot.quantization.keras.quantize_model(tfcnn.create_model("resnet18", input_shape=SMALL, num_classes=10))
    assert q(np.zeros((1, *SMALL), "float32")).shape == (1, 10)


def test_resnet_headless_pooling():
    model = tfcnn.create_model("resnet18", input_shape=(64, 64, 3), include_top=False, pooling="max")
    assert model.output_shape == (None, 512)
    assert tfcnn.create_model("resnet18", input_shape=SMALL, include_top=False).output_shape == (None, 1, 1, 512)


@pytest.mark.parametrize("name,kwargs,arg", [
    ("resnet18", {"input_shape": (31, 31, 3)}, "input_shape"), ("resnet18", {"input_shape": (1, 32, 32, 3)},
                                                                 "input_shape"),
    ("resnet18", {"variant": "caffe"}, "variant"), ("se_resnet50", {"se_reduction": 0}, "se_reduction"),
    ("resnet18", {"include_top": False, "pooling": "sum"}, "pooling"),
    ("resnet18", {"weights": "imagenet"}, "weights"), ("resnet50", {"weights": "/no/such/file.h5"}, "weights"),
])
def test_resnet_bad_options_name_the_option(name, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tfcnn.create_model(name, **kwargs)
