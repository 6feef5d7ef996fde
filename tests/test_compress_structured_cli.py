"""python -m tfcnn.compress --prune-channels: a thinner model for real (fewer MACs), fine-tuned or distilled, verified."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from _compress_util import nothing_written, one_line_exit_2, train_lenet

from tfcnn.compress import load_model, pipeline
from tfcnn.compress.cli import main


def _report(model_dir):
    return json.loads(Path(model_dir, "compression.json").read_text())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_lenet(tmp_path_factory.mktemp("lenet") / "run", epochs=8)


@pytest.fixture(scope="module")
def channels(trained, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("channels") / "run"
    shutil.copytree(trained, model_dir)
    assert main([str(model_dir), "--prune-channels", "0.5", "--latency-images", "20", "--quiet"]) == 0
    return model_dir, _report(model_dir)


@pytest.mark.slow
def test_prune_channels_publishes_a_thinner_float32_and_int8(channels):
    model_dir, report = channels
    v = report["variants"]
    for name in ("channels50_float32", "channels50_int8"):
        assert os.path.isfile(model_dir / v[name]["file"]), name
        assert v[name]["macs_ratio"] < 0.6, v[name]["macs_ratio"]  # LeNet at 0.5: 0.32 measured
        assert v[name]["params"] < report["params"] and v[name]["macs"] > 0
        assert 0 < v[name]["accuracy"] <= 1 and v[name]["latency_ms_1_thread"] > 0
        assert set(v[name]["speedup_vs_unpruned"]) == {"1_thread", "all_threads"}
    assert v["channels50_float32"]["accuracy"] >= v["float32"]["accuracy"] - 0.08
    assert v["channels50_int8"]["size"] < 0.5 * v["int8"]["size"]  # fewer filters: the raw file shrinks, no gzip needed
    widths = {w["layer"]: (w["before"], w["after"]) for w in v["channels50_int8"]["widths"]}
    assert widths["conv2_conv"] == (16, 8) and widths["logits"] == (10, 10)  # the model's output is kept
    thin = load_model(model_dir / v["channels50_int8"]["keras_model"])
    assert thin.get_layer("conv2_conv").filters == 8 and thin.count_params() == v["channels50_int8"]["params"]
    table = Path(model_dir, "compression.md").read_text()
    assert "| channels50_int8 |" in table and "| conv2_conv | Conv2D | 16 | 8 |" in table
    assert "| channels50_int8 | int8 |" in table  # the speed-up against the unpruned int8 file
    assert report["request"]["prune_channels"]["ratio"] == 0.5


@pytest.mark.slow
def test_prune_channels_rerun_reuses_the_thin_model(channels):
    model_dir, report = channels
    logs = []
    again = pipeline.compress(str(model_dir), prune_channels=0.5, latency_images=20, log=logs.append)
    assert sum("(reused)" in line for line in logs) == len(report["variants"])
    assert again["variants"]["channels50_int8"]["widths"] == report["variants"]["channels50_int8"]["widths"]
    assert again["variants"]["channels50_int8"]["macs"] == report["variants"]["channels50_int8"]["macs"]


@pytest.mark.slow
def test_prune_channels_with_distill(trained, tmp_path):
    model_dir = tmp_path / "run"
    shutil.copytree(trained, model_dir)
    argv = [str(model_dir), "--prune-channels", "0.5", "--criterion", "l2", "--round-to", "2", "--distill",
            "--temperature", "2", "--kd-alpha", "0.5", "--latency-images", "20", "--quiet"]
    assert main(argv) == 0
    report = _report(model_dir)
    v = report["variants"]
    assert {"channels50_float32", "channels50_int8"} <= set(v)
    assert "distilled from the float model (T=2, alpha=0.5)" in v["channels50_int8"]["fine_tuning"]
    assert v["channels50_int8"]["macs_ratio"] < 0.6
    assert all(w["after"] % 2 == 0 for w in v["channels50_int8"]["widths"])
    assert v["channels50_float32"]["accuracy"] >= v["float32"]["accuracy"] - 0.08
    assert report["request"]["prune_channels"] == {"ratio": 0.5, "target_macs": None, "criterion": "l2",
                                                   "round_to": 2, "scope": "layer", "slimming": None,
                                                   "distill": True, "temperature": 2.0, "alpha": 0.5}


# ------------------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return train_lenet(tmp_path_factory.mktemp("quick") / "run", epochs=1)


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory):
    """tfcnn's raw tf.nn layers: the channel graph does not know them."""
    return train_lenet(tmp_path_factory.mktemp("raw") / "run", epochs=1, style="raw")


