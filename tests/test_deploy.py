"""tfcnn.deploy: C array, op resolver, measured arena, TFLM/LiteRT cross-check, budget, and bad input.

A tiny CNN on scikit-learn's 8x8 digits, trained for a few steps, keeps every
test fast; the LeNet and MobileNet v2 figures are in benchmarks/bench_deploy.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tfcnn  # noqa: F401  (selects tf_keras first)
from tfcnn import deploy as dp
from tfcnn.deploy import tflm

REPO = Path(__file__).resolve().parents[1]


def _tiny_model(activation: str = "relu"):
    from tfcnn._compat import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, activation=activation, name="conv")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x), name="tiny")


@pytest.fixture(scope="module")
def digits():
    from tfcnn.data import load_dataset, preprocess

    data = load_dataset("digits")
    return (preprocess(data.x_train, (8, 8, 1)).numpy(), data.y_train,
            preprocess(data.x_test, (8, 8, 1)).numpy(), data.y_test)


@pytest.fixture(scope="module")
def files(tmp_path_factory, digits):
    """``int8_io.tflite`` (trained), ``float32.tflite`` and ``gelu.tflite`` (an op TFLM lacks) of the tiny CNN."""
    from tfcnn._compat import keras
    from tfcnn.compress import to_tflite

    x_train, y_train, _, _ = digits
    model = _tiny_model()
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    root = tmp_path_factory.mktemp("deploy")
    paths = {"int8_io": root / "int8_io.tflite", "float32": root / "float32.tflite", "gelu": root / "gelu.tflite"}
    paths["int8_io"].write_bytes(to_tflite(model, "int8_io", representative=x_train[:100]))
    paths["float32"].write_bytes(to_tflite(model, "float32"))
    paths["gelu"].write_bytes(to_tflite(_tiny_model("gelu"), "float32"))
    return paths


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, files, digits):
    out = tmp_path_factory.mktemp("mcu") / "tiny"
    result = dp.deploy(files["int8_io"], out, images=digits[2], arena_margin=1.25)
    return out, result


def test_deploy_writes_all_files_and_the_array_is_the_file(deployed, files):
    out, result = deployed
    assert sorted(p.name for p in out.iterdir()) == result["files"] == [
        "deploy.json", "deploy.md", "model_data.cc", "model_data.h", "op_resolver.h"]
    content = files["int8_io"].read_bytes()
    assert dp.parse_model_data_cc((out / "model_data.cc").read_text()) == content
    assert f"g_model_data_len = {len(content)};" in (out / "model_data.cc").read_text()
    assert "alignas(16) const unsigned char g_model_data[]" in (out / "model_data.cc").read_text()
    assert json.loads((out / "deploy.json").read_text())["arena"] == result["arena"]
    assert f"{result['arena']['recommended']:,} B" in (out / "deploy.md").read_text()


def test_op_resolver_lists_exactly_the_models_ops_in_sorted_order(deployed, files):
    from tfcnn.compress import interpreter

    out, result = deployed
    it = interpreter(files["int8_io"], resolver="builtin_without_default_delegates")
    used = sorted({d["op_name"] for d in it._get_ops_details()})
    assert [row["op"] for row in result["ops"]] == used == ["CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "RESHAPE"]
    header = (out / "op_resolver.h").read_text()
    assert "MicroMutableOpResolver<k_model_op_count>" in header and f"k_model_op_count = {len(used)};" in header
    calls = [line.split("resolver.")[1].split("(")[0] for line in header.splitlines() if "resolver.Add" in line]
    assert calls == ["AddConv2D", "AddFullyConnected", "AddMaxPool2D", "AddReshape"]
    layers = {row["op"]: row["layers"] for row in result["ops"]}
    assert layers["CONV_2D"] == ["conv"] and layers["FULLY_CONNECTED"] == ["logits"]


def test_arena_is_measured_and_the_recommendation_is_the_smallest_working_size_times_margin(deployed, files, digits,
                                                                                            tmp_path):
    _, result = deployed
    arena = result["arena"]
    assert arena["persistent"] + arena["non_persistent"] == arena["total"] > 0
    assert arena["minimum"] >= arena["total"] and arena["verified"] is True
    assert arena["recommended"] == tflm.round_up(arena["minimum"] * 1.25)
    # The bisection's answer is tight: TFLM runs in it and not in 16 bytes less (asked in child processes).
    model = str(files["int8_io"])
    sample = tmp_path / "x.npy"
    detail = dp.api._litert(files["int8_io"].read_bytes(), model).get_input_details()[0]
    np.save(sample, tflm.quantize(digits[2][:1], detail))
    assert tflm._runs_in(model, str(sample), arena["minimum"])
    assert not tflm._runs_in(model, str(sample), arena["minimum"] - 16)


def test_tflm_agrees_with_litert_on_the_whole_test_set(deployed, digits):
    cross = deployed[1]["cross_check"]
    assert cross["images"] == len(digits[2])
    # LiteRT's reference kernels do TFLM's integer arithmetic: the same class on every image, the same int8
    # outputs on nearly all (the fully connected layer's requantization rounds differently now and then: 1 step)
    assert cross["top1_agreement"] == 1.0 and cross["identical_outputs"] >= 0.98 and cross["max_abs_diff_int8"] <= 1
    assert cross["xnnpack"]["top1_agreement"] >= 0.99  # XNNPACK rounds differently; a 2-layer net barely notices


def test_cross_check_detects_a_different_model(files, digits):
    from tfcnn.compress import to_tflite

    content = files["int8_io"].read_bytes()
    other = to_tflite(_tiny_model(), "int8_io", representative=digits[0][:100])  # untrained weights
    inputs = tflm.quantize(digits[2][:100], dp.api._litert(content, "x").get_input_details()[0])
    _, cross = tflm.measure(content, inputs, {"reference": dp.api._litert(other, "other", kernels="reference")},
                            margin=1.1)
    assert cross["top1_agreement"] < 0.5 and cross["identical_outputs"] < 0.1


def test_supported_ops_come_from_the_installed_tflm_and_match_its_interpreter(files):
    supported = dp.tflm_builtins()
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MEAN", "RESHAPE", "SOFTMAX"} <= supported
    assert "GELU" not in supported
    with pytest.raises(dp.api.DeployError, match="GELU"):  # TFLM itself refuses the op the list leaves out
        tflm.tflm_interpreter(files["gelu"].read_bytes(), 1 << 20)
    tflm.tflm_interpreter(files["float32"].read_bytes(), 1 << 20)  # and runs one whose ops are all listed


@pytest.mark.parametrize("op, method", [("CONV_2D", "AddConv2D"), ("DEPTHWISE_CONV_2D", "AddDepthwiseConv2D"),
                                        ("AVERAGE_POOL_2D", "AddAveragePool2D"), ("RELU6", "AddRelu6"),
                                        ("SPACE_TO_BATCH_ND", "AddSpaceToBatchNd"), ("PADV2", "AddPadV2"),
                                        ("BATCH_MATMUL", "AddBatchMatMul"), ("L2_NORMALIZATION", "AddL2Normalization"),
                                        ("UNIDIRECTIONAL_SEQUENCE_LSTM", "AddUnidirectionalSequenceLSTM")])
def test_resolver_method_names(op, method):
    assert dp.resolver_method(op) == method


def test_c_array_compiles_byte_identical_and_16_byte_aligned(deployed, files, tmp_path):
    compilers = [c for c in ("cc", "gcc") if shutil.which(c)]
    if not compilers:
        pytest.skip("no C compiler (cc or gcc) on this machine: the compile check needs one")
    out, _ = deployed
    main = tmp_path / "main.c"
    main.write_text("""\
