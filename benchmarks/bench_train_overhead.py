"""tfcnn.train's loop costs nothing extra: training images/s through tfcnn.train vs a bare model.fit.

    python benchmarks/bench_train_overhead.py [--epochs 3] [--repeats 2]

Same model (LeNet-5), same in-memory data (the MNIST t10k 8,000-image hold-out
training split, preprocessed once for the bare loop), same batch size, same
validation data each epoch. Both are timed per epoch from epoch begin to epoch
end (tracing included in both); runs alternate so that machine noise hits both.
Target: ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MNIST = "mnist-t10k"  # the real MNIST test split bundled with tfcnn (8,000 / 2,000)


def bare_fit(data, *, epochs: int, batch_size: int, seed: int = 0) -> float:
    """Images/s of ``model.fit`` on preprocessed numpy arrays with the same model, optimizer and batch."""
    import tfcnn
    from tfcnn._compat import keras
    from tfcnn.data import preprocess

    keras.utils.set_random_seed(seed)
    x = preprocess(data.x_train, (28, 28, 1)).numpy()
    xv = preprocess(data.x_test, (28, 28, 1)).numpy()
    model = tfcnn.create_model("lenet", num_classes=10)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, data.y_train, batch_size=batch_size, epochs=epochs, validation_data=(xv, data.y_test), verbose=0,
              callbacks=[Timer()])
    return len(x) * epochs / sum(times)


def tfcnn_fit(dataset, *, epochs: int, batch_size: int, seed: int = 0) -> float:
    from tfcnn import train

    with tempfile.TemporaryDirectory() as tmp:
        argv = ["lenet", "--dataset", dataset, "--epochs", str(epochs),
                "--batch-size", str(batch_size), "--seed", str(seed), "--out", os.path.join(tmp, "o"), "--quiet"]
        metrics = train.train(train.resolve_options(train.build_parser().parse_args(argv)), log=lambda m: None)
    return metrics["train_images_per_s"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=MNIST, help="mnist-t10k (bundled) or idx:DIR of the same split")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    from tfcnn.data import load_dataset

    data = load_dataset(args.dataset, seed=0)
    bare, ours = [], []
    for _ in range(args.repeats):
        bare.append(bare_fit(data, epochs=args.epochs, batch_size=args.batch_size))
        ours.append(tfcnn_fit(args.dataset, epochs=args.epochs, batch_size=args.batch_size))
    b, o = max(bare), max(ours)
    print(f"| loop (LeNet-5, 8,000 MNIST images, batch {args.batch_size}, {args.epochs} epochs) | img/s (best of "
          f"{args.repeats}) |")
    print("| --- | ---: |")
    print(f"| bare model.fit on numpy arrays | {b:.0f} |")
    print(f"| python -m tfcnn.train (tf.data, checkpoints, TensorBoard, NaN guard) | {o:.0f} |")
    print(f"| ratio tfcnn / bare (target >= 0.9) | {o / b:.2f} |")
    return 0 if o / b >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
