"""Train any registered model from one command.

    python -m tfcnn.train lenet
    python -m tfcnn.train resnet18 --dataset cifar10 --epochs 30 --augment --schedule cosine
    python -m tfcnn.train lenet --dataset idx:../shared/datasets/mnist-test --holdout 0.2

Every flag defaults to ``None`` so that the model's registered recipe
(``tfcnn.get_config(name).train``, with ``per_dataset`` overrides) supplies
the real default. A run writes into ``saved_models/<model>/`` or ``--out``:
``model.keras``, ``saved_model/`` (for serving), ``config.json``,
``metrics.json``, ``history.csv``, ``training_curves.png``,
``confusion_matrix.png`` and TensorBoard logs under ``logs/``.

Nothing is lost: Keras's ``BackupAndRestore`` checkpoints every epoch (and
every ``--checkpoint-every`` steps) into ``<out>/.resume/``; the same command
after a crash or SIGKILL resumes there and ends with the same number of
epochs. The finished artefacts are written to a staging folder and renamed
into place only when a run completes, so an interrupted run never leaves a
half-written model. A loss that becomes NaN or infinite stops the run and
keeps the last good checkpoint. A lock file keeps two runs out of one folder.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

from tfcnn import _io
from tfcnn._compat import keras, tf
from tfcnn.data import DatasetError, choose_input_shape, load_dataset, make_pipeline
from tfcnn.models.registry import create_model, get_config, list_models

PROG = "python -m tfcnn.train"
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine")
STRATEGIES = ("default", "mirrored", "multi_worker")
STYLES = ("keras", "slim", "raw")
AUX_LOSS_WEIGHT = 0.3
"""GoogLeNet's auxiliary classifiers count 0.3 each in the training loss (Szegedy et al. 2015, sec. 5)."""

# Used when neither the flag nor the model's recipe says otherwise.
DEFAULTS = {
    "epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "momentum": 0.9, "schedule": "constant",
    "weight_decay": 0.0, "dropout": None, "label_smoothing": 0.0, "augment": False, "val_split": 0.0,
    "input_size": None, "holdout": None,
}
# The options that fix the shape of what a checkpoint holds: a resumed run must agree on them.
RESUME_KEYS = ("model", "style", "dataset_used", "input_shape", "num_classes", "optimizer", "mixed_precision",
               "freeze_backbone", "weights")


