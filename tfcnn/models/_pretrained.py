"""Weights for a builder's ``weights=``: checked before the model is built, loaded after.

tfcnn layer names follow tfcnn's house rules (``conv_bn(name=N)`` makes
``N_conv``, ``N_bn``...), which differ a little from Keras Applications'
(``block1_conv1``, ``conv_dw_1``, ``bn_Conv1``). A model card's
:class:`~tfcnn.models.cards.KerasCounterpart` gives the name map from tfcnn
layer to Keras layer (or says that Keras numbers its layers by creation
order, so they pair up in graph order). With it, ``weights=`` accepts:

* ``None``;
* ``'imagenet'``: Keras's ImageNet file, from the Keras cache
  (``$KERAS_HOME/models``, ``~/.keras/models``) or downloaded when the network
  is reachable and ``TFCNN_OFFLINE`` is unset; the file's MD5 is checked
  against the one Keras Applications publishes, when it publishes one;
* the path of a Keras Applications ``.h5`` weights file;
* a tfcnn-saved file (``.h5`` or ``.weights.h5``, a ``.keras`` model, a TF checkpoint).

:func:`resolve_weights` runs before any layer is created and returns a
:class:`WeightsPlan`; :func:`load_weights` applies the plan to the finished
model (what :func:`tfcnn.models._common.finish` does for every family).
Weights of one layer are copied in Keras's order (``kernel, bias``;
``gamma, beta, moving_mean, moving_variance``), which all three tfcnn styles
share. A weight whose shape differs only by size-1 axes is reshaped (Keras's
MobileNet classifies with a 1x1 convolution, tfcnn with a ``Dense``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tfcnn._compat import keras, keras_file_format, load_keras_file
from tfcnn.errors import ModelError, PretrainedWeightsUnavailable, UnsafeFileError
from tfcnn.models.cards import KerasCounterpart, ModelCard
from tfcnn.models.registry import get_config, list_models

NameMap = Callable[[str], "str | None"]


def keras_counterpart(name: str) -> KerasCounterpart:
    """The Keras Applications counterpart on the card of tfcnn's ``name``.

    Raises:
        ModelError: the model has none.
    """
    card = get_config(name)
    if card.keras is None:
        raise ModelError(f"Keras Applications has no counterpart of this model (known: "
                         f"{', '.join(list_keras_applications())}). Received: name={name!r}")
    return card.keras


def list_keras_applications() -> list[str]:
    """tfcnn models whose card names a Keras Applications counterpart."""
    return [n for n in list_models() if get_config(n).keras is not None]


@dataclasses.dataclass(frozen=True)
class WeightsPlan:
    """Where a builder's weights come from, decided before the model is built.

    Attributes:
        path: the file (or TF checkpoint prefix) to read.
        keras: the Keras counterpart whose layer names the file may use, or ``None``.
        what: how error messages name the request (``"weights='imagenet' (x.h5)"``).
    """

    path: Path
    keras: KerasCounterpart | None
    what: str


def resolve_weights(card: ModelCard, weights, **builder_args) -> WeightsPlan | None:
    """Validate ``weights`` before building, so that a bad value fails before any layer exists.

    ``'imagenet'`` is resolved here (cache, or download when online) and its
    hash checked, so an offline run without the file fails fast.

    Args:
        card: the model's card.
        weights: ``None``, ``'imagenet'`` or a path.
        **builder_args: ``include_top``, ``input_shape``, ``num_classes``,
            ``pooling`` and the architecture's options (they pick Keras's file).

    Returns:
        ``None`` for ``weights=None``, else the :class:`WeightsPlan`.

    Raises:
        ModelError: not ``None``, ``'imagenet'`` or an existing file; no ImageNet
            file for this model or configuration; a head that cannot take it.
        PretrainedWeightsUnavailable: ``'imagenet'`` offline without a cached
            file, or a file whose hash is not the published one.
    """
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        path = imagenet_path(card, builder_args)
        return WeightsPlan(path, card.keras, f"weights='imagenet' ({path.name})")
    if not isinstance(weights, (str, os.PathLike)) or not (
            os.path.isfile(weights) or os.path.isfile(f"{os.fspath(weights)}.index")):
        raise ModelError(f"weights must be None, 'imagenet' or the path of a weights file. Received: weights={weights!r}")
    return WeightsPlan(Path(weights), card.keras, f"weights={os.fspath(weights)!r}")


def load_weights(model, plan: WeightsPlan | None) -> None:
    """Load what :func:`resolve_weights` decided into the finished ``model``, never running code from the file.

    The kind of file is read from its first bytes, not its name:

    * a whole saved model (a zipped ``.keras`` archive, or HDF5 with a
      ``model_config``) is opened by :func:`tfcnn._compat.load_keras_file`
      (safe mode: a ``Lambda`` with code is refused) and copied by layer name;
    * an HDF5 weights file in Keras Applications' layout is read array by
      array: by name when the names are the model's own, else through the Keras
      name map (or in graph order when Keras numbers its layers);
    * anything else (a TF checkpoint, tf_keras's ``.weights.h5`` layout) goes to
      ``model.load_weights``.

    Raises:
        UnsafeFileError: the file would run code when loaded.
        ModelError: the file cannot be read, or its weights do not fit (the first few layers are named).
    """
    if plan is None:
        return
    kind = keras_file_format(plan.path) if plan.path.is_file() else "checkpoint"
    if kind == "keras" or plan.path.suffix.lower() == ".keras" or (kind == "hdf5" and _is_model_h5(plan)):
        source = {layer.name: layer.get_weights() for layer in _saved_model(plan).layers if layer.weights}
        apply_weights(model, source, lambda n: n, what=plan.what)
    elif kind == "hdf5" and _is_layer_h5(plan.path):
        _load_h5(model, read_h5_weights(plan.path), plan)
    elif kind in ("hdf5", "checkpoint"):  # a TF checkpoint, or tf_keras's own .weights.h5 layout
        try:
            model.load_weights(os.fspath(plan.path))
        except (OSError, ValueError, KeyError) as err:
            raise ModelError(f"cannot load the weights file ({_first_line(err)}). Received: {plan.what}") from None
    else:
        raise ModelError(f"not a weights file: neither HDF5, a zipped .keras model nor a TF checkpoint. "
                         f"Received: {plan.what}")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _saved_model(plan: WeightsPlan):
    """The model saved in ``plan.path``, opened safely; unreadable files become one ModelError."""
    try:
        return load_keras_file(plan.path)
    except UnsafeFileError:
        raise
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot open the saved model ({_first_line(err)}). Received: {plan.what}") from None


def _is_model_h5(plan: WeightsPlan) -> bool:
    """Whether the HDF5 file is a whole saved model (it carries a ``model_config`` that would be deserialised)."""
    import h5py  # only needed for .h5 files; h5py comes with tf_keras

    try:
        with h5py.File(plan.path, "r") as f:
            return "model_config" in f.attrs
    except OSError as err:
        raise ModelError(f"cannot read the weights file as HDF5 ({_first_line(err)}). Received: {plan.what}") from None


def _is_layer_h5(path) -> bool:
    """Whether ``path`` is an HDF5 file in Keras Applications' layout (``layer_names`` at the top)."""
    import h5py  # only needed for .h5 files; h5py comes with tf_keras

    try:
        with h5py.File(path, "r") as f:
            return "layer_names" in f.get("model_weights", f).attrs
    except OSError as err:
        raise ModelError(f"cannot read the weights file as HDF5 ({err}). Received: weights={str(path)!r}") from None


def _load_h5(model, source: dict, plan: WeightsPlan) -> None:
    own = [layer.name for layer in model.layers if layer.weights]
    if set(own) <= set(source):  # a tfcnn-saved file: names are already ours
        apply_weights(model, source, lambda n: n, what=plan.what)
    elif plan.keras is not None and plan.keras.name_map is not None:
        apply_weights(model, source, plan.keras.name_map, what=plan.what)
    elif plan.keras is not None and len(source) == len(own):
        # Keras's own .h5 loader pairs weighted layers in creation order, the graph order tfcnn builds in too.
        apply_weights(model, source, dict(zip(own, source)).get, what=plan.what)
    else:
        missing = sorted(set(own) - set(source))[:3]
        raise ModelError(f"the file lacks layers of {model.name} (e.g. {missing}; it has {len(source)} weighted "
                         f"layers, the model {len(own)}). Received: {plan.what}")


def _fit(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    """``value`` reshaped to ``shape`` if they agree up to size-1 axes, else ``None``."""
    if tuple(value.shape) == tuple(shape):
        return value
    if [d for d in value.shape if d != 1] == [d for d in shape if d != 1]:
        return value.reshape(shape)
    return None


def apply_weights(model, source: Mapping[str, list], name_map: NameMap, *, what: str = "weights") -> int:
    """Set every weighted layer of ``model`` from ``source[name_map(layer.name)]``; all or nothing.

    Args:
        model: the tfcnn model.
        source: source layer name -> list of arrays in Keras's order.
        name_map: tfcnn layer name -> source layer name (or ``None``).
        what: how the error message names the source (``"weights='x.h5'"``).

    Returns:
        The number of layers set.

    Raises:
        ModelError: a weighted layer has no counterpart, or shapes differ; the
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
        raise ModelError(f"the weights do not fit {model.name}: {'; '.join(problems[:5])}{more}. Received: {what}")
    for layer, values in plan:
        layer.set_weights(values)
    return len(plan)


def read_h5_weights(path) -> dict[str, list[np.ndarray]]:
    """Layer name -> arrays of a Keras ``.h5`` weights (or whole-model) file, in the saved order.

    Raises:
        ModelError: the file is not a Keras HDF5 weights file.
    """
    import h5py  # only needed for .h5 files; h5py comes with tf_keras

    def text(s):
        return s.decode("utf8") if isinstance(s, bytes) else str(s)

    try:
        with h5py.File(path, "r") as f:
            group = f.get("model_weights", f)
            if "layer_names" not in group.attrs:
                raise ModelError(f"not a Keras HDF5 weights file (no layer_names). Received: weights={str(path)!r}")
            out = {}
            for layer_name in map(text, group.attrs["layer_names"]):
                g = group[layer_name]
                names = [text(n) for n in g.attrs.get("weight_names", [])]
                if names:
                    out[layer_name] = [np.asarray(g[n]) for n in names]
            return out
    except OSError as err:
        raise ModelError(f"cannot read the weights file as HDF5 ({err}). Received: weights={str(path)!r}") from None


def keras_cache_dirs() -> list[Path]:
    """Folders where Keras keeps downloaded application weights (``$KERAS_HOME/models``, ``~/.keras/models``)."""
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(Path(os.environ["KERAS_HOME"]) / "models")
    dirs += [Path.home() / ".keras" / "models", Path("/tmp/.keras/models")]
    return dirs


def network_reachable(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 1.5) -> bool:
    """Whether a TCP connection to ``host`` opens within ``timeout`` seconds (a cheap probe before downloading).

    ``TFCNN_OFFLINE`` set to anything but ``''``/``'0'`` answers ``False`` without trying.
    """
    if os.environ.get("TFCNN_OFFLINE", "") not in ("", "0"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def file_md5(path) -> str:
    """The MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_imagenet_request(card: ModelCard, builder_args) -> str:
    """Keras's ImageNet file name for these builder arguments, or a :class:`ModelError` saying why there is none."""
    if card.keras is None:
        raise ModelError(f"there are no ImageNet weights for {card.name}; use weights=None or a file path. "
                         "Received: weights='imagenet'")
    if builder_args.get("include_top", True) and builder_args.get("num_classes", 1000) != 1000:
        raise ModelError("weights='imagenet' with include_top=True needs num_classes=1000. "
                         f"Received: num_classes={builder_args.get('num_classes')!r}")
    file_name = card.keras.imagenet_file(builder_args)
    if file_name is None:
        raise ModelError(f"Keras has no ImageNet weights for {card.name} with these options "
                         f"({dict(builder_args)}). Received: weights='imagenet'")
    return file_name


def imagenet_path(card: ModelCard, builder_args: Mapping[str, Any]) -> Path:
    """The local, hash-checked path of Keras's ImageNet weights for ``card``'s model built with ``builder_args``.

    Looks in the Keras cache first; downloads (``keras.utils.get_file``) only
    if the network probe finds the network.

    Raises:
        ModelError: Keras has no ImageNet weights for this model or configuration.
        PretrainedWeightsUnavailable: the file is neither cached nor downloadable,
            or its MD5 is not the one Keras Applications publishes.
    """
    file_name = _check_imagenet_request(card, builder_args)
    url, md5 = card.keras.url(file_name), card.keras.md5(file_name)
    for folder in keras_cache_dirs():
        if (folder / file_name).is_file():
            return _checked(folder / file_name, md5)
    host = url.split("/")[2]
    if not network_reachable(host):
        cache = keras_cache_dirs()[0]
        raise PretrainedWeightsUnavailable(
            f"weights='imagenet' needs Keras's file {file_name}, which is not in the Keras cache ({cache}) and "
            f"{host} is unreachable or TFCNN_OFFLINE is set; download {url} into that folder or pass "
            "weights=<path>. Received: weights='imagenet'")
    return _checked(Path(keras.utils.get_file(file_name, url, cache_subdir="models")), md5)


def _checked(path: Path, md5: str | None) -> Path:
    if md5 is not None and (got := file_md5(path)) != md5:
        raise PretrainedWeightsUnavailable(
            f"{path} is not Keras's published file (MD5 {got}, expected {md5}); delete it and download it again. "
            "Received: weights='imagenet'")
    return path
