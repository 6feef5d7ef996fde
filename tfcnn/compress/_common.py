"""What the compression modules share: the error type, loading a run and its data, fine-tuning, sparsity.

TFMOT (``tensorflow_model_optimization``) is imported only inside functions
(:func:`tfmot`), so that ``import tfcnn`` and ``import tfcnn.compress`` stay
light and never touch it.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from tfcnn._compat import keras, tf


class CompressError(ValueError):
    """Bad input to compression: the message names the argument and ends with what was received."""


def tfmot():
    """Import TFMOT lazily (it is slow to import and sets ``TF_USE_LEGACY_KERAS`` itself)."""
    import tensorflow_model_optimization as _tfmot

    return _tfmot


# ---------------------------------------------------------------------------
# Loading models, including pruned, clustered and QAT ones
# ---------------------------------------------------------------------------


def load_model(path: str | os.PathLike, *, compile: bool = False):
    """Load a Keras model saved by tfcnn, including pruned, clustered and quantization-aware ones.

    A model saved mid-pruning or after QAT holds TFMOT wrapper layers that
    plain ``load_model`` does not know ("Unknown layer: PruneLowMagnitude").
    This tries a plain load first (no TFMOT import) and then loads again
    inside TFMOT's ``prune_scope``, ``quantize_scope`` and ``cluster_scope``
    together, so the caller never needs to know which one applies.

    Args:
        path: a ``.keras`` or ``.h5`` file (QAT models are saved as ``.h5``:
            tf_keras 2.21's ``.keras`` format drops the quantizer variables).
        compile: restore the training configuration too.

    Returns:
        The ``tf_keras.Model``.

    Raises:
        CompressError: the file is missing or cannot be read as a Keras model.

    Example:
        >>> from tfcnn.compress import load_model
        >>> model = load_model("saved_models/lenet/compressed/qat.h5")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CompressError(f"model file does not exist. Received: path={path!r}")
    from tfcnn.layers import raw  # noqa: F401  (registers the raw layers for deserialisation)

    try:
        return keras.models.load_model(path, compile=compile)
    except (ValueError, TypeError, KeyError) as err:
        first = err
    except Exception as err:  # noqa: BLE001  (h5py/zipfile/OS errors: not a Keras file at all)
        raise CompressError(f"cannot read the model file ({type(err).__name__}: {_first_line(err)}). "
                            f"Received: path={path!r}") from None
    t = tfmot()
    try:
        with t.sparsity.keras.prune_scope(), t.quantization.keras.quantize_scope(), \
                t.clustering.keras.cluster_scope():
            return keras.models.load_model(path, compile=compile)
    except Exception as err:  # noqa: BLE001  (any failure here means the file is unreadable)
        raise CompressError(f"cannot read the model file ({type(first).__name__}: {_first_line(first)}; "
                            f"with TFMOT scopes: {_first_line(err)}). Received: path={path!r}") from None


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# ---------------------------------------------------------------------------
# A trained run directory and its data
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """A model directory written by ``python -m tfcnn.train`` and everything compression needs from it."""

    model_dir: str
    model: object
    meta: dict
    data: object  # tfcnn.data.DataSplits
    input_shape: tuple
    batch_size: int
    optimizer: str
    lr: float

    def pipeline(self, split: str, *, batch_size: int | None = None, training: bool = False, seed: int = 0,
                 indices=None):
        """Batches of one split through ``tfcnn.data.make_pipeline``: the training run's preprocessing."""
        from tfcnn.data import make_pipeline

        x, y = (self.data.x_train, self.data.y_train) if split == "train" else (self.data.x_test, self.data.y_test)
        if indices is not None:
            x, y = x[indices], y[indices]
        kwargs = {}
        if getattr(self.data, "native_shape", None) is not None:  # datasets of image files
            kwargs["native_shape"] = self.data.native_shape
        return make_pipeline(x, y, self.input_shape, batch_size=batch_size or self.batch_size, training=training,
                             seed=seed, **kwargs)

    def _images(self, split: str, indices=None) -> np.ndarray:
        batches = [x.numpy() for x, _ in self.pipeline(split, batch_size=256, indices=indices)]
        return np.concatenate(batches).astype(np.float32)

    def test_images(self) -> np.ndarray:
        """The whole test split, preprocessed exactly as in training, as float32 NHWC."""
        return self._images("test")

    def representative(self, n: int = 200, seed: int = 0) -> np.ndarray:
        """``n`` seeded-random training images, preprocessed, for int8 calibration."""
        rng = np.random.default_rng(seed)
        return self._images("train", np.sort(rng.permutation(len(self.data.y_train))[:n]))


def read_meta(model_dir: str) -> dict:
    """The run's metadata: ``config.json`` (options and the dataset actually used), else ``metrics.json``.

    Raises:
        CompressError: ``model_dir`` is not a directory written by ``tfcnn.train``.
    """
    if not os.path.isdir(model_dir):
        raise CompressError(f"MODEL_DIR is not a directory. Received: model_dir={model_dir!r}")
    model_file = os.path.join(model_dir, "model.keras")
    meta: dict = {}
    for name in ("metrics.json", "config.json"):  # config.json, when present, wins
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    loaded = json.load(f)
            except (OSError, ValueError) as err:
                raise CompressError(f"{name} cannot be read ({_first_line(err)}). Received: model_dir={model_dir!r}")
            if not isinstance(loaded, dict):
                raise CompressError(f"{name} is not a JSON object. Received: model_dir={model_dir!r}")
            meta.update(loaded)
    if not os.path.isfile(model_file) or not ("dataset" in meta or "dataset_used" in meta):
        raise CompressError("MODEL_DIR is not a trained tfcnn model (it needs model.keras and metrics.json or "
                            f"config.json naming the dataset, as written by python -m tfcnn.train). "
                            f"Received: model_dir={model_dir!r}")
    return meta


def _dataset_request(meta: dict) -> tuple[str, dict]:
    """The dataset spec and loader options recorded in the run's metadata."""
    ds = meta.get("dataset_used") or meta["dataset"]  # config.json: the dataset actually used (after fallback)
    opts = dict(meta.get("dataset_options") or {})
    if isinstance(ds, dict):  # {"spec": ..., options...}
        opts.update({k: v for k, v in ds.items() if k not in ("spec", "name")})
        ds = ds.get("spec") or ds.get("name")
    spec = meta.get("dataset_spec") or ds
    for key in ("holdout", "data_dir"):
        if key in meta and key not in opts and meta[key] is not None:
            opts[key] = meta[key]
    return str(spec), opts


def load_run(model_dir: str | os.PathLike) -> Run:
    """Load a trained run: its model, metadata and the same data it was trained and tested on.

    Raises:
        CompressError: not a trained tfcnn model, or its model file is corrupt.
        tfcnn.data.DatasetError: the recorded dataset cannot be loaded.
    """
    from tfcnn.data import load_dataset
    from tfcnn.models.registry import get_config

    model_dir = os.fspath(model_dir)
    meta = read_meta(model_dir)
    model = load_model(os.path.join(model_dir, "model.keras"))
    spec, opts = _dataset_request(meta)
    seed = int(meta.get("seed", 0) or 0)
    try:
        data = load_dataset(spec, seed=seed, **opts)
    except TypeError:  # a loader that does not take these options
        data = load_dataset(spec, seed=seed)
    recipe = {}
    try:
        recipe = dict(get_config(meta["model"]).train) if "model" in meta else {}
    except ValueError:
        pass
    batch_size = int(meta.get("batch_size") or recipe.get("batch_size") or 32)
    optimizer = str(meta.get("optimizer") or recipe.get("optimizer") or "adam")
    lr = float(meta.get("lr") or recipe.get("lr") or 1e-3)
    input_shape = tuple(int(d) for d in model.input_shape[1:])
    return Run(model_dir, model, meta, data, input_shape, batch_size, optimizer, lr)


# ---------------------------------------------------------------------------
# Training and weight statistics
# ---------------------------------------------------------------------------


def compile_for_fine_tuning(model, *, optimizer: str = "adam", lr: float = 1e-3) -> None:
    from tfcnn.train import make_optimizer

    model.compile(optimizer=make_optimizer(optimizer, lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


def keras_accuracy(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> tuple[float, np.ndarray]:
    """Top-1 accuracy and predicted classes of a Keras model on preprocessed images."""
    logits = model.predict(images, batch_size=batch_size, verbose=0)
    pred = np.argmax(logits, axis=-1)
    return float(np.mean(pred == np.asarray(labels))), pred


def kernel_of(layer):
    """The main weight matrix of a conv/dense-like layer (``kernel``), or ``None``."""
    kernel = getattr(layer, "kernel", None)
    return kernel if isinstance(kernel, tf.Variable) else None


def kernel_sparsity(model) -> dict[str, dict]:
    """Measured fraction of exact zeros in each layer's kernel.

    Returns:
        ``{layer_name: {"sparsity": float, "params": int, "shape": [...]}}`` for
        every layer with a ``kernel`` (Conv2D, Dense and the raw layers).
    """
    out = {}
    for layer in model.layers:
        kernel = kernel_of(layer)
        if kernel is None:
            continue
        w = kernel.numpy()
        out[layer.name] = {"sparsity": float(np.mean(w == 0)), "params": int(w.size), "shape": list(w.shape)}
    return out


def overall_sparsity(per_layer: dict[str, dict]) -> float:
    total = sum(v["params"] for v in per_layer.values())
    return float(sum(v["sparsity"] * v["params"] for v in per_layer.values()) / total) if total else 0.0
