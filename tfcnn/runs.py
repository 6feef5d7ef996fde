"""The run folder: what ``python -m tfcnn.train`` writes and everything downstream reads.

One :class:`RunDir` owns the folder. Training publishes into it through
:meth:`RunDir.staged` (every artefact staged, fsynced, then renamed into
place with ``metrics.json`` last, so its presence marks a finished run);
``compress``, ``evaluate``, ``predict``, ``viz``, the benchmarks and the tests
open it with :meth:`RunDir.open`, load its model whatever wrapped it
(:func:`load_model`: plain, pruned, QAT, clustered) and rebuild its dataset
with every option it was trained with (:meth:`RunDir.load_dataset`).

The folder (schema version :data:`SCHEMA_VERSION`)::

    model.keras              the trained model (inference graph: no auxiliary heads)
    saved_model/             the same model as a TensorFlow SavedModel, for serving
    config.json              how the run was made: the options and the dataset actually used
    metrics.json             test results; written last, it marks the run as finished
    history.csv              one row per epoch: loss, accuracy, val_loss, val_accuracy
    training_curves.png      history.csv drawn
    confusion_matrix.png     the test split's confusion matrix
    logs/                    TensorBoard event files
    .resume/                 checkpoints of an unfinished run (removed when it finishes)
    tflite/, compressed/,    what ``python -m tfcnn.compress`` adds
    compression.{json,md,png}

Example:
    >>> from tfcnn.runs import RunDir
    >>> run = RunDir.open("saved_models/lenet")          # doctest: +SKIP
    >>> model, data = run.load_model(), run.load_dataset()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile

import numpy as np

from tfcnn import _io
from tfcnn._compat import load_keras_file, tfmot
from tfcnn.errors import RunDirError, UnsafeFileError

SCHEMA_VERSION = 1
"""Version of the layout and of the keys below; a folder of another version is refused with one line."""

# The files of a run folder.
MODEL = "model.keras"
SAVED_MODEL = "saved_model"
CONFIG = "config.json"
METRICS = "metrics.json"
HISTORY = "history.csv"
CURVES = "training_curves.png"
CONFUSION = "confusion_matrix.png"
LOGS = "logs"
RESUME = ".resume"
TFLITE = "tflite"
COMPRESSED = "compressed"
LABELS = "labels.txt"
ARTEFACTS = (MODEL, SAVED_MODEL, CONFIG, METRICS, HISTORY, CURVES, CONFUSION, LOGS)
"""The eight artefacts of a finished training run."""

# Keys of config.json that the readers rely on.
K_SCHEMA = "schema_version"
K_MODEL = "model"
K_STYLE = "style"
K_DATASET = "dataset_used"          # the dataset actually trained on (after any fallback)
K_DATASET_REQUESTED = "dataset_requested"
K_SEED = "seed"
K_HOLDOUT = "holdout"
K_DATA_DIR = "data_dir"
K_MANUAL_DIR = "manual_dir"
K_INPUT_SHAPE = "input_shape"
K_NUM_CLASSES = "num_classes"
K_CLASS_NAMES = "class_names"
K_BATCH_SIZE = "batch_size"
K_OPTIMIZER = "optimizer"
K_LR = "lr"
K_RESIZE = "resize"                  # how image files of another aspect ratio were fitted: crop, pad, stretch
K_SKIP_BAD_IMAGES = "skip_bad_images"
REQUIRED_KEYS = (K_SCHEMA, K_MODEL, K_DATASET, K_SEED, K_INPUT_SHAPE, K_NUM_CLASSES, K_CLASS_NAMES,
                 K_BATCH_SIZE, K_OPTIMIZER, K_LR)
DATASET_OPTIONS = (K_HOLDOUT, K_DATA_DIR, K_MANUAL_DIR, K_SKIP_BAD_IMAGES)
"""Loader options recorded in ``config.json`` and passed back to ``tfcnn.data.load_dataset``."""


# ------------------------------------------------------------------------------------------ loading
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

    Never runs code stored in the file (:func:`tfcnn._compat.load_keras_file`).

    Raises:
        RunDirError: the file is missing or cannot be read as a Keras model.
        UnsafeFileError: the file would run code when loaded.

    Example:
        >>> model = load_model("saved_models/lenet/compressed/qat.h5")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RunDirError(f"model file does not exist. Received: path={path!r}")
    from tfcnn.layers import raw  # noqa: F401  (registers the raw layers for deserialisation)

    try:
        return load_keras_file(path, compile=compile)
    except UnsafeFileError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        first = err
    except Exception as err:  # noqa: BLE001  (h5py/zipfile/OS errors: not a Keras file at all)
        raise RunDirError(f"cannot read the model file ({type(err).__name__}: {_first_line(err)}). "
                          f"Received: path={path!r}") from None
    t = tfmot()
    try:
        with t.sparsity.keras.prune_scope(), t.quantization.keras.quantize_scope(), \
                t.clustering.keras.cluster_scope():
            return load_keras_file(path, compile=compile)
    except UnsafeFileError:
        raise
    except Exception as err:  # noqa: BLE001  (any failure here means the file is unreadable)
        raise RunDirError(f"cannot read the model file ({type(first).__name__}: {_first_line(first)}; "
                          f"with TFMOT scopes: {_first_line(err)}). Received: path={path!r}") from None


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# ------------------------------------------------------------------------------------------ the folder
class RunDir:
    """A run folder: its paths, its metadata, its model and its data.

    Construct with :meth:`open` to read a finished run (it validates the
    folder), or ``RunDir(path)`` to write one (:meth:`staged`, :meth:`lock`).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._config: dict | None = None
        self._metrics: dict | None = None

    def __repr__(self) -> str:
        return f"RunDir({self.path!r})"

    def file(self, *names: str) -> str:
        """The path of an entry of the folder (``run.file("tflite", "int8.tflite")``)."""
        return os.path.join(self.path, *names)

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, argname: str = "model_dir") -> RunDir:
        """Open a finished run folder, checking its layout and ``config.json``.

        Raises:
            RunDirError: not a folder, unfinished (no ``metrics.json``), no ``model.keras``,
                ``config.json`` missing, corrupt, not an object, of another schema or lacking a key.
        """
        run = cls(path)
        where = f"Received: {argname}={run.path!r}"
        if not os.path.isdir(run.path):
            raise RunDirError(f"{argname} is not a folder. {where}")
        if not os.path.isfile(run.file(METRICS)):
            hint = " (an unfinished run: rerun its training command to resume it)" if \
                os.path.isdir(run.file(RESUME)) else " (train one with python -m tfcnn.train)"
            raise RunDirError(f"{argname} is not a finished tfcnn run: it has no {METRICS}{hint}. {where}")
        if not os.path.isfile(run.file(MODEL)):
            raise RunDirError(f"{argname} has no {MODEL}. {where}")
        config = run.config  # validates
        if config.get(K_SCHEMA) != SCHEMA_VERSION:
            raise RunDirError(f"{CONFIG} is of schema version {config.get(K_SCHEMA)!r}, this tfcnn reads version "
                              f"{SCHEMA_VERSION}; retrain with this version. {where}")
        missing = [k for k in REQUIRED_KEYS if k not in config]
        if missing:
            raise RunDirError(f"{CONFIG} lacks {', '.join(missing)}. {where}")
        return run

    def _read_object(self, name: str) -> dict:
        path = self.file(name)
        if not os.path.isfile(path):
            raise RunDirError(f"the run folder has no {name}. Received: model_dir={self.path!r}")
        try:
            data = _io.read_json(path, what=name)
        except ValueError as err:
            raise RunDirError(f"{err}. Received: model_dir={self.path!r}") from None
        if not isinstance(data, dict):
            raise RunDirError(f"{name} in {self.path} is not a JSON object (it holds a {type(data).__name__}). "
                              f"Received: model_dir={self.path!r}")
        return data

    @property
    def config(self) -> dict:
        """``config.json``: the options of the run and the dataset actually used."""
        if self._config is None:
            self._config = self._read_object(CONFIG)
        return self._config

    @property
    def metrics(self) -> dict:
        """``metrics.json``: the test results of the finished run."""
        if self._metrics is None:
            self._metrics = self._read_object(METRICS)
        return self._metrics

    @property
    def is_finished(self) -> bool:
        """Whether the run was published (``metrics.json`` exists)."""
        return os.path.isfile(self.file(METRICS))

    @property
    def model_name(self) -> str:
        """The registry name of the trained architecture."""
        return str(self.config[K_MODEL])

    @property
    def class_names(self) -> list[str]:
        """One name per output class."""
        return [str(c) for c in self.config[K_CLASS_NAMES]]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The model's input ``(H, W, C)``; images are preprocessed to it."""
        return tuple(int(d) for d in self.config[K_INPUT_SHAPE])

    @property
    def resize(self) -> str:
        """How the run fitted image files of another aspect ratio to its input (``'crop'`` for runs that predate it)."""
        return str(self.config.get(K_RESIZE) or "crop")

    @property
    def fine_tuning(self) -> dict:
        """What the run trained with, for fine-tuning after compression: ``batch_size``, ``optimizer``, ``lr``."""
        c = self.config
        return {"batch_size": int(c[K_BATCH_SIZE]), "optimizer": str(c[K_OPTIMIZER]), "lr": float(c[K_LR])}

    def dataset_request(self, **overrides) -> tuple[str, dict]:
        """The dataset spec and every loader option the run used; ``None`` overrides are ignored."""
        c = self.config
        spec = overrides.pop("dataset", None) or c[K_DATASET]
        opts = {K_SEED: int(c.get(K_SEED) or 0), **{k: c.get(k) for k in DATASET_OPTIONS}}
        opts.update({k: v for k, v in overrides.items() if v is not None})
        return str(spec), opts

    def load_dataset(self, **overrides):
        """The run's dataset, rebuilt with the same spec, seed, hold-out and folders (``tfcnn.data.DataSplits``).

        Raises:
            tfcnn.errors.DatasetError: the dataset cannot be loaded here.
        """
        from tfcnn.data import load_dataset

        spec, opts = self.dataset_request(**overrides)
        return load_dataset(spec, **opts)

    def load_model(self, name: str = MODEL, *, compile: bool = False):
        """The trained model (or another model file of the folder, ``'compressed/qat.h5'``)."""
        return load_model(self.file(name), compile=compile)

    def load(self) -> LoadedRun:
        """The model and its data together, with the run's preprocessing (what compression needs)."""
        return LoadedRun(self, self.load_model(), self.load_dataset())

    # -- writing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def staged(self):
        """A staging folder inside the run folder; on success its entries are published, ``metrics.json`` last.

        Yields:
            The staging folder's path; write the artefacts into it by their names.
        """
        os.makedirs(self.path, exist_ok=True)
        for name in os.listdir(self.path):  # staging folders of runs killed while publishing
            if name.startswith(".staging-"):
                shutil.rmtree(self.file(name), ignore_errors=True)
        stage = tempfile.mkdtemp(prefix=".staging-", dir=self.path)
        try:
            yield stage
            _io.publish(stage, self.path, last=METRICS)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        self._config = self._metrics = None

    @contextlib.contextmanager
    def lock(self, *, argname: str = "--out"):
        """Hold ``.lock`` while writing; a second writer is refused with one line.

        The file is removed when the lock is released, so a finished run leaves no stale ``.lock``.
        """
        import fcntl

        os.makedirs(self.path, exist_ok=True)
        path = self.file(".lock")
        f = open(path, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder removes the file when it is done; a lock taken on that removed file is no lock.
            if not os.path.exists(path) or os.stat(path).st_ino != os.fstat(f.fileno()).st_ino:
                raise OSError("lock file replaced")
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "?"
            f.close()
            raise RunDirError(f"another run (pid {holder}) is writing to this folder; wait for it or use another "
                              f"{argname}. Received: {argname}={self.path!r}") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()


@dataclasses.dataclass
class LoadedRun:
    """A finished run with its model and data loaded, and batches preprocessed as in training."""

    run: RunDir
    model: object
    data: object  # tfcnn.data.DataSplits

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.model.input_shape[1:])

    def pipeline(self, split: str, *, batch_size: int | None = None, training: bool = False, seed: int = 0,
                 indices=None):
        """Batches of ``'train'`` or ``'test'`` through ``tfcnn.data.make_pipeline``: the run's preprocessing."""
        from tfcnn.data import make_pipeline

        x, y = (self.data.x_train, self.data.y_train) if split == "train" else (self.data.x_test, self.data.y_test)
        if indices is not None:
            x, y = x[indices], y[indices]
        return make_pipeline(x, y, self.input_shape, batch_size=batch_size or self.run.fine_tuning["batch_size"],
                             training=training, seed=seed, native_shape=self.data.image_shape, cache=False,
                             resize=self.run.resize)

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


__all__ = ["ARTEFACTS", "SCHEMA_VERSION", "LoadedRun", "RunDir", "load_model"]
