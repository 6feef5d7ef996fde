"""VGG: Table 1's configurations, parameter counts, the TF-Slim-style build, styles, training, TFMOT."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from zoo_checks import assert_prunable

import tfcnn
from tfcnn._compat import keras
from tfcnn.models import vgg
from tfcnn.models._common import feature_extractor

SMALL = (32, 32, 3)
VGG_NAMES = ["vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
# torchvision's trainable counts; tfcnn's _bn variants drop one bias per BN'd conv channel.
TORCHVISION = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736,
               "vgg16_bn": 138_365_992, "vgg19_bn": 143_678_248}


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_vgg_stage_table_is_the_papers_table_1():
    weight_layers = {letter: sum(n for n, _ in stages) + 3 for letter, stages in vgg.VGG_STAGES.items()}
    assert weight_layers == {"A": 11, "B": 13, "D": 16, "E": 19}
    model = tfcnn.create_model("vgg19", input_shape=SMALL, num_classes=10)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [f for n, f in vgg.VGG_STAGES["E"] for _ in range(n)]
    assert all(c.kernel_size == (3, 3) and c.strides == (1, 1) for c in convs)


def test_vgg16_forward_at_default_input_and_fc_share():
    model = tfcnn.create_model("vgg16")
    assert model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0).shape == (1, 1000)
    assert model.get_layer("block5_pool").output_shape == (None, 7, 7, 512)
    fc = sum(model.get_layer(n).count_params() for n in ("fc1", "fc2", "logits"))
    assert 0.85 < fc / model.count_params() < 0.9  # the notes: ~90 % of VGG's parameters are in the FC layers


def test_vgg_slim_build_reads_like_tf_slim():
    source = inspect.getsource(vgg._vgg_slim)
    assert "slim.arg_scope" in source and "slim.repeat(net, repeats, slim.conv2d" in source
    assert "L.conv_bn" not in source


def test_vgg_bn_convs_have_no_bias_plain_ones_do():
    plain = tfcnn.create_model("vgg11", input_shape=SMALL, num_classes=10)
    bn = tfcnn.create_model("vgg11_bn", input_shape=SMALL, num_classes=10)
    assert plain.get_layer("block1_conv_1_conv").use_bias and not bn.get_layer("block1_conv_1_conv").use_bias
    assert "block1_conv_1_bn" in [layer.name for layer in bn.layers]


def test_vgg_dropout_only_in_training():
    model = tfcnn.create_model("vgg11", input_shape=SMALL, num_classes=10, dropout_rate=0.5)
    x = np.random.default_rng(0).uniform(0, 1, (2, *SMALL)).astype("float32")
    np.testing.assert_array_equal(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=False))
    assert "fc1_dropout" not in [layer.name for layer in tfcnn.create_model("vgg11", input_shape=SMALL,
                                                                          dropout_rate=0.0).layers]


def test_vgg_tfmot_prune_and_quantize():
    import tensorflow_model_optimization as tfmot

    model = tfcnn.create_model("vgg11", input_shape=SMALL, num_classes=10)
    assert_prunable(model)
    model = tfcnn.create_model("vgg11", input_shape=SMALL, num_classes=10)
    q = tfmot.quantization.keras.quantize_model(model)
    assert q(np.zeros((1, *SMALL), "float32")).shape == (1, 10)


def test_vgg_headless_pooling_and_feature_extractor():
    model = tfcnn.create_model("vgg13", input_shape=(64, 64, 3), include_top=False, pooling="avg")
    assert model.output_shape == (None, 512)
    assert not any(layer.name.startswith("fc") for layer in model.layers)
    full = tfcnn.create_model("vgg13", input_shape=SMALL, num_classes=10)
    features = feature_extractor(full, "fc2_relu")  # the vector before the classifier
    assert features.output_shape == (None, 4096)
    assert features.layers[-1].name == "fc2_relu"


@pytest.mark.parametrize("kwargs,arg", [
    ({"input_shape": (31, 31, 3)}, "input_shape"), ({"input_shape": (32, 32)}, "input_shape"),
    ({"dropout_rate": 1.0}, "dropout_rate"), ({"include_top": False, "pooling": "sum"}, "pooling"),
    ({"num_classes": 0}, "num_classes"),
])
def test_vgg_bad_options_name_the_option(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tfcnn.create_model("vgg11", **kwargs)
