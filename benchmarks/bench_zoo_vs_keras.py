"""tfcnn's zoo against Keras Applications, side by side in one run: forward and training-step time.

    python benchmarks/bench_zoo_vs_keras.py [--models resnet50 vgg16 mobilenet_v2] [--batch 8] [--size 224]
                                            [--repeats 5] [--train-repeats 3] [--json out.json]

For each architecture both models are built with ``weights=None`` (Keras with
``classifier_activation=None`` so both end in logits), compiled as
``tf.function``s (inference forward pass; one SGD step with sparse
cross-entropy), warmed up (tracing excluded), then timed in alternation
(interleaved repetitions) and the medians compared: ``ratio = tfcnn / keras``,
target <= 1.02 (the ratio of the fastest repetitions is shown beside it: on a
shared machine other processes only add time). In the same run ``tf.matmul`` of two 2048x2048 fp32 matrices
measures the machine's practical peak, timed inside each model's forward
loop so that it shares the models' load, and each forward pass's achieved
GFLOP/s (2 x the analytic MACs of :func:`tfcnn.analysis.summarize` x batch /
time) is given as a share of it. A training step costs about 3x the forward
FLOPs (forward, plus gradients for activations and for weights); its GFLOP/s
uses that estimate. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from _timing import interleaved_samples, markdown_table, step_functions  # benchmarks/_timing.py (sys.path above)

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.analysis import summarize

KERAS_APPS = {
    "resnet50": "ResNet50",
    "vgg16": "VGG16",
    "mobilenet_v2": "MobileNetV2",
    "resnet101": "ResNet101",
    "vgg19": "VGG19",
    "inception_v3": "InceptionV3",
    "mobilenet_v1": "MobileNet",
}


def build_pair(name: str, size: int):
    keras_fn = getattr(keras.applications, KERAS_APPS[name])
    shape = (size, size, 3)
    reference = keras_fn(weights=None, input_shape=shape, classifier_activation=None)
    ours = tfcnn.create_model(name, input_shape=shape)
    return {"tfcnn": ours, "keras": reference}


def timed(candidates: dict, *, repeats: int, warmup: int) -> dict[str, dict[str, float]]:
    """Median and minimum seconds per call of each candidate, timed round-robin after ``warmup`` calls each."""
    samples = interleaved_samples(candidates, repeats=repeats, warmup=warmup)
    return {name: {"median": statistics.median(v), "min": min(v), "samples": v} for name, v in samples.items()}


MATMUL_N = 2048


def op_histogram(model, shape) -> dict[str, int]:
    """Op types and counts of the traced inference graph (bookkeeping ops left out)."""
    fn = tf.function(lambda t: model(t, training=False), autograph=False)
    graph = fn.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    skip = {"Identity", "NoOp", "ReadVariableOp", "Placeholder", "Const"}
    hist: dict[str, int] = {}
    for op in graph.get_operations():
        if op.type not in skip:
            hist[op.type] = hist.get(op.type, 0) + 1
    return hist


def matmul_fn(n: int = MATMUL_N):
    """A blocking ``n x n`` fp32 ``tf.matmul``: the machine's practical peak."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda: tf.matmul(a, b))
    return lambda: matmul().numpy()


