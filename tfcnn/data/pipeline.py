"""The one ``tf.data`` pipeline every dataset goes through.

decode (file paths only) -> resize to the model's input -> grey/RGB conversion
-> scale to [0, 1] -> cache -> shuffle -> augment (random padded crop, flip)
-> batch -> prefetch. Augmentation comes after the cache so that every epoch
sees new crops; the cache holds the resized images only while they fit in a
memory budget, otherwise the cheaper uint8 images are cached (or nothing).
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import tf
from tfcnn.data._base import DatasetError

CACHE_BUDGET_BYTES = 2 * 1024**3
"""Largest cache of preprocessed float32 images kept in memory."""


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


def _decode(native_shape):
    h, w, c = native_shape

    def decode(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
        image.set_shape((h, w, c))
        return image

    return decode


def make_pipeline(images, labels, input_shape, *, batch_size: int, training: bool, seed: int = 0,
                  augment_images: bool = False, hflip: bool = True, native_shape=None, num_outputs: int = 1,
                  num_classes: int | None = None, drop_remainder: bool = False, cache: bool = True):
    """Batches of ``(image, label)`` ready for a model of ``input_shape``.

    Args:
        images: uint8 ``[N, H, W, C]`` array, or an array of image file paths (give ``native_shape``).
        labels: int labels ``[N]``.
        input_shape: the model's ``(H, W, C)``.
        batch_size: global batch size (> 0).
        training: shuffle (and augment, if asked) each epoch.
        seed: shuffle and augmentation seed.
        augment_images: random padded crop and, with ``hflip``, left-right flip (training only).
        hflip: whether flipping keeps the label (not for digits).
        native_shape: ``(H, W, C)`` of file images.
        num_outputs: repeat the label for a model with several outputs (GoogLeNet's auxiliary heads).
        num_classes: one-hot labels of this many classes (label smoothing needs them); ``None`` keeps ints.
        drop_remainder: drop a last partial batch (distributed training wants equal batches).
        cache: cache within the memory budget.

    Returns:
        A ``tf.data.Dataset``.

    Raises:
        DatasetError: ``batch_size`` is not a positive int.

    Example:
        >>> data = load_dataset("digits")
        >>> ds = make_pipeline(data.x_train, data.y_train, (16, 16, 1), batch_size=32, training=True)
    """
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
        raise DatasetError(f"batch_size must be a positive int. Received: batch_size={batch_size!r}")
    images = np.asarray(images)
    labels = np.asarray(labels, dtype=np.int64)
    files = images.dtype.kind in "USO"
    if not files and not (training and augment_images):
        return _batched_pipeline(images, labels, input_shape, batch_size=int(batch_size), training=training, seed=seed,
                                 num_outputs=num_outputs, num_classes=num_classes, drop_remainder=drop_remainder)
    ds = tf.data.Dataset.from_tensor_slices((images.astype(str) if files else images, labels))
    if files:
        if native_shape is None:
            raise DatasetError("native_shape is needed to decode image files. Received: native_shape=None")
        ds = ds.map(lambda p, y: (_decode(native_shape)(p), y), num_parallel_calls=tf.data.AUTOTUNE)
    n = len(labels)
    h, w, c = input_shape
    fits = n * h * w * c * 4 <= CACHE_BUDGET_BYTES
    if cache and files and not fits:
        ds = ds.cache()  # the decoded uint8 images: decoding is the expensive part
    ds = ds.map(lambda x, y: (preprocess(x, input_shape), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache and fits:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(n, 50_000), seed=seed, reshuffle_each_iteration=True)
        if augment_images:
            ds = ds.map(lambda x, y: (augment(x, seed=seed, hflip=hflip), y), num_parallel_calls=tf.data.AUTOTUNE)
    if num_classes is not None:
        ds = ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=tf.data.AUTOTUNE)
    if num_outputs > 1:
        ds = ds.map(lambda x, y: (x, (y,) * num_outputs), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


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
