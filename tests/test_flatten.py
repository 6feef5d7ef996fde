"""flatten_model: a backbone nested inside a model becomes one flat model with the same outputs, and QAT works."""

from __future__ import annotations

import numpy as np
import pytest

from tfcnn._compat import keras
from tfcnn.compress import CompressError
from tfcnn.compress.quantize import quantize_aware
from tfcnn.flatten import flatten_model, is_nested


@pytest.fixture(scope="module")
def nested():
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False)
    base.trainable = False  # the usual frozen-backbone fine-tuning layout
    x = keras.Input((32, 32, 3), name="image")
    y = base(x, training=False)
    y = keras.layers.GlobalAveragePooling2D(name="avg_pool")(y)
    y = keras.layers.Dense(5, name="logits")(y)
    return keras.Model(x, y, name="transfer")


@pytest.fixture(scope="module")
def flat(nested):
    return flatten_model(nested)


def test_flatten_removes_nesting_and_keeps_outputs(nested, flat):
    assert is_nested(nested) and not is_nested(flat)
    assert flat.count_params() == nested.count_params()
    assert len(flat.layers) == len(nested.layers[1].layers) + 2  # backbone's layers (with its input) + head
    x = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(flat(x, training=False), nested(x, training=False), rtol=1e-5, atol=1e-5)


def test_flatten_keeps_frozen_backbone_frozen(nested, flat):
    assert len(flat.trainable_weights) == len(nested.trainable_weights) == 2  # only the new head trains
    assert not flat.get_layer("Conv1").trainable and flat.get_layer("logits").trainable


def test_flatten_makes_qat_possible(nested, flat):
    with pytest.raises(CompressError, match="flat model"):
        quantize_aware(nested)
    q = quantize_aware(flat)
    assert any("Quantize" in type(layer).__name__ for layer in q.layers)
    assert q(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, 5)


def test_flatten_refuses_subclassed_models():
    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="Received: model=Sub"):
        flatten_model(Sub())
