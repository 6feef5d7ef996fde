"""Pretrained weights: Keras Applications files mapped onto tfcnn models by layer name.

tfcnn layer names follow tfcnn's house rules (``conv_bn(name=N)`` makes
``N_conv``, ``N_bn``...), which differ a little from Keras Applications'
(``block1_conv1``, ``conv_dw_1``, ``bn_Conv1``). Each family that Keras also
ships registers a *name map* — tfcnn layer name to Keras layer name — with
:func:`register_keras_application`. With it:

* ``weights=`` in a builder accepts ``None``, ``'imagenet'`` (Keras's ImageNet
  file, from the Keras cache ``~/.keras/models/`` or downloaded when the network
  is reachable), the path of a Keras Applications ``.h5`` weights file (what
  ``tf_keras.applications.ResNet50(weights=None).save_weights('x.h5')`` writes,
  or the Keras download), or a tfcnn-saved weights file;
* :func:`copy_keras_weights` copies a live Keras Applications model into a
  tfcnn model, which is how the fidelity tests prove the two compute the same
  function.

Weights of one layer are copied in Keras's order (``kernel, bias``;
``gamma, beta, moving_mean, moving_variance``), which all three tfcnn styles
share. A weight whose shape differs only by size-1 axes is reshaped (Keras's
MobileNet classifies with a 1x1 convolution, tfcnn with a ``Dense``).

Example:
    >>> from tfcnn.models import _pretrained
    >>> _pretrained.register_keras_application(
    ...     "inception_v3", "InceptionV3", {"logits": "predictions"},
    ...     imagenet_file=lambda args: ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    ...                                 "https://storage.googleapis.com/tensorflow/keras-applications/"
    ...                                 "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5"))
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tfcnn._compat import keras

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
"""Where Keras Applications downloads its ImageNet files from."""

NameMap = Callable[[str], "str | None"]


class PretrainedWeightsUnavailable(ValueError):
    """``weights='imagenet'`` was asked for but the file is neither cached nor downloadable."""


@dataclasses.dataclass(frozen=True)
class KerasApplication:
    """How one tfcnn architecture corresponds to a ``tf_keras.applications`` builder.

    Attributes:
        name: the tfcnn registry key (``resnet50``).
        keras_fn_name: the attribute of ``tf_keras.applications`` (``ResNet50``).
        name_map: tfcnn layer name -> Keras layer name, or ``None`` when the
            layer has no Keras counterpart.
        imagenet_file: builder arguments -> ``(file name, URL)`` of Keras's
            ImageNet weights for that configuration, or ``None`` if Keras has none.
        keras_kwargs: builder arguments -> keyword arguments of the Keras builder
            (beyond ``weights``), used to build the reference model in tests.
    """

    name: str
    keras_fn_name: str
    name_map: NameMap
    imagenet_file: Callable[[Mapping[str, Any]], tuple[str, str] | None] | None = None
    keras_kwargs: Callable[[Mapping[str, Any]], dict] | None = None


_APPS: dict[str, KerasApplication] = {}


def _as_callable(name_map) -> NameMap:
    if callable(name_map):
        return name_map
    if isinstance(name_map, Mapping):
        table = dict(name_map)
        return lambda layer_name: table.get(layer_name, layer_name)
    raise TypeError(f"name_map must be a mapping or a callable. Received: name_map={name_map!r}")


def default_keras_kwargs(args: Mapping[str, Any]) -> dict:
    """The Keras Applications arguments every family shares, from tfcnn builder arguments."""
    return {
        "include_top": args.get("include_top", True),
        "input_shape": tuple(args["input_shape"]) if args.get("input_shape") else None,
        "classes": args.get("num_classes", 1000),
        "pooling": args.get("pooling"),
        "classifier_activation": None,  # tfcnn models end in logits
    }


def register_keras_application(name: str, keras_fn_name: str, name_map, *, imagenet_file=None,
                               keras_kwargs=None) -> KerasApplication:
    """Declare that tfcnn's ``name`` is Keras Applications' ``keras_fn_name`` up to layer names.

    Args:
        name: the tfcnn registry key.
        keras_fn_name: attribute of ``tf_keras.applications`` (``'InceptionV3'``).
        name_map: a dict ``{tfcnn_layer: keras_layer}`` (layers not in it keep
            their name) or a callable returning the Keras name or ``None``.
        imagenet_file: optional callable, builder arguments -> ``(file name, URL)``
            of Keras's ImageNet file, or ``None`` when Keras has none for them.
            Builder arguments are ``include_top``, ``input_shape``,
            ``num_classes``, ``pooling`` and the architecture's options.
        keras_kwargs: optional callable, builder arguments -> Keras builder
            kwargs; default :func:`default_keras_kwargs`.

    Returns:
        The registered :class:`KerasApplication`.

    Raises:
        ValueError: ``keras_fn_name`` is not in ``tf_keras.applications``.
    """
    if not hasattr(keras.applications, keras_fn_name):
        raise ValueError(f"tf_keras.applications has no such builder. Received: keras_fn_name={keras_fn_name!r}")
    app = KerasApplication(name, keras_fn_name, _as_callable(name_map), imagenet_file,
                           keras_kwargs or default_keras_kwargs)
    _APPS[name] = app
    return app


def get_keras_application(name: str) -> KerasApplication:
    """The :class:`KerasApplication` registered for tfcnn's ``name``.

    Raises:
        ValueError: nothing is registered under ``name``.
    """
    from tfcnn.models.registry import _load_families

    _load_families()
    if name not in _APPS:
        raise ValueError(f"Keras Applications has no counterpart of this model (known: {', '.join(sorted(_APPS))}). "
                         f"Received: name={name!r}")
    return _APPS[name]


def list_keras_applications() -> list[str]:
    """tfcnn models with a registered Keras Applications counterpart."""
    from tfcnn.models.registry import _load_families

    _load_families()
    return sorted(_APPS)


def build_keras_reference(name: str, **builder_args):
    """The Keras Applications model (``weights=None``) that corresponds to tfcnn's ``name`` built with ``builder_args``.

    Example:
        >>> ref = build_keras_reference("resnet50", input_shape=(32, 32, 3), num_classes=10)
    """
    app = get_keras_application(name)
    fn = getattr(keras.applications, app.keras_fn_name)
    return fn(weights=None, **app.keras_kwargs(builder_args))


def _fit(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    """``value`` reshaped to ``shape`` if they agree up to size-1 axes, else ``None``."""
    if tuple(value.shape) == tuple(shape):
        return value
    if [d for d in value.shape if d != 1] == [d for d in shape if d != 1]:
        return value.reshape(shape)
    return None


def apply_weights(model, source: Mapping[str, list], name_map: NameMap, *, what: str = "weights") -> int:
    """Set every weighted layer of ``model`` from ``source[name_map(layer.name)]``.

    Args:
        model: the tfcnn model.
        source: Keras layer name -> list of arrays in Keras's order.
        name_map: tfcnn layer name -> Keras layer name (or ``None``).
        what: how the error message names the source (``"weights='x.h5'"``).

    Returns:
        The number of layers set.

    Raises:
        ValueError: a weighted layer has no counterpart, or shapes differ; the
            message lists the first few problems. Nothing is changed then.
    """
    plan, problems = [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        key = name_map(layer.name)
        if key is None or key not in source:
            problems.append(f"{layer.name} (no layer {key!r} in the source)")
            continue
        values = list(source[key])
        shapes = [tuple(w.shape) for w in layer.weights]
        fitted = [_fit(np.asarray(v), s) for v, s in zip(values, shapes)] if len(values) == len(shapes) else [None]
        if any(f is None for f in fitted):
            problems.append(f"{layer.name} {shapes} vs {key} {[tuple(np.shape(v)) for v in values]}")
            continue
        plan.append((layer, fitted))
    if problems:
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ValueError(f"the weights do not fit {model.name}: {'; '.join(problems[:5])}{more}. Received: {what}")
    for layer, values in plan:
        layer.set_weights(values)
    return len(plan)


def copy_keras_weights(keras_model, model, name: str) -> int:
    """Copy a Keras Applications model's weights into tfcnn's ``name`` model by the registered name map.

    Returns:
        The number of layers copied (every weighted layer of ``model``).

    Raises:
        ValueError: a layer has no counterpart or its shapes differ.

    Example:
        >>> ref = build_keras_reference("vgg16", input_shape=(32, 32, 3), num_classes=10)
        >>> model = tfcnn.create_model("vgg16", input_shape=(32, 32, 3), num_classes=10)
        >>> copy_keras_weights(ref, model, "vgg16")
        16
    """
    app = get_keras_application(name)
    source = {layer.name: layer.get_weights() for layer in keras_model.layers if layer.weights}
    return apply_weights(model, source, app.name_map, what=f"keras_model={keras_model.name!r}")


def read_h5_weights(path) -> dict[str, list[np.ndarray]]:
    """Layer name -> arrays of a Keras ``.h5`` weights (or whole-model) file, in the saved order.

    Raises:
        ValueError: the file is not a Keras HDF5 weights file.
    """
    import h5py

    def text(s):
        return s.decode("utf8") if isinstance(s, bytes) else str(s)

    try:
        with h5py.File(path, "r") as f:
            group = f.get("model_weights", f)
            if "layer_names" not in group.attrs:
                raise ValueError(f"not a Keras HDF5 weights file (no layer_names). Received: weights={str(path)!r}")
            out = {}
            for layer_name in map(text, group.attrs["layer_names"]):
                g = group[layer_name]
                names = [text(n) for n in g.attrs.get("weight_names", [])]
                if names:
                    out[layer_name] = [np.asarray(g[n]) for n in names]
            return out
    except OSError as err:
        raise ValueError(f"cannot read the weights file as HDF5 ({err}). Received: weights={str(path)!r}") from None


def keras_cache_dirs() -> list[Path]:
    """Folders where Keras keeps downloaded application weights (``$KERAS_HOME/models``, ``~/.keras/models``)."""
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(Path(os.environ["KERAS_HOME"]) / "models")
    dirs += [Path.home() / ".keras" / "models", Path("/tmp/.keras/models")]
    return dirs


def network_reachable(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 1.5) -> bool:
    """Whether a TCP connection to ``host`` opens within ``timeout`` seconds (a cheap probe before downloading)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def imagenet_path(name: str, builder_args: Mapping[str, Any]) -> Path:
    """The local path of Keras's ImageNet weights for ``name`` built with ``builder_args``.

    Looks in the Keras cache first; downloads (via ``keras.utils.get_file``)
    only if a quick socket probe finds the network.

    Raises:
        ValueError: Keras has no ImageNet weights for this model or configuration.
        PretrainedWeightsUnavailable: the file is not cached and the network is unreachable.
    """
    if name not in list_keras_applications() or _APPS[name].imagenet_file is None:
        raise ValueError(f"there are no ImageNet weights for {name}; use weights=None or a file path. "
                         "Received: weights='imagenet'")
    found = _APPS[name].imagenet_file(builder_args)
    if found is None:
        raise ValueError(f"Keras has no ImageNet weights for {name} with these options "
                         f"({dict(builder_args)}). Received: weights='imagenet'")
    file_name, url = found
    for folder in keras_cache_dirs():
        if (folder / file_name).is_file():
            return folder / file_name
    host = url.split("/")[2]
    if not network_reachable(host):
        raise PretrainedWeightsUnavailable(
            f"weights='imagenet' needs Keras's file {file_name}, which is not in the Keras cache "
            f"({keras_cache_dirs()[0] if os.environ.get('KERAS_HOME') else Path.home() / '.keras' / 'models'}) "
            f"and {host} is unreachable; download {url} into that folder or pass weights=<path>. "
            "Received: weights='imagenet'")
    return Path(keras.utils.get_file(file_name, url, cache_subdir="models"))