class UsageError(ValueError):
    """Bad command-line input; reported as one line with exit code 2."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


# ------------------------------------------------------------------------------------------ options
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train a tfcnn model and save it with its metrics, curves and confusion matrix. Flags left "
                    "out take the model's recipe (tfcnn.get_config(MODEL).train).",
        epilog=f"models: {', '.join(list_models())}")
    p.add_argument("model", help="registered model name (see tfcnn.list_models())")
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=None,
                   help="digits | idx:DIR | folder:DIR | a tensorflow-datasets name (mnist, cifar10...); "
                        "default: the model's (lenet: mnist, falling back to the bundled digits)")
    g.add_argument("--data-dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR or ~/tensorflow_datasets)")
    g.add_argument("--manual-dir", default=None, help="folder with a tfds dataset's original files, to build it offline")
    g.add_argument("--holdout", type=float, default=None,
                   help="test fraction carved (seeded) from a dataset with a single split, e.g. idx:DIR of t10k only")
    g.add_argument("--val-split", type=float, default=None,
                   help="validation fraction taken from the training split (default: validate on the test split)")
    g.add_argument("--input-size", type=int, default=None,
                   help="square input side; default: the dataset's size, or the smallest the model accepts")
    g.add_argument("--augment", action="store_true", default=None,
                   help="random padded crop, and horizontal flip where it keeps the label")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="number of epochs")
    g.add_argument("--batch-size", type=int, default=None, help="global batch size (split across replicas)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="optimizer")
    g.add_argument("--lr", type=float, default=None, help="learning rate")
    g.add_argument("--momentum", type=float, default=None, help="momentum of sgd and rmsprop")
    g.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="learning-rate schedule: constant, step (x0.1 at 50%% and 75%% of training) or cosine")
    g.add_argument("--weight-decay", type=float, default=None, help="L2 coefficient: loss += wd * sum(kernel**2)")
    g.add_argument("--dropout", type=float, default=None, help="dropout rate of the model's head")
    g.add_argument("--label-smoothing", type=float, default=None, help="label smoothing of the cross-entropy")
    g = p.add_argument_group("model")
    g.add_argument("--style", choices=STYLES, default=None, help="layer style the model is built with (default keras)")
    g.add_argument("--weights", default=None, help="initial weights: 'imagenet' or a weights file (default: random)")
    g.add_argument("--freeze-backbone", action="store_true", default=None,
                   help="train only the classifier head (fine-tuning a pretrained model)")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=None, help="seed of weights, splits, shuffling and augmentation (0)")
    g.add_argument("--deterministic", action="store_true", default=None,
                   help="deterministic kernels (same seed, same result; slower)")
    g.add_argument("--mixed-precision", action="store_true", default=None,
                   help="mixed_bfloat16 on CPU, mixed_float16 on GPU; logits and loss stay float32")
    g.add_argument("--jit", action="store_true", default=None, help="compile the training step with XLA")
    g.add_argument("--strategy", choices=STRATEGIES, default=None,
                   help="default | mirrored (all local GPUs or logical CPUs) | multi_worker (configured by TF_CONFIG)")
    g.add_argument("--checkpoint-every", type=int, default=None,
                   help="also checkpoint every N training steps (default: once per epoch)")
    g.add_argument("--restart", action="store_true", help="discard an unfinished run in --out instead of resuming it")
    g.add_argument("--out", default=None, help="output folder (default: saved_models/<model>)")
    g.add_argument("--quiet", action="store_true", help="no progress bar; one summary line per epoch")
    return p


def _pick(args, recipe: dict, key: str):
    value = getattr(args, key, None)
    if value is not None:
        return value
    return recipe.get(key, DEFAULTS.get(key))


def resolve_options(args: argparse.Namespace) -> dict:
    """Merge command-line flags over the model's training recipe and validate them.

    Raises:
        UsageError: an option is out of range.
        ValueError: unknown model.
    """
    config = get_config(args.model)
    recipe = dict(config.train)
    keys = [k for k in DEFAULTS if k != "holdout"] + ["holdout"]
    opts = {k: _pick(args, recipe, k) for k in keys}
    opts.update({
        "explicit": sorted(k for k in (*keys, "dataset") if getattr(args, k, None) is not None),
        "model": args.model,
        "dataset": args.dataset or recipe.get("dataset", "digits"),
        "fallback_dataset": None if args.dataset else recipe.get("fallback_dataset"),
        "data_dir": args.data_dir, "manual_dir": args.manual_dir,
        "style": args.style or "keras",
        "weights": args.weights, "freeze_backbone": bool(args.freeze_backbone),
        "seed": args.seed if args.seed is not None else 0,
        "deterministic": bool(args.deterministic), "mixed_precision": bool(args.mixed_precision),
        "jit": bool(args.jit), "strategy": args.strategy or "default",
        "checkpoint_every": args.checkpoint_every, "restart": bool(args.restart),
        "out": args.out or os.path.join("saved_models", args.model), "quiet": bool(args.quiet),
    })
    if opts["dropout"] is not None and "dropout_rate" not in config.options:
        raise UsageError(f"{args.model} has no dropout option. Received: --dropout={opts['dropout']}")
    validate_options(opts)
    return opts


def validate_options(opts: dict) -> None:
    """Check every numeric option's range (again after a per-dataset recipe was merged).

    Raises:
        UsageError: naming the flag and the value received.
    """
    def bad(flag, why):
        key = flag.lstrip("-").replace("-", "_")
        raise UsageError(f"{flag} {why}. Received: {flag}={opts[key]!r}")

    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if not is_int(opts["epochs"]) or opts["epochs"] <= 0:
        bad("--epochs", "must be a positive int")
    if not is_int(opts["batch_size"]) or opts["batch_size"] <= 0:
        bad("--batch-size", "must be a positive int")
    if not opts["lr"] > 0 or not math.isfinite(opts["lr"]):
        bad("--lr", "must be > 0")
    if not 0 <= opts["momentum"] < 1:
        bad("--momentum", "must be in [0, 1)")
    if not opts["weight_decay"] >= 0:
        bad("--weight-decay", "must be >= 0")
    if not 0 <= opts["label_smoothing"] < 1:
        bad("--label-smoothing", "must be in [0, 1)")
    if opts["dropout"] is not None and not 0 <= opts["dropout"] < 1:
        bad("--dropout", "must be in [0, 1)")
    if not 0 <= opts["val_split"] < 1:
        bad("--val-split", "must be in [0, 1)")
    if opts["holdout"] is not None and not 0 < opts["holdout"] < 1:
        bad("--holdout", "must be in (0, 1)")
    if opts["checkpoint_every"] is not None and (not is_int(opts["checkpoint_every"]) or opts["checkpoint_every"] <= 0):
        bad("--checkpoint-every", "must be a positive int")
    if opts["input_size"] is not None and (not is_int(opts["input_size"]) or opts["input_size"] <= 0):
        bad("--input-size", "must be a positive int")
    if opts["schedule"] not in SCHEDULES:
        bad("--schedule", f"must be one of {SCHEDULES}")
    if opts["optimizer"] not in OPTIMIZERS:
        bad("--optimizer", f"must be one of {OPTIMIZERS}")


def check_out(out: str) -> None:
    """Refuse an output folder that cannot be created or written, without creating anything.

    Raises:
        UsageError: ``out`` is a file, or it (or its nearest existing parent) is not writable.
    """
    path = os.path.abspath(out)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"--out exists and is not a folder. Received: --out={out!r}")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"--out is not writable. Received: --out={out!r}")
        return
    parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out cannot be created ({parent} is not a writable folder). Received: --out={out!r}")


# ---------------------------------------------------------------------------------------- the parts
def make_schedule(name: str, lr: float, total_steps: int):
    """A learning rate or a Keras ``LearningRateSchedule`` over ``total_steps`` optimizer steps."""
    if name == "constant":
        return lr
    if name == "step":
        bounds = [max(1, total_steps // 2), max(2, (3 * total_steps) // 4)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(bounds, [lr, lr * 0.1, lr * 0.01])
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, total_steps))
    raise UsageError(f"--schedule must be one of {SCHEDULES}. Received: --schedule={name!r}")


def make_optimizer(name: str, lr, momentum: float = 0.9):
    """The optimizer by name; ``lr`` may be a float or a schedule."""
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "adamw":
        return keras.optimizers.AdamW(lr)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=momentum)
    raise UsageError(f"--optimizer must be one of {OPTIMIZERS}. Received: --optimizer={name!r}")


def make_strategy(name: str):
    """``tf.distribute`` strategy by name.

    ``mirrored`` uses every local GPU, or every logical CPU device when there
    is no GPU but several CPU devices are configured (how the tests run it).
    ``multi_worker`` reads the cluster from ``TF_CONFIG``.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if not tf.config.list_physical_devices("GPU"):
            cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
            if len(cpus) > 1:
                return tf.distribute.MirroredStrategy(devices=cpus)
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        _fresh_eager_context()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UsageError(f"--strategy must be one of {STRATEGIES}. Received: --strategy={name!r}")


