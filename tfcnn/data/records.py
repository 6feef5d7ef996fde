"""Sharded TFRecords: write any dataset once as encoded images, then stream it with ``interleave``.

A ``tfrecord:DIR`` folder holds ``{split}-{k:05d}-of-{n:05d}.tfrecord`` files
of examples ``{image: encoded bytes, label: int64, position: int64}``, the
labels of each split in ``labels-{split}.npy`` (8 bytes an image, for seeded
splits), and ``index.json`` (class names, counts, files, the preprocessing
policy). Examples are written in a seeded random order in contiguous runs of
positions, so every file mixes the classes and a file's positions are known
from the index alone, which is what sharding by file across workers needs.

Reference: TensorFlow guide "Better performance with the tf.data API"
(parallel interleave of record files, AUTOTUNE).
"""

from __future__ import annotations

import os

import numpy as np

from tfcnn import _io
from tfcnn._compat import tf
from tfcnn.data._base import DataSplits
from tfcnn.data.stream import StreamSplit
from tfcnn.errors import DatasetError, UsageError

INDEX = "index.json"
FORMAT = "tfcnn-tfrecord"
VERSION = 1
SHARD_POLICIES = ("file", "data")
"""How multi-worker input is split: whole files per worker, or every n-th example when files are too few."""


def write_shards(data: DataSplits, out: str | os.PathLike, shards: int, *, seed: int = 0, source: str = "") -> dict:
    """Write every split of ``data`` to ``shards`` TFRecord files each, plus labels and ``index.json``.

    File images are stored as their original bytes (no re-encoding loss);
    in-memory arrays as PNG. The folder appears complete or not at all.

    Args:
        data: from :func:`tfcnn.data.load_dataset`.
        out: the folder to create (it must not exist or be empty).
        shards: files per split (> 0; a split smaller than that gets one file per image).
        seed: seed of the written order.
        source: the dataset spec, recorded in the index.

    Returns:
        The index written.

    Raises:
        UsageError: ``shards`` is not a positive int, or ``out`` is a non-empty folder.

    Example:
        >>> write_shards(load_dataset("mnist-t10k"), "mnist_records", 8)["splits"]["train"]["count"]
        8000
    """
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise UsageError(f"--shards must be a positive int. Received: shards={shards!r}")
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise UsageError(f"the output folder exists and is not empty. Received: out={os.fspath(out)!r}")
    splits = {"train": (data.x_train, data.y_train), "test": (data.x_test, data.y_test)}
    if data.x_val is not None:
        splits["val"] = (data.x_val, data.y_val)
    index = {"format": FORMAT, "version": VERSION, "source": source or data.name, "class_names": data.class_names,
             "num_classes": data.num_classes, "native_shape": list(data.image_shape), "hflip": data.hflip,
             "note": data.note, "splits": {},
             "preprocessing": {"stored": "original file bytes" if data.is_files else "encoded images",
                               "decode": "in the input pipeline", "resize": "in the input pipeline, to the model"}}
    with _io.atomic_path(out, suffix="") as tmp:
        os.makedirs(tmp)
        for name, (x, y) in splits.items():
            index["splits"][name] = _write_split(tmp, name, x, np.asarray(y, np.int64), shards, seed, data.num_classes)
        _io.write_json(os.path.join(tmp, INDEX), index)
    return index


def _encoded(x, order):
    """Encoded image bytes in ``order``: file contents, a stream's bytes, or PNGs of array images."""
    if isinstance(x, StreamSplit):  # streamed in its own order (``order`` is the identity for streams)
        if not x.encoded:
            raise DatasetError(f"only encoded streams can be sharded. Received: {x!r}")
        yield from x.dataset().map(lambda b, y: b).as_numpy_iterator()
        return
    x = np.asarray(x)
    for i in order:
        if x.dtype.kind in "USO":
            with open(str(x[i]), "rb") as f:
                yield f.read()
        else:
            yield tf.io.encode_png(x[i]).numpy()


def _write_split(folder, name, x, y, shards, seed, num_classes):
    n = len(y)
    # A stream is written in its own order (reading it shuffled would need it all in memory).
    order = np.arange(n) if isinstance(x, StreamSplit) else np.random.default_rng(seed).permutation(n)
    k = max(1, min(shards, n))
    bounds = np.linspace(0, n, k + 1).astype(int)
    files = []
    images = _encoded(x, order)
    for s in range(k):
        fname = f"{name}-{s:05d}-of-{k:05d}.tfrecord"
        with tf.io.TFRecordWriter(os.path.join(folder, fname)) as writer:
            for pos in range(bounds[s], bounds[s + 1]):
                feature = {"image": _bytes(next(images)), "label": _int(y[order[pos]]), "position": _int(pos)}
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        files.append({"name": fname, "start": int(bounds[s]), "count": int(bounds[s + 1] - bounds[s])})
    np.save(os.path.join(folder, f"labels-{name}.npy"), y[order])
    return {"count": n, "class_counts": np.bincount(y, minlength=num_classes).tolist(), "files": files}