@pytest.mark.parametrize("args, expect", [
    (["--prune-channels", "0"], "Received: --prune-channels=0.0"),
    (["--prune-channels", "1"], "Received: --prune-channels=1.0"),
    (["--prune-channels", "1.5"], "Received: --prune-channels=1.5"),
    (["--prune-channels", "-0.2"], "Received: --prune-channels=-0.2"),
    (["--prune-channels", "nan"], "Received: --prune-channels=nan"),
    (["--prune-channels", "half"], "Received: --prune-channels='half'"),
    (["--prune-channels", "0.5", "--criterion", "magic"], "Received: --criterion='magic'"),
    (["--prune-channels", "0.5", "--round-to", "0"], "Received: --round-to=0"),
    (["--prune-channels", "0.5", "--round-to", "eight"], "Received: --round-to='eight'"),
    (["--prune-channels", "0.5", "--distill", "--temperature", "0"], "Received: --temperature=0.0"),
    (["--prune-channels", "0.5", "--distill", "--temperature", "warm"], "Received: --temperature='warm'"),
    (["--prune-channels", "0.5", "--distill", "--kd-alpha", "1.5"], "Received: --kd-alpha=1.5"),
    (["--distill"], "--distill needs something to distil into"),
    (["--criterion", "l2"], "--criterion only applies with --prune-channels"),
    (["--prune-channels", "0.5", "--temperature", "2"], "--temperature only applies with --distill"),
    (["--prune-channels", "0.5", "--criterion", "bn"], "BatchNormalization"),  # LeNet has none: refused up front
])
def test_prune_channels_bad_input_is_one_line_exit_2nothing_written(quick_run, tmp_path, capsys, args, expect):
    run = tmp_path / "run"
    shutil.copytree(quick_run, run)
    one_line_exit_2(capsys, main([str(run), *args]), expect)
    assert nothing_written(run)


def test_prune_channels_refuses_a_model_the_channel_graph_does_not_know(raw_run, capsys):
    one_line_exit_2(capsys, main([raw_run, "--prune-channels", "0.5"]), "does not know layer type RawConv2D")
    assert nothing_written(raw_run)


@pytest.mark.slow
def test_prune_channels_implied_by_all_skips_a_model_the_graph_refuses(raw_run, tmp_path):
    """``--all`` asks for channel pruning optionally: the raw-layer model is compressed, the channel stage skipped."""
    run = tmp_path / "run"
    shutil.copytree(raw_run, run)
    report = pipeline.compress(str(run), prune_channels=0.5, channels_optional=True, latency_images=5,
                               log=lambda *_: None)
    assert "float32" in report["variants"] and "int8" in report["variants"]
    assert "RawConv2D" in report["skipped"]["channels50"]
    assert not any(name.startswith("channels50") for name in report["variants"])


def test_all_includes_channel_pruning_at_one_half(quick_run):
    from tfcnn.compress.cli import build_parser, resolve

    implied = resolve(build_parser().parse_args([quick_run, "--all"]))["channels"]
    assert implied["ratio"] == 0.5 and implied["implied"] and not implied["distill"]
    explicit = resolve(build_parser().parse_args([quick_run, "--all", "--prune-channels", "0.25", "--distill"]))
    assert explicit["channels"]["ratio"] == 0.25 and explicit["channels"]["distill"]
    assert not explicit["channels"]["implied"]
    assert resolve(build_parser().parse_args([quick_run]))["channels"] is None