def _fresh_eager_context() -> None:
    """Start TensorFlow's eager context again if something already ran an op in it.

    ``MultiWorkerMirroredStrategy`` must configure collective ops before the
    context starts ("Collective ops must be configured at program startup"),
    but a caller (a notebook, a test) may already have run an op. Nothing else
    exists at this point of a command-line run, so the context is reset
    (TensorFlow's own tests do the same) and the strategy can configure it.
    Importing tfcnn itself starts no context.
    """
    from tensorflow.python.eager import context

    if getattr(context.context(), "_context_handle", None) is not None:
        context._reset_context()


def _is_chief(strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0 and
                                             "chief" not in resolver.cluster_spec().as_dict())


def mixed_policy_name() -> str:
    """``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU (AMX makes bf16 matmuls ~4x faster here)."""
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def float32_outputs(model):
    """The same flat model with a float32 ``<output>_float32`` layer after each output.

    Under a mixed policy the builders' ``logits`` Dense computes in 16 bits;
    softmax and the loss need float32 for range and precision.
    """
    outputs = [keras.layers.Activation("linear", dtype="float32", name=f"{name}_float32")(out)
               for name, out in zip(model.output_names, model.outputs)]
    return keras.Model(model.inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)


def freeze_backbone(model) -> int:
    """Make every layer untrainable except the ones that produce the model's outputs (the classifier).

    Returns:
        The number of layers left trainable.
    """
    heads = set(model.output_names)
    for layer in model.layers:
        layer.trainable = layer.name in heads
    return len(heads)


