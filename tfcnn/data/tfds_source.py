"""tensorflow-datasets by name, with or without a network.

tfds 4.9 retries a failed download for about 205 s with no timeout option,
so before letting it download, tfcnn probes the network with a short socket
connection and fails within seconds when there is none. Offline, a dataset
is used when it is already prepared in the TFDS data directory, or built
from its original files placed in a ``manual_dir`` (tfds checks their
sha256), which is how a user who has the MNIST files gets the real tfds
``mnist`` without a network, and how ``imagenet2012`` and the other
manual-download datasets are built from ``--manual-dir``.

Images are never gathered into one array: each split is a
:class:`~tfcnn.data.stream.StreamSplit` that ``tf.data`` reads, decodes and
resizes batch by batch. Only the labels are read up front (the images are
skipped undecoded), for the sizes and seeded stratified splits.
"""

from __future__ import annotations

import os
import socket
import threading

import numpy as np

from tfcnn._compat import tf
from tfcnn.data._base import DataSplits, flip_ok, seeded_split
from tfcnn.data.stream import StreamSplit
from tfcnn.errors import DatasetError

PROBE_HOST = "storage.googleapis.com"  # where tfds keeps most datasets and its own GCS mirror
PROBE_TIMEOUT_S = 3.0
_probe_cache: dict[str, bool] = {}


