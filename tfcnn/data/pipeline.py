"""The one ``tf.data`` pipeline every dataset goes through.

In-memory arrays: shuffle indices -> gather -> resize, grey/RGB, scale to
[0, 1] -> augment -> batch -> prefetch (the arrays are the only copy).
Image files and streamed splits: list (shuffled when nothing is cached) ->
read and decode in parallel -> resize to the model's input as uint8 ->
cache (in memory under a byte budget, else to a file, else none) ->
shuffle in a buffer sized in bytes -> scale -> augment -> batch -> prefetch.
Caching the uint8 images of the model's size holds a quarter of what float32
would, and augmenting after the cache gives every epoch new crops.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref

import numpy as np

from tfcnn._compat import tf
from tfcnn.data.decode import check_resize, decode_file, resize_image
from tfcnn.data.stream import StreamSplit
from tfcnn.errors import DatasetError

CACHE_BUDGET_BYTES = 2 * 1024**3
"""Default in-memory cache budget: all pipelines of a process together (uint8 images of the model's size)."""

SHUFFLE_BUFFER_BYTES = 128 * 1024**2
"""Largest shuffle buffer of decoded images (uint8), whatever the image size."""


class CacheBudget:
    """Bytes that in-memory caches may hold, shared by every pipeline that draws on it.

    A pipeline reserves its whole cache before it is built and gives the bytes
    back when its dataset is garbage-collected, so train, validation and test
    caches together never exceed ``limit``.

    Example:
        >>> budget = CacheBudget(512 * 1024**2)
        >>> ds = make_pipeline(paths, labels, (96, 96, 3), batch_size=32, training=True, cache_budget=budget)
    """

    def __init__(self, limit: int):
        if not isinstance(limit, (int, np.integer)) or limit < 0:
            raise DatasetError(f"a cache budget is a number of bytes >= 0. Received: limit={limit!r}")
        self.limit = int(limit)
        self.used = 0
        self._lock = threading.Lock()

    def reserve(self, nbytes: int) -> bool:
        """Take ``nbytes`` if they fit; True when they did."""
        with self._lock:
            if self.used + nbytes > self.limit:
                return False
            self.used += int(nbytes)
            return True

    def release(self, nbytes: int) -> None:
        """Give back bytes reserved earlier."""
        with self._lock:
            self.used = max(0, self.used - int(nbytes))


DEFAULT_CACHE_BUDGET = CacheBudget(CACHE_BUDGET_BYTES)
"""The budget pipelines use when given none: one per process."""

DECODE_POLICY = "tensorflow; pillow for palette/1-bit BMP, TIFF and WebP"
"""Who decodes image files (recorded in ``report['decode']``)."""

# Live in-memory caches by content, size and resize policy: a split cached once is reused, never cached twice.
_MEMORY_CACHES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def choose_input_shape(native_shape, *, model_shape, min_input_size: int, requested: int | None = None):
    """The input a model is built for on a dataset, and why.

    The dataset's native size when the architecture accepts it, otherwise the
    smallest size it accepts; ``requested`` (a side length) wins over both.
    Channels are always the model's own (grey and RGB are converted).

    Returns:
        ``((H, W, C), reason)``.

    Raises:
        DatasetError: ``requested`` is smaller than the architecture allows.

    Example:
        >>> choose_input_shape((8, 8, 1), model_shape=(28, 28, 1), min_input_size=16)
        ((16, 16, 1), 'the dataset is 8x8 but the model needs at least 16x16')
    """
    h, w = int(native_shape[0]), int(native_shape[1])
    c = int(model_shape[2])
    if requested is not None:
        if not isinstance(requested, int) or requested < min_input_size:
            raise DatasetError(f"input size is too small for this model; it needs at least {min_input_size}. "
                               f"Received: input_size={requested!r}")
        return (requested, requested, c), "requested"
    if min(h, w) >= min_input_size:
        return (h, w, c), "the dataset's native size"
    side = int(min_input_size)
    return (side, side, c), f"the dataset is {h}x{w} but the model needs at least {side}x{side}"


def preprocess(images, input_shape):
    """uint8 images -> float32 in [0, 1], resized to ``input_shape[:2]``, channels converted."""
    x = tf.cast(images, tf.float32) / 255.0
    h, w, c = input_shape
    if tuple(x.shape[-3:-1]) != (h, w):
        x = tf.image.resize(x, (h, w), method="bilinear")
    in_c = x.shape[-1]
    if in_c == 1 and c == 3:
        x = tf.image.grayscale_to_rgb(x)
    elif in_c in (3, 4) and c == 1:
        x = tf.image.rgb_to_grayscale(x[..., :3])
    elif in_c == 4 and c == 3:
        x = x[..., :3]
    return x


def augment(x, *, seed: int = 0, hflip: bool = True):
    """Random crop of a zero-padded image (pad 1/8 of the side) and, if ``hflip``, a random left-right flip."""
    h, w, c = x.shape[-3], x.shape[-2], x.shape[-1]
    pad_h, pad_w = max(1, h // 8), max(1, w // 8)
    x = tf.image.pad_to_bounding_box(x, pad_h, pad_w, h + 2 * pad_h, w + 2 * pad_w)
    x = tf.image.random_crop(x, (h, w, c), seed=seed)
    if hflip:
        x = tf.image.random_flip_left_right(x, seed=seed + 1)
    return x


def shuffle_buffer_size(n: int, image_bytes: int, buffer_bytes: int = SHUFFLE_BUFFER_BYTES) -> int:
    """Images a shuffle buffer of ``buffer_bytes`` holds (at least 1, at most ``n``).

    Example:
        >>> shuffle_buffer_size(1_000_000, 224 * 224 * 3)
        891
    """
    return int(max(1, min(n, buffer_bytes // max(1, image_bytes))))


def make_pipeline(images, labels, input_shape, *, batch_size: int, training: bool, seed: int = 0,
                  augment_images: bool = False, hflip: bool = True, native_shape=None, num_outputs: int = 1,
                  num_classes: int | None = None, drop_remainder: bool = False, cache: bool = True,
                  cache_dir: str | os.PathLike | None = None, cache_budget: CacheBudget | None = None,
                  resize: str = "crop", skip_bad_images: bool = False,
                  shuffle_buffer_bytes: int = SHUFFLE_BUFFER_BYTES, report: dict | None = None):
    """Batches of ``(image, label)`` ready for a model of ``input_shape``.

    Args:
        images: uint8 ``[N, H, W, C]`` array, an array of image file paths, or a
            :class:`~tfcnn.data.stream.StreamSplit` (tfds, TFRecords).
        labels: int labels ``[N]``.
        input_shape: the model's ``(H, W, C)``.
        batch_size: global batch size (> 0).
        training: shuffle (and augment, if asked) each epoch.
        seed: shuffle and augmentation seed.
        augment_images: random padded crop and, with ``hflip``, left-right flip (training only).
        hflip: whether flipping keeps the label (not for digits).
        native_shape: unused (files are decoded at their own size); kept for callers that pass it.
        num_outputs: repeat the label for a model with several outputs (GoogLeNet's auxiliary heads).
        num_classes: one-hot labels of this many classes (label smoothing needs them); ``None`` keeps ints.
        drop_remainder: drop a last partial batch (distributed training wants equal batches).
        cache: cache decoded files: in memory when ``cache_budget`` has room, else in ``cache_dir``.
            Pass ``False`` for a split read once (the final test).
        cache_dir: folder for a cache file when memory is short (the run folder); ``None``: no file cache.
        cache_budget: the :class:`CacheBudget` shared with the run's other pipelines (default: the process's).
        resize: ``'crop'`` (default), ``'pad'`` or ``'stretch'``, for images of another aspect ratio.
        skip_bad_images: drop files that fail to decode instead of stopping on them.
        shuffle_buffer_bytes: size of the shuffle buffer of decoded images, in bytes.
        report: a dict to fill with what was decided (``cache``, ``shuffle_buffer``, ``resize``, ``decode``).

    Returns:
        A ``tf.data.Dataset``.

    Raises:
        DatasetError: ``batch_size`` is not a positive int, or ``resize`` is unknown.

    Example:
        >>> data = load_dataset("digits")
        >>> ds = make_pipeline(data.x_train, data.y_train, (16, 16, 1), batch_size=32, training=True)
    """
    del native_shape
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
        raise DatasetError(f"batch_size must be a positive int. Received: batch_size={batch_size!r}")
    check_resize(resize)
    report = {} if report is None else report
    labels = np.asarray(labels, dtype=np.int64)
    post = {"num_outputs": num_outputs, "num_classes": num_classes}
    if isinstance(images, StreamSplit) or np.asarray(images).dtype.kind in "USO":
        ds = _decoded(images, labels, input_shape, training=training, seed=seed, cache=cache, cache_dir=cache_dir,
                      budget=cache_budget or DEFAULT_CACHE_BUDGET, resize=resize, skip_bad=skip_bad_images,
                      buffer_bytes=shuffle_buffer_bytes, report=report)
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        images = np.asarray(images)
        report.update(cache="none (in-memory arrays)", shuffle_buffer=len(labels) if training else 0,
                      resize="stretch", decode="none")
        if not (training and augment_images):
            return _batched_pipeline(images, labels, input_shape, batch_size=int(batch_size), training=training,
                                     seed=seed, drop_remainder=drop_remainder, **post)
        ds = _array_images(images, labels, input_shape, seed=seed)
    if training and augment_images:
        ds = ds.map(lambda x, y: (augment(x, seed=seed, hflip=hflip), y), num_parallel_calls=tf.data.AUTOTUNE)
    ds = _finish_labels(ds, **post)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def _finish_labels(ds, *, num_outputs, num_classes):
    if num_classes is not None:
        ds = ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=tf.data.AUTOTUNE)
    if num_outputs > 1:
        ds = ds.map(lambda x, y: (x, (y,) * num_outputs), num_parallel_calls=tf.data.AUTOTUNE)
    return ds


def _array_images(images, labels, input_shape, *, seed):
    """One preprocessed image at a time from in-memory arrays, in shuffled order; no second copy is cached."""
    x_all, y_all = tf.constant(images), tf.constant(labels)
    ds = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda i: (preprocess(tf.gather(x_all, i), input_shape), tf.gather(y_all, i)),
                  num_parallel_calls=tf.data.AUTOTUNE)


def _source(images, labels, *, shuffle_first: bool, seed: int):
    """``(encoded bytes or uint8 image, label)`` of file paths or a stream; a file list is shuffled when asked."""
    if isinstance(images, StreamSplit):
        return images.dataset(shuffle_files=shuffle_first, seed=seed), images.encoded
    paths = np.asarray(images).astype(str)
    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    if shuffle_first:  # file names are small: the whole list fits in one buffer
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda p, y: (tf.io.read_file(p), y), num_parallel_calls=tf.data.AUTOTUNE), True


def _decoded(images, labels, input_shape, *, training, seed, cache, cache_dir, budget, resize, skip_bad,
             buffer_bytes, report):
    """uint8 images of the model's size from files or a stream, cached and shuffled within their byte limits."""
    h, w, c = (int(d) for d in input_shape)
    n = len(images)
    image_bytes = h * w * c
    key = (_identity(images), (h, w, c), resize, bool(skip_bad), id(budget))
    shared = _MEMORY_CACHES.get(key) if cache else None
    if shared is not None:  # the same split at the same size is already cached (validation, then test): reuse it
        return _shuffled(shared, n, image_bytes, training=training, seed=seed, buffer_bytes=buffer_bytes,
                         report=report, where="memory (shared)")
    where = _cache_where(images, input_shape, resize, n * image_bytes, cache=cache, cache_dir=cache_dir,
                         budget=budget)
    stream = isinstance(images, StreamSplit)
    # Uncached, shuffling the (small) file list is enough; a cache replays its first order and a stream is read
    # file by file, so those are shuffled again after decoding, in a buffer of bounded bytes.
    ds, encoded = _source(images, labels, shuffle_first=training and (where is None or stream), seed=seed)
    if encoded:
        ds = ds.map(lambda b, y: (decode_file(b, c), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (_channels(x, c), y), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x, y: (resize_image(x, (h, w), resize), y), num_parallel_calls=tf.data.AUTOTUNE)
    if skip_bad:
        ds = ds.ignore_errors()
    if where is not None:
        ds = ds.cache("" if where == "memory" else where)
        if where == "memory":
            weakref.finalize(ds, budget.release, n * image_bytes)
            _MEMORY_CACHES[key] = ds
    report.update(resize=resize)
    if training and where is None and not stream:
        report.update(cache="none", cache_bytes=0, shuffle_buffer=n, decode=DECODE_POLICY)
        return ds  # an uncached file list was shuffled whole before decoding
    return _shuffled(ds, n, image_bytes, training=training and (where is not None or stream), seed=seed,
                     buffer_bytes=buffer_bytes, report=report, where=where or "none")


def _shuffled(ds, n, image_bytes, *, training, seed, buffer_bytes, report, where):
    """Decoded images shuffled (training) in a buffer of at most ``buffer_bytes``; ``report`` says so."""
    buffer = shuffle_buffer_size(n, image_bytes, buffer_bytes) if training else 0
    if buffer:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    report.update(cache=where, cache_bytes=n * image_bytes if where != "none" else 0, shuffle_buffer=buffer,
                  decode=DECODE_POLICY)
    return ds


def _channels(x, c: int):
    """A decoded image's channels converted to ``c`` (tfds gives 1, 3 or 4)."""
    if x.shape[-1] == c:
        return x
    if c == 3:
        return tf.image.grayscale_to_rgb(x[..., :1]) if x.shape[-1] in (1, 2) else x[..., :3]
    return tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(x[..., :3], tf.float32))), tf.uint8)


