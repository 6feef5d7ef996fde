"""tf.distribute: mirrored over two logical CPUs matches one device; two local workers finish a multi-worker run.

Both need a fresh process: logical devices and collective ops must be configured before TensorFlow starts.
MultiWorkerMirroredStrategy blocks forever when a worker is missing, so every worker runs under
``timeout -k 5`` and is killed by PID if the test gives up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MIRRORED_SCRIPT = r"""
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tfcnn import train
losses = {}
for strategy in ("default", "mirrored"):
    out = os.path.join(sys.argv[1], strategy)
    metrics = train.train(train.resolve_options(train.build_parser().parse_args(
        ["lenet", "--dataset", "digits", "--input-size", "16", "--epochs", "1", "--batch-size", "64",
         "--optimizer", "sgd", "--lr", "0.01", "--strategy", strategy, "--out", out, "--quiet"])), log=lambda m: None)
    config = json.load(open(os.path.join(out, "config.json")))
    losses[strategy] = {"loss": metrics["final"]["loss"], "replicas": config["replicas"]}
print(json.dumps(losses))
"""


def test_mirrored_over_two_logical_cpus_matches_one_device(tmp_path):
    proc = subprocess.run(["timeout", "-k", "5", "240", sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path)], check=False,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=260)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = json.loads(proc.stdout.strip().splitlines()[-1])
    assert losses["default"]["replicas"] == 1 and losses["mirrored"]["replicas"] == 2
    # same global batch, same seed: the mean loss over 23 steps agrees up to float reduction order
    assert losses["mirrored"]["loss"] == pytest.approx(losses["default"]["loss"], rel=1e-4)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_two_local_workers_finish_a_multi_worker_run(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    try:
        for index in range(2):
            env = {**os.environ, "PYTHONPATH": str(REPO),
                   "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
            cmd = ["timeout", "-k", "5", "150", sys.executable, "-m", "tfcnn.train", "lenet", "--dataset", "digits",
                   "--input-size", "16", "--epochs", "1", "--strategy", "multi_worker", "--quiet",
                   "--out", str(tmp_path / f"worker{index}")]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                          start_new_session=True))
        outputs = [p.communicate(timeout=170)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    for p, output in zip(procs, outputs):
        assert p.returncode == 0, output[-3000:]
    metrics = json.loads((tmp_path / "worker0" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and json.loads((tmp_path / "worker0" / "config.json").read_text())["replicas"] == 2
    assert not (tmp_path / "worker1").exists()  # only the chief writes artefacts
    sharding = json.loads((tmp_path / "worker0" / "config.json").read_text())["input_sharding"]
    train_images = json.loads((tmp_path / "worker0" / "config.json").read_text())["train_images"]
    # digits are arrays, not files: each worker read every second example, and the run says so
    assert sharding == {"policy": "data", "workers": 2, "this_worker_images": -(-train_images // 2)}
    finals = [next(line for line in o.splitlines() if line.startswith("epoch 1/1")) for o in outputs]
    assert finals[0].split()[:6] == finals[1].split()[:6]  # both workers saw the same synchronised training
