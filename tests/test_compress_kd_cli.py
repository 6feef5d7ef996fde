"""python -m tfcnn.compress with a MACs target, Network Slimming, another run as teacher and a smaller student."""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import pytest
from _compress_util import nothing_written, one_line_exit_2, train_lenet

from tfcnn.compress.cli import build_parser, main, resolve


def _report(model_dir):
    return json.loads(Path(model_dir, "compression.json").read_text())


def _copy(run, tmp_path, name="run"):
    out = tmp_path / name
    shutil.copytree(run, out)
    return str(out)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return train_lenet(tmp_path_factory.mktemp("quick") / "run", epochs=1)


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    """Another LeNet run, trained longer and with another seed: a teacher that is not the run itself."""
    return train_lenet(tmp_path_factory.mktemp("teacher") / "run", epochs=8, seed=1)


def _edited(run, tmp_path, name, **config):
    """A copy of ``run`` whose config.json claims other classes or another input (what a mismatched run says)."""
    out = _copy(run, tmp_path, name)
    path = Path(out, "config.json")
    data = json.loads(path.read_text())
    data.update(config)
    path.write_text(json.dumps(data))
    return out


# ------------------------------------------------------------------------------------------- requests
def test_a_registered_student_with_its_width_and_the_distillation_settings(quick_run):
    opts = resolve(build_parser().parse_args([quick_run, "--distill", "--student", "mobilenet_v2", "--alpha", "0.35",
                                              "--temperature", "3", "--kd-alpha", "0.2"]))
    assert opts["student"] == {"student": "mobilenet_v2", "kind": "model", "alpha": 0.35, "temperature": 3.0,
                               "kd_alpha": 0.2}
    assert opts["channels"] is None


def test_slimming_implies_the_bn_criterion_and_a_target_replaces_the_ratio(quick_run):
    opts = resolve(build_parser().parse_args([quick_run, "--target-macs", "0.4", "--slimming", "1e-4",
                                              "--scope", "global", "--round-to", "8"]))
    c = opts["channels"]
    assert (c["ratio"], c["target_macs"], c["criterion"], c["slimming"], c["scope"], c["round_to"]) == \
        (None, 0.4, "bn", 1e-4, "global", 8)


# ------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, expect", [
    (["--target-macs", "0"], "Received: --target-macs=0.0"),
    (["--target-macs", "1"], "Received: --target-macs=1.0"),
    (["--target-macs", "most"], "Received: --target-macs='most'"),
    (["--prune-channels", "0.5", "--target-macs", "0.4"], "not both"),
    (["--target-macs", "1e-6"], "cannot be reached"),  # LeNet's classifier keeps its MACs
    (["--prune-channels", "0.5", "--scope", "wide"], "Received: --scope='wide'"),
    (["--scope", "global"], "--scope only applies with --prune-channels or --target-macs"),
    (["--prune-channels", "0.5", "--slimming", "0"], "Received: --slimming=0.0"),
    (["--prune-channels", "0.5", "--slimming", "strong"], "Received: --slimming='strong'"),
    (["--prune-channels", "0.5", "--slimming", "1e-4", "--criterion", "l1"],
     "Received: --slimming=0.0001, --criterion='l1'"),
    (["--prune-channels", "0.5", "--slimming", "1e-4"], "needs batch norms"),  # LeNet has none
    (["--prune-channels", "0.9", "--scope", "global"], "would remove every channel of layer"),
    (["--slimming", "1e-4"], "--slimming only applies with --prune-channels"),
    (["--student", "lenet"], "--student only applies with --distill"),
    (["--teacher", "elsewhere"], "--teacher only applies with --distill"),
    (["--alpha", "0.35"], "--alpha only applies with --student"),
    (["--distill", "--student", "no_such_net"], "Received: --student='no_such_net'"),
    (["--distill", "--student", "lenet", "--alpha", "0.5"], "has no width multiplier alpha. Received: --alpha=0.5"),
    (["--distill", "--student", "mobilenet_v2", "--alpha", "0"], "Received: --alpha=0.0"),
    (["--distill", "--student", "mobilenet_v2", "--alpha", "thin"], "Received: --alpha='thin'"),
    (["--distill", "--student", "lenet", "--kd-alpha", "-1"], "Received: --kd-alpha=-1.0"),
    (["--distill", "--student", "lenet", "--teacher", "/no/such/run"], "Received: --teacher='/no/such/run'"),
])
def test_bad_distillation_and_target_input_is_one_line_exit_2nothing_written(quick_run, tmp_path, capsys, args,
                                                                              expect):
    run = _copy(quick_run, tmp_path)
    one_line_exit_2(capsys, main([run, *args]), expect)
    assert nothing_written(run)


