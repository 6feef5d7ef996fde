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
def _quiet_native_stderr():
    """Silence the C++ start-up chatter (oneDNN, CUDA probes) that TensorFlow writes to fd 2.

    Those lines are printed before absl logging is initialised, so
    ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them, and they would bury the one
    line a command prints for bad input. Python exceptions are unaffected.
    ``TFCNN_VERBOSE_IMPORT=1`` keeps them.
    """
    if _tf_was_loaded or os.environ.get("TFCNN_VERBOSE_IMPORT") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some notebook front-ends)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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


def tfmot():
    """TensorFlow Model Optimization, imported on first use (it is slow to import and ``import tfcnn`` stays light)."""
    import tensorflow_model_optimization as _tfmot

    return _tfmot


__all__ = ["keras", "layers", "tf", "tfmot"]