#include <stdint.h>
#include <stdio.h>
#include "model_data.h"
int main(void) {
  if (((uintptr_t)g_model_data) % 16 != 0) return 3;
  fwrite(g_model_data, 1, g_model_data_len, stdout);
  return 0;
}
""")
    exe = tmp_path / "check"
    subprocess.run([compilers[0], "-std=c11", "-Wall", "-Werror", f"-I{out}", "-x", "c", str(out / "model_data.cc"),
                    str(main), "-o", str(exe)], check=True, capture_output=True, timeout=120)
    done = subprocess.run([str(exe)], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, "g_model_data is not 16-byte aligned"
    assert done.stdout == files["int8_io"].read_bytes()


def test_budget_verdict_and_what_would_fit(files, digits, tmp_path):
    result = dp.deploy(files["int8_io"], tmp_path / "ok", images=digits[2][:20], flash="1M", ram="256K")
    assert result["budget"]["fits"] is True and result["budget"]["suggestions"] == []
    arena = result["arena"]
    # A RAM budget below the recommendation but above the persistent part: fails, and a narrower width fits.
    ram = int((arena["persistent"] + 0.5 * (arena["minimum"] - arena["persistent"])) * 1.1)
    tight = dp.deploy(files["int8_io"], tmp_path / "tight", images=digits[2][:20], flash="1M", ram=ram)
    budget = tight["budget"]
    assert budget["fits"] is False and budget["ram_fits"] is False and budget["flash_fits"] is True
    width = next(s for s in budget["suggestions"] if s.get("width"))
    assert 0.3 < width["width"] <= 0.5 and width["estimated_arena"] <= ram
    assert "does not fit" in (tmp_path / "tight" / "deploy.md").read_text()


def test_suggestions_follow_the_analysers_scaling_rules():
    measured = {"flash_bytes": 1_200_000, "weight_bytes": 1_100_000, "persistent": 10_000, "non_persistent": 300_000,
                "margin": 1.0, "input_side": 32}
    rows = dp.suggestions(measured, flash=600_000, ram=None, alpha=0.35)
    # weights scale with width squared: 100 kB of structure + 1.1 MB * w^2 <= 600 kB -> w = 0.67
    assert rows[0]["width"] == 0.67 and "alpha = 0.23" in rows[0]["change"]
    assert rows[0]["estimated_flash"] <= 600_000
    rows = dp.suggestions(measured, flash=None, ram=160_000, input_params=lambda side: side * 1000)
    by_input = next(r for r in rows if "input_side" in r)
    assert by_input["input_side"] == 22 and by_input["estimated_arena"] <= 160_000  # 32 * sqrt(0.5)
    assert by_input["estimated_flash"] == 100_000 + int(1_100_000 * 22 / 32)  # re-counted by the analyser callback
    assert dp.suggestions(measured, flash=2_000_000, ram=1_000_000) == []


@pytest.mark.parametrize("text, expected", [("256K", 262144), ("256KB", 262144), ("1M", 1048576), ("1.5MiB", 1572864),
                                            ("4096", 4096), (512, 512)])
def test_parse_size(text, expected):
    assert dp.parse_size(text) == expected


@pytest.mark.parametrize("bad", ["lots", "-1K", "0", "1G", "", True])
def test_parse_size_rejects(bad):
    with pytest.raises(ValueError, match="Received: ram="):
        dp.parse_size(bad, argname="ram")


def _cli_error(capsys, argv):
    code = dp.main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize("case, extra, expect", [
    ("float32", [], "needs one int8 input"),
    ("garbage", [], "not a TFLite flatbuffer"),
    ("gelu", [], "GELU (from layer conv): TFLM has no GELU kernel; use activation='relu'"),
    ("int8_io", ["--ram", "lots"], "Received: --ram='lots'"),
    ("int8_io", ["--flash", "1T"], "Received: --flash='1T'"),
    ("int8_io", ["--arena-margin", "0.5"], "Received: --arena-margin='0.5'"),
    ("int8_io", ["--name", "9lives"], "Received: name='9lives'"),
    ("missing", [], "does not exist"),
])
def test_cli_bad_input_is_one_line_exit_2_and_nothing_written(capsys, files, tmp_path, case, extra, expect):
    path = tmp_path / "garbage.tflite"
    path.write_bytes(b"not a model at all, just bytes")
    source = {"garbage": path, "missing": tmp_path / "nope.tflite"}.get(case) or files.get(case)
    out = tmp_path / "out"
    code, err = _cli_error(capsys, [str(source), "--out", str(out), "--dataset", "digits", *extra])
    assert code == 2
    assert err.startswith("python -m tfcnn.deploy: error:") and "\n" not in err and "Traceback" not in err
    assert expect in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["garbage.tflite"]


def test_cli_success(capsys, files, tmp_path):
    out = tmp_path / "mcu"
    assert dp.main([str(files["int8_io"]), "--out", str(out), "--dataset", "digits", "--name", "digits",
                    "--flash", "1M", "--ram", "256K"]) == 0
    line = capsys.readouterr().out
    assert "fits" in line and "agreement" in line
    assert "g_digits_data[]" in (out / "model_data.cc").read_text()
    assert "digits_register_ops" in (out / "op_resolver.h").read_text()
    assert json.loads((out / "deploy.json").read_text())["cross_check"]["images"] == 360


def test_footprint_compares_float_and_int8_the_same_way(files, digits, deployed):
    float32 = dp.footprint(files["float32"], digits[2][:1])
    int8 = dp.footprint(files["int8_io"], digits[2][:1])
    assert int8 == {**int8, "flash": files["int8_io"].stat().st_size, "minimum": deployed[1]["arena"]["minimum"]}
    assert float32["flash"] == files["float32"].stat().st_size
    # int8 activations take a quarter of float32's bytes: the non-persistent part shrinks
    assert int8["non_persistent"] < float32["non_persistent"]
    assert float32["minimum"] >= float32["recorded"] == float32["persistent"] + float32["non_persistent"]