@pytest.mark.parametrize("flag", ["--teacher", "--student"])
@pytest.mark.parametrize("config, expect", [
    ({"class_names": [f"c{i}" for i in range(5)]}, "predicts other classes"),
    ({"input_shape": [32, 32, 1]}, "takes input (32, 32, 1)"),
])
def test_a_teacher_or_student_run_of_other_classes_or_input_is_refused(quick_run, tmp_path, capsys, flag, config,
                                                                      expect):
    run = _copy(quick_run, tmp_path)
    other = _edited(quick_run, tmp_path, "other", **config)
    args = ["--distill", flag, other] + (["--student", "lenet"] if flag == "--teacher" else [])
    one_line_exit_2(capsys, main([run, *args]), expect)
    assert nothing_written(run)


# ------------------------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_a_macs_target_publishes_a_thin_model_within_it(teacher_run, tmp_path):
    run = _copy(teacher_run, tmp_path)
    assert main([run, "--target-macs", "0.5", "--round-to", "2", "--epochs", "2", "--latency-images", "20",
                 "--quiet"]) == 0
    report = _report(run)
    row = report["variants"]["macs50_int8"]
    assert row["macs_ratio"] <= 0.5 and 0 < row["ratio_removed"] < 1
    assert all(w["after"] % 2 == 0 or w["after"] == w["before"] for w in row["widths"])
    assert row["speedup_vs_unpruned"]["1_thread"] > 0
    assert "of each layer's channels removed" in Path(run, "compression.md").read_text()


@pytest.mark.slow
def test_a_student_distilled_from_another_run(teacher_run, quick_run, tmp_path):
    """A LeNet from scratch, distilled from the longer-trained run given as --teacher, into float32 and int8."""
    run = _copy(quick_run, tmp_path)
    assert main([run, "--distill", "--student", "lenet", "--teacher", teacher_run, "--epochs", "6",
                 "--latency-images", "20", "--quiet"]) == 0
    report = _report(run)
    v = report["variants"]
    assert {"student_lenet_float32", "student_lenet_int8"} <= set(v)
    row = v["student_lenet_float32"]
    assert row["student"] == "lenet" and "distilled from the --teacher run" in row["fine_tuning"]
    assert row["accuracy"] > 0.5  # ten classes: chance is 0.1
    assert v["student_lenet_int8"]["agreement"] > 0.9
    assert "Student `lenet`" in Path(run, "compression.md").read_text()


def test_the_slimming_stage_trains_the_scales_then_prunes_by_them(tmp_path):
    """The channel stage with --slimming, on a small batch-norm network (the whole command is slow for one)."""
    import numpy as np

    from tfcnn._compat import keras, tf
    from tfcnn.compress import pipeline

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = inputs
    for i in range(2):
        x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False, name=f"c{i}")(x)
        x = keras.layers.BatchNormalization(name=f"c{i}_bn")(x)
        x = keras.layers.ReLU(name=f"c{i}_relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(4, name="logits")(keras.layers.GlobalAveragePooling2D()(x)))
    rng = np.random.default_rng(0)
    images = rng.normal(size=(256, 8, 8, 3)).astype("float32")
    labels = (images[..., 0].mean((1, 2)) > 0).astype("int64")
    ctx = types.SimpleNamespace(train_ds=tf.data.Dataset.from_tensor_slices((images, labels)).batch(32), epochs=8,
                                optimizer="sgd", base_lr=0.1, teacher=None, loaded=types.SimpleNamespace(model=model),
                                save=lambda m, tag: str(tmp_path / f"{tag}.keras"))
    request = pipeline.channel_request(0.5, criterion="bn", slimming=3e-2)
    thin, extra = pipeline._channels(request, pipeline.channel_tag(request))(model, ctx)
    assert pipeline.channel_tag(request) == "slim_channels50" and thin.count_params() < model.count_params()
    slim = extra["slimming"]
    assert slim["strength"] == 3e-2 and slim["small_gamma_after"] > slim["small_gamma_before"]
    assert [w["after"] for w in extra["widths"]] == [8, 8, 4]  # the classifier keeps its 4 outputs
    assert "slimming (L1 0.03 on batch-norm gammas)" in extra["fine_tuning"]
    assert "criterion bn (layer scope)" in extra["fine_tuning"] and extra["macs_ratio"] < 0.5
