"""The model registry: ``create_model(name, **overrides)`` and ``list_models(pattern)``.

Each architecture file registers thin variants with :func:`register_model`,
giving the architecture part of a frozen :class:`~tfcnn.models.cards.ModelCard`
(the paper's input size, class count, options; training recipes live in
:mod:`tfcnn.train.recipes`); the
published facts of :data:`tfcnn.models.cards.FACTS` are merged in here. ``create_model`` merges the caller's
overrides into those defaults (``None`` overrides are ignored, so
command-line flags that default to ``None`` are safe) and calls the builder,
whose function name equals its registry key so that grep finds it.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfcnn.errors import ModelError
from tfcnn.models.cards import FACTS, ModelCard

ModelConfig = ModelCard
"""The name the card had before it held more than defaults; ``tfcnn.ModelConfig`` is public."""

_REGISTRY: dict[str, tuple[ModelCard, Callable[..., Any]]] = {}
_loaded = False


def register_model(config: ModelCard):
    """Register ``builder`` under ``config.name``; the builder must be named the same.

    The card's ``published_error`` and ``golden_params`` come from
    :data:`tfcnn.models.cards.FACTS` unless the card sets them itself.

    Raises:
        ModelError: the builder is named differently, the name is taken by
            another builder, or the model has neither facts in ``FACTS`` nor a
            ``published_error`` of its own.

    Example:
        >>> @register_model(ModelConfig(name="tiny", family="tiny", input_shape=(8, 8, 1), num_classes=2,
        ...                             min_input_size=8, reference="-",
        ...                             published_error=PublishedError(None, None, "not published", "-")))
        ... def tiny(**kwargs): ...
    """

    def decorate(builder):
        if builder.__name__ != config.name:
            raise ModelError(f"builder name must equal its registry key. Received: {builder.__name__!r} for {config.name!r}")
        if config.name in _REGISTRY and _REGISTRY[config.name][1] is not builder:
            raise ModelError(f"a model is already registered under this name. Received: name={config.name!r}")
        card = _with_facts(config)
        _REGISTRY[config.name] = (card, builder)
        builder.config = card
        return builder

    return decorate


def _with_facts(card: ModelCard) -> ModelCard:
    facts = FACTS.get(card.name)
    if facts is None:
        if card.published_error is None:
            raise ModelError("a model card needs its published error (None values and a reason are fine): add an "
                             f"entry to tfcnn.models.cards.FACTS or set published_error. Received: name={card.name!r}")
        return card
    return dataclasses.replace(card, published_error=card.published_error or facts.published_error,
                               golden_params=card.golden_params or facts.golden_params)


def _load_families() -> None:
    """Import every public module of ``tfcnn.models`` once: each registers its family."""
    global _loaded
    if not _loaded:
        # The package's folder, not the package: importing tfcnn.models from here would close a circle.
        for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
            if not info.name.startswith("_") and info.name not in ("registry", "cards"):
                importlib.import_module(f"tfcnn.models.{info.name}")
        _loaded = True


def list_models(pattern: str = "*") -> list[str]:
    """Sorted registered names matching a shell-style ``pattern`` (``'resnet*'``)."""
    _load_families()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def _lookup(name: str):
    _load_families()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else f" Available: {', '.join(sorted(_REGISTRY))}."
        raise ModelError(f"unknown model.{hint} Received: name={name!r}")
    return _REGISTRY[name]


def get_config(name: str) -> ModelCard:
    """The frozen :class:`~tfcnn.models.cards.ModelCard` registered under ``name``.

    Raises:
        ModelError: ``name`` is not registered (the message suggests close matches).
    """
    return _lookup(name)[0]


def model_arguments(name: str) -> list[str]:
    """The keyword arguments the builder of ``name`` takes (``'alpha'`` for the MobileNets' width multiplier).

    Raises:
        ModelError: unknown name.
    """
    import inspect

    _, builder = _lookup(name)
    return [p.name for p in inspect.signature(builder).parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def create_model(name: str, *, style: str = "keras", **overrides):
    """Build a registered architecture as a flat functional ``tf_keras.Model`` with logits.

    Args:
        name: a key of :func:`list_models`.
        style: ``'keras'``, ``'slim'`` or ``'raw'``: which layer style realises it.
        **overrides: builder arguments (``input_shape``, ``num_classes``,
            ``include_top``, ``pooling``, ``weights``, ``name``, and the
            architecture's own options); ``None`` values are ignored.

    Returns:
        A ``tf_keras.Model``.

    Raises:
        ModelError: unknown name or a bad option (a ``ValueError``).
        ValueError: unknown style.

    Example:
        >>> model = create_model("lenet", style="raw", num_classes=10)
    """
    _, builder = _lookup(name)
    from tfcnn.layers import get_style

    get_style(style)  # validates the style name before building
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    return builder(style=style, **kwargs)
