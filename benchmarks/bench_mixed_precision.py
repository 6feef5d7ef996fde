"""fp32 against mixed precision: training and inference images/s, and accuracy on the MNIST hold-out.

    python benchmarks/bench_mixed_precision.py [--models resnet18,resnet50,mobilenet_v2] [--size 64]

Mixed precision is what ``tfcnn.train --mixed-precision`` uses: ``mixed_bfloat16``
on a CPU (AMX bf16 matmuls), ``mixed_float16`` on a GPU, with float32 logits.
Each model is built under each policy, trained for a few steps on random
data (batch 32) and run forward (batch 32); the first steps (tracing) are not
timed. The accuracy part trains LeNet-5 with its default recipe on the MNIST
t10k 80/20 hold-out in both precisions (target: within 0.5 points).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def speed(name: str, policy: str, *, size: int, batch: int, steps: int) -> tuple[float, float]:
    """(training img/s, inference img/s) of one model under one dtype policy."""
    import numpy as np

    import tfcnn
    from tfcnn import train
    from tfcnn._compat import keras, tf

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = tfcnn.create_model(name, input_shape=(size, size, 3), num_classes=10)
        if policy != "float32":
            model = train.float32_outputs(model)
        if len(model.outputs) > 1:
            model = keras.Model(model.inputs, model.outputs[0])
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x = tf.constant(np.random.default_rng(0).random((batch, size, size, 3), dtype=np.float32))
        y = tf.constant(np.arange(batch) % 10)
        for _ in range(2):
            model.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        train_ips = batch * steps / (time.perf_counter() - start)
        forward = tf.function(lambda t: model(t, training=False))
        for _ in range(2):
            forward(x).numpy()
        start = time.perf_counter()
        for _ in range(steps):
            forward(x).numpy()
        infer_ips = batch * steps / (time.perf_counter() - start)
        return train_ips, infer_ips
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="resnet18,resnet50,mobilenet_v2")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--skip-accuracy", action="store_true")
    args = p.parse_args(argv)
    from tfcnn import train

    mixed = train.mixed_policy_name()
    print(f"| model ({args.size}x{args.size}, batch {args.batch}) | train fp32 | train {mixed} | x | "
          f"infer fp32 | infer {mixed} | x |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in args.models.split(","):
        t32, i32 = speed(name, "float32", size=args.size, batch=args.batch, steps=args.steps)
        tmx, imx = speed(name, mixed, size=args.size, batch=args.batch, steps=args.steps)
        print(f"| {name} | {t32:.1f} | {tmx:.1f} | {tmx / t32:.2f} | {i32:.1f} | {imx:.1f} | {imx / i32:.2f} |",
              flush=True)
    if not args.skip_accuracy:
        import bench_train_mnist

        fp32 = bench_train_mnist.run()["test_accuracy"]
        mx = bench_train_mnist.run(extra=("--mixed-precision",))["test_accuracy"]
        print()
        print("| LeNet-5, MNIST t10k 80/20 hold-out | fp32 | mixed | difference (points) |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| accuracy | {fp32:.4f} | {mx:.4f} | {100 * (mx - fp32):+.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
