"""End to end: python -m tfcnn.compress on a trained LeNet meets the issue's targets, measured by LiteRT."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from _compress_util import train_lenet

from tfcnn.compress import kernel_sparsity, load_model
from tfcnn.compress.cli import main


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    model_dir = train_lenet(tmp_path_factory.mktemp("lenet") / "run")
    code = main([model_dir, "--prune", "0.8", "--qat", "--int8-io", "--latency-images", "20", "--quiet"])
    assert code == 0
    with open(os.path.join(model_dir, "compression.json")) as f:
        return model_dir, json.load(f)


def test_compress_writes_report_and_every_file(compressed):
    model_dir, report = compressed
    expected = {"float32", "dynamic_range", "float16", "int8", "int8_per_tensor", "int8_io", "qat_int8",
                "pruned80_float32",
                "pruned80_int8", "pruned80_int8_per_tensor", "pruned80_int8_sparse", "pruned80_pqat_int8"}
    assert expected <= set(report["variants"])
    for name, v in report["variants"].items():
        assert os.path.isfile(os.path.join(model_dir, v["file"])), name
        assert v["latency_ms_1_thread"] > 0 and v["latency_ms_all_threads"] > 0
    table = Path(model_dir, "compression.md").read_text()
    assert all(f"| {name} |" in table for name in report["variants"])
    assert os.path.getsize(os.path.join(model_dir, "compression.png")) > 0
    labels = Path(model_dir, "tflite", "labels.txt").read_text().split()
    assert labels == [str(i) for i in range(10)]
    assert not [n for n in os.listdir(os.path.join(model_dir, "tflite")) if n.startswith(".")]  # no temp files


def test_compress_int8_meets_size_accuracy_and_agreement_targets(compressed):
    _, report = compressed
    v = report["variants"]
    for name in ("int8", "int8_io"):
        assert v[name]["size"] <= 0.30 * v["float32"]["size"], name
        assert abs(v[name]["accuracy"] - v["float32"]["accuracy"]) <= 0.01, name
        assert v[name]["agreement"] >= 0.98, name
    assert v["int8_io"]["input_dtype"] == "int8"
    assert v["float32"]["agreement"] == 1.0


def test_compress_per_tensor_int8_stores_one_scale_per_tensor(compressed):
    """Per-tensor int8 drops the per-channel scales: a smaller file, accuracy kept on LeNet."""
    from ai_edge_litert.interpreter import Interpreter

    model_dir, report = compressed
    v = report["variants"]
    assert v["int8_per_tensor"]["size"] < v["int8"]["size"]
    assert abs(v["int8_per_tensor"]["accuracy"] - v["float32"]["accuracy"]) <= 0.01

    def scales_per_kernel(name):
        it = Interpreter(model_path=os.path.join(model_dir, v[name]["file"]))
        kernels = [t for t in it.get_tensor_details() if t["dtype"].__name__ == "int8" and len(t["shape"]) >= 2
                   and t["quantization_parameters"]["scales"].size]
        return {t["quantization_parameters"]["scales"].size for t in kernels}

    assert scales_per_kernel("int8_per_tensor") == {1}
    assert max(scales_per_kernel("int8")) > 1  # per output channel  # the float file computes what Keras computes


def test_compress_pruned_int8_gzip_target_and_measured_sparsity(compressed):
    _, report = compressed
    v = report["variants"]
    assert v["pruned80_int8"]["gzip_size"] <= 0.12 * v["float32"]["gzip_size"]
    assert v["pruned80_int8"]["accuracy"] >= v["float32"]["accuracy"] - 0.015
    assert v["pruned80_float32"]["size"] == pytest.approx(v["float32"]["size"], rel=0.01)  # zeros are still stored
    for layer, info in report["sparsity"]["pruned80"].items():
        assert info["sparsity"] == pytest.approx(0.8, abs=0.01), layer


def test_compress_pruning_preserving_qat_keeps_zeros(compressed):
    _, report = compressed
    v = report["variants"]
    assert v["pruned80_pqat_int8"]["gzip_size"] <= 0.6 * v["qat_int8"]["gzip_size"]
    assert v["pruned80_pqat_int8"]["accuracy"] >= v["float32"]["accuracy"] - 0.03


def test_compress_sparse_format_runs_without_xnnpack(compressed):
    _, report = compressed
    sparse, dense = report["variants"]["pruned80_int8_sparse"], report["variants"]["pruned80_int8"]
    assert sparse["resolver"] == "builtin_without_default_delegates"
    assert sparse["size"] < dense["size"]
    assert abs(sparse["accuracy"] - dense["accuracy"]) <= 0.01


def test_compress_saved_pruned_and_qat_models_load_without_scopes(compressed):
    model_dir, report = compressed
    qat = load_model(os.path.join(model_dir, report["variants"]["qat_int8"]["keras_model"]))
    assert any("quant" in layer.__class__.__name__.lower() for layer in qat.layers)
    pruned = load_model(os.path.join(model_dir, report["variants"]["pruned80_int8"]["keras_model"]))
    assert np.mean([v["sparsity"] for v in kernel_sparsity(pruned).values()]) == pytest.approx(0.8, abs=0.01)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_the_frozen_conversion_matches_the_keras_converter(mode, caplog):
    """to_tflite converts the frozen inference function (about 10x faster than from_keras_model, which first
    writes a SavedModel): same operators, same outputs, float and int8, on a net with BN, SE and hard-swish."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from tfcnn._compat import keras, tf
    from tfcnn.compress import to_tflite
    from tfcnn.layers import get_style
    from tfcnn.models._common import squeeze_excite

    L = get_style("keras")
    inputs = keras.Input((32, 32, 1), name="input")
    y = L.conv_bn(inputs, 16, 3, strides=2, activation="hard_swish", name="stem")
    y = squeeze_excite(y, L, squeeze_channels=4, gate="hard_sigmoid", name="b1")
    y = L.depthwise_conv_bn(y, 3, activation="relu", name="b1_dw")
    model = keras.Model(inputs, L.dense(L.global_pool(y, name="pool"), 10, name="logits"))
    x = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype("float32")
    keras_path = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode == "int8":
        keras_path.optimizations = [tf.lite.Optimize.DEFAULT]
        keras_path.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
        keras_path.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    def run(content):
        it = Interpreter(model_content=content)
        it.allocate_tensors()
        ops = sorted(str(d["op_name"]) for d in it._get_ops_details())
        outputs = []
        for image in x[:4]:
            it.set_tensor(it.get_input_details()[0]["index"], image[None])
            it.invoke()
            outputs.append(it.get_tensor(it.get_output_details()[0]["index"]))
        return ops, np.concatenate(outputs)

    with caplog.at_level("WARNING"):
        ours_ops, ours = run(to_tflite(model, mode, representative=x))
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()], "TensorFlow's log line is silenced"
    keras_ops, theirs = run(keras_path.convert())
    assert ours_ops == keras_ops and "HARD_SWISH" in ours_ops
    np.testing.assert_allclose(ours, theirs, atol=1e-5 if mode == "float32" else 1e-6)
