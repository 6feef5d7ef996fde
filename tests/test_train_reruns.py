"""Reruns into a run folder: finished runs are kept, resumed runs honour what they were started with."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from tfcnn import train

FAST = ["--dataset", "digits", "--input-size", "16", "--batch-size", "128", "--quiet"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert train.main(["lenet", *FAST, "--epochs", "2", "--out", str(out)]) == 0
    return out


def test_a_finished_run_is_not_replaced_without_overwrite(finished, tmp_path, capfd):
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    before = (out / "metrics.json").read_bytes()
    assert train.main(["lenet", *FAST, "--epochs", "1", "--out", str(out)]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a finished run" in err[0] and "--overwrite" in err[0]
    assert (out / "metrics.json").read_bytes() == before
    assert train.main(["lenet", *FAST, "--epochs", "1", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1


def test_a_rerun_after_the_last_epoch_publishes_without_training_again(tmp_path):
    """Killed after its last epoch but before publishing: the rerun trains nothing and says it resumed at the end."""
    # Recreate the state of a run killed after epoch 2's checkpoint: keep .resume, drop what publishing wrote.
    state = tmp_path / "state"
    request = train.resolve_options(train.build_parser().parse_args(["lenet", *FAST, "--epochs", "2", "--out",
                                                                     str(state)]))
    seen = []
    from tfcnn._compat import keras

    class _Stop(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            seen.append("end")
            raise KeyboardInterrupt  # the process dies between fit and publishing

    with pytest.raises(KeyboardInterrupt):
        train.train(request, log=lambda m: None, callbacks=[_Stop()])
    assert seen == ["end"] and (state / ".resume").is_dir() and not (state / "metrics.json").exists()
    metrics = train.train(request, log=lambda m: None)
    assert metrics["resumed_at_epoch"] == 2 and metrics["epochs"] == 2
    assert len(list(csv.DictReader((state / "history.csv").open()))) == 2


@pytest.mark.parametrize("flag, value", [("--lr", "0.01"), ("--epochs", "3"), ("--batch-size", "64"),
                                         ("--schedule", "cosine")])
def test_resuming_with_other_settings_is_refused_naming_the_flag(tmp_path, capfd, flag, value):
    out = tmp_path / "run"
    request = train.resolve_options(train.build_parser().parse_args(["lenet", *FAST, "--epochs", "2", "--out",
                                                                     str(out)]))
    from tfcnn._compat import keras

    class _DieAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train.train(request, log=lambda m: None, callbacks=[_DieAfterFirstEpoch()])
    capfd.readouterr()
    argv = ["lenet", *FAST, "--epochs", "2", "--out", str(out)]
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    assert train.main(argv) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unfinished run with other settings" in err[0] and flag in err[0], err
    assert not (out / "metrics.json").exists() and (out / ".resume").is_dir()


def test_step_checkpoints_add_to_the_epoch_ones(tmp_path):
    out = tmp_path / "run"
    assert train.main(["lenet", *FAST, "--epochs", "2", "--checkpoint-every", "4", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "history.csv").open()))
    steps_per_epoch = -(-json.loads((out / "config.json").read_text())["train_images"] // 128)
    assert [int(r["steps"]) for r in rows] == [steps_per_epoch, steps_per_epoch]


def test_piped_output_has_one_clean_line_per_epoch_and_names_where_the_input_size_came_from(tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(["lenet", "--dataset", "digits", "--epochs", "2", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all("\b" not in line and "\r" not in line and "━" not in line for line in lines)  # no progress bar
    assert sum(line.startswith("epoch ") for line in lines) == 2
    assert "input 28x28x1 (the lenet recipe for digits)" in lines[0]
    assert lines[-1].endswith(f"saved to {out}") and "(2 epochs," in lines[-1]