def network_available(host: str | None = None, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds (DNS included).

    ``TFCNN_OFFLINE=1`` in the environment answers ``False`` without trying.
    """
    if os.environ.get("TFCNN_OFFLINE", "") not in ("", "0"):
        return False
    host = host or PROBE_HOST
    key = f"{host}:{port}"
    if key not in _probe_cache:
        result = [False]

        def connect():
            try:
                socket.create_connection((host, port), timeout=timeout).close()
                result[0] = True
            except OSError:
                pass

        # getaddrinfo has no timeout of its own: run the probe in a thread and stop waiting.
        thread = threading.Thread(target=connect, daemon=True)
        thread.start()
        thread.join(timeout + 0.5)
        _probe_cache[key] = result[0]
    return _probe_cache[key]


def _tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # importlib_resources missing is the usual cause
        raise DatasetError(f"tensorflow-datasets cannot be imported ({err}); pip install tensorflow-datasets "
                           f"importlib_resources. Received: {err.name!r} missing") from None
    return tfds


def load_tfds(name: str, *, data_dir: str | None = None, manual_dir: str | None = None,
              holdout: float | None = None, seed: int = 0) -> DataSplits:
    """An image classification dataset of tensorflow-datasets, streamed from its files (never one array).

    Args:
        name: a tfds name (``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``...), optionally ``name:version``.
        data_dir: the TFDS data directory (default ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
        manual_dir: a folder holding the dataset's original files, to build it offline
            (default ``<data_dir>/downloads/manual``).
        holdout: test fraction carved from ``train`` when the dataset has no test split.
        seed: seed of that hold-out.

    Raises:
        DatasetError: unknown name, not an image classification dataset, or not
            available offline and no network (within seconds, saying how to get it).

    Example:
        >>> data = load_tfds("mnist")          # prepared, downloadable, or built from manual_dir
    """
    tfds = _tfds()
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise DatasetError("unknown dataset; use digits, idx:DIR, folder:DIR or a tensorflow-datasets name such as "
                           f"mnist, fashion_mnist, cifar10, cifar100. Received: dataset={name!r}") from None
    keys = builder.info.supervised_keys
    features = builder.info.features
    if not keys or keys[0] not in features or features[keys[0]].shape is None or len(features[keys[0]].shape) != 3:
        raise DatasetError(f"not an image classification dataset (needs supervised (image, label) keys). "
                           f"Received: dataset={name!r}")
    if not builder.is_prepared():
        _prepare(tfds, builder, name, manual_dir)

    image_key, label_key = keys
    splits = list(builder.info.splits) or ["train", "test"]  # no split metadata (mocked data): the usual two
    if "train" not in splits:
        raise DatasetError(f"the dataset has no 'train' split (it has {sorted(splits)}). Received: dataset={name!r}")
    x_train, y_train = _stream(tfds, builder, "train", image_key, label_key)
    test_split = next((s for s in ("test", "validation") if s in splits), None)
    if test_split:
        x_test, y_test = _stream(tfds, builder, test_split, image_key, label_key)
        note = f"tfds splits train/{test_split}"
    else:
        fraction = 0.2 if holdout is None else holdout
        x_train, y_train, x_test, y_test = seeded_split(x_train, y_train, fraction, seed=seed, argname="holdout")
        note = f"stratified seeded hold-out {fraction:.0%} of tfds train (seed {seed})"
    label = features[label_key]
    num_classes = int(getattr(label, "num_classes", 0) or (max(y_train.max(), y_test.max()) + 1))
    names = list(getattr(label, "names", None) or [str(i) for i in range(num_classes)])
    shape = tuple(d if d is not None else 224 for d in features[image_key].shape)  # None: sizes vary (imagenet)
    return DataSplits(name, x_train, y_train, x_test, y_test, num_classes, names, native_shape=shape,
                      hflip=flip_ok(name), note=note)


def _prepare(tfds, builder, name: str, manual_dir: str | None) -> None:
    """Build the dataset from manual files, or download it when the network answers; else fail fast."""
    data_root = os.path.dirname(os.path.dirname(os.fspath(builder.data_dir)))  # <root>/<name>/<version>
    manual = manual_dir or os.path.join(data_root, "downloads", "manual")
    needed = sorted({info.filename for info in (builder.url_infos or {}).values() if info.filename})
    have = [f for f in needed if os.path.exists(os.path.join(manual, f))]
    online = network_available()
    if needed and len(have) == len(needed):
        config = tfds.download.DownloadConfig(manual_dir=manual, try_download_gcs=online)
    elif online:
        config = None
    else:
        missing = f" (missing: {', '.join(f for f in needed if f not in have)})" if needed else ""
        raise DatasetError(
            f"tfds dataset {name!r} is not in the TFDS data directory {data_root} and the network is unreachable; "
            f"to use it offline put its original files in {manual}{missing} or pass --manual-dir DIR holding them, "
            f"or run tfds.load({name!r}) on a connected machine and copy {data_root}/{builder.name} here (or use "
            f"--dataset digits). Received: dataset={name!r}")
    try:
        builder.download_and_prepare(download_config=config)
    except Exception as err:  # noqa: BLE001  (tfds raises many types; report one line)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DatasetError(f"tfds could not prepare the dataset ({type(err).__name__}: {reason[:300]}). "
                           f"Received: dataset={name!r}") from None


def _stream(tfds, builder, split: str, image_key: str, label_key: str):
    """A :class:`StreamSplit` of one tfds split and its labels (read with the images left undecoded)."""
    skip = {image_key: tfds.decode.SkipDecoding()}
    labels_ds = builder.as_dataset(split=split, shuffle_files=False, decoders=skip)
    labels = [b for b in tfds.as_numpy(labels_ds.map(lambda ex: ex[label_key]).batch(8192))]
    labels = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)

    def make(shuffle_files, seed, files=None):
        del seed, files  # positions must stay fixed for subsets: files are read in order, shuffling comes later
        # Images stay encoded here: the pipeline decodes them in parallel, at the size the model wants.
        ds = builder.as_dataset(split=split, shuffle_files=False, decoders=skip,
                                read_config=tfds.ReadConfig(try_autocache=False))
        return ds.enumerate().map(lambda i, ex: (i, ex[image_key], ex[label_key]),
                                  num_parallel_calls=tf.data.AUTOTUNE)

    return StreamSplit(make, len(labels), encoded=True, what=f"tfds {builder.name} {split}"), labels
