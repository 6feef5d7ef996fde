"""The model registry: ``create_model(name, **overrides)`` and ``list_models(pattern)``.

Each architecture file registers thin variants with :func:`register_model`,
giving a frozen :class:`ModelConfig` of defaults (the paper's input size,
class count, training recipe). ``create_model`` merges the caller's
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
from types import MappingProxyType
from typing import Any


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Defaults of one registered architecture.

    Attributes:
        name: registry key, lowercase snake case (``resnet50``).
        family: the file/family it belongs to (``resnet``).
        input_shape: the paper's input, ``(H, W, C)``.
        num_classes: the paper's class count.
        min_input_size: the smallest square input the down-sampling allows.
        reference: the paper (title and arXiv id or venue).
        options: architecture options and their defaults (``groups``, ``alpha``...).
        train: the default training recipe (``epochs``, ``batch_size``,
            ``optimizer``, ``lr``, ``dataset``...), read by ``tfcnn.train``.
    """

    name: str
    family: str
    input_shape: tuple[int, int, int]
    num_classes: int
    min_input_size: int
    reference: str
    options: MappingProxyType = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    train: MappingProxyType = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self):
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "train", MappingProxyType(dict(self.train)))


_REGISTRY: dict[str, tuple[ModelConfig, Callable[..., Any]]] = {}
_loaded = False


def register_model(config: ModelConfig):
    """Register ``builder`` under ``config.name``; the builder must be named the same.

    Example:
        >>> @register_model(ModelConfig(name="tiny", family="tiny", input_shape=(8, 8, 1),
        ...                             num_classes=2, min_input_size=8, reference="-"))
        ... def tiny(**kwargs): ...
    """

    def decorate(builder):
        if builder.__name__ != config.name:
            raise ValueError(f"builder name must equal its registry key. Received: {builder.__name__!r} for {config.name!r}")
        if config.name in _REGISTRY and _REGISTRY[config.name][1] is not builder:
            raise ValueError(f"a model is already registered under this name. Received: name={config.name!r}")
        _REGISTRY[config.name] = (config, builder)
        builder.config = config
        return builder

    return decorate


def _load_families() -> None:
    """Import every public module of ``tfcnn.models`` once: each registers its family."""
    global _loaded
    if not _loaded:
        import tfcnn.models as package

        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_") and info.name != "registry":
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
        raise ValueError(f"unknown model.{hint} Received: name={name!r}")
    return _REGISTRY[name]


def get_config(name: str) -> ModelConfig:
    """The frozen :class:`ModelConfig` registered under ``name``.

    Raises:
        ValueError: ``name`` is not registered (the message suggests close matches).
    """
    return _lookup(name)[0]


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
        ValueError: unknown name, style or option.

    Example:
        >>> model = create_model("lenet", style="raw", num_classes=10)
    """
    _, builder = _lookup(name)
    from tfcnn.layers import get_style

    get_style(style)  # validates the style name before building
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    return builder(style=style, **kwargs)
