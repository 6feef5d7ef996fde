"""Pruning: target sparsity on every style, 2:4 structure, chosen layers only, the baseline left dense."""

from __future__ import annotations

import numpy as np
import pytest

import tfcnn
from tfcnn._compat import keras
from tfcnn.compress import CompressError, apply_pruning, check_m_by_n, kernel_sparsity, load_model, parse_sparsity
from tfcnn.compress.prune import prune_model, select_layers
from tfcnn.data import load_dataset, make_pipeline


@pytest.fixture(scope="module")
def train_ds():
    data = load_dataset("digits")
    return make_pipeline(data.x_train[:256], data.y_train[:256], (28, 28, 1), batch_size=32, training=True)


@pytest.mark.parametrize("style", ["keras", "raw"])
def test_prune_reaches_target_sparsity_in_every_layer(style, train_ds):
    model = tfcnn.create_model("lenet", style=style)
    stripped, _ = prune_model(model, 0.6, train_ds, epochs=1)
    measured = kernel_sparsity(stripped)
    assert set(measured) == {"conv1_conv", "conv2_conv", "fc1", "fc2", "logits"}
    for layer, info in measured.items():
        assert info["sparsity"] == pytest.approx(0.6, abs=0.01), layer
    assert all(v["sparsity"] == 0 for v in kernel_sparsity(model).values())  # the baseline stays dense
    assert not any("PruneLowMagnitude" in type(layer).__name__ for layer in stripped.layers)


def test_prune_2_by_4_every_group_of_four_input_channels_has_two_zeros(train_ds):
    model = tfcnn.create_model("lenet")
    stripped, _ = prune_model(model, "2:4", train_ds, epochs=1)
    pruned = select_layers(model, None, m_by_n=(2, 4))
    assert pruned == ["fc1", "fc2", "logits"]  # conv1 (1 channel) and conv2 (6) cannot hold 2:4 groups
    for name in pruned:
        kernel = stripped.get_layer(name).kernel.numpy()
        assert check_m_by_n(kernel, (2, 4)), name
        groups = np.moveaxis(kernel, -2, -1).reshape(-1, 4)
        assert np.all((groups == 0).sum(axis=1) == 2), name
    assert not check_m_by_n(model.get_layer("fc1").kernel.numpy())  # the dense original does not pass


def test_prune_only_dense_layers_leaves_convolutions_dense(train_ds):
    model = tfcnn.create_model("lenet")
    stripped, _ = prune_model(model, 0.8, train_ds, layers="dense", epochs=1)
    measured = kernel_sparsity(stripped)
    assert measured["conv1_conv"]["sparsity"] == 0 and measured["conv2_conv"]["sparsity"] == 0
    for name in ("fc1", "fc2", "logits"):
        assert measured[name]["sparsity"] == pytest.approx(0.8, abs=0.01)
    assert select_layers(model, ["fc*"]) == ["fc1", "fc2"]


def test_prune_saved_wrapped_model_loads_without_prune_scope(tmp_path):
    wrapped = apply_pruning(tfcnn.create_model("lenet"), 0.5)
    path = str(tmp_path / "wrapped.keras")
    wrapped.save(path)
    loaded = load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in wrapped.layers]
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded(x, training=False), wrapped(x, training=False), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "abc", "4:2", "2:2", "x:4", float("nan")])
def test_prune_sparsity_outside_open_interval_is_rejected(bad):
    with pytest.raises(CompressError, match=r"Received: sparsity="):
        parse_sparsity(bad)


def test_prune_unknown_layer_choice_is_rejected():
    with pytest.raises(CompressError, match=r"Received: layers="):
        select_layers(tfcnn.create_model("lenet"), ["nothing*"])


def test_prune_depthwise_only_model_has_nothing_to_prune():
    x = keras.Input((8, 8, 3))
    model = keras.Model(x, keras.layers.DepthwiseConv2D(3)(x))
    with pytest.raises(CompressError, match="no prunable layer"):
        select_layers(model)
