"""Channel-pruned MobileNet v2, SE-ResNet-50 and Inception v3 go all the way: trained, int8, run with LiteRT.

The rebuild test proves every zoo model's thin rebuild exact before
fine-tuning; here the three graphs the issue names for their coupled groups
(depthwise convolutions; SE's Multiply gates on residual sums; Inception's
Concatenate offsets) are pruned at 0.5, trained briefly on real digits, converted
to full int8 and run with LiteRT, whose predictions must match the thin Keras model's.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras, tf
from tfcnn.compress import to_tflite
from tfcnn.compress.structured import prune_channels
from tfcnn.data import load_dataset
from tfcnn.litert import evaluate


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("mnist-t10k", seed=0)
    return data.x_train[:400], data.y_train[:400], data.x_test[:300], data.y_test[:300]


def _prepare(images, shape):
    x = tf.image.resize(images.astype("float32") / 127.5 - 1.0, shape[:2])
    return tf.tile(x, [1, 1, 1, shape[2]]).numpy() if shape[2] == 3 and x.shape[-1] == 1 else x.numpy()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v2", "se_resnet50", "inception_v3"])
def test_pruned_model_trains_converts_to_int8_and_agrees_under_litert(name, digits, tmp_path):
    card = tfcnn.get_config(name)
    shape = card.contract_input
    x_train, y_train, x_test, y_test = digits
    x_train, x_test = _prepare(x_train, shape), _prepare(x_test, shape)
    keras.utils.set_random_seed(0)
    model = tfcnn.create_model(name, input_shape=shape, num_classes=10, **card.contract_options)
    thin, _ = prune_channels(model, ratio=0.5, round_to=8)
    assert analysis.summarize(thin).total_macs < 0.6 * analysis.summarize(model).total_macs
    thin.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = thin.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0).history["loss"]
    reference = thin.predict(x_test, batch_size=100, verbose=0).argmax(-1)
    path = os.path.join(tmp_path, f"{name}_thin_int8.tflite")
    with open(path, "wb") as f:
        f.write(to_tflite(thin, "int8", representative=x_train[:100]))
    result = evaluate(path, x_test, y_test, reference_pred=reference, latency_images=1)
    assert result["agreement"] >= 0.9, result
    # Trained: the loss fell. (Two short epochs leave batch norm's moving statistics near their start, so
    # inference-mode accuracy is not yet a measure of what was learned.)
    assert history[-1] < history[0], history
    assert np.isfinite(history).all()
    keras.backend.clear_session()
