"""Nothing lost: a run SIGKILLed mid-training resumes from its checkpoint when the same command is rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_sigkilled_run_resumes_and_ends_with_the_requested_epochs(tmp_path):
    out = tmp_path / "run"
    epochs = 8
    cmd = [sys.executable, "-m", "tfcnn.train", "lenet", "--dataset", "digits", "--input-size", "32",
           "--epochs", str(epochs), "--checkpoint-every", "20", "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    history = out / ".resume" / "history.json"
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if history.exists() and len(json.loads(history.read_text() or "{}")) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not (out / "metrics.json").exists() and not (out / "model.keras").exists()

    again = subprocess.run(cmd, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    resumed = [line for line in again.stdout.splitlines() if line.startswith("resuming from the checkpoint of epoch")]
    assert resumed, again.stdout[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == epochs and metrics["resumed_at_epoch"] >= 1  # not from scratch
    rows = (out / "history.csv").read_text().strip().splitlines()
    assert len(rows) == epochs + 1 and [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, epochs + 1))
    summaries = [line for line in again.stdout.splitlines() if line.startswith("epoch ")]
    assert len(summaries) == epochs - metrics["resumed_at_epoch"]  # the resumed run did only what was left
    assert not (out / ".resume").exists()
