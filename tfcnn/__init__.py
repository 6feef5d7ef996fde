"""tfcnn: convolutional neural networks chapter by chapter, in TensorFlow/Keras.

Importing tfcnn selects Keras 2 (``tf_keras``) for the whole process by
setting ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is loaded, so that
``tf.keras`` and ``tfcnn.keras`` are the same package and every model can be
pruned and quantized by TFMOT.

Example:
    >>> import tfcnn
    >>> model = tfcnn.create_model("lenet")
    >>> model.count_params()
    61706
"""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

from tfcnn import layers
from tfcnn._compat import keras, tf
from tfcnn.models._common import copy_weights, feature_extractor
from tfcnn.models.registry import (
    ModelConfig,
    create_model,
    get_config,
    list_models,
    register_model,
)

__version__ = "0.1.0"

__all__ = [
    "ModelConfig",
    "copy_weights",
    "create_model",
    "feature_extractor",
    "get_config",
    "keras",
    "layers",
    "list_models",
    "register_model",
    "tf",
]
