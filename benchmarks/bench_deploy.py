"""Microcontroller benchmark: LeNet-5 and MobileNet v2 (alpha 0.35, 32x32) through ``tfcnn.deploy``.

    python benchmarks/bench_deploy.py            # both models, results into docs/deploy.md
    python benchmarks/bench_deploy.py --quick    # one short epoch each, for a smoke run (docs untouched)

Each model is trained on the bundled real MNIST digits (``mnist-t10k``: 8,000
training images, 2,000 test images, seeded and stratified), converted to
float32, int8 (float I/O) and int8 I/O, and every variant is run in the TFLM
host interpreter: flash is the ``.tflite`` size (the C array), RAM the
smallest tensor arena TFLM allocates and runs in (bisected), so the table
shows what each compression step bought on a microcontroller. The int8 I/O
file then goes through ``tfcnn.deploy`` against a 1 MB flash / 256 KB RAM
budget: the recommended arena, the op resolver, and TFLM's top-1 agreement
with LiteRT on all 2,000 test digits.
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

import numpy as np

import tfcnn
from tfcnn._compat import keras
from tfcnn.compress import evaluate, to_tflite, write_tflite
from tfcnn.data import load_dataset, make_pipeline, preprocess
from tfcnn.deploy import deploy, footprint

MARKER = "<!-- bench_deploy.py results below; regenerated -->"
MODELS = {
    # name: (create_model overrides, input shape, epochs, alpha)
    "lenet": ({}, (28, 28, 1), 8, None),
    "mobilenet_v2": ({"alpha": 0.35}, (32, 32, 1), 15, 0.35),  # bench_compress: 6 epochs left it at 0.89
}
VARIANTS = ("float32", "int8", "int8_io")


def train(name: str, data, *, quick: bool):
    """The model trained on the 8,000 training digits (quick: 1 epoch on 2,000)."""
    overrides, shape, epochs, _ = MODELS[name]
    keras.utils.set_random_seed(0)
    model = tfcnn.create_model(name, input_shape=shape, num_classes=10, **overrides)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    n = 2000 if quick else len(data.x_train)
    model.fit(make_pipeline(data.x_train[:n], data.y_train[:n], shape, batch_size=64, training=True),
              epochs=1 if quick else epochs, verbose=2)
    return model


def bench(name: str, data, out: str, *, quick: bool) -> dict:
    shape, alpha = MODELS[name][1], MODELS[name][3]
    start = time.perf_counter()
    model = train(name, data, quick=quick)
    train_s = time.perf_counter() - start
    x_test = preprocess(data.x_test, shape).numpy()
    rep = preprocess(data.x_train[:200], shape).numpy()
    keras_pred = np.argmax(model.predict(x_test, verbose=0), -1)
    row = {"keras_accuracy": float(np.mean(keras_pred == data.y_test)), "train_s": train_s, "variants": {}}
    for mode in VARIANTS:
        path = os.path.join(out, f"{name}_{mode}.tflite")
        write_tflite(path, lambda mode=mode: to_tflite(model, mode, representative=rep))
        r = evaluate(path, x_test, data.y_test, reference_pred=keras_pred, latency_images=20)
        row["variants"][mode] = {"accuracy": r["accuracy"], **footprint(path, x_test[:1])}
    start = time.perf_counter()
    report = deploy(os.path.join(out, f"{name}_int8_io.tflite"), os.path.join(out, f"mcu_{name}"), name=name,
                    images=x_test, flash="1M", ram="256K", model=model, alpha=alpha)
    row["deploy_s"] = time.perf_counter() - start
    row["deploy"] = {k: report[k] for k in ("model_bytes", "arena", "cross_check", "budget", "ops")}
    return row


def markdown(results: dict) -> str:
    lines = [("| model | variant | TFLite accuracy | flash (model) | arena (smallest that runs) | persistent | "
              "flash ÷ float32 | arena ÷ float32 |"), "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in results.items():
        base = row["variants"]["float32"]
        for mode, v in row["variants"].items():
            lines.append(f"| {name} | {mode} | {v['accuracy']:.4f} | {v['flash']:,} B | {v['minimum']:,} B | "
                         f"{v['persistent']:,} B | {v['flash'] / base['flash']:.3f} | "
                         f"{v['minimum'] / base['minimum']:.3f} |")
    lines += ["", ("| model (int8 I/O) | Keras accuracy | flash | recommended arena (×1.1) | TFLM = LiteRT reference "
                   "kernels: top-1 / identical / max diff | TFLM vs LiteRT XNNPACK: top-1 / max diff | ops | "
                   "1 MB flash | 256 KB RAM |"),
              "|---|---:|---:|---:|---:|---:|---|---|---|"]
    for name, row in results.items():
        d = row["deploy"]
        c, b = d["cross_check"], d["budget"]
        lines.append(f"| {name} | {row['keras_accuracy']:.4f} | {d['model_bytes']:,} B | "
                     f"{d['arena']['recommended']:,} B | {c['top1_agreement']:.2%} / {c['identical_outputs']:.2%} / "
                     f"{c['max_abs_diff_int8']} ({c['images']:,} images) | {c['xnnpack']['top1_agreement']:.2%} / "
                     f"{c['xnnpack']['max_abs_diff_int8']} | {', '.join(o['op'] for o in d['ops'])} | "
                     f"{'fits' if b['flash_fits'] else 'does not fit'} | {'fits' if b['ram_fits'] else 'does not fit'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None, help="also write the raw results here")
    args = p.parse_args(argv)
    data = load_dataset("mnist-t10k")
    with tempfile.TemporaryDirectory(prefix="bench_deploy_") as out:
        results = {name: bench(name, data, out, quick=args.quick) for name in args.models}
    table = markdown(results)
    print(table)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, default=str)
    doc = os.path.join(ROOT, "docs", "deploy.md")
    if not args.quick and os.path.isfile(doc) and set(args.models) == set(MODELS):
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        if MARKER in text:
            with open(doc, "w", encoding="utf-8") as f:
                f.write(text.split(MARKER)[0] + MARKER + "\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
