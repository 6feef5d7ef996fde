"""`python -m tfcnn.train lenet` end to end, offline, and every downstream command on what it wrote.

With no network the trainer falls back from tensorflow-datasets' MNIST to the
bundled MNIST test split (``mnist-t10k``). The run folder's eight artefacts
are opened and checked for what they hold, and ``evaluate``, ``compress``,
``predict`` and ``viz`` all run on this real training output.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tfcnn import runs, train
from tfcnn._compat import keras, tf


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lenet") / "run"
    assert train.main(["lenet", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def test_split(lenet_run):
    run = runs.RunDir.open(lenet_run)
    return run, run.load_dataset()


def test_the_run_folder_holds_exactly_the_eight_artefacts(lenet_run):
    assert sorted(p.name for p in lenet_run.iterdir()) == sorted(runs.ARTEFACTS)  # no .lock, .resume or .tmp left


def test_config_and_metrics_follow_the_schema(lenet_run, test_split):
    run, data = test_split
    config, metrics = run.config, run.metrics
    assert config[runs.K_SCHEMA] == runs.SCHEMA_VERSION and set(runs.REQUIRED_KEYS) <= set(config)
    assert config[runs.K_DATASET] == metrics["dataset"] == data.name in ("mnist", "mnist-t10k")
    assert config[runs.K_INPUT_SHAPE] == [28, 28, 1] and config[runs.K_CLASS_NAMES] == [str(i) for i in range(10)]
    assert metrics["params"] == 61_706 and metrics["test_accuracy"] >= 0.97
    assert metrics["test_images"] == len(data.y_test) == sum(map(sum, metrics["confusion_matrix"]))
    from tfcnn import analysis, create_model

    assert metrics["macs"] == analysis.summarize(create_model("lenet")).total_macs > 0


def test_model_keras_reproduces_the_test_accuracy_and_confusion_matrix(lenet_run, test_split):
    run, data = test_split
    model = run.load_model()
    from tfcnn.data import make_pipeline

    ds = make_pipeline(data.x_test, data.y_test, model.input_shape[1:], batch_size=256, training=False)
    pred = np.concatenate([np.argmax(model(x), -1) for x, _ in ds])
    assert np.mean(pred == data.y_test) == pytest.approx(run.metrics["test_accuracy"], abs=1e-6)
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (data.y_test, pred), 1)
    assert confusion.tolist() == run.metrics["confusion_matrix"]


def test_saved_model_serves_the_same_logits(lenet_run):
    model = keras.models.load_model(lenet_run / runs.MODEL)
    served = tf.saved_model.load(str(lenet_run / runs.SAVED_MODEL))
    x = np.random.default_rng(0).random((4, 28, 28, 1), np.float32)
    out = served.serve(tf.constant(x))
    np.testing.assert_allclose(np.asarray(out), model(x).numpy(), atol=1e-5)


def test_history_csv_has_one_row_per_epoch_with_the_final_metrics(lenet_run, test_split):
    run, _ = test_split
    rows = list(csv.DictReader((lenet_run / runs.HISTORY).open()))
    assert len(rows) == run.metrics["epochs"] == 15
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(run.metrics["final"]["val_accuracy"], rel=1e-4)
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


@pytest.mark.parametrize("name", [runs.CURVES, runs.CONFUSION])
def test_pictures_are_real_pngs(lenet_run, name):
    with Image.open(lenet_run / name) as img:
        assert img.format == "PNG" and min(img.size) >= 300
        assert np.asarray(img.convert("L")).std() > 10  # not a blank canvas


def test_tensorboard_logs_hold_the_epoch_scalars(lenet_run):
    events = sorted((lenet_run / runs.LOGS).rglob("events.out.tfevents.*"))
    assert {p.parent.name for p in events} >= {"train", "validation"}
    tags = set()
    for path in events:
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            tags |= {v.tag for v in record.summary.value}
    assert {"epoch_loss", "epoch_accuracy"} <= tags


def test_evaluate_on_the_run_matches_its_metrics(lenet_run, test_split, capsys):
    from tfcnn.evaluate import main as evaluate_main

    assert evaluate_main([str(lenet_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(test_split[0].metrics["test_accuracy"], abs=1e-6)


@pytest.fixture(scope="module")
def compressed(lenet_run):
    from tfcnn.compress import compress

    return compress(str(lenet_run), latency_images=20, log=lambda *a: None)


def test_compress_on_the_run_keeps_accuracy(compressed, test_split):
    keras_acc = test_split[0].metrics["test_accuracy"]
    assert compressed["keras_accuracy"] == pytest.approx(keras_acc, abs=1e-6)
    assert abs(compressed["variants"]["int8"]["accuracy"] - keras_acc) < 0.01
    assert compressed["variants"]["float32"]["agreement"] > 0.999


def test_compress_mcu_exports_the_int8_io_variant_for_a_microcontroller(lenet_run, compressed, test_split, capsys):
    """``--mcu``: the int8 I/O file as a C array, TFLM's measured arena, checked on the run's whole test split."""
    from tfcnn.compress.cli import main as compress_main

    capsys.readouterr()
    assert compress_main([str(lenet_run), "--mcu", "--flash", "1M", "--ram", "256K", "--quiet"]) == 0
    assert "mcu: flash" in capsys.readouterr().out
    mcu = lenet_run / "mcu"
    report = json.loads((mcu / "deploy.json").read_text())
    assert report["model_bytes"] == (lenet_run / "tflite" / "int8_io.tflite").stat().st_size
    assert report["cross_check"]["images"] == len(test_split[1].y_test)
    assert report["cross_check"]["top1_agreement"] >= 0.99 and report["budget"]["fits"] is True
    assert {"model_data.h", "model_data.cc", "op_resolver.h", "deploy.md"} <= {p.name for p in mcu.iterdir()}


def test_compress_refuses_a_budget_without_mcu(lenet_run, capsys):
    from tfcnn.compress.cli import main as compress_main

    assert compress_main([str(lenet_run), "--ram", "256K"]) == 2
    assert capsys.readouterr().err.strip().endswith("--ram only applies with --mcu. Received: --ram='256K'")


def test_predict_classifies_test_digits_with_the_runs_class_names(lenet_run, compressed, test_split, tmp_path,
                                                                 capsys):
    from tfcnn.predict import main as predict_main

    _, data = test_split
    paths = []
    for i in range(5):
        Image.fromarray(data.x_test[i, ..., 0]).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    assert predict_main([str(lenet_run / runs.TFLITE / "int8.tflite"), *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    labels = [r["top"][0]["label"] for r in results]
    assert sum(label == str(y) for label, y in zip(labels, data.y_test[:5])) >= 4


def test_viz_draws_from_the_run(lenet_run, tmp_path, capsys):
    from tfcnn.viz.cli import main as viz_main

    out = tmp_path / "filters.png"
    assert viz_main([str(lenet_run), "--kind", "filters", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and out.read_bytes()[:4] == b"\x89PNG"


def test_unknown_model_exits_2_with_one_line_listing_names():
    proc = subprocess.run([sys.executable, "-m", "tfcnn.train", "no_such_net"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "lenet" in proc.stderr and "Traceback" not in proc.stderr


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--out", "--dataset"):
        assert flag in text