def check_weights(weights, *, name: str, **builder_args) -> None:
    """Validate ``weights`` before a model is built, so that a bad value fails fast.

    ``'imagenet'`` is resolved here (cache, or download when online), so an
    offline run without the file fails before any layer is created.

    Raises:
        ValueError: not ``None``, ``'imagenet'`` or an existing file; or no ImageNet file for this configuration.
        PretrainedWeightsUnavailable: ``'imagenet'`` offline without a cached file.
    """
    if weights is None:
        return
    if isinstance(weights, str) and weights == "imagenet":
        _check_imagenet_head(builder_args)
        imagenet_path(name, builder_args)
        return
    if not isinstance(weights, (str, os.PathLike)) or not os.path.exists(weights):
        raise ValueError(f"weights must be None, 'imagenet' or the path of a weights file. Received: weights={weights!r}")


def _check_imagenet_head(builder_args) -> None:
    if builder_args.get("include_top", True) and builder_args.get("num_classes", 1000) != 1000:
        raise ValueError("weights='imagenet' with include_top=True needs num_classes=1000. "
                         f"Received: num_classes={builder_args.get('num_classes')!r}")


def load_pretrained(model, weights, *, name: str, **builder_args) -> None:
    """Load ``weights`` into tfcnn's ``name`` model (what builders call for ``weights=``).

    Args:
        model: the freshly built tfcnn model.
        weights: ``None``; ``'imagenet'``; the path of a Keras Applications
            ``.h5`` file (mapped by layer name); or a tfcnn-saved weights file.
        name: the registry key of the model.
        **builder_args: ``include_top``, ``input_shape``, ``num_classes``,
            ``pooling`` and architecture options (they pick Keras's ImageNet file).

    Raises:
        ValueError: bad ``weights`` value, or weights that do not fit.
        PretrainedWeightsUnavailable: ``'imagenet'`` offline without a cached file.
    """
    from tfcnn.models._common import load_weights

    if weights is None:
        return
    if isinstance(weights, str) and weights == "imagenet":
        _check_imagenet_head(builder_args)
        path = imagenet_path(name, builder_args)
        apply_weights(model, read_h5_weights(path), get_keras_application(name).name_map,
                      what=f"weights='imagenet' ({path.name})")
        return
    if isinstance(weights, (str, os.PathLike)) and str(weights).endswith((".h5", ".hdf5")) and os.path.isfile(weights):
        source = read_h5_weights(weights)
        own = {layer.name for layer in model.layers if layer.weights}
        if own <= set(source):  # a tfcnn-saved file: names are already ours
            apply_weights(model, source, lambda n: n, what=f"weights={str(weights)!r}")
        elif name in list_keras_applications():
            apply_weights(model, source, _APPS[name].name_map, what=f"weights={str(weights)!r}")
        else:
            missing = sorted(own - set(source))[:3]
            raise ValueError(f"the file lacks layers of {model.name} (e.g. {missing}). Received: weights={str(weights)!r}")
        return
    load_weights(model, weights)
