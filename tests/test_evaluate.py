"""A finished run's artefacts, and `python -m tfcnn.evaluate` re-measuring them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfcnn import evaluate, train
from tfcnn._compat import keras, tf
from tfcnn.data import load_dataset, make_pipeline


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "lenet"
    assert train.main(["lenet", "--dataset", "digits", "--epochs", "3", "--input-size", "16", "--val-split", "0.1",
                       "--out", str(out), "--quiet"]) == 0
    return out


def test_run_writes_every_artefact_and_no_temporary(run):
    for name in ("model.keras", "config.json", "metrics.json", "history.csv", "training_curves.png",
                 "confusion_matrix.png", "saved_model/saved_model.pb"):
        assert (run / name).stat().st_size > 0, name
    assert list((run / "logs").rglob("events.out.tfevents.*"))
    assert not [p.name for p in run.iterdir() if p.name.startswith((".staging", ".resume")) or ".tmp" in p.name]
    config = json.loads((run / "config.json").read_text())
    assert config["dataset_used"] == "digits" and config["input_shape"] == [16, 16, 1]
    assert config["validation"].startswith("10%") and config["val_images"] + config["train_images"] == 1437
    assert {"tensorflow", "tf_keras", "tfcnn"} <= set(config["versions"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and len((run / "history.csv").read_text().splitlines()) == 4
    assert metrics["params"] == keras.models.load_model(run / "model.keras", compile=False).count_params()


def test_saved_model_serves_the_same_logits_as_model_keras(run):
    model = keras.models.load_model(run / "model.keras", compile=False)
    served = tf.saved_model.load(str(run / "saved_model"))
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(served.serve(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_evaluate_reproduces_the_test_accuracy_and_confusion_matrix(run, capsys):
    metrics = json.loads((run / "metrics.json").read_text())
    assert evaluate.main([str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    matrix = np.asarray(result["confusion_matrix"])
    assert matrix.sum() == 360 and np.trace(matrix) / 360 == pytest.approx(result["accuracy"])
    # independent check: argmax of the saved model on the same test split
    data = load_dataset("digits")
    model = keras.models.load_model(run / "model.keras", compile=False)
    ds = make_pipeline(data.x_test, data.y_test, (16, 16, 1), batch_size=128, training=False)
    pred = np.concatenate([np.argmax(model(x), -1) for x, _ in ds])
    assert np.mean(pred == data.y_test) == pytest.approx(result["accuracy"])
    per_class = [np.mean(pred[data.y_test == k] == k) for k in range(10)]
    assert result["per_class_accuracy"] == pytest.approx(per_class)


def test_evaluate_text_report_and_bad_folder(run, tmp_path, capsys):
    assert evaluate.main([str(run)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("accuracy ") and "confusion matrix" in text
    assert evaluate.main([str(tmp_path)]) == 2
    assert "not a finished tfcnn run" in capsys.readouterr().err
