"""Peak RSS of training on folders of 5,000 and 50,000 JPEGs: memory must not grow with the data.

    python benchmarks/bench_data_memory.py [--sizes 5000 50000] [--epochs 2]

Writes folders of grey JPEGs of varied sizes (20..160 px, the bundled real
MNIST digits resized), then in a fresh process per run loads each with
``folder:``, builds the training pipeline (``make_pipeline`` at 32x32x1,
batch 64, shuffle, augmentation) and trains LeNet-5 with ``model.fit`` for
``--epochs`` full epochs (the second replays the cache), reporting the
process's peak RSS. Two cache settings: the default (in memory under the
2 GiB budget: uint8 images of the model's size, 1 KB each here) and a cache
file in the run folder (budget 0). Target: the peak RSS of 50,000 minus that
of 5,000 stays under 150 MB. Results are written to ``docs/data.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _photo_folder import write_jpeg_folder
from bench_data_throughput import write_section

SHAPE = (32, 32, 1)
MARKER = "<!-- bench_data_memory.py results; regenerated -->"
TARGET_MB = 150


def child(folder: str, cache: str, epochs: int, run_dir: str) -> dict:
    """One training run in this (fresh) process; returns its numbers including peak RSS."""
    import tfcnn
    from tfcnn._compat import keras
    from tfcnn.data import CacheBudget, load_dataset, make_pipeline

    start = time.perf_counter()
    data = load_dataset(f"folder:{folder}", holdout=0.1)
    load_s = time.perf_counter() - start
    budget = CacheBudget(0) if cache == "file" else None  # None: the process's default 2 GiB budget
    report = {}
    ds = make_pipeline(data.x_train, data.y_train, SHAPE, batch_size=64, training=True, augment_images=True,
                       hflip=False, cache_dir=run_dir, cache_budget=budget, report=report)
    keras.utils.set_random_seed(0)
    model = tfcnn.create_model("lenet", input_shape=SHAPE, num_classes=10)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(ds, epochs=epochs, verbose=0).history
    return {"images": len(data.y_train), "cache": report["cache"] if report["cache"] in ("memory", "none") else "file",
            "load_s": round(load_s, 1), "fit_s": round(time.perf_counter() - start, 1),
            "accuracy": round(history["accuracy"][-1], 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_child(folder: str, cache: str, epochs: int, work: str) -> dict:
    run_dir = tempfile.mkdtemp(dir=work, prefix="run-")
    cmd = [sys.executable, __file__, "--child", folder, "--cache", cache, "--epochs", str(epochs), "--run-dir", run_dir]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def markdown(rows: list[dict], deltas: dict, epochs: int) -> str:
    from tfcnn._compat import tf

    lines = [MARKER, "", (f"Measured by `python benchmarks/bench_data_memory.py` ({os.cpu_count()} CPU threads, "
                          f"TensorFlow {tf.__version__}): LeNet-5 trained {epochs} epochs through `make_pipeline` at "
                          "32x32x1 on folders of grey JPEGs of 20..160 px (90 % train), one fresh process per row."), "",
             "| training images | cache | load s | fit s | peak RSS MB |", "| ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['images']:,} | {r['cache']} | {r['load_s']} | {r['fit_s']} | {r['peak_rss_mb']:,.0f} |")
    lines += ["", "Peak RSS, largest folder minus smallest (target < 150 MB): "
              + ", ".join(f"{k} cache {v:+.0f} MB" for k, v in deltas.items()) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "docs" / "data.md"))
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cache", default="memory", help=argparse.SUPPRESS)
    p.add_argument("--run-dir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.cache, args.epochs, args.run_dir)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfcnn-bench-mem-") as work:
        for n in args.sizes:
            folder = write_jpeg_folder(os.path.join(work, f"jpeg{n}"), n)
            for cache in ("memory", "file"):
                rows.append(run_child(folder, cache, args.epochs, work))
                print(json.dumps(rows[-1]), flush=True)
    rss = {(r["images"], r["cache"]): r["peak_rss_mb"] for r in rows}
    small, large = min(r["images"] for r in rows), max(r["images"] for r in rows)
    deltas = {c: rss[(large, c)] - rss[(small, c)] for c in ("memory", "file")}
    text = markdown(rows, deltas, args.epochs)
    print(text)
    if args.out:
        write_section(Path(args.out), MARKER, text)
    return 0 if max(deltas.values()) < TARGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
