"""Image files -> uint8 tensors of the model's size, inside a ``tf.data`` map.

TensorFlow decodes JPEG (CMYK included, to three channels only), PNG (every
mode, 16-bit included: it scales to 8 bits), GIF and 24/32-bit BMP (three
channels only) in its own threads; for a grey model those are decoded to RGB
and converted. It cannot decode a palette or 1-bit BMP (it returns palette
indices, or fails), nor TIFF or WebP files; those few files go through
Pillow in a ``tf.numpy_function``, chosen per file from the first bytes,
which TensorFlow reads anyway. ``benchmarks/bench_data_throughput.py`` measures what the
Pillow path costs.

Resizing follows Keras's ``image_dataset_from_directory``: bilinear, and by
default ``crop`` (the centred box of the target's aspect ratio, Keras's
``crop_to_aspect_ratio=True``); ``pad`` keeps the whole image and pads with
black, ``stretch`` distorts it to the target.
"""

from __future__ import annotations

import io

import numpy as np

from tfcnn._compat import tf
from tfcnn.errors import DatasetError

RESIZE_MODES = ("crop", "pad", "stretch")
"""How an image of another aspect ratio reaches the model's input (default ``crop``)."""

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")
"""File endings a ``folder:`` dataset lists (Keras's list plus TIFF and WebP, which Pillow decodes)."""


def check_resize(resize: str) -> str:
    """``resize`` if it is one of :data:`RESIZE_MODES`.

    Raises:
        DatasetError: any other value.
    """
    if resize not in RESIZE_MODES:
        raise DatasetError(f"resize must be one of {', '.join(RESIZE_MODES)}. Received: resize={resize!r}")
    return resize


def _needs_pillow(contents):
    """True for the files TensorFlow would decode wrongly or not at all (see the module docstring)."""
    head = tf.strings.substr(contents, 0, 4)
    is_jpeg = tf.equal(tf.strings.substr(head, 0, 2), b"\xff\xd8")
    is_png = tf.equal(head, b"\x89PNG")
    is_gif = tf.equal(tf.strings.substr(head, 0, 3), b"GIF")
    is_bmp = tf.equal(tf.strings.substr(head, 0, 2), b"BM")
    # A BMP's bits per pixel is the little-endian uint16 at byte 28; only 24 and 32 decode as colours.
    bpp = tf.strings.substr(contents, 28, 2)
    bmp_ok = tf.logical_or(tf.equal(bpp, b"\x18\x00"), tf.equal(bpp, b"\x20\x00"))
    tf_ok = tf.logical_or(is_jpeg, tf.logical_or(is_png, tf.logical_or(is_gif, tf.logical_and(is_bmp, bmp_ok))))
    return tf.logical_not(tf_ok)


def _three_channels_only(contents):
    """GIF, BMP and CMYK JPEG decoders give RGB only (a grey request fails): decode to RGB, then convert."""
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, 2), b"\xff\xd8")
    cmyk = tf.cond(is_jpeg, lambda: tf.equal(tf.io.extract_jpeg_shape(contents)[2], 4), lambda: tf.constant(False))
    return tf.logical_or(cmyk, tf.logical_or(tf.equal(tf.strings.substr(contents, 0, 3), b"GIF"),
                                             tf.equal(tf.strings.substr(contents, 0, 2), b"BM")))


def pillow_decode(contents: bytes, channels: int) -> np.ndarray:
    """Decode one file's bytes with Pillow to uint8 ``[H, W, channels]`` (16-bit scaled, CMYK converted)."""
    from PIL import Image

    with Image.open(io.BytesIO(contents)) as im:
        im.seek(0)  # first frame of an animation, as TensorFlow does
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            wide = np.asarray(im, dtype=np.float64)  # 16-bit: scale to 8 bits as TensorFlow does (/257)
            im = Image.fromarray(np.round(wide / 257.0).clip(0, 255).astype(np.uint8), mode="L")
        x = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.uint8)
    return x[..., None] if channels == 1 else x


def decode_file(contents, channels: int):
    """File bytes -> uint8 ``[H, W, channels]``, by TensorFlow or, for the few files it cannot do, Pillow."""

    def with_tf():
        def three():
            x = tf.io.decode_image(contents, channels=3, expand_animations=False)
            return tf.image.rgb_to_grayscale(x) if channels == 1 else x

        def direct():
            return tf.io.decode_image(contents, channels=channels, expand_animations=False)

        # Asking JPEG and PNG decoders for grey directly is cheaper than converting RGB.
        return tf.cond(_three_channels_only(contents), three, direct) if channels == 1 else direct()

    def with_pillow():
        x = tf.numpy_function(lambda b: pillow_decode(b, channels), [contents], tf.uint8, stateful=False)
        return tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], channels])

    image = tf.cond(_needs_pillow(contents), with_pillow, with_tf)
    image.set_shape([None, None, channels])
    return image


def resize_image(image, size, resize: str = "crop"):
    """uint8 ``[H, W, C]`` of any size -> uint8 ``[size[0], size[1], C]``, bilinear, as ``resize`` says.

    Example:
        >>> resize_image(tf.zeros((30, 60, 3), tf.uint8), (16, 16)).shape
        TensorShape([16, 16, 3])
    """
    h, w = int(size[0]), int(size[1])
    check_resize(resize)
    if resize == "crop":
        # The largest centred box of the target's aspect ratio (Keras's smart_resize).
        shape = tf.shape(image)
        ih, iw = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        ch = tf.minimum(ih, iw * h / w)
        cw = tf.minimum(iw, ih * w / h)
        ch_i, cw_i = tf.maximum(1, tf.cast(ch, tf.int32)), tf.maximum(1, tf.cast(cw, tf.int32))
        top, left = (shape[0] - ch_i) // 2, (shape[1] - cw_i) // 2
        image = tf.image.crop_to_bounding_box(image, top, left, ch_i, cw_i)
        x = tf.image.resize(image, (h, w), method="bilinear")
    elif resize == "pad":
        x = tf.image.resize_with_pad(tf.cast(image, tf.float32), h, w, method="bilinear")
    else:
        x = tf.image.resize(image, (h, w), method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)