def add_weight_decay(model, weight_decay: float) -> None:
    """Add ``weight_decay * sum(kernel ** 2)`` over every trainable kernel to the model's loss (L2)."""
    kernels = [w for w in model.trainable_weights if "kernel" in w.name.split("/")[-1]]
    if weight_decay and kernels:
        model.add_loss(lambda: weight_decay * tf.add_n(
            [tf.reduce_sum(tf.square(tf.cast(k, tf.float32))) for k in kernels]))


def count_macs(model) -> int:
    """Multiply-accumulates of one forward pass (``tfcnn.analysis.summarize``; layers it does not know count 0)."""
    from tfcnn.analysis import summarize

    return int(summarize(model).total_macs)


# ---------------------------------------------------------------------------------------- callbacks
class _NonFiniteGuard(keras.callbacks.Callback):
    """``TerminateOnNaN`` that also remembers where, so no checkpoint is taken of the broken weights.

    Reading the loss forces a device sync, which ``TerminateOnNaN`` pays on
    every step; this guard reads it every ``every`` steps (and before every
    step checkpoint) and at each epoch end, where Keras has synced anyway. The
    running mean loss stays NaN once one step was NaN, so nothing is missed.
    """

    def __init__(self, every: int = 1):
        super().__init__()
        self._supports_tf_logs = True  # logs arrive as tensors: no sync unless we read them
        self.where = None
        self.every = max(1, int(every))
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and self.where is None and (batch + 1) % self.every == 0 and not np.isfinite(float(loss)):
            self.where = (self._epoch, batch)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):  # the weights may be non-finite while the mean loss is not yet
        loss = (logs or {}).get("loss")
        if self.where is None and loss is not None and not np.isfinite(float(loss)):
            self.where = (epoch, None)
            self.model.stop_training = True
        if self.where is None and not all(np.isfinite(v).all() for v in self.model.get_weights()):
            self.where = (epoch, None)
            self.model.stop_training = True


