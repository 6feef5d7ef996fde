"""The model zoo: one file per family, registered in :mod:`tfcnn.models.registry`."""

from tfcnn.models._common import copy_weights, feature_extractor
from tfcnn.models.registry import ModelConfig, create_model, get_config, list_models, register_model

__all__ = ["ModelConfig", "copy_weights", "create_model", "feature_extractor", "get_config", "list_models",
           "register_model"]
