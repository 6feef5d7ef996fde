"""`python -m tfcnn.train lenet` end to end on this offline machine (falls back to the bundled digits)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tfcnn import train


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lenet")
    assert train.main(["lenet", "--out", str(out), "--quiet"]) == 0
    return out


def test_train_writes_the_four_artefacts(lenet_run):
    for name in ("model.keras", "metrics.json", "history.csv", "training_curves.png"):
        assert (lenet_run / name).stat().st_size > 0, name
    assert not [p for p in lenet_run.iterdir() if ".tmp" in p.name]


def test_lenet_reaches_97_percent(lenet_run):
    metrics = json.loads((lenet_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["params"] == 61_706


def test_metrics_record_the_dataset_and_the_macs(lenet_run):
    from tfcnn import analysis, create_model

    metrics = json.loads((lenet_run / "metrics.json").read_text())
    config = json.loads((lenet_run / "config.json").read_text())
    assert metrics["dataset"] == config["dataset_used"] in ("mnist", "digits")  # digits when offline
    assert metrics["macs"] == analysis.summarize(create_model("lenet")).total_macs > 0


def test_saved_model_reloads_and_predicts_like_the_metrics(lenet_run):
    import numpy as np

    from tfcnn._compat import keras
    from tfcnn.data import load_dataset, make_pipeline

    metrics = json.loads((lenet_run / "metrics.json").read_text())
    model = keras.models.load_model(lenet_run / "model.keras")
    data = load_dataset(metrics["dataset"])
    ds = make_pipeline(data.x_test, data.y_test, model.input_shape[1:], batch_size=64, training=False)
    pred = np.concatenate([np.argmax(model(x), -1) for x, _ in ds])
    assert np.mean(pred == data.y_test) == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_history_has_one_row_per_epoch(lenet_run):
    rows = (lenet_run / "history.csv").read_text().strip().splitlines()
    metrics = json.loads((lenet_run / "metrics.json").read_text())
    assert rows[0].startswith("epoch,") and len(rows) == metrics["epochs"] + 1


def test_unknown_model_exits_2_with_one_line_listing_names():
    proc = subprocess.run([sys.executable, "-m", "tfcnn.train", "no_such_net"], capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "lenet" in lines[0] and "Traceback" not in proc.stderr


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--out", "--dataset"):
        assert flag in text