def matmul_peak(repeats: int = 10) -> float:
    """GFLOP/s of the ``tf.matmul`` (median of repetitions, after warm-up)."""
    t = timed({"mm": matmul_fn()}, repeats=repeats, warmup=3)["mm"]["median"]
    return 2 * MATMUL_N**3 / t / 1e9


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["resnet50", "vgg16", "mobilenet_v2"],
                        choices=sorted(KERAS_APPS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved forward repetitions per model")
    parser.add_argument("--train-repeats", type=int, default=5, help="interleaved training-step repetitions")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    peak_before = matmul_peak()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(args.batch, args.size, args.size, 3)).astype("float32"))
    y = tf.constant(rng.integers(0, 1000, size=args.batch))
    results = []
    for name in args.models:
        keras.utils.set_random_seed(0)
        models = build_pair(name, args.size)
        params = {k: m.count_params() for k, m in models.items()}
        macs = summarize(models["tfcnn"]).total_macs
        # Same op types and counts means the same work: any ratio away from 1 is then the machine's noise.
        same_ops = op_histogram(models["tfcnn"], x.shape) == op_histogram(models["keras"], x.shape)
        fns = {k: step_functions(m, x, y) for k, m in models.items()}
        # Warm-up traces both graphs; the timed calls then alternate keras, tfcnn, keras, ...
        # The matmul joins the forward loop, so that the peak is measured under the same load as the models.
        fwd_t = timed({**{k: f[0] for k, f in fns.items()}, "matmul": matmul_fn()}, repeats=args.repeats, warmup=2)
        peak = 2 * MATMUL_N**3 / fwd_t.pop("matmul")["median"] / 1e9
        trn_t = timed({k: f[1] for k, f in fns.items()}, repeats=args.train_repeats, warmup=2)
        fwd = {k: v["median"] for k, v in fwd_t.items()}
        trn = {k: v["median"] for k, v in trn_t.items()}
        flops = 2 * macs * args.batch
        results.append({"model": name, "params": params, "macs": macs, "forward_s": fwd, "train_step_s": trn,
                        "matmul_peak_gflops": peak, "same_ops": same_ops,
                        "forward_ratio": fwd["tfcnn"] / fwd["keras"], "train_ratio": trn["tfcnn"] / trn["keras"],
                        "forward_ratio_min": fwd_t["tfcnn"]["min"] / fwd_t["keras"]["min"],
                        "train_ratio_min": trn_t["tfcnn"]["min"] / trn_t["keras"]["min"],
                        "forward_samples": {k: v["samples"] for k, v in fwd_t.items()},
                        "train_samples": {k: v["samples"] for k, v in trn_t.items()},
                        "forward_gflops": {k: flops / t / 1e9 for k, t in fwd.items()},
                        "train_gflops": {k: 3 * flops / t / 1e9 for k, t in trn.items()}})
        del fns, models
        keras.backend.clear_session()
    peak_after = matmul_peak()

    rows = []
    for r in results:
        rows.append([
            r["model"], f"{r['params']['tfcnn']:,}" + ("" if r["params"]["tfcnn"] == r["params"]["keras"] else " (!)"),
            f"{r['macs'] / 1e9:.2f}", "yes" if r["same_ops"] else "no",
            f"{r['forward_s']['keras'] * 1e3:.0f}", f"{r['forward_s']['tfcnn'] * 1e3:.0f}", f"{r['forward_ratio']:.3f} ({r['forward_ratio_min']:.3f})",
            f"{r['train_step_s']['keras'] * 1e3:.0f}", f"{r['train_step_s']['tfcnn'] * 1e3:.0f}",
            f"{r['train_ratio']:.3f} ({r['train_ratio_min']:.3f})",
            f"{r['matmul_peak_gflops']:.0f}",
            f"{r['forward_gflops']['tfcnn']:.0f} ({100 * r['forward_gflops']['tfcnn'] / r['matmul_peak_gflops']:.0f} %)",
            f"{r['train_gflops']['tfcnn']:.0f} ({100 * r['train_gflops']['tfcnn'] / r['matmul_peak_gflops']:.0f} %)",
        ])
    print(f"batch {args.batch}, {args.size}x{args.size}x3, fp32, tf.function, medians of {args.repeats} forward / "
          f"{args.train_repeats} training-step interleaved repetitions after warm-up; "
          f"tf {tf.__version__}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}); "
          f"tf.matmul 2048^2 fp32 alone: {peak_before:.0f} GFLOP/s before, {peak_after:.0f} after; "
          f"wall time {time.perf_counter() - start:.0f} s\n")
    print(markdown_table(
        ["model", "params", "GMACs/img", "same ops as keras", "keras fwd ms", "tfcnn fwd ms", "fwd ratio median (min)", "keras train ms",
         "tfcnn train ms", "train ratio median (min)", "matmul GFLOP/s (same loop)", "tfcnn fwd GFLOP/s (of peak)", "tfcnn train GFLOP/s* (of peak)"], rows))
    print("\n* training FLOPs estimated as 3 x forward FLOPs.")
    if args.json:
        from tfcnn._io import write_json

        write_json(args.json, {"batch": args.batch, "size": args.size, "matmul_peak_before": peak_before, "matmul_peak_after": peak_after,
                               "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
