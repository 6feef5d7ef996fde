"""Structured (channel) pruning against TFMOT magnitude pruning, side by side (issue #14).

    python benchmarks/bench_structured.py                        # resnet18 and vgg11_bn
    python benchmarks/bench_structured.py --models mobilenet_v2 se_resnet50 inception_v3
    python benchmarks/bench_structured.py --quick                # 300 images, 1 epoch everywhere: a smoke run
    python benchmarks/bench_structured.py --retime-dir DIR       # time the files of an earlier run again

Each model is trained from scratch at 32x32x1, 10 classes, on the real MNIST
test split bundled with tfcnn (``mnist-t10k``: 8,000 / 2,000 stratified,
seed 0; images resized and scaled to [-1, 1] as in ``bench_zoo_int8.py``)
with Adam, its learning rate decayed to zero along a cosine over the
epochs, so that the model pruned is a converged one (a constant rate left
ResNet-18 at 0.933 after 4 epochs in a first run: the last epoch's noise,
not the architecture). Every fine-tuning (structured, structured+KD,
TFMOT) uses Adam at one lower, constant rate (``FT_LR``), the usual recipe
for fine-tuning a converged model. From that one trained model come five
variants:

- ``unpruned``: the trained model itself.
- ``structured``: ``prune_channels(ratio=0.5, criterion="l1", round_to=8)``
  (dependency-aware: residual sums, concatenations and SE gates keep their
  coupled channels in step), then fine-tuned on the labels (same optimizer
  and learning rate).
- ``structured+KD``: the same thin start (the trained model pruned again;
  the L1 plan is deterministic), fine-tuned by ``distill()`` from the
  unpruned model instead of on the labels alone.
- ``scratch``: the "rethinking the value of pruning" baseline (Liu et al.,
  ICLR 2019): the thin architecture re-initialised
  (``keras.models.clone_model``) and trained from scratch for the same total
  epoch budget as training + fine-tuning, with the training schedule.
- ``tfmot80``: TFMOT 80 % magnitude pruning of the trained model during
  fine-tuning, stripped. Its zeros stay in dense kernels, so it keeps every
  MAC and runs as fast as the unpruned model: the comparison the structured
  variant has to win.

Every variant is measured in the same run: Keras test accuracy, MACs
(``tfcnn.analysis.summarize``), parameters (non-zero ones for TFMOT),
float32 and full-int8 ``.tflite`` (post-training, 500 training images as the
representative set) run with LiteRT on all 2,000 held-out digits: accuracy,
file size, latency at 1 thread and at all threads, the files of one model
timed round-robin so the ratios to the unpruned model (MACs ratio, speed-up)
are measured side by side. A table is printed and written to
``docs/structured_pruning.md``.

Targets (issue #14), printed as met / not met for ResNet-18 and VGG-11-BN
(no asserts: this is a benchmark):

- 50 % of the prunable channels removed gives >= 2.5x fewer MACs;
- >= 1.6x faster LiteRT float32 and int8 at 1 thread than the unpruned model's
  file of the same precision;
- accuracy within 1.0 point of the unpruned model after fine-tuning;
- TFMOT 80 % is there for comparison (no target).

Other registered models (``mobilenet_v2``, ``se_resnet50``,
``inception_v3``, ...) are accepted by ``--models``: for them the run shows
that the dependency-aware rebuild works on their graphs (depthwise
convolutions, SE gates, concatenations), not a speed target.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.analysis import summarize
from tfcnn.compress import to_tflite
from tfcnn.compress.distill import distill
from tfcnn.compress.prune import prune_model
from tfcnn.compress.structured import prune_channels
from tfcnn.data import load_dataset
from tfcnn.litert import evaluate, median_latency_ms

SHAPE = (32, 32, 1)
TARGET_MODELS = ("resnet18", "vgg11_bn")
# name: (create_model overrides, training epochs, fine-tuning epochs); any other registered name gets ({}, 4, 2)
MODELS = {
    "resnet18": ({}, 6, 3),
    "vgg11_bn": ({}, 4, 2),
    "mobilenet_v2": ({}, 6, 3),
    "se_resnet50": ({}, 3, 2),
    "inception_v3": ({}, 3, 2),
}
VARIANTS = ("unpruned", "structured", "structured+KD", "scratch", "tfmot80")
LR = 1e-3  # training: Adam from this rate, cosine-decayed to zero
FT_LR = 2e-4  # fine-tuning and distillation: Adam at this constant rate
BATCH = 64


def _prepare(images):
    return tf.image.resize(images.astype("float32") / 127.5 - 1.0, SHAPE[:2]).numpy()


def _compile(model, lr=FT_LR, *, decay_steps=None):
    """Adam on logits; with ``decay_steps``, the rate falls from ``lr`` to zero along a cosine."""
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps)
    model.compile(keras.optimizers.Adam(lr), keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _dataset(x, y, seed):
    """Shuffled batches with a known length (what ``prune_model`` needs), the same for every variant."""
    return (tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(BATCH))


def _nonzero_params(model) -> int:
    return int(sum(np.count_nonzero(w) for w in model.get_weights()))


def _kept_fraction(table) -> float:
    before = sum(r["before"] for r in table)
    return sum(r["after"] for r in table) / before if before else 1.0


def measure(name: str, data, work: str, args) -> dict:
    overrides, epochs, ft_epochs = MODELS.get(name, ({}, 4, 2))
    epochs = args.epochs or epochs
    ft_epochs = args.finetune_epochs or ft_epochs
    if args.quick:
        epochs = ft_epochs = 1
    n = args.train_images or len(data.x_train)
    x_train, y_train = _prepare(data.x_train[:n]), data.y_train[:n]
    x_test, y_test = _prepare(data.x_test), data.y_test
    train_ds = _dataset(x_train, y_train, seed=0)
    wall = {}

    keras.utils.set_random_seed(0)
    model = tfcnn.create_model(name, input_shape=SHAPE, num_classes=10, **overrides)
    steps = len(train_ds)
    _compile(model, LR, decay_steps=epochs * steps)
    start = time.perf_counter()
    model.fit(train_ds, epochs=epochs, verbose=0)
    wall["unpruned"] = time.perf_counter() - start
    models = {"unpruned": model}

    start = time.perf_counter()
    thin, table = prune_channels(model, ratio=args.ratio, criterion="l1", round_to=8)
    _compile(thin)
    thin.fit(train_ds, epochs=ft_epochs, verbose=0)
    models["structured"] = thin
    wall["structured"] = time.perf_counter() - start

    start = time.perf_counter()
    thin_kd, table_kd = prune_channels(model, ratio=args.ratio, criterion="l1", round_to=8)
    if [r["after"] for r in table_kd] != [r["after"] for r in table]:
        print(f"[{name}] note: the second L1 plan differs from the first", flush=True)
    distill(model, thin_kd, train_ds, temperature=4.0, alpha=0.1, epochs=ft_epochs, lr=FT_LR)
    models["structured+KD"] = thin_kd
    wall["structured+KD"] = time.perf_counter() - start

    start = time.perf_counter()
    keras.utils.set_random_seed(1)
    scratch = keras.models.clone_model(thin)  # same thin architecture, fresh initialisation
    _compile(scratch, LR, decay_steps=(epochs + ft_epochs) * steps)
    scratch.fit(train_ds, epochs=epochs + ft_epochs, verbose=0)
    models["scratch"] = scratch
    wall["scratch"] = time.perf_counter() - start

    start = time.perf_counter()
    stripped, _ = prune_model(model, args.sparsity, train_ds, epochs=ft_epochs, optimizer="adam", lr=FT_LR)
    models["tfmot80"] = stripped
    wall["tfmot80"] = time.perf_counter() - start

    rows = {}
    paths = {}
    for variant, m in models.items():
        pred = m.predict(x_test, batch_size=256, verbose=0).argmax(-1)
        row = {"keras_accuracy": float(np.mean(pred == y_test)), "macs": int(summarize(m).total_macs),
               "params": int(m.count_params()), "nonzero_params": _nonzero_params(m), "wall_s": wall[variant]}
        for mode in ("float32", "int8"):
            path = os.path.join(work, f"{name}_{variant.replace('+', '_')}_{mode}.tflite")
            with open(path, "wb") as f:
                f.write(to_tflite(m, mode, representative=x_train[:500]))
            # accuracy and sizes here; the latencies below, round-robin over every file of this model
            row[mode] = evaluate(path, x_test, y_test, reference_pred=pred, latency_images=1, threads=args.threads)
            paths[(variant, mode)] = path
        rows[variant] = row

    sample = x_test[:args.latency_images]
    threads = args.threads or os.cpu_count() or 1
    best = {}
    for _ in range(args.rounds):
        for key, path in paths.items():
            for label, t in (("latency_ms_1_thread", 1), ("latency_ms_all_threads", threads)):
                ms = median_latency_ms(path, sample, num_threads=t)
                best[key + (label,)] = min(ms, best.get(key + (label,), float("inf")))
    for (variant, mode, label), ms in best.items():
        rows[variant][mode][label] = ms
    keras.backend.clear_session()
    return {"model": name, "epochs": epochs, "finetune_epochs": ft_epochs, "train_images": n,
            "sparsity": args.sparsity, "kept_channels": _kept_fraction(table), "variants": rows}


def table(results) -> str:
    header = ("| model | variant | Keras acc | Δ pt | MACs (M) | MACs ratio | params (k) | "
              "f32 acc | f32 KB | f32 ms 1t | f32 ms all | f32 speed-up 1t | "
              "int8 acc | int8 KB | int8 ms 1t | int8 ms all | int8 speed-up 1t | train s |")
    lines = [header, "| --- | --- |" + " ---: |" * 16]
    for res in results:
        v = res["variants"]
        base = v["unpruned"]
        for variant in VARIANTS:
            r = v[variant]
            f32, q = r["float32"], r["int8"]
            params = r["nonzero_params"] if variant == "tfmot80" else r["params"]
            lines.append(
                f"| {res['model']} | {variant} | {r['keras_accuracy']:.4f} | "
                f"{100 * (r['keras_accuracy'] - base['keras_accuracy']):+.2f} | {r['macs'] / 1e6:.1f} | "
                f"{base['macs'] / r['macs']:.2f}× | {params / 1e3:.0f}{' nz' if variant == 'tfmot80' else ''} | "
                f"{f32['accuracy']:.4f} | {f32['size'] / 1024:.0f} | {f32['latency_ms_1_thread']:.3f} | "
                f"{f32['latency_ms_all_threads']:.3f} | "
                f"{base['float32']['latency_ms_1_thread'] / f32['latency_ms_1_thread']:.2f}× | "
                f"{q['accuracy']:.4f} | {q['size'] / 1024:.0f} | {q['latency_ms_1_thread']:.3f} | "
                f"{q['latency_ms_all_threads']:.3f} | "
                f"{base['int8']['latency_ms_1_thread'] / q['latency_ms_1_thread']:.2f}× | {r['wall_s']:.0f} |")
    return "\n".join(lines)


def targets(res) -> list[str]:
    v = res["variants"]
    base, s, kd, tm = v["unpruned"], v["structured"], v["structured+KD"], v["tfmot80"]
    name = res["model"]
    note = "" if name in TARGET_MODELS else " (no target for this model: the rebuild working is the point)"

    def mark(ok):
        return "met" if ok else "NOT met"

    macs = base["macs"] / s["macs"]
    sp = {mode: base[mode]["latency_ms_1_thread"] / s[mode]["latency_ms_1_thread"] for mode in ("float32", "int8")}
    d_s = 100 * (s["keras_accuracy"] - base["keras_accuracy"])
    d_kd = 100 * (kd["keras_accuracy"] - base["keras_accuracy"])
    d_tm = 100 * (tm["keras_accuracy"] - base["keras_accuracy"])
    return [
        (f"**{name}**{note}: {100 * (1 - res['kept_channels']):.0f} % of the channels removed "
         f"(rounded up to multiples of 8; fixed groups keep theirs)"),
        f"- MACs {macs:.2f}× fewer (target ≥ 2.5×): {mark(macs >= 2.5)}",
        f"- LiteRT float32 1 thread {sp['float32']:.2f}× faster (target ≥ 1.6×): {mark(sp['float32'] >= 1.6)}",
        f"- LiteRT int8 1 thread {sp['int8']:.2f}× faster (target ≥ 1.6×): {mark(sp['int8'] >= 1.6)}",
        (f"- Keras accuracy after fine-tuning {d_s:+.2f} pt on the labels, {d_kd:+.2f} pt distilled "
         f"(target within 1.0): labels {mark(d_s >= -1.0)}, distilled {mark(d_kd >= -1.0)}"),
        (f"- for comparison, TFMOT {res['sparsity']:.0%}: {d_tm:+.2f} pt, "
         f"{base['float32']['latency_ms_1_thread'] / tm['float32']['latency_ms_1_thread']:.2f}× (float32) and "
         f"{base['int8']['latency_ms_1_thread'] / tm['int8']['latency_ms_1_thread']:.2f}× (int8) at 1 thread; "
         f"scratch (same thin net re-initialised, {res['epochs'] + res['finetune_epochs']} epochs): "
         f"{100 * (v['scratch']['keras_accuracy'] - base['keras_accuracy']):+.2f} pt"),
    ]


def retime(folder: str, args) -> str:
    """Latency again, round-robin over every ``{model}_{variant}_{mode}.tflite`` a run left in ``folder``.

    For a machine that was busy during the run: the files are the run's own,
    so only the latencies (and the speed-ups) change.
    """
    names = sorted(f for f in os.listdir(folder) if f.endswith(".tflite"))
    variants = {v.replace("+", "_"): v for v in VARIANTS}
    files = {}
    for f in names:
        stem, mode = f[:-len(".tflite")].rsplit("_", 1)
        variant = next((k for k in sorted(variants, key=len, reverse=True) if stem.endswith("_" + k)), None)
        if variant:
            files[(stem[: -len(variant) - 1], variants[variant], mode)] = os.path.join(folder, f)
    data = load_dataset("mnist-t10k", seed=0)
    sample = _prepare(data.x_test[:args.latency_images])
    threads = args.threads or os.cpu_count() or 1
    best = {}
    for _ in range(args.rounds):
        for key, path in files.items():
            for t in (1, threads):
                ms = median_latency_ms(path, sample, num_threads=t)
                best[key + (t,)] = min(ms, best.get(key + (t,), float("inf")))
    lines = [("| model | variant | f32 ms 1t | f32 ms all | f32 speed-up 1t | int8 ms 1t | int8 ms all | "
             "int8 speed-up 1t |"), "| --- | --- |" + " ---: |" * 6]
    for model in dict.fromkeys(k[0] for k in files):
        for variant in VARIANTS:
            cells = []
            for mode in ("float32", "int8"):
                one, all_ = best.get((model, variant, mode, 1)), best.get((model, variant, mode, threads))
                base = best.get((model, "unpruned", mode, 1))
                cells += [f"{one:.3f}", f"{all_:.3f}", f"{base / one:.2f}×"] if one else ["—"] * 3
            lines.append(f"| {model} | {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(TARGET_MODELS),
                   help=f"registered model names (targets apply to {', '.join(TARGET_MODELS)})")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 300 training images, 1 epoch everywhere, latency over 20 images, 1 round")
    p.add_argument("--epochs", type=int, default=None, help="training epochs of the unpruned model")
    p.add_argument("--finetune-epochs", type=int, default=None, help="fine-tuning epochs (structured, KD, TFMOT)")
    p.add_argument("--ratio", type=float, default=0.5, help="fraction of channels removed (default 0.5)")
    p.add_argument("--sparsity", type=float, default=0.8, help="TFMOT magnitude-pruning sparsity (default 0.8)")
    p.add_argument("--train-images", type=int, default=None, help="use the first N training images (default all)")
    p.add_argument("--latency-images", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3, help="round-robin latency rounds (the minimum is kept)")
    p.add_argument("--threads", type=int, default=None, help='"all threads" count (default: the CPU count)')
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "structured_pruning.md"))
    p.add_argument("--retime-dir", default=None, metavar="DIR",
                   help="only time the .tflite files an earlier run left in DIR again (printed, nothing written)")
    args = p.parse_args(argv)
    if args.retime_dir:
        print(retime(args.retime_dir, args))
        return 0
    if args.quick:
        args.train_images = args.train_images or 300
        args.latency_images, args.rounds = 20, 1
    unknown = [m for m in args.models if m not in tfcnn.list_models()]
    if unknown:
        p.error(f"unknown models: {unknown}")
    data = load_dataset("mnist-t10k", seed=0)
    work = tempfile.mkdtemp(prefix="tfcnn-bench-structured-")
    results, start = [], time.perf_counter()
    for name in args.models:
        results.append(measure(name, data, work, args))
        print(table(results[-1:]), flush=True)
        print("\n".join(targets(results[-1])), flush=True)
    argv_text = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    text = "\n".join([
        "# Structured pruning against TFMOT magnitude pruning",
        "",
        (f"Measured by `python benchmarks/bench_structured.py{' ' + argv_text if argv_text else ''}` on this machine "
         f"({os.cpu_count()} CPU threads, {platform.machine()}, TensorFlow {tf.__version__}) in "
         f"{(time.perf_counter() - start) / 60:.1f} min: each model trained from scratch at 32×32×1 on the real "
         "MNIST hold-out (8,000 / 2,000, seed 0; "
         f"{results[0]['train_images'] if results else 0} training images) with Adam (lr {LR:g} cosine-decayed "
         f"to zero, batch {BATCH}; epochs per model in the targets below), fine-tuning with Adam at {FT_LR:g}; "
         f"`structured` is `prune_channels(ratio={args.ratio:g}, criterion=\"l1\", round_to=8)` fine-tuned on the "
         "labels, `structured+KD` the same thin start distilled from the unpruned model (T=4, alpha=0.1), "
         "`scratch` the thin architecture re-initialised and trained for the whole epoch budget (Liu et al. 2019), "
         f"`tfmot80` TFMOT {args.sparsity:.0%} magnitude pruning during fine-tuning, stripped (non-zero "
         "parameters shown). Every file run with LiteRT on all 2,000 held-out digits; int8 is post-training "
         f"full int8 (500 representative training images); latency the median per image over "
         f"{args.latency_images} images, best of {args.rounds} round-robin round(s) over all files of a model, "
         f"at 1 thread and at {args.threads or os.cpu_count()} threads. Δ pt and speed-ups are against the "
         "unpruned model's file of the same precision, measured side by side."),
        "",
        table(results),
        "",
        "## Targets (issue #14)",
        "",
        *[line for res in results for line in (*targets(res), "")],
    ])
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
