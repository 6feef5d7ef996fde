"""The model zoo: one file per family, registered in :mod:`tfcnn.models.registry`."""

from tfcnn.models._common import copy_weights, feature_extractor
from tfcnn.models._transfer import TransferPlan, create_transfer_model, with_new_classifier
from tfcnn.models.registry import ModelConfig, create_model, get_config, list_models, register_model

__all__ = ["ModelConfig", "TransferPlan", "copy_weights", "create_model", "create_transfer_model", "feature_extractor",
           "get_config", "list_models", "register_model", "with_new_classifier"]
