"""Every registered builder keeps the builder contract and agrees with its frozen config (no model is built)."""

from __future__ import annotations

import inspect

import pytest

import tfcnn
from tfcnn.models import registry

CONTRACT = ("input_shape", "num_classes", "include_top", "pooling", "weights", "style", "name")
RECIPE_KEYS = ("dataset", "epochs", "batch_size", "optimizer", "lr")


def _builder(name):
    return registry._lookup(name)[1]


@pytest.mark.parametrize("name", tfcnn.list_models())
def test_builder_signature_defaults_agree_with_registered_config(name):
    config = tfcnn.get_config(name)
    builder = _builder(name)
    assert builder.__name__ == name  # grep finds the builder by its registry key
    params = inspect.signature(builder).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values()), "keyword-only arguments"
    assert set(CONTRACT) <= set(params)
    defaults = {k: p.default for k, p in params.items()}
    assert defaults["input_shape"] is None and defaults["include_top"] is True
    assert defaults["pooling"] is None and defaults["weights"] is None and defaults["style"] == "keras"
    assert defaults["num_classes"] == config.num_classes and defaults["name"] == name
    options = {k: v for k, v in defaults.items() if k not in CONTRACT}
    assert options == dict(config.options)


@pytest.mark.parametrize("name", tfcnn.list_models())
def test_registered_config_is_complete(name):
    config = tfcnn.get_config(name)
    assert config.name == name and len(config.input_shape) == 3
    assert 0 < config.min_input_size <= min(config.input_shape[:2])
    assert config.reference
    from tfcnn.train.recipes import recipe

    assert set(RECIPE_KEYS) <= set(recipe(name)), sorted(set(RECIPE_KEYS) - set(recipe(name)))
