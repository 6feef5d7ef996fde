"""The registry: create_model / list_models / get_config, flat functional models."""

from __future__ import annotations

import dataclasses

import pytest
from golden_params import GOLDEN_PARAMS

import tfcnn
from tfcnn._compat import keras


def test_list_models_is_sorted_and_filters():
    names = tfcnn.list_models()
    assert names == sorted(names) and "lenet" in names
    assert tfcnn.list_models("len*") == ["lenet"]
    assert tfcnn.list_models("nothing*") == []


def test_unknown_model_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Did you mean lenet\b.*Received: name='lenett'"):
        tfcnn.create_model("lenett")


def test_unknown_style_is_rejected():
    with pytest.raises(ValueError, match="Received: style='torch'"):
        tfcnn.create_model("lenet", style="torch")


def test_none_overrides_are_ignored():
    model = tfcnn.create_model("lenet", input_shape=None, num_classes=None)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)


def test_config_is_frozen():
    config = tfcnn.get_config("lenet")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.num_classes = 3
    with pytest.raises(TypeError):
        config.options["pool"] = "avg"


@pytest.mark.parametrize("key", [k for k in GOLDEN_PARAMS if k[0] == "lenet"])
def test_lenet_golden_params(key):
    name, overrides = key
    assert tfcnn.create_model(name, **dict(overrides)).count_params() == GOLDEN_PARAMS[key][0]


def test_lenet_is_the_classic_topology():
    model = tfcnn.create_model("lenet")
    shapes = {layer.name: layer.output_shape[1:] for layer in model.layers}
    assert shapes["conv1_conv"] == (28, 28, 6) and shapes["pool1"] == (14, 14, 6)
    assert shapes["conv2_conv"] == (10, 10, 16) and shapes["pool2"] == (5, 5, 16)
    assert [shapes[n] for n in ("fc1", "fc2", "logits")] == [(120,), (84,), (10,)]
    assert model.get_layer("logits").activation is keras.activations.linear  # logits, not probabilities


@pytest.mark.parametrize("style", ["keras", "raw", "slim"])
def test_models_are_flat_functional(style):
    model = tfcnn.create_model("lenet", style=style)
    assert isinstance(model, keras.Model) and model._is_graph_network
    for layer in model.layers:
        assert not isinstance(layer, keras.Model), layer.name
        assert type(layer).__name__ not in ("Lambda", "TFOpLambda", "SlicingOpLambda"), layer.name


def test_lenet_head_options():
    features = tfcnn.create_model("lenet", include_top=False)
    assert features.output_shape == (None, 5, 5, 16)
    pooled = tfcnn.create_model("lenet", include_top=False, pooling="avg")
    assert pooled.output_shape == (None, 16)
    classic = tfcnn.create_model("lenet", activation="tanh", pool="avg", num_classes=3)
    assert classic.output_shape == (None, 3)
    assert type(classic.get_layer("pool1")).__name__ == "AveragePooling2D"


@pytest.mark.parametrize("kwargs,arg", [
    ({"input_shape": (8, 8, 1)}, "input_shape"),
    ({"input_shape": (28, 28)}, "input_shape"),
    ({"pooling": "sum"}, "pooling"),
    ({"pool": "l2"}, "pool"),
    ({"num_classes": 0}, "num_classes"),
    ({"activation": "gelu"}, "activation"),
    ({"weights": "/no/such/file.h5"}, "weights"),
])
def test_lenet_bad_options_name_the_option(kwargs, arg):
    with pytest.raises(ValueError, match=f"Received: {arg}="):
        tfcnn.create_model("lenet", **kwargs)


def test_feature_extractor_returns_the_vector_before_the_classifier():
    from tfcnn.models._common import feature_extractor

    model = tfcnn.create_model("lenet")
    features = feature_extractor(model, "fc2_relu")
    assert features.output_shape == (None, 84)
    with pytest.raises(ValueError, match="Received: layer_name='nope'"):
        feature_extractor(model, "nope")


def test_weights_round_trip_through_a_file(tmp_path):
    import numpy as np

    model = tfcnn.create_model("lenet")
    path = tmp_path / "lenet.weights.h5"
    model.save_weights(path)
    again = tfcnn.create_model("lenet", weights=str(path))
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(again(x), model(x), atol=1e-6)


def test_public_api_exports_the_zoo_helpers():
    assert tfcnn.feature_extractor is tfcnn.models.feature_extractor
    assert tfcnn.copy_weights is tfcnn.models.copy_weights
    model = tfcnn.create_model("lenet")
    assert tfcnn.feature_extractor(model, "fc2_relu").output_shape == (None, 84)
