"""The model zoo: one file per family, registered in :mod:`tfcnn.models.registry`."""

from tfcnn.models.registry import ModelConfig, create_model, get_config, list_models, register_model

__all__ = ["ModelConfig", "create_model", "get_config", "list_models", "register_model"]
