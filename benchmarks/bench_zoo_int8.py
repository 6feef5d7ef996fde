"""int8 benchmark for the lightweight and attention families: train briefly, convert, run with LiteRT.

    python benchmarks/bench_zoo_int8.py                         # every family below
    python benchmarks/bench_zoo_int8.py --models ghostnet eca_resnet50
    python benchmarks/bench_zoo_int8.py --quick                 # 1 epoch each, a smoke run

Each model is trained from scratch at 32x32 on the real MNIST test split
bundled with tfcnn (``mnist-t10k``: 8,000 / 2,000 stratified, seed 0) with
Adam for a few epochs, converted by ``tfcnn.compress.to_tflite`` to full
int8 (post-training, 500 training images as the representative set) and to
float32, and both files are run with LiteRT on all 2,000 held-out digits:
accuracy, top-1 agreement with the float Keras model, file sizes, and
1-thread latency side by side. A table is printed and written to
``docs/zoo_int8.md``. The point is whether each family's operations
(hard-swish, SE and its hard-sigmoid, channel shuffle and split, ghost
modules, CBAM's channel pool and broadcast mask, ECA's channel convolution,
stochastic depth) survive int8, not ImageNet accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.compress import to_tflite
from tfcnn.data import load_dataset
from tfcnn.litert import evaluate

SHAPE = (32, 32, 1)
# name: (create_model overrides, epochs)
MODELS = {
    "mobilenet_v3_small": ({}, 6),
    "mobilenet_v3_large": ({}, 4),
    "efficientnet_b0": ({}, 4),
    "densenet121": ({}, 3),
    "squeezenet1_1": ({}, 6),
    "shufflenet_v2_x0_5": ({}, 6),
    "shufflenet_v2_x1_0": ({}, 4),
    "ghostnet": ({}, 4),
    "cbam_resnet50": ({}, 3),
    "eca_resnet50": ({}, 3),
}


def _prepare(images):
    return tf.image.resize(images.astype("float32") / 127.5 - 1.0, SHAPE[:2]).numpy()


def measure(name: str, data, work: str, *, quick: bool) -> dict:
    overrides, epochs = MODELS[name]
    x_train, x_test = _prepare(data.x_train), _prepare(data.x_test)
    keras.utils.set_random_seed(0)
    model = tfcnn.create_model(name, input_shape=SHAPE, num_classes=10, **overrides)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    model.fit(x_train, data.y_train, batch_size=64, epochs=1 if quick else epochs, verbose=0)
    train_s = time.perf_counter() - start
    float_pred = model.predict(x_test, verbose=0).argmax(-1)
    row = {"model": name, "epochs": 1 if quick else epochs, "train_s": train_s,
           "keras_accuracy": float(np.mean(float_pred == data.y_test))}
    for mode in ("float32", "int8"):
        path = os.path.join(work, f"{name}_{mode}.tflite")
        with open(path, "wb") as f:
            f.write(to_tflite(model, mode, representative=x_train[:500]))
        result = evaluate(path, x_test, data.y_test, reference_pred=float_pred, latency_images=100, threads=1)
        row[mode] = result
    keras.backend.clear_session()
    return row


def table(rows) -> str:
    header = ("| model | epochs | Keras float acc | int8 acc | Δ pt | int8 agreement | float32 KB | int8 KB | "
              "int8 speed-up vs float32, 1 thread |")
    lines = [header,
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        f32, q = r["float32"], r["int8"]
        lines.append(f"| {r['model']} | {r['epochs']} | {r['keras_accuracy']:.4f} | {q['accuracy']:.4f} | "
                     f"{100 * (q['accuracy'] - r['keras_accuracy']):+.2f} | {q['agreement']:.4f} | "
                     f"{f32['size'] / 1024:.0f} | {q['size'] / 1024:.0f} | "
                     f"{f32['latency_ms_1_thread'] / q['latency_ms_1_thread']:.2f}× |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--quick", action="store_true", help="one epoch per model")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "zoo_int8.md"))
    args = p.parse_args(argv)
    data = load_dataset("mnist-t10k", seed=0)
    work = tempfile.mkdtemp(prefix="tfcnn-bench-zoo-int8-")
    rows = []
    for name in args.models:
        rows.append(measure(name, data, work, quick=args.quick))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = "\n".join([
        "# int8 for the lightweight and attention families",
        "",
        (f"Measured by `python benchmarks/bench_zoo_int8.py{' --quick' if args.quick else ''}` on this machine "
         f"({os.cpu_count()} CPU threads, TensorFlow {tf.__version__}): each model trained from scratch at 32×32 on "
         "the real MNIST hold-out (8,000 / 2,000, seed 0), converted to post-training full int8 (500 representative "
         "training images) and float32, both run with LiteRT on all 2,000 held-out digits; latency over 100 images, "
         "1 thread, the two files side by side."),
        "",
        table(rows),
        "",
    ])
    print(text)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
