"""Trainer features in-process: NaN stop keeps the last good checkpoint, auxiliary heads, mixed precision,
--weights with --freeze-backbone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfcnn import train
from tfcnn._compat import keras, tf
from tfcnn.models import cards, registry

FAST = ["--dataset", "digits", "--input-size", "16", "--quiet", "--batch-size", "64"]


def _opts(*argv):
    return train.resolve_options(train.build_parser().parse_args(list(argv)))


class _PoisonAt(keras.callbacks.Callback):
    """Writes NaN into the first kernel when training reaches ``epoch``: the loss goes NaN at once."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self._now == self.epoch and batch == 1:
            kernel = self.model.trainable_weights[0]
            kernel.assign(tf.fill(kernel.shape, float("nan")))


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    opts = _opts("lenet", *FAST, "--epochs", "4", "--out", str(out))
    with pytest.raises(train.TrainingDiverged, match="NaN or infinite at epoch 3") as info:
        train.train(opts, log=lambda m: None, callbacks=[_PoisonAt(2)])
    assert "\n" not in str(info.value)
    history = json.loads((out / ".resume" / "history.json").read_text())
    assert sorted(history) == ["0", "1"]  # epochs 1 and 2 finished; epoch 3 was not recorded
    ckpt = tf.train.latest_checkpoint(str(out / ".resume" / "backup" / "chief"))
    reader = tf.train.load_checkpoint(ckpt)
    saved = [reader.get_tensor(k) for k, _ in tf.train.list_variables(ckpt) if "kernel" in k and "optimizer" not in k]
    assert saved and all(np.isfinite(v).all() for v in saved)
    epoch_var = next(k for k, _ in tf.train.list_variables(ckpt) if "ckpt_saved_epoch" in k)
    assert int(reader.get_tensor(epoch_var)) == 1  # the checkpoint of the second (last good) epoch
    assert not (out / "model.keras").exists() and not (out / "metrics.json").exists()


@pytest.fixture
def aux_model():
    """A registered three-output model shaped like GoogLeNet with aux_logits=True: [logits, aux1, aux2]."""

    def tiny_aux(*, input_shape=None, num_classes=10, include_top=True, pooling=None, weights=None,
                 style="keras", name="tiny_aux"):
        inputs = keras.Input(input_shape or (16, 16, 1), name="input")
        x = keras.layers.Flatten(name="flatten")(inputs)
        heads = [keras.layers.Dense(num_classes, name=n)(x) for n in ("logits", "aux1_logits", "aux2_logits")]
        return keras.Model(inputs, heads, name=name)

    registry.register_model(registry.ModelConfig(
        name="tiny_aux", family="test", input_shape=(16, 16, 1), num_classes=10, min_input_size=8,
        reference="-",
        published_error=cards.PublishedError(None, None, "-", "a test model, never published")))(tiny_aux)
    yield "tiny_aux"
    registry._REGISTRY.pop("tiny_aux", None)


def test_auxiliary_heads_weigh_0_3_and_are_dropped_for_inference(tmp_path, aux_model):
    out = tmp_path / "aux"
    assert train.main([aux_model, *FAST, "--epochs", "1", "--out", str(out)]) == 0
    rows = (out / "history.csv").read_text().splitlines()
    row = dict(zip(rows[0].split(","), map(float, rows[1].split(","))))
    expected = row["logits_loss"] + 0.3 * (row["aux1_logits_loss"] + row["aux2_logits_loss"])
    assert row["loss"] == pytest.approx(expected, rel=1e-4)
    model = keras.models.load_model(out / "model.keras", compile=False)
    assert len(model.outputs) == 1 and model.output_names == ["logits"]
    config = json.loads((out / "config.json").read_text())
    assert config["aux_outputs"] == 2 and config["aux_loss_weight"] == 0.3


def test_mixed_precision_keeps_logits_float32(tmp_path):
    out = tmp_path / "mp"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--mixed-precision", "--out", str(out)]) == 0
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    model = keras.models.load_model(out / "model.keras", compile=False)
    assert model.get_layer("conv1_conv").compute_dtype in ("bfloat16", "float16")
    assert model.outputs[0].dtype == tf.float32
    assert json.loads((out / "config.json").read_text())["policy"] == train.mixed_policy_name()
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] > 0.3


def test_weights_and_freeze_backbone_train_only_the_head(tmp_path):
    first = tmp_path / "first"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--out", str(first)]) == 0
    second = tmp_path / "second"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--lr", "0.01", "--weights", str(first / "model.keras"),
                       "--freeze-backbone", "--out", str(second)]) == 0
    a = keras.models.load_model(first / "model.keras", compile=False)
    b = keras.models.load_model(second / "model.keras", compile=False)
    for layer in ("conv1_conv", "conv2_conv", "fc1", "fc2"):
        assert all(np.array_equal(u, v) for u, v in zip(a.get_layer(layer).get_weights(),
                                                        b.get_layer(layer).get_weights())), layer
    assert not np.array_equal(a.get_layer("logits").get_weights()[0], b.get_layer("logits").get_weights()[0])
    assert json.loads((second / "metrics.json").read_text())["trainable_params"] == 84 * 10 + 10
