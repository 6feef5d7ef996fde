"""Bad input to python -m tfcnn.compress: one line on stderr, exit code 2, nothing written."""

from __future__ import annotations

import os
import shutil

import pytest
from _compress_util import train_lenet

from tfcnn.compress import CompressError, interpreter, load_model, write_tflite
from tfcnn.compress.cli import main
from tfcnn.errors import RunDirError


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A real run folder written by the trainer (one epoch: only its layout matters here)."""
    return train_lenet(tmp_path_factory.mktemp("trained") / "run", epochs=1)


@pytest.fixture
def run_copy(tmp_path, trained_run):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    return run


def _assert_one_line_exit_2(capsys, code, expect):
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert expect in err


def _nothing_written(run):
    return not any(os.path.exists(run / n) for n in ("tflite", "compressed", "compression.json", "compression.md"))


def test_cli_directory_that_is_not_a_trained_model(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    _assert_one_line_exit_2(capsys, main([str(tmp_path)]), "is not a finished tfcnn run")
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_cli_missing_directory(tmp_path, capsys):
    _assert_one_line_exit_2(capsys, main([str(tmp_path / "nope")]), "Received: MODEL_DIR=")


def test_cli_corrupt_keras_file(run_copy, capsys):
    run = run_copy
    (run / "model.keras").write_bytes(b"not a zip file")
    _assert_one_line_exit_2(capsys, main([str(run)]), "cannot read the model file")
    assert _nothing_written(run)


@pytest.mark.parametrize("flag, value", [("--prune", "1.5"), ("--prune", "0"), ("--prune", "1"), ("--prune", "-0.1"),
                                         ("--prune", "3:2"), ("--cluster", "1"), ("--cluster", "0"),
                                         ("--cluster", "many")])
def test_cli_bad_sparsity_or_cluster_count(run_copy, capsys, flag, value):
    run = run_copy
    _assert_one_line_exit_2(capsys, main([str(run), flag, value]), f"Received: {flag}=")
    assert _nothing_written(run)


def test_corrupt_tflite_is_refused(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(CompressError, match="not a valid TFLite model"):
        interpreter(str(bad))


def test_failed_conversion_leaves_no_file(tmp_path):
    target = tmp_path / "tflite" / "broken.tflite"

    def convert():
        raise RuntimeError("converter exploded")

    with pytest.raises(RuntimeError):
        write_tflite(target, convert)
    with pytest.raises(CompressError):
        write_tflite(target, lambda: b"garbage bytes that are no flatbuffer")
    assert not target.exists()
    assert os.listdir(tmp_path / "tflite") == []


def test_load_model_corrupt_and_missing(tmp_path):
    bad = tmp_path / "m.keras"
    bad.write_bytes(b"junk")
    with pytest.raises(RunDirError, match="Received: path="):
        load_model(bad)
    with pytest.raises(RunDirError, match="does not exist"):
        load_model(tmp_path / "missing.keras")
