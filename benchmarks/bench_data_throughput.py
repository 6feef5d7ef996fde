"""Input-pipeline throughput (tf.data alone) against what ResNet-18 at 96x96 consumes in training, same run.

    python benchmarks/bench_data_throughput.py [--images 3000] [--batch 64] [--repeats 3]

Writes a folder of RGB JPEGs of varied sizes (20..160 px, from the bundled
MNIST digits), shards it to TFRecords with ``tfcnn.data.records.write_shards``,
then measures images/s of ``make_pipeline`` at 96x96x3 (training mode:
shuffle, decode, resize, augment, batch; no cache, so every epoch decodes)
from the folder, from the TFRecords, and from the same folder saved as
palette BMPs (the files that go through Pillow), and ResNet-18's training
images/s at 96x96 on in-memory batches. Pipeline and model are timed in
alternation; the ratio pipeline/model must be >= 1.5 for the pipeline not to
be the bottleneck. Results are written to ``docs/data.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _photo_folder import write_jpeg_folder

SHAPE = (96, 96, 3)
MARKER = "<!-- bench_data_throughput.py results; regenerated -->"


def pipeline_rate(images, labels, *, batch: int, epochs: int = 1) -> float:
    """Images/s of one pass of the training pipeline (no cache: every image decoded and resized)."""
    from tfcnn.data import make_pipeline

    ds = make_pipeline(images, labels, SHAPE, batch_size=batch, training=True, augment_images=True, cache=False)
    n, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x, _y in ds:
            n += int(x.shape[0])
    return n / (time.perf_counter() - start)


def model_rate(*, batch: int, steps: int) -> float:
    """ResNet-18's training images/s at 96x96x3, 10 classes, on batches already in memory."""
    import numpy as np

    import tfcnn
    from tfcnn._compat import keras, tf

    model = tfcnn.create_model("resnet18", input_shape=SHAPE, num_classes=10)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = tf.constant(np.random.default_rng(0).random((batch, *SHAPE), dtype=np.float32))
    y = tf.constant(np.arange(batch) % 10)
    ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)  # tracing, not timed
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def _bmp_copy(src: str, dst: str) -> str:
    from PIL import Image

    for top, _dirs, files in os.walk(src):
        for f in files:
            out = os.path.join(dst, os.path.relpath(top, src))
            os.makedirs(out, exist_ok=True)
            with Image.open(os.path.join(top, f)) as im:
                im.convert("P", palette=Image.ADAPTIVE).save(os.path.join(out, f[:-4] + ".bmp"))
    return dst


def measure(n: int, batch: int, repeats: int, work: str) -> dict:
    from tfcnn.data import load_dataset
    from tfcnn.data.records import write_shards

    folder = write_jpeg_folder(os.path.join(work, "jpeg"), n, colour=True)
    jpeg = load_dataset(f"folder:{folder}", holdout=0.1)
    write_shards(jpeg, os.path.join(work, "records"), 16)
    records = load_dataset(f"tfrecord:{os.path.join(work, 'records')}")
    bmp = load_dataset(f"folder:{_bmp_copy(folder, os.path.join(work, 'bmp'))}", holdout=0.1)
    sources = {"JPEG folder": jpeg, "TFRecords (16 shards)": records, "palette BMP folder (Pillow)": bmp}
    rates = {name: [] for name in [*sources, "ResNet-18 training"]}
    for _ in range(repeats):  # alternate, so that noise on the shared machine hits every candidate
        for name, d in sources.items():
            rates[name].append(pipeline_rate(d.x_train, d.y_train, batch=batch))
        rates["ResNet-18 training"].append(model_rate(batch=batch, steps=8))
    best = {k: max(v) for k, v in rates.items()}
    return {"images": len(jpeg.y_train), "batch": batch, "repeats": repeats, "cpus": os.cpu_count(), "best": best,
            "ratio": {k: best[k] / best["ResNet-18 training"] for k in sources}}


def markdown(r: dict) -> str:
    from tfcnn._compat import tf

    lines = [MARKER, "", (f"Measured by `python benchmarks/bench_data_throughput.py` ({r['cpus']} CPU threads, "
                          f"TensorFlow {tf.__version__}; {r['images']} training images of 20..160 px resized to "
                          f"96x96x3, batch {r['batch']}, best of {r['repeats']} alternated runs):"), "",
             "| source | images/s | x ResNet-18's training rate |", "| --- | ---: | ---: |"]
    for name, rate in r["best"].items():
        ratio = r["ratio"].get(name)
        lines.append(f"| {name} | {rate:,.0f} | {f'{ratio:.1f}x' if ratio else '1.0x (the consumer)'} |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, marker: str, text: str) -> None:
    """Replace the section that starts at ``marker`` (up to the next ``<!-- `` marker) in ``path``."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if marker in old:
        head, rest = old.split(marker, 1)
        tail = rest[rest.index("<!-- "):] if "<!-- " in rest else ""
        old = head + text + ("\n" + tail if tail else "")
    else:
        old = old.rstrip("\n") + "\n\n" + text
    path.write_text(old, encoding="utf-8")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=3000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(ROOT / "docs" / "data.md"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tfcnn-bench-data-") as work:
        result = measure(args.images, args.batch, args.repeats, work)
    print(json.dumps(result, indent=1))
    text = markdown(result)
    print(text)
    if args.out:
        write_section(Path(args.out), MARKER, text)
    return 0 if min(result["ratio"].values()) >= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
