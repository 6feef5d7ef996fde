"""Compression benchmark: every variant of LeNet-5 (real MNIST digits) and MobileNet v2 at a small input.

    python benchmarks/bench_compress.py                  # LeNet and MobileNet v2, all variants
    python benchmarks/bench_compress.py --models lenet   # LeNet only
    python benchmarks/bench_compress.py --quick          # fewer epochs, for a smoke run

Both models are trained here on the real MNIST test split bundled with
tfcnn (``mnist-t10k``: 10,000 digits, a stratified, seeded 80/20 split), then ``tfcnn.compress`` produces every variant (``--all``)
and measures each ``.tflite`` with LiteRT on the 2,000 held-out digits.
The int8 and float32 latencies are measured side by side in the same run.
Tables are printed and written to ``docs/compression.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MNIST = "mnist-t10k"  # the real MNIST test split bundled with tfcnn, 8,000 / 2,000

import tfcnn
from tfcnn._compat import keras
from tfcnn.compress import compress
from tfcnn.compress.report import markdown
from tfcnn.data import load_dataset, make_pipeline

MARKER = "<!-- bench_compress.py results below; regenerated -->"
MODELS = {
    # name: (create_model overrides, input shape, epochs, quick epochs)
    "lenet": ({}, (28, 28, 1), 8, 2),
    "mobilenet_v2": ({"alpha": 0.35}, (32, 32, 1), 20, 1),  # converges slower than LeNet: 6 epochs left it at 0.89
}


def train(name: str, out: str, *, quick: bool) -> str:
    """Train ``name`` on the MNIST hold-out and write a run folder ``tfcnn.compress`` understands."""
    overrides, shape, epochs, quick_epochs = MODELS[name]
    spec = MNIST
    data = load_dataset(spec, seed=0)
    keras.utils.set_random_seed(0)
    try:
        model = tfcnn.create_model(name, input_shape=shape, num_classes=10, **overrides)
    except (TypeError, ValueError):  # an architecture without these options
        model = tfcnn.create_model(name, input_shape=shape, num_classes=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    ds = make_pipeline(data.x_train, data.y_train, shape, batch_size=64, training=True)
    start = time.perf_counter()
    model.fit(ds, epochs=quick_epochs if quick else epochs, verbose=2)
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "model.keras"))
    meta = {"model": name, "dataset_used": spec, "dataset": spec, "holdout": None, "seed": 0, "batch_size": 64,
            "optimizer": "adam", "lr": 1e-3, "class_names": data.class_names,
            "train_wall_s": round(time.perf_counter() - start, 1)}
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(meta, f)
    return out


def side_by_side(report: dict) -> str:
    """int8 against float32 latency, from the same run."""
    v = report["variants"]
    rows = ["| file | latency ms (1 thread) | latency ms (all threads) | speed-up vs float32 (1 thread) |",
            "| --- | ---: | ---: | ---: |"]
    for name in ("float32", "int8", "qat_int8"):
        if name in v:
            rows.append(f"| {name} | {v[name]['latency_ms_1_thread']:.3f} | {v[name]['latency_ms_all_threads']:.3f} | "
                        f"{v['float32']['latency_ms_1_thread'] / v[name]['latency_ms_1_thread']:.2f}× |")
    return "\n".join(rows)


def targets(report: dict) -> str:
    v = report["variants"]
    f32 = v["float32"]
    lines = []
    if "int8" in v:
        lines.append(f"- int8 size ratio {v['int8']['ratio']:.3f} (target ≤ 0.30); Δaccuracy "
                     f"{v['int8']['delta_accuracy']:+.2f} pts (target within 1); agreement {v['int8']['agreement']:.4f} "
                     "(target ≥ 0.98)")
    if "pruned80_int8" in v:
        p = v["pruned80_int8"]
        lines.append(f"- 80 % pruned + int8: gzip ratio {p['gzip_size'] / f32['gzip_size']:.3f} (target ≤ 0.12); "
                     f"Δaccuracy {p['delta_accuracy']:+.2f} pts (target within 1.5)")
    if "pruned2of4_float32" in v:
        lines.append(f"- 2:4: every pruned kernel passes the 2-zeros-in-4 check: {v['pruned2of4_float32'].get('m_by_n_ok')}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--quick", action="store_true", help="fewer training/fine-tuning epochs")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "compression.md"))
    p.add_argument("--keep", default=None, help="keep the run folders here (default: a temporary folder)")
    args = p.parse_args(argv)
    work = args.keep or tempfile.mkdtemp(prefix="tfcnn-bench-compress-")
    sections = [
        "# Compression results",
        "",
        ("Measured by `python benchmarks/bench_compress.py` on this machine "
        f"({os.cpu_count()} CPU threads, TensorFlow {tfcnn.tf.__version__}). Models trained on the real MNIST "
        "test split (80/20 stratified hold-out, seed 0); every `.tflite` file is run with LiteRT on all "
        "2,000 held-out digits. Sizes in KB; gzip shows what sparsity and clustering save."),
    ]
    for name in args.models:
        if name not in tfcnn.list_models():
            sections += ["", f"`{name}` is not registered; skipped."]
            continue
        run_dir = train(name, os.path.join(work, name), quick=args.quick)
        report = compress(run_dir, prune=["0.8", "2:4"], clusters=16, qat=True, int8_io=True,
                          epochs=1 if args.quick else None)
        sections += ["", f"## {name}", "", targets(report), "", "int8 against float32, side by side:", "",
                     side_by_side(report), "", markdown(report).split("\n", 2)[2].strip()]
    text = "\n".join(sections) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    head = ""
    if os.path.isfile(args.out):  # keep the hand-written part above the marker
        with open(args.out, encoding="utf-8") as f:
            old = f.read()
        if MARKER in old:
            head = old.split(MARKER)[0]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(head + MARKER + "\n" + text if head else text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