def _bytes(b):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[b]))


def _int(v):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)]))


_FEATURES = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64),
             "position": tf.io.FixedLenFeature([], tf.int64)}


def _split_stream(folder: str, name: str, entry: dict) -> tuple[StreamSplit, np.ndarray]:
    paths = [os.path.join(folder, f["name"]) for f in entry["files"]]

    def make(shuffle_files, seed, files=None):
        chosen = list(files if files is not None else paths)
        ds = tf.data.Dataset.from_tensor_slices(chosen)
        if shuffle_files:
            ds = ds.shuffle(len(chosen), seed=seed, reshuffle_each_iteration=True)
        # Training reads many files at once; evaluation reads them in turn, so examples come in position order.
        cycle = min(len(chosen), 16) if shuffle_files else 1
        ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=cycle, block_length=1,
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle_files)

        def parse(record):
            ex = tf.io.parse_single_example(record, _FEATURES)
            return ex["position"], ex["image"], ex["label"]

        return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)

    labels = np.load(os.path.join(folder, f"labels-{name}.npy"))
    ranges = [(f["start"], f["count"]) for f in entry["files"]]
    split = StreamSplit(make, entry["count"], encoded=True, what=f"tfrecord {name}", files=paths, ranges=ranges)
    return split, labels.astype(np.int64)


def load_tfrecord(directory: str | os.PathLike) -> DataSplits:
    """A folder written by :func:`write_shards` (``python -m tfcnn.data.shard``), streamed.

    Raises:
        DatasetError: the folder or its ``index.json`` is missing, unreadable or of another format.

    Example:
        >>> data = load_tfrecord("mnist_records")
        >>> ds = make_pipeline(data.x_train, data.y_train, (28, 28, 1), batch_size=64, training=True)
    """
    spec = f"tfrecord:{directory}"
    folder = os.fspath(directory)
    try:
        index = _io.read_json(os.path.join(folder, INDEX), what="the TFRecord index")
    except ValueError as err:
        raise DatasetError(f"{err}; write one with python -m tfcnn.data.shard. Received: dataset={spec!r}") from None
    if index.get("format") != FORMAT or index.get("version") != VERSION or "train" not in index.get("splits", {}):
        raise DatasetError(f"not a {FORMAT} v{VERSION} folder with a train split. Received: dataset={spec!r}")
    s = {name: _split_stream(folder, name, entry) for name, entry in index["splits"].items()}
    test = "test" if "test" in s else "val"
    x_val, y_val = s["val"] if "val" in s and test != "val" else (None, None)
    return DataSplits(spec, *s["train"], *s[test], index["num_classes"], list(index["class_names"]),
                      native_shape=tuple(index["native_shape"]), hflip=bool(index["hflip"]),
                      note=f"TFRecords of {index['source']} ({index['note']})", x_val=x_val, y_val=y_val)


def shard_policy(num_files: int, num_workers: int) -> str:
    """``'file'`` when every worker gets at least one file, else ``'data'`` (every n-th example)."""
    return "file" if num_files >= num_workers else "data"


def shard_inputs(images, labels, input_context=None, *, num_workers: int | None = None, worker_index: int = 0):
    """This worker's part of a split under multi-worker training, and the policy used (to record in the run).

    Sharded TFRecords go by file when there are at least as many files as
    workers (each worker reads only its files), otherwise by data (every
    n-th example); file paths and arrays go by data, which for a folder is
    also one file per image. Pass a ``tf.distribute.InputContext`` (from
    ``distribute_datasets_from_function``) or ``num_workers``/``worker_index``.

    Returns:
        ``(images, labels, policy)`` with ``policy`` in :data:`SHARD_POLICIES`, or ``'off'`` for one worker.

    Raises:
        DatasetError: neither an input context nor a valid worker count and index.

    Example:
        >>> x, y, policy = shard_inputs(data.x_train, data.y_train, num_workers=4, worker_index=1)
    """
    if input_context is not None:
        num_workers, worker_index = input_context.num_input_pipelines, input_context.input_pipeline_id
    if not isinstance(num_workers, int) or num_workers < 1 or not 0 <= worker_index < num_workers:
        raise DatasetError(f"need an input context or 1 <= num_workers and 0 <= worker_index < num_workers. "
                           f"Received: num_workers={num_workers!r}, worker_index={worker_index!r}")
    labels = np.asarray(labels, np.int64)
    if num_workers == 1:
        return images, labels, "off"
    if isinstance(images, StreamSplit):
        if images.ranges and shard_policy(len(images.files), num_workers) == "file":
            part = images.restrict_files(list(range(worker_index, len(images.files), num_workers)))
        else:
            part = images.subset(np.arange(worker_index, len(images), num_workers))
        keep = part.mask if images.mask is None else part.mask[images.mask]
        return part, labels[keep], "file" if part.files != images.files else "data"
    return images[worker_index::num_workers], labels[worker_index::num_workers], "data"
