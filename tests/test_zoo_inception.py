"""Inception v3: the same function as Keras Applications' InceptionV3, weights copied layer by layer."""

from __future__ import annotations

import numpy as np
import pytest
from golden_params import GOLDEN_PARAMS
from zoo_checks import copy_keras_weights, rel_diff

import tfcnn
from tfcnn._compat import keras
from tfcnn.models import _pretrained

SMALL = (75, 75, 3)


def _keras_reference(input_shape, classes, include_top=True, pooling=None):
    ref = keras.applications.InceptionV3(weights=None, input_shape=input_shape, classes=classes,
                                         include_top=include_top, pooling=pooling, classifier_activation=None)
    for layer in ref.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.random.default_rng(3).uniform(0.5, 1.5, w.shape).astype("float32")
                               for w in layer.weights])
    return ref


def _assert_same_function(input_shape, classes, **head):
    ref = _keras_reference(input_shape, classes, **head)
    model = tfcnn.create_model("inception_v3", input_shape=input_shape, num_classes=classes, **head)
    assert model.count_params() == ref.count_params()
    assert copy_keras_weights(ref, model, "inception_v3") == len([layer for layer in ref.layers if layer.weights])
    x = np.random.default_rng(0).uniform(-1, 1, (2, *input_shape)).astype("float32")
    assert rel_diff(ref(x), model(x)) <= 1e-4
    return ref, model


@pytest.fixture(scope="module")
def small_pair():
    """Keras's InceptionV3 and tfcnn's at 75x75, 10 classes, with the Keras weights copied over."""
    return _assert_same_function(SMALL, 10)


def test_matches_keras_at_small_input_other_classes(small_pair):
    ref, model = small_pair
    assert model.get_layer("mixed10").output_shape == ref.get_layer("mixed10").output_shape == (None, 1, 1, 2048)


def test_matches_keras_headless_avg_pooling():
    _assert_same_function((96, 96, 3), 10, include_top=False, pooling="avg")


@pytest.mark.slow
def test_matches_keras_default_config():
    model = _assert_same_function((299, 299, 3), 1000)[1]
    assert model.count_params() == GOLDEN_PARAMS[("inception_v3", ())][0]


def test_keras_h5_file_loads_by_graph_order(tmp_path, small_pair):
    """A Keras .h5 (names conv2d_N, numbered per session) loads like Keras's own loader: by graph order."""
    ref = small_pair[0]
    path = tmp_path / "keras_inception.h5"
    ref.save_weights(path)
    model = tfcnn.create_model("inception_v3", input_shape=SMALL, num_classes=10, weights=str(path))
    x = np.random.default_rng(1).uniform(-1, 1, (1, *SMALL)).astype("float32")
    assert rel_diff(ref(x), model(x)) <= 1e-4


def test_inception_v3_factorised_convolutions(small_pair):
    model = small_pair[1]
    assert model.get_layer("mixed0_branch3_2_conv").kernel.shape[:2] == (3, 3)  # 5x5 as two 3x3
    assert model.get_layer("mixed0_branch3_3_conv").kernel.shape[:2] == (3, 3)
    assert model.get_layer("mixed4_branch2_2_conv").kernel.shape[:2] == (1, 7)  # 7x7 as 1x7 then 7x1
    assert model.get_layer("mixed4_branch2_3_conv").kernel.shape[:2] == (7, 1)
    assert model.get_layer("mixed9_branch2_2a_conv").kernel.shape[:2] == (1, 3)  # expanded 8x8 split
    assert model.get_layer("mixed9_branch2_2b_conv").kernel.shape[:2] == (3, 1)
    bn = model.get_layer("conv1a_bn")
    assert not bn.scale and bn.epsilon == 1e-3 and not model.get_layer("conv1a_conv").use_bias


def test_inception_v3_input_limits_and_options():
    with pytest.raises(ValueError, match="input_shape"):
        tfcnn.create_model("inception_v3", input_shape=(74, 74, 3))
    with pytest.raises(ValueError, match="pooling"):
        tfcnn.create_model("inception_v3", include_top=False, pooling="mean", input_shape=SMALL)
    with pytest.raises(ValueError, match="num_classes"):
        tfcnn.create_model("inception_v3", weights="imagenet", num_classes=10, input_shape=SMALL)


def test_imagenet_offline_fails_with_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(_pretrained, "keras_cache_dirs", lambda: [tmp_path / "models"])
    monkeypatch.setattr(_pretrained, "network_reachable", lambda *a, **k: False)
    with pytest.raises(_pretrained.PretrainedWeightsUnavailable, match="inception_v3_weights_tf_dim_ordering"):
        tfcnn.create_model("inception_v3", weights="imagenet", input_shape=SMALL)