class _Backup(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` that refuses to back up weights after the loss went non-finite."""

    def __init__(self, backup_dir, *, save_freq, guard: _NonFiniteGuard):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        self._guard = guard

    def _backup(self, epoch, batch=0):
        if self._guard.where is None:
            super()._backup(epoch, batch)


class _History(keras.callbacks.Callback):
    """The whole run's history (all epochs, across resumes) kept in ``.resume/history.json``.

    Written before the checkpoint of the same epoch, so a kill in between
    only makes the resumed run redo (and overwrite) that epoch's row.
    """

    def __init__(self, path, *, epochs: int, log, guard: _NonFiniteGuard, train_images: int):
        super().__init__()
        self.path, self.epochs, self.log, self.guard, self.train_images = path, epochs, log, guard, train_images
        self.rows: dict[int, dict] = {}
        self.resumed_at = 0
        self._first = True
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.rows = {int(k): v for k, v in json.load(f).items()}

    def on_epoch_begin(self, epoch, logs=None):
        if self._first:
            self._first = False
            self.resumed_at = epoch
            self.rows = {k: v for k, v in self.rows.items() if k < epoch}
            if epoch:
                self.log(f"resuming from the checkpoint of epoch {epoch}/{self.epochs}")
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.where is not None:
            return
        row = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        row["time_s"] = time.perf_counter() - self._start
        self.rows[epoch] = row
        _io.write_json(self.path, {str(k): v for k, v in self.rows.items()})
        shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "time_s" and k != "lr")
        self.log(f"epoch {epoch + 1}/{self.epochs}  {shown}  {row['time_s']:.1f}s")

    def history(self) -> dict[str, list[float]]:
        keys = [k for k in (self.rows[min(self.rows)] if self.rows else {}) if k != "time_s"]
        return {k: [self.rows[e].get(k, float("nan")) for e in sorted(self.rows)] for k in keys}


# ------------------------------------------------------------------------------------------ the run
def load_data(opts: dict, log):
    """Load ``opts['dataset']``, falling back to the recipe's ``fallback_dataset`` with one line."""
    kwargs = {"seed": opts["seed"], "holdout": opts["holdout"], "data_dir": opts["data_dir"],
              "manual_dir": opts["manual_dir"]}
    try:
        return load_dataset(opts["dataset"], **kwargs)
    except DatasetError as err:
        if not opts["fallback_dataset"]:
            raise
        reason = str(err).split(" Received:")[0]
        log(f"dataset {opts['dataset']!r} is not available ({reason[:160]}...); using {opts['fallback_dataset']!r}")
        return load_dataset(opts["fallback_dataset"], **kwargs)


@contextlib.contextmanager
def _locked(out: str):
    """Hold ``<out>/.lock`` for the run; a second run on the same folder is refused with one line."""
    import fcntl

    os.makedirs(out, exist_ok=True)
    f = open(os.path.join(out, ".lock"), "a+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise UsageError(f"another run (pid {holder}) is writing to this folder; wait for it or use another --out. "
                         f"Received: --out={out!r}") from None
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def _publish(stage: str, out: str) -> None:
    """Move every finished artefact from the staging folder into ``out`` with renames."""
    for name in sorted(os.listdir(stage)):
        src, dst = os.path.join(stage, name), os.path.join(out, name)
        if os.path.isdir(src) and os.path.exists(dst):
            old = tempfile.mkdtemp(prefix=f".{name}.old.", dir=out)
            os.rmdir(old)
            os.replace(dst, old)
            os.replace(src, dst)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(src, dst)


def _tensorboard(log_dir: str, log) -> list:
    """Keras's TensorBoard callback, or nothing (and one line) when the tensorboard package is missing."""
    try:
        import tensorboard  # noqa: F401  (tf.summary needs it; TensorFlow does not always install it)
    except ImportError:
        log("TensorBoard logs skipped: pip install tensorboard")
        return []
    return [keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, profile_batch=0)]


def _history_csv(history: dict) -> str:
    keys = list(history)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys)])
    return buf.getvalue()


def _versions() -> dict:
    import tfcnn

    return {"tfcnn": tfcnn.__version__, "tensorflow": tf.__version__, "tf_keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def train(opts: dict, log=print, callbacks=()) -> dict:
    """Train with resolved options (see :func:`resolve_options`) and write the artefacts.

    Args:
        opts: resolved options.
        log: where one-line messages go.
        callbacks: extra Keras callbacks for ``fit``.

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        UsageError, DatasetError, ValueError: the data, the output folder or an option cannot be used.
        TrainingDiverged: the loss became NaN or infinite (the last good checkpoint is kept).

    Example:
        >>> from tfcnn import train
        >>> opts = train.resolve_options(train.build_parser().parse_args(["lenet", "--dataset", "digits"]))
        >>> train.train(opts)["test_accuracy"] > 0.95
        True
    """
    check_out(opts["out"])
    # Multi-worker collectives must be configured before TensorFlow runs its first op: strategy first.
    strategy = make_strategy(opts["strategy"])
    keras.utils.set_random_seed(opts["seed"])
    if opts["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy()
    policy = mixed_policy_name() if opts["mixed_precision"] else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        return _train(opts, log, callbacks, policy, strategy)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _advise_on_speed(opts, model, log) -> None:
    """One line where a speed flag is measured to slow this kind of model down on this kind of device.

    Measured here (2 CPU cores with AMX, batch 32 at 64x64, benchmarks/bench_mixed_precision.py): bf16
    speeds ResNet-50 up, but depthwise convolutions have no bf16 fast path on CPUs (MobileNet v2
    training 0.8x), and XLA-compiled steps ran 6-8x slower than TensorFlow's own CPU kernels.
    """
    if tf.config.list_physical_devices("GPU"):
        return
    if opts["mixed_precision"] and any(isinstance(layer, keras.layers.DepthwiseConv2D) for layer in model.layers):
        log("note: --mixed-precision on a CPU slows depthwise convolutions (MobileNet v2 trained at 0.8x the "
            "float32 speed here); measure before keeping it")
    if opts["jit"]:
        log("note: --jit (XLA) on a CPU ran 6-8x slower than TensorFlow's CPU kernels here; it pays off on GPUs")


def _train(opts, log, extra_callbacks, policy, strategy):
    chief = _is_chief(strategy)
    data = load_data(opts, log)
    config = get_config(opts["model"])
    # A recipe may differ per dataset (LeNet: 30 epochs on the 1,437 digits, 15 on MNIST).
    for key, value in config.train.get("per_dataset", {}).get(data.name.split(":")[0], {}).items():
        if key not in opts["explicit"]:
            opts[key] = value
    validate_options(opts)

    requested = opts["input_size"]
    if isinstance(requested, (tuple, list)):
        requested = int(requested[0])
    try:
        input_shape, why = choose_input_shape(data.image_shape, model_shape=config.input_shape,
                                              min_input_size=config.min_input_size, requested=requested)
    except DatasetError as err:
        raise UsageError(str(err).replace("input_size=", "--input-size=")) from None
    log(f"{opts['model']} on {data.name}: input {'x'.join(map(str, input_shape))} ({why})")

    x_train, y_train, x_val, y_val = data.x_train, data.y_train, data.x_test, data.y_test
    validation = "test split"
    if opts["val_split"]:
        x_train, y_train, x_val, y_val = data.validation_split(opts["val_split"], seed=opts["seed"])
        validation = f"{opts['val_split']:.0%} of the training split"

    builder_kwargs = {"input_shape": input_shape, "num_classes": data.num_classes, "style": opts["style"],
                      "weights": opts["weights"]}
    if opts["dropout"] is not None:
        builder_kwargs["dropout_rate"] = opts["dropout"]
    if opts["weight_decay"] and "weight_decay" in config.options:
        builder_kwargs["weight_decay"] = opts["weight_decay"]
    with strategy.scope():
        model = create_model(opts["model"], **builder_kwargs)
        if policy != "float32":
            model = float32_outputs(model)
        if opts["freeze_backbone"]:
            freeze_backbone(model)
        if opts["weight_decay"] and "weight_decay" not in config.options:
            add_weight_decay(model, opts["weight_decay"])
        n_out = len(model.outputs)
        _advise_on_speed(opts, model, log)
        steps_per_epoch = math.ceil(len(y_train) / opts["batch_size"])
        schedule = make_schedule(opts["schedule"], opts["lr"], steps_per_epoch * opts["epochs"])
        smoothing = opts["label_smoothing"]
        loss = (keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing) if smoothing
                else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.compile(
            optimizer=make_optimizer(opts["optimizer"], schedule, opts["momentum"]),
            loss=[loss] * n_out if n_out > 1 else loss,
            loss_weights=[1.0] + [AUX_LOSS_WEIGHT] * (n_out - 1) if n_out > 1 else None,
            metrics=[["accuracy"]] + [[] for _ in range(n_out - 1)] if n_out > 1 else ["accuracy"],
            jit_compile=bool(opts["jit"]))

    pipe = {"input_shape": input_shape, "batch_size": opts["batch_size"], "seed": opts["seed"],
            "native_shape": data.image_shape, "num_outputs": n_out}
    train_ds = make_pipeline(x_train, y_train, training=True, augment_images=bool(opts["augment"]),
                             hflip=data.hflip, num_classes=data.num_classes if smoothing else None, **pipe)
    val_ds = make_pipeline(x_val, y_val, training=False, num_classes=data.num_classes if smoothing else None, **pipe)
    shard = tf.data.Options()
    shard.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_ds, val_ds = train_ds.with_options(shard), val_ds.with_options(shard)

    run = {
        "model": opts["model"], "style": opts["style"], "dataset_requested": opts["dataset"],
        "dataset_used": data.name, "dataset_split": data.note, "validation": validation,
        "input_shape": list(input_shape), "input_shape_reason": why, "num_classes": data.num_classes,
        "class_names": list(data.class_names), "train_images": len(y_train), "val_images": len(y_val),
        "test_images": len(data.y_test), "policy": policy, "replicas": strategy.num_replicas_in_sync,
        "aux_outputs": n_out - 1, "aux_loss_weight": AUX_LOSS_WEIGHT if n_out > 1 else None,
        **{k: v for k, v in opts.items() if k not in ("explicit", "restart", "quiet")},
        "versions": _versions(), "argv": sys.argv[1:] if opts.get("_cli") else None,
    }
    run.pop("_cli", None)

    out = opts["out"] if chief else tempfile.mkdtemp(prefix="tfcnn-worker-")
    with _locked(out) if chief else contextlib.nullcontext():
        return _fit_and_save(model, strategy, opts, run, data, train_ds, val_ds, out, chief, log, extra_callbacks)


def _fit_and_save(model, strategy, opts, run, data, train_ds, val_ds, out, chief, log, extra_callbacks):
    from tfcnn import evaluate as evaluate_lib
    from tfcnn import viz

    state = os.path.join(out, ".resume")
    for name in os.listdir(out):  # staging folders of runs killed while publishing
        if name.startswith(".staging-"):
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    fingerprint = {k: run[k] for k in RESUME_KEYS}
    run_file = os.path.join(state, "run.json")
    if os.path.exists(run_file) and opts["restart"]:
        shutil.rmtree(state)
    if os.path.exists(run_file):
        with open(run_file, encoding="utf-8") as f:
            previous = json.load(f)
        diff = {k: previous.get(k) for k in RESUME_KEYS if previous.get(k) != fingerprint[k]}
        if diff:
            raise UsageError(f"--out holds an unfinished run with other settings ({diff}); rerun that command to "
                             f"resume it, add --restart to discard it, or use another --out. Received: "
                             f"--out={opts['out']!r}")
    os.makedirs(state, exist_ok=True)
    _io.write_json(run_file, fingerprint)

    # With a progress bar Keras syncs every step anyway; quiet runs check every 50 steps and before checkpoints.
    guard = _NonFiniteGuard(every=1 if not opts["quiet"] else math.gcd(50, opts["checkpoint_every"] or 50))
    recorder = _History(os.path.join(state, "history.json"), epochs=opts["epochs"], log=log, guard=guard,
                        train_images=run["train_images"])
    backup = _Backup(os.path.join(state, "backup"), save_freq=opts["checkpoint_every"] or "epoch", guard=guard)
    # Order matters: the guard sees a bad loss before the backup would save it; history is written before backup.
    callbacks = [guard, recorder, backup, *_tensorboard(os.path.join(out, "logs"), log), *extra_callbacks]
    model.fit(train_ds, validation_data=val_ds, epochs=opts["epochs"], callbacks=callbacks,
              verbose=0 if opts["quiet"] else 1)
    if guard.where is not None:
        epoch, batch = guard.where
        at = f"epoch {epoch + 1}" + (f", step {batch + 1}" if batch is not None else "")
        kept = max(recorder.rows) + 1 if recorder.rows else 0
        raise TrainingDiverged(
            f"the loss became NaN or infinite at {at}; stopped. The last good checkpoint (epoch {kept}) is kept in "
            f"{state}; lower --lr (or add --restart) and run again.")

    history = recorder.history()
    train_time = sum(r["time_s"] for r in recorder.rows.values())
    infer = model if len(model.outputs) == 1 else keras.Model(model.inputs, model.outputs[0], name=model.name)
    test_ds = make_pipeline(data.x_test, data.y_test, run["input_shape"], batch_size=opts["batch_size"],
                            training=False, native_shape=data.image_shape)
    result = evaluate_lib.evaluate_model(infer, test_ds, data.num_classes)

    trainable = int(sum(np.prod(w.shape) for w in infer.trainable_weights))
    metrics = {
        "model": opts["model"], "dataset": data.name, "test_accuracy": result["accuracy"],
        "test_loss": result["loss"], "per_class_accuracy": result["per_class_accuracy"],
        "params": int(infer.count_params()), "trainable_params": trainable, "macs": count_macs(infer),
        "epochs": opts["epochs"], "resumed_at_epoch": recorder.resumed_at, "batch_size": opts["batch_size"],
        "wall_time_s": round(train_time, 3), "train_images": run["train_images"],
        "train_images_per_s": round(run["train_images"] * len(recorder.rows) / train_time, 1) if train_time else None,
        "final": {k: v[-1] for k, v in history.items()} if history else {},
    }
    title = f"{opts['model']} on {data.name}"
    stage = tempfile.mkdtemp(prefix=".staging-", dir=out)
    try:
        infer.save(os.path.join(stage, "model.keras"))
        with contextlib.redirect_stdout(io.StringIO()):  # export() prints its signature listing
            infer.export(os.path.join(stage, "saved_model"))
        _io.write_json(os.path.join(stage, "config.json"), run)
        _io.write_text(os.path.join(stage, "history.csv"), _history_csv(history))
        viz.save_figure(viz.training_curves(history, title=title), os.path.join(stage, "training_curves.png"))
        viz.save_figure(viz.confusion_matrix(result["confusion_matrix"], class_names=data.class_names,
                                             title=f"{title}: test accuracy {result['accuracy']:.4f}"),
                        os.path.join(stage, "confusion_matrix.png"))
        _io.write_json(os.path.join(stage, "metrics.json"), metrics)  # last: its presence marks a finished run
        _publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    if not chief:
        shutil.rmtree(out, ignore_errors=True)
    log(f"{opts['model']}: test accuracy {result['accuracy']:.4f} on {data.name} "
        f"({len(recorder.rows)} epochs, {train_time:.1f}s); " + (f"saved to {opts['out']}" if chief else "the chief saves"))
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input, 1 if training diverged)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        opts = resolve_options(args)
        opts["_cli"] = argv is None
        log = (lambda msg: print(msg, flush=True))
        train(opts, log=log)
    except ValueError as err:  # UsageError, DatasetError and builder ValueErrors: one line, exit 2
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


if __name__ == "__main__":
    raise SystemExit(main())
