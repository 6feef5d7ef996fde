"""The three layer styles side by side: forward and training-step time under ``tf.function``.

    python benchmarks/bench_styles.py [--repeats 15]

Workloads: LeNet-5 (batch 64, 28x28x1) and a conv-BN-ReLU stack of four
3x3 convolutions at 56x56x64 (batch 8). Raw and slim compute the same ops
as Keras, so their time ratio to Keras should be close to 1 (target: within
5 %). Times are the fastest of interleaved repetitions. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from _timing import interleaved, markdown_table, step_functions

import tfcnn
from tfcnn._compat import keras, tf
from tfcnn.layers import STYLES, get_style
from tfcnn.models._common import copy_weights


def conv_stack(style: str):
    L = get_style(style)
    x = inputs = keras.Input((56, 56, 64))
    for i in range(4):
        x = L.conv_bn(x, 64, 3, name=f"block{i + 1}")
    x = L.global_pool(x, name="avg_pool")
    return keras.Model(inputs, L.dense(x, 10, name="logits"))


WORKLOADS = {
    "lenet (b64, 28x28x1)": (lambda style: tfcnn.create_model("lenet", style=style), (64, 28, 28, 1)),
    "conv-BN-ReLU x4 (b8, 56x56x64)": (conv_stack, (8, 56, 56, 64)),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    rows = []
    for workload, (build, shape) in WORKLOADS.items():
        rng = np.random.default_rng(0)
        x = tf.constant(rng.normal(size=shape).astype("float32"))
        y = tf.constant(rng.integers(0, 10, size=shape[0]))
        keras.utils.set_random_seed(0)
        models = {s: build(s) for s in STYLES}
        for s in ("raw", "slim"):
            copy_weights(models["keras"], models[s])
        fns = {s: step_functions(m, x, y) for s, m in models.items()}
        fwd = interleaved({s: f[0] for s, f in fns.items()}, repeats=args.repeats, inner=5)
        trn = interleaved({s: f[1] for s, f in fns.items()}, repeats=args.repeats, inner=3)
        for s in STYLES:
            rows.append([workload, s, f"{fwd[s] * 1e3:.2f}", f"{fwd[s] / fwd['keras']:.3f}",
                         f"{trn[s] * 1e3:.2f}", f"{trn[s] / trn['keras']:.3f}"])
    print(markdown_table(["workload", "style", "forward ms", "ratio to keras", "train step ms", "ratio to keras"],
                         rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
