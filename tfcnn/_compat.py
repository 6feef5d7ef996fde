"""The one place where tfcnn imports TensorFlow and Keras.

TensorFlow >= 2.16 makes ``tf.keras`` Keras 3, which TFMOT (pruning and
quantization) does not support. tfcnn therefore uses the Keras 2 API of the
``tf_keras`` package everywhere. ``TF_USE_LEGACY_KERAS=1`` must be set before
TensorFlow is first imported, so that a user's ``tf.keras`` is ``tf_keras``
too; ``tfcnn/__init__.py`` sets it before importing this module.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_tf_was_loaded = "tensorflow" in sys.modules


@contextlib.contextmanager
def quiet_native_stderr():
    """Send what C++ code writes to fd 2 (TensorFlow start-up, the TFLite converter, LiteRT's delegate notice)
    to ``/dev/null`` for the duration.

    Those lines bypass Python's logging, so nothing else can keep them out of
    a command's one-line error or a notebook's output. Python exceptions are
    unaffected (they propagate and are reported after the block).
    ``TFCNN_VERBOSE=1`` keeps everything.
    """
    if os.environ.get("TFCNN_VERBOSE") == "1" or os.environ.get("TFCNN_VERBOSE_IMPORT") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (some notebook front-ends)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def _quiet_native_stderr():
    """At import: silence the C++ start-up chatter (oneDNN, CUDA probes) unless TensorFlow was loaded before."""
    if _tf_was_loaded:
        yield
        return
    with quiet_native_stderr():
        yield


with _quiet_native_stderr():
    import tensorflow as tf
    import tf_keras as keras

    tf.config.list_physical_devices()  # the CUDA probe prints too; run it while quiet, without starting a context

if _tf_was_loaded and getattr(tf.keras, "__name__", "").split(".")[0] == "keras":
    warnings.warn(
        "TensorFlow was imported before tfcnn, so tf.keras is Keras 3. tfcnn "
        "uses tf_keras (Keras 2) regardless, but models you build with tf.keras "
        "cannot be mixed with tfcnn's or optimised by TFMOT. Import tfcnn first "
        "or set TF_USE_LEGACY_KERAS=1 before importing TensorFlow.",
        stacklevel=3,
    )

layers = keras.layers


_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def keras_file_format(path) -> str:
    """``'keras'`` (a zip archive), ``'hdf5'`` or ``'unknown'``, from the file's first bytes (not its name)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "keras"
    if head == _HDF5_MAGIC:  # the HDF5 superblock at offset 0, where Keras writes it
        return "hdf5"
    return "unknown"


def load_keras_file(path, *, compile: bool = False, custom_objects=None):
    """Load a Keras model file without ever running code stored in it.

    tf_keras refuses a ``Lambda`` layer's marshalled bytecode only inside
    zipped ``.keras`` archives (``safe_mode``); an HDF5 file — even one named
    ``*.keras`` — goes through the legacy loader, which executes it. Here the
    format is read from the file's first bytes: a ``.keras`` name must hold a
    zip archive, and HDF5 files are loaded inside tf_keras's safe-mode scope,
    so a ``Lambda`` with code is refused in both formats.

    Raises:
        UnsafeFileError: the file would run code when loaded, or its name and content disagree.
        OSError, ValueError: the file is missing or not a Keras model (callers turn these into one line).
    """
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    from tfcnn.errors import UnsafeFileError

    path = os.fspath(path)
    kind = keras_file_format(path)
    if kind == "unknown":
        raise ValueError("not a Keras model file: neither a .keras zip archive nor HDF5")
    if path.endswith(".keras") and kind == "hdf5":
        raise UnsafeFileError(f"a .keras model must be a zip archive, this one is an HDF5 file; refused (an HDF5 "
                              f"model loaded through a .keras name would bypass safe mode). Received: path={path!r}")
    try:
        if kind == "keras":
            return keras.models.load_model(path, compile=compile, custom_objects=custom_objects, safe_mode=True)
        with SafeModeScope(True):
            return keras.models.load_model(path, compile=compile, custom_objects=custom_objects)
    except ValueError as err:
        if "Lambda layer with a Python `lambda`" in str(err) or "arbitrary code execution" in str(err):
            raise UnsafeFileError(f"the model holds a Lambda layer with Python code, which tfcnn never runs from a "
                                  f"file; refused. Received: path={path!r}") from None
        raise


def tfmot():
    """TensorFlow Model Optimization, imported on first use (it is slow to import and ``import tfcnn`` stays light)."""
    import tensorflow_model_optimization as _tfmot

    return _tfmot


__all__ = ["keras", "keras_file_format", "layers", "load_keras_file", "quiet_native_stderr", "tf", "tfmot"]
