"""The one place where tfcnn imports TensorFlow and Keras.

TensorFlow >= 2.16 makes ``tf.keras`` Keras 3, which TFMOT (pruning and
quantization) does not support. tfcnn therefore uses the Keras 2 API of the
``tf_keras`` package everywhere. ``TF_USE_LEGACY_KERAS=1`` must be set before
TensorFlow is first imported, so that a user's ``tf.keras`` is ``tf_keras``
too; ``tfcnn/__init__.py`` sets it before importing this module.
"""

from __future__ import annotations

import os
import sys
import warnings

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_tf_was_loaded = "tensorflow" in sys.modules

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

if _tf_was_loaded and getattr(tf.keras, "__name__", "").split(".")[0] == "keras":
    warnings.warn(
        "TensorFlow was imported before tfcnn, so tf.keras is Keras 3. tfcnn "
        "uses tf_keras (Keras 2) regardless, but models you build with tf.keras "
        "cannot be mixed with tfcnn's or optimised by TFMOT. Import tfcnn first "
        "or set TF_USE_LEGACY_KERAS=1 before importing TensorFlow.",
        stacklevel=3,
    )

layers = keras.layers

__all__ = ["tf", "keras", "layers"]
