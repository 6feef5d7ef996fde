"""Does knowledge distillation help? Students trained on labels alone against students distilled (issue #14).

    python benchmarks/bench_distill.py              # the full run (27 min on 2 shared CPU cores)
    python benchmarks/bench_distill.py --quick      # 300 images, 1 epoch, 1 seed: a smoke run

Data: the real MNIST test split bundled with tfcnn (``mnist-t10k``: 8,000 /
2,000 stratified, seed 0), images resized to 32x32x1 and scaled to [-1, 1]
as in ``bench_structured.py``. Every model is trained with Adam (lr 1e-3,
batch 64) on shuffled batches; accuracy is Keras top-1 on all 2,000
held-out digits.

- Teacher: ``resnet18`` (11.2 M parameters) trained once (seed 0) on all
  8,000 training images.
- Part A, a student from scratch: ``lenet`` (83 k parameters; 1.4 s an epoch
  against the teacher's 42 s, so three seeds of every row fit the budget).
  For each seed, ``keras.utils.set_random_seed(seed)`` before
  ``create_model`` gives the labels-only and the distilled student the same
  initialisation, and the same seed shuffles their batches. (i) labels alone,
  (ii) ``distill()`` from the teacher at T=4, alpha=0.1 and at T=2,
  alpha=0.5; same epochs, optimizer, learning rate and batches. Run on all
  8,000 images and on the first 1,000 (where labels are scarce and
  distillation usually helps most; the teacher is the same one, trained on
  the 8,000, and only sees the student's 1,000 images during distillation).
- Part B, a pruned student: the teacher itself cut by
  ``prune_channels(ratio=0.7, criterion="l1", round_to=8)`` (1.1 M of the
  11.2 M parameters left; a distilled epoch of it took 30 s here against
  54 s at ratio 0.5, which is why 0.7 was chosen: three seeds fit), then (i) fine-tuned on the labels,
  (ii) distilled from the unpruned teacher (T=4, alpha=0.1); the L1 plan is
  deterministic, so every seed starts from the same thin weights and the
  seed drives only the batch order.

Per row: mean ± sample standard deviation (and min–max) of the test accuracy
over the seeds, the paired difference distilled − labels (per seed, then its
mean ± std), how many seeds the distilled student won, and whether the
target is met: the mean difference is > 0 (no asserts: this is a benchmark).
A Markdown table is printed and written to ``docs/distillation.md``.

Measured, not forced: a distillation step also runs the teacher forward
(``distill()`` asks it on every batch), so a distilled LeNet epoch costs about
8x a labels-only one; the epoch counts below are the same for both arms.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.analysis import summarize
from tfcnn.compress.distill import distill
from tfcnn.compress.structured import prune_channels
from tfcnn.data import load_dataset
from tfcnn.optim import make_optimizer

SHAPE = (32, 32, 1)
LR = 1e-3
BATCH = 64
TEACHER = "resnet18"
STUDENT = "lenet"
RATIO = 0.7
# Part A rows: (training images or None for all, epochs); the subset gets more epochs for similar steps.
PART_A = ((None, 5), (1000, 15))
# Distillation settings of Part A: (temperature, alpha); Part B uses the first.
KD_SETTINGS = ((4.0, 0.1), (2.0, 0.5))
TEACHER_EPOCHS = 4
FINETUNE_EPOCHS = 2


def _prepare(images):
    return tf.image.resize(images.astype("float32") / 127.5 - 1.0, SHAPE[:2]).numpy()


def _dataset(x, y, seed):
    return (tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(BATCH))


def _fit_labels(model, ds, epochs):
    model.compile(make_optimizer("adam", LR), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ds, epochs=epochs, verbose=0)
    return model


def _accuracy(model, x_test, y_test) -> float:
    return float(np.mean(model.predict(x_test, batch_size=256, verbose=0).argmax(-1) == y_test))


def train_teacher(x, y, x_test, y_test, epochs):
    keras.utils.set_random_seed(0)
    teacher = tfcnn.create_model(TEACHER, input_shape=SHAPE, num_classes=10)
    start = time.perf_counter()
    _fit_labels(teacher, _dataset(x, y, seed=0), epochs)
    wall = time.perf_counter() - start
    return teacher, {"accuracy": _accuracy(teacher, x_test, y_test), "wall_s": wall,
                     "params": int(teacher.count_params()), "epochs": epochs}


def part_a(teacher, x, y, x_test, y_test, seeds, quick):
    """Rows of the student from scratch: one row per (training subset, distillation setting)."""
    rows = []
    for n, epochs in PART_A[:1] if quick else PART_A:
        epochs = 1 if quick else epochs
        xs, ys = (x, y) if n is None else (x[:n], y[:n])
        label = f"{STUDENT} from scratch, {len(xs):,} images"
        plain, kd = [], {s: [] for s in KD_SETTINGS}
        for seed in seeds:
            ds = _dataset(xs, ys, seed)
            keras.utils.set_random_seed(seed)
            plain.append(_accuracy(_fit_labels(tfcnn.create_model(STUDENT, input_shape=SHAPE, num_classes=10),
                                               ds, epochs), x_test, y_test))
            for t, a in KD_SETTINGS:
                keras.utils.set_random_seed(seed)  # the same initialisation as the labels-only student
                student = tfcnn.create_model(STUDENT, input_shape=SHAPE, num_classes=10)
                keras.utils.set_random_seed(seed)
                distill(teacher, student, ds, temperature=t, alpha=a, epochs=epochs, optimizer="adam", lr=LR)
                kd[(t, a)].append(_accuracy(student, x_test, y_test))
            print(f"[A] {label} seed {seed}: labels {plain[-1]:.4f}, "
                  + ", ".join(f"T={t:g} a={a:g} {kd[(t, a)][-1]:.4f}" for t, a in KD_SETTINGS), flush=True)
        for t, a in KD_SETTINGS:
            rows.append({"part": "A", "row": label, "images": len(xs), "epochs": epochs,
                         "kd": f"T={t:g}, α={a:g}", "labels": plain, "distilled": kd[(t, a)]})
    return rows


def part_b(teacher, x, y, x_test, y_test, seeds, quick):
    """The teacher pruned to a thin start, fine-tuned on the labels or distilled from the unpruned teacher."""
    epochs = 1 if quick else FINETUNE_EPOCHS
    t, a = KD_SETTINGS[0]
    plain, kd = [], []
    for seed in seeds:
        ds = _dataset(x, y, seed)
        thin, table = prune_channels(teacher, ratio=RATIO, criterion="l1", round_to=8)
        keras.utils.set_random_seed(seed)
        plain.append(_accuracy(_fit_labels(thin, ds, epochs), x_test, y_test))
        thin, _ = prune_channels(teacher, ratio=RATIO, criterion="l1", round_to=8)  # the same deterministic plan
        keras.utils.set_random_seed(seed)
        distill(teacher, thin, ds, temperature=t, alpha=a, epochs=epochs, optimizer="adam", lr=LR)
        kd.append(_accuracy(thin, x_test, y_test))
        print(f"[B] pruned {RATIO:g} seed {seed}: fine-tuned {plain[-1]:.4f}, distilled {kd[-1]:.4f}", flush=True)
    before = sum(r["before"] for r in table)
    kept = sum(r["after"] for r in table) / before if before else 1.0
    macs = summarize(teacher).total_macs / summarize(thin).total_macs
    label = (f"{TEACHER} pruned {RATIO:g} ({thin.count_params() / 1e6:.2f} M params, {100 * kept:.0f} % of the "
             f"channels kept, {macs:.1f}× fewer MACs)")
    return [{"part": "B", "row": label, "images": len(x), "epochs": epochs, "kd": f"T={t:g}, α={a:g}",
             "labels": plain, "distilled": kd}]


def _stats(values) -> str:
    v = np.asarray(values)
    std = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{v.mean():.4f} ± {std:.4f} ({v.min():.4f}–{v.max():.4f})"


def _diff(row):
    d = 100 * (np.asarray(row["distilled"]) - np.asarray(row["labels"]))
    return d, (d.std(ddof=1) if len(d) > 1 else 0.0)


def table(rows) -> str:
    lines = [("| part | student | epochs | distillation | labels alone: acc mean ± std (min–max) | "
              "distilled: acc mean ± std (min–max) | distilled − labels, pt (mean ± std) | seeds won | target: mean > 0 |"),
             "| --- | --- | ---: | --- | --- | --- | ---: | ---: | --- |"]
    for r in rows:
        d, std = _diff(r)
        lines.append(f"| {r['part']} | {r['row']} | {r['epochs']} | {r['kd']} | {_stats(r['labels'])} | "
                     f"{_stats(r['distilled'])} | {d.mean():+.2f} ± {std:.2f} | {int((d > 0).sum())}/{len(d)} | "
                     f"{'met' if d.mean() > 0 else 'NOT met'} |")
    return "\n".join(lines)


def _doc(rows, teacher_info, args, argv_text, minutes) -> str:
    seeds = ", ".join(str(s) for s in args.seeds)
    return "\n".join([
        "# Does knowledge distillation help?",
        "",
        (f"Measured by `nice -n 5 python benchmarks/bench_distill.py{' ' + argv_text if argv_text else ''}` on this "
         f"machine ({os.cpu_count()} CPU threads shared with another job, {platform.machine()}, TensorFlow "
         f"{tf.__version__}) in {minutes:.1f} min, on the real MNIST hold-out bundled with tfcnn (`mnist-t10k`, "
         "8,000 / 2,000, seed 0), images resized to 32×32×1 and scaled to [-1, 1]; Adam (lr "
         f"{LR:g}, batch {BATCH}) everywhere. Teacher: `{TEACHER}` ({teacher_info['params'] / 1e6:.1f} M parameters) "
         f"trained once (seed 0) for {teacher_info['epochs']} epoch(s) on {args.n_train:,} images: test accuracy "
         f"**{teacher_info['accuracy']:.4f}** ({teacher_info['wall_s']:.0f} s). Part A: `{STUDENT}` from scratch, "
         "per seed the same initialisation (`keras.utils.set_random_seed(seed)` before `create_model`) and the "
         "same shuffled batches for the labels-only and the distilled student (`tfcnn.compress.distill.distill`, "
         "same epochs, optimizer and learning rate); the 1,000-image rows use the first 1,000 training images "
         "(the teacher is the one trained on all of them). Part B: the teacher itself cut by "
         f"`prune_channels(ratio={RATIO:g}, criterion=\"l1\", round_to=8)` (the same thin start for every seed), "
         "then fine-tuned on the labels or distilled from the unpruned teacher; the seed drives the batch order. "
         f"Seeds {seeds}; std is the sample standard deviation over seeds; the difference is paired per seed. "
         "Target: the mean difference distilled − labels is > 0."),
        "",
        table(rows),
        "",
    ])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 300 training images, 1 epoch, seed 0 only")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default 0 1 2)")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "distillation.md"))
    args = p.parse_args(argv)
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    start = time.perf_counter()
    data = load_dataset("mnist-t10k", seed=0)
    n = 300 if args.quick else len(data.x_train)
    x, y = _prepare(data.x_train[:n]), data.y_train[:n]
    x_test, y_test = _prepare(data.x_test), data.y_test
    args.n_train = n
    teacher, teacher_info = train_teacher(x, y, x_test, y_test, 1 if args.quick else TEACHER_EPOCHS)
    print(f"teacher {TEACHER}: {teacher_info['accuracy']:.4f} after {teacher_info['wall_s']:.0f} s", flush=True)
    rows = part_a(teacher, x, y, x_test, y_test, args.seeds, args.quick)
    rows += part_b(teacher, x, y, x_test, y_test, args.seeds, args.quick)
    argv_text = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    text = _doc(rows, teacher_info, args, argv_text, (time.perf_counter() - start) / 60)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
