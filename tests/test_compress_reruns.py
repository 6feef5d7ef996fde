"""Compression that survives interruption: an incremental report, reuse on rerun, no stale files, clear refusals."""

from __future__ import annotations

import errno
import json
import os
import shutil

import numpy as np
import pytest
from _compress_util import train_lenet

from tfcnn.compress import pipeline
from tfcnn.compress.cli import main

PTQ = ["float32", "dynamic_range", "float16", "int8", "int8_per_tensor"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_lenet(tmp_path_factory.mktemp("t") / "run", epochs=2)


@pytest.fixture
def run_dir(trained, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    return out


def test_rerun_reuses_finished_variants_and_removes_stale_temporaries(run_dir, capsys):
    assert main([str(run_dir), "--latency-images", "5", "--quiet"]) == 0
    first = json.loads((run_dir / "compression.json").read_text())
    assert sorted(first["variants"]) == sorted(PTQ)
    stale = run_dir / "tflite" / ".int8.tflite.abc123.tmp.tflite"
    stale.write_bytes(b"half a file")
    logs = []
    report = pipeline.compress(str(run_dir), latency_images=5, log=logs.append)
    assert not stale.exists()
    assert sum("(reused)" in line for line in logs) == len(PTQ)
    for name in PTQ:  # the very same measurements, not new ones
        assert report["variants"][name]["latency_ms_1_thread"] == first["variants"][name]["latency_ms_1_thread"]


def test_a_different_request_does_not_reuse(run_dir):
    assert main([str(run_dir), "--latency-images", "5", "--quiet"]) == 0
    logs = []
    pipeline.compress(str(run_dir), latency_images=6, log=logs.append)
    assert not any("(reused)" in line for line in logs)


def test_the_report_is_written_after_every_variant(run_dir, monkeypatch):
    """Interrupted after the third file, the report on disk already lists the first three."""
    seen = []
    real = pipeline._emit

    def emit_then_die(conv, *args, **kwargs):
        if len(seen) == 3:
            raise KeyboardInterrupt
        seen.append(conv.name)
        return real(conv, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_emit", emit_then_die)
    with pytest.raises(KeyboardInterrupt):
        pipeline.compress(str(run_dir), latency_images=5, log=lambda *a: None)
    on_disk = json.loads((run_dir / "compression.json").read_text())
    assert sorted(on_disk["variants"]) == sorted(seen) and seen == PTQ[:3]
    assert "float32" in (run_dir / "compression.md").read_text()


def test_progress_lines_count_and_estimate(run_dir):
    logs = []
    pipeline.compress(str(run_dir), latency_images=5, log=logs.append)
    steps = [line for line in logs if line.startswith("[")]
    assert [s.split("]")[0] for s in steps] == [f"[{i}/{len(PTQ)}" for i in range(1, len(PTQ) + 1)]
    assert "s left)" in steps[0] and "s left" not in steps[-1]


def test_fine_tuning_that_diverges_skips_its_stage(run_dir):
    from tfcnn.runs import RunDir

    loaded = RunDir.open(run_dir).load()

    def make_nan(model, ctx):
        from tfcnn._compat import keras

        broken = keras.models.clone_model(model)
        broken.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
        return broken, {}

    stage = pipeline.Stage("broken", "float", make_nan, (pipeline.Conversion("broken_int8", "int8"),))
    model, reason = pipeline._stage_model(stage, {"float": loaded.model}, ctx=None, reusable={})
    assert model is None and "diverged" in reason and "--lr" in reason


def test_a_full_disk_is_one_line_not_a_conversion_failure(run_dir, capfd, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "tflite" / "float32.tflite"))

    monkeypatch.setattr(pipeline.tflite_mod, "write_tflite", full)
    assert main([str(run_dir), "--quiet"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no space left" in err[0] and "float32.tflite" in err[0]
    assert not os.path.exists(run_dir / "tflite" / "float32.tflite")