def _cache_where(images, input_shape, resize, nbytes: int, *, cache, cache_dir, budget: CacheBudget):
    """``'memory'`` when the budget has room, a cache file path under ``cache_dir``, or ``None``."""
    if not cache:
        return None
    if budget.reserve(nbytes):
        return "memory"
    if cache_dir is None:
        return None
    os.makedirs(cache_dir, exist_ok=True)
    # One file per content and process: a file another pipeline (or an interrupted run) is writing is never reused.
    key = hashlib.sha256(repr((_identity(images), tuple(input_shape), resize)).encode()).hexdigest()[:16]
    return os.path.join(os.fspath(cache_dir), f"tfcnn-cache-{key}-{os.getpid()}")


def _identity(images):
    if isinstance(images, StreamSplit):
        return images.what, len(images), None if images.mask is None else hashlib.sha256(images.mask).hexdigest()
    paths = np.asarray(images).astype(str)
    return len(paths), hashlib.sha256("\n".join(paths.tolist()).encode()).hexdigest()


def _batched_pipeline(images, labels, input_shape, *, batch_size, training, seed, num_outputs, num_classes,
                      drop_remainder):
    """In-memory arrays without per-image augmentation: shuffle indices, gather a batch, preprocess it at once.

    Per-image ``tf.data`` steps cost microseconds each, which is most of a
    small model's step time (LeNet on MNIST ran at 0.7x a bare ``model.fit``);
    gathering whole batches from the in-memory array is what ``model.fit``
    does with numpy input, and preprocessing a batch is one vectorised op.
    """
    x_all = tf.constant(images)
    y_all = tf.constant(labels)
    ds = tf.data.Dataset.range(len(labels))
    if training:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def gather(idx):
        y = tf.gather(y_all, idx)
        if num_classes is not None:
            y = tf.one_hot(y, num_classes)
        return preprocess(tf.gather(x_all, idx), input_shape), (y,) * num_outputs if num_outputs > 1 else y

    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
