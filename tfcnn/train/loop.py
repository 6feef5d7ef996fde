"""The training run: load the data, resolve the options, build, fit with checkpoints, publish the run folder."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import math
import os
import platform
import shutil
import sys
import tempfile

import numpy as np

from tfcnn import _io, runs, viz
from tfcnn._compat import keras, tf
from tfcnn.analysis import summarize
from tfcnn.data import choose_input_shape, load_dataset, make_pipeline, shard_inputs
from tfcnn.errors import DatasetError, TrainingDiverged, UsageError
from tfcnn.metrics import evaluate_model
from tfcnn.models import create_transfer_model
from tfcnn.models.registry import get_config
from tfcnn.optim import make_optimizer, make_schedule
from tfcnn.train import callbacks as cb
from tfcnn.train import distribute, recipes, surgery
from tfcnn.train.options import FINETUNE_LR_FACTOR, TrainOptions, TrainRequest, check_out, fit_batch_to_data, resolve

AUX_LOSS_WEIGHT = 0.3
"""GoogLeNet's auxiliary classifiers count 0.3 each in the training loss (Szegedy et al. 2015, sec. 5)."""

RESUME_KEYS = ("model", "style", "dataset_used", "input_shape", "num_classes", "optimizer", "mixed_precision",
               "freeze_backbone", "weights", "seed", "epochs", "batch_size", "lr", "momentum", "schedule",
               "weight_decay", "label_smoothing", "dropout", "augment", "val_split", "holdout", "checkpoint_every",
               "unfreeze_after", "resize")
"""What a resumed run must agree on: what the checkpoint holds, and every option that shapes the rest of the
run (a changed ``--lr`` or ``--epochs`` would otherwise be ignored by the restored optimizer and schedule while
``config.json`` recorded the new value)."""


@dataclasses.dataclass
class _Prepared:
    """Everything a run needs once the data is loaded and the model compiled."""

    opts: TrainOptions
    data: object
    model: object
    train_ds: object
    val_ds: object
    config: dict
    strategy: object = None
    steps_per_epoch: int = 0


def train(request: TrainRequest, log=print, callbacks=()) -> dict:
    """Train as ``request`` asks and publish the run folder (see :mod:`tfcnn.runs`).

    Args:
        request: from :func:`tfcnn.train.resolve_options`.
        log: where one-line messages go.
        callbacks: extra Keras callbacks for ``fit``.

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        UsageError, DatasetError: the data, the output folder or an option cannot be used.
        TrainingDiverged: the loss became NaN or infinite (the last good checkpoint is kept).

    Example:
        >>> from tfcnn import train
        >>> request = train.resolve_options(train.build_parser().parse_args(["lenet", "--dataset", "digits"]))
        >>> train.train(request)["test_accuracy"] > 0.95  # doctest: +SKIP
        True
    """
    check_out(request.out, overwrite=request.overwrite)
    # Multi-worker collectives must be configured before TensorFlow runs its first op: strategy first.
    strategy = distribute.make_strategy(request.strategy)
    keras.utils.set_random_seed(request.seed)
    if request.deterministic:
        tf.config.experimental.enable_op_determinism()
    previous_policy = keras.mixed_precision.global_policy()
    policy = distribute.mixed_policy_name() if request.mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)
    try:
        prepared = _prepare(request, strategy, policy, log)
        chief = distribute.is_chief(strategy)
        out = request.out if chief else tempfile.mkdtemp(prefix="tfcnn-worker-")
        run = runs.RunDir(out)
        with run.lock() if chief else contextlib.nullcontext():
            metrics = _fit_and_publish(prepared, run, log, callbacks)
        if not chief:
            shutil.rmtree(out, ignore_errors=True)
        return metrics
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def load_data(request: TrainRequest, log):
    """Load the requested dataset (or the model's), falling back to the recipe's offline dataset with one line."""
    default, fallback = recipes.default_dataset(request.model)
    spec = request.dataset or default
    kwargs = {"seed": request.seed, "holdout": request.tuned.get("holdout"), "data_dir": request.data_dir,
              "manual_dir": request.manual_dir, "skip_bad_images": request.skip_bad_images}
    try:
        data = load_dataset(spec, **kwargs)
    except DatasetError as err:
        if request.dataset or not fallback:
            raise
        reason = str(err).split(" Received:")[0]
        log(f"dataset {spec!r} is not available: {reason}. Using {fallback!r} instead.")
        data = load_dataset(fallback, **kwargs)
    if data.skipped:
        log(f"--skip-bad-images: left out {data.skipped} file{'s' * (data.skipped != 1)} that could not be decoded "
            f"(first: {', '.join(data.skipped_paths[:3])})")
    return data


def _prepare(request: TrainRequest, strategy, policy: str, log) -> _Prepared:
    data = load_data(request, log)
    opts = resolve(request, data.name)
    config = get_config(request.model)
    try:
        input_shape, why = choose_input_shape(data.image_shape, model_shape=config.input_shape,
                                              min_input_size=config.min_input_size, requested=opts.input_size)
    except DatasetError as err:
        raise UsageError(str(err).replace("input_size=", "--input-size=")) from None
    if why == "requested":  # say who asked
        why = "--input-size" if "input_size" in request.tuned else f"the {request.model} recipe for {data.name}"
    log(f"{request.model} on {data.name}: input {'x'.join(map(str, input_shape))} ({why})")

    x_train, y_train, x_val, y_val = data.x_train, data.y_train, None, None
    validation = "none (--val-split 0)"
    if data.x_val is not None or opts.val_split:
        x_train, y_train, x_val, y_val = data.validation_split(opts.val_split, seed=request.seed)  # its own val/ first
        validation = ("the dataset's own validation split" if data.x_val is not None else
                      f"{opts.val_split:.0%} of the training split (seeded, stratified)")
    opts = fit_batch_to_data(opts, len(y_train), log)
    steps = math.ceil(len(y_train) / opts.batch_size)
    # Each worker of a cluster reads only its part: by TFRecord file when there are enough files, else by example.
    workers, index = distribute.worker_of(strategy)
    n_train = len(y_train)
    x_train, y_train, sharding = shard_inputs(x_train, y_train, num_workers=workers, worker_index=index)
    with strategy.scope():
        model, plan = _build(opts, input_shape, data.num_classes, policy)
        _compile(model, opts, lr=opts.lr, total_steps=steps * _frozen_epochs(opts))
    if opts.weights is not None:
        log(f"--weights: {plan.reason}")
    _advise_on_speed(opts, model, log)
    n_out = len(model.outputs)
    one_hot = data.num_classes if opts.label_smoothing else None
    pipe = {"input_shape": input_shape, "batch_size": opts.batch_size, "seed": request.seed,
            "native_shape": data.image_shape, "num_outputs": n_out, "num_classes": one_hot, "resize": opts.resize,
            "cache_dir": os.path.join(request.out, runs.RESUME)}
    train_ds = make_pipeline(x_train, y_train, training=True, augment_images=bool(opts.augment), hflip=data.hflip,
                             **pipe)
    shard = tf.data.Options()
    shard.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    own = tf.data.Options()  # already this worker's part: no further auto-sharding
    own.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    val_ds = None if y_val is None else make_pipeline(x_val, y_val, training=False, **pipe).with_options(shard)
    config_json = run_config(opts, data, input_shape=input_shape, why=why, validation=validation, policy=policy,
                             replicas=strategy.num_replicas_in_sync, n_out=n_out, train_images=n_train,
                             val_images=0 if y_val is None else len(y_val), classifier=plan.classifier)
    config_json["input_sharding"] = {"policy": sharding, "workers": workers, "this_worker_images": len(y_train)}
    train_ds = train_ds.with_options(own if sharding != "off" else shard)
    return _Prepared(opts, data, model, train_ds, val_ds, config_json, strategy, steps)


def _frozen_epochs(opts: TrainOptions) -> int:
    """Epochs of the first phase: all of them, or ``--unfreeze-after``'s N."""
    return opts.unfreeze_after or opts.epochs


def _build(opts: TrainOptions, input_shape, num_classes: int, policy: str):
    """The model as the options ask (pretrained backbone, new classifier, frozen, L2), and its TransferPlan."""
    config = get_config(opts.model)
    kwargs = {"input_shape": input_shape, "num_classes": num_classes, "style": opts.style, "weights": opts.weights,
              "dropout_rate": opts.dropout}
    if opts.weight_decay and "weight_decay" in config.options:
        kwargs["weight_decay"] = opts.weight_decay
    model, plan = create_transfer_model(opts.model, **kwargs)
    if policy != "float32":
        model = surgery.float32_outputs(model)
    if opts.freeze_backbone:
        surgery.freeze_backbone(model)
    if opts.weight_decay and "weight_decay" not in config.options:
        surgery.add_weight_decay(model, opts.weight_decay)
    return model, plan


def _compile(model, opts: TrainOptions, *, lr: float, total_steps: int) -> None:
    n_out = len(model.outputs)
    schedule = make_schedule(opts.schedule, lr, total_steps)
    loss = (keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=opts.label_smoothing)
            if opts.label_smoothing else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.compile(
        optimizer=make_optimizer(opts.optimizer, schedule, opts.momentum),
        loss=[loss] * n_out if n_out > 1 else loss,
        loss_weights=[1.0] + [AUX_LOSS_WEIGHT] * (n_out - 1) if n_out > 1 else None,
        metrics=[["accuracy"]] + [[] for _ in range(n_out - 1)] if n_out > 1 else ["accuracy"],
        jit_compile=bool(opts.jit))


def _advise_on_speed(opts: TrainOptions, model, log) -> None:
    """One line where a speed flag is known to slow this kind of model down on a CPU.

    Depthwise convolutions have no bfloat16 fast path in TensorFlow's CPU
    kernels, and XLA-compiled steps are usually slower than TensorFlow's own
    CPU kernels (``benchmarks/bench_mixed_precision.py`` measures both).
    """
    if tf.config.list_physical_devices("GPU"):
        return
    if opts.mixed_precision and any(isinstance(layer, keras.layers.DepthwiseConv2D) for layer in model.layers):
        log("note: --mixed-precision on a CPU can slow depthwise convolutions down (no bfloat16 fast path); "
            "benchmarks/bench_mixed_precision.py measures it")
    if opts.jit:
        log("note: --jit (XLA) on a CPU is often slower than TensorFlow's CPU kernels; it pays off on GPUs")


def run_config(opts: TrainOptions, data, *, input_shape, why, validation, policy, replicas, n_out,
               train_images, val_images, classifier="random") -> dict:
    """The ``config.json`` of a run: the schema's keys (:mod:`tfcnn.runs`) and every resolved option."""
    r = opts.request
    return {
        runs.K_SCHEMA: runs.SCHEMA_VERSION, runs.K_MODEL: r.model, runs.K_STYLE: r.style,
        runs.K_DATASET_REQUESTED: r.dataset, runs.K_DATASET: data.name, "dataset_split": data.note,
        runs.K_SEED: r.seed, runs.K_DATA_DIR: r.data_dir, runs.K_MANUAL_DIR: r.manual_dir,
        runs.K_INPUT_SHAPE: list(input_shape), "input_shape_reason": why, runs.K_NUM_CLASSES: data.num_classes,
        runs.K_CLASS_NAMES: list(data.class_names), "validation": validation, "train_images": train_images,
        "val_images": val_images, "test_images": len(data.y_test), "policy": policy, "replicas": replicas,
        "aux_outputs": n_out - 1, "aux_loss_weight": AUX_LOSS_WEIGHT if n_out > 1 else None,
        **opts.tunables(), "explicit": sorted(r.tuned), "weights": r.weights, "freeze_backbone": r.freeze_backbone,
        "unfreeze_after": r.unfreeze_after, "finetune_lr": opts.lr * FINETUNE_LR_FACTOR if r.unfreeze_after else None,
        "classifier": classifier, runs.K_RESIZE: opts.resize, runs.K_SKIP_BAD_IMAGES: r.skip_bad_images,
        "deterministic": r.deterministic, "mixed_precision": r.mixed_precision, "jit": r.jit, "strategy": r.strategy,
        "checkpoint_every": r.checkpoint_every, "out": r.out, "versions": _versions(),
        "argv": list(r.argv) if r.argv is not None else None,
    }


def _check_resume(run: runs.RunDir, config: dict, restart: bool) -> str:
    """The ``.resume`` folder, refusing an unfinished run of other settings unless ``restart``."""
    state = run.file(runs.RESUME)
    fingerprint = {k: config[k] for k in RESUME_KEYS}
    run_file = os.path.join(state, "run.json")
    if os.path.exists(run_file) and restart:
        shutil.rmtree(state)
    if os.path.exists(run_file):
        previous = _io.read_json(run_file, what="the unfinished run's run.json")
        diff = {k: previous.get(k) for k in RESUME_KEYS if previous.get(k) != fingerprint[k]}
        if diff:
            changed = ", ".join(f"--{k.replace('_', '-')} {previous.get(k)!r} -> {fingerprint[k]!r}" for k in diff)
            raise UsageError(f"--out holds an unfinished run with other settings ({changed}); rerun that command "
                             f"to resume it, add --restart to discard it, or use another --out. Received: "
                             f"--out={config['out']!r}")
    os.makedirs(state, exist_ok=True)
    _io.write_json(run_file, fingerprint)
    return state


def _fit(p: _Prepared, run: runs.RunDir, log, extra_callbacks) -> cb.RunHistory:
    opts = p.opts
    state = _check_resume(run, p.config, opts.restart)
    # With a progress bar Keras syncs every step anyway; quiet runs check every 50 steps and before checkpoints.
    guard = cb.NonFiniteGuard(every=1 if not opts.quiet else math.gcd(50, opts.checkpoint_every or 50))
    history = cb.RunHistory(os.path.join(state, "history.json"), epochs=opts.epochs, log=log, guard=guard)
    backup = cb.GuardedBackup(os.path.join(state, "backup"), save_freq=opts.checkpoint_every or "epoch", guard=guard)
    # Order matters: the guard sees a bad loss before the backup would save it; history is written before backup.
    callbacks = [guard, history, backup, *cb.tensorboard(run.file(runs.LOGS)), *extra_callbacks]
    # A progress bar only where a person watches: piped output gets tfcnn's one line per epoch alone.
    bar = not opts.quiet and sys.stdout.isatty()
    first = _frozen_epochs(opts)
    p.model.fit(p.train_ds, validation_data=p.val_ds, epochs=first, callbacks=callbacks, verbose=int(bar))
    if first < opts.epochs and guard.where is None:
        # The second phase: a fresh compile (new trainable set, new optimizer) and a backup of its own, so a
        # resumed run replays phase one from its last checkpoint (no epoch left: nothing runs) and continues here.
        n = surgery.unfreeze(p.model)
        log(f"epoch {first + 1}: unfreezing {n} layers (BatchNorm stays in inference mode); "
            f"learning rate {opts.lr * FINETUNE_LR_FACTOR:g}")
        with p.strategy.scope():
            _compile(p.model, opts, lr=opts.lr * FINETUNE_LR_FACTOR,
                     total_steps=p.steps_per_epoch * (opts.epochs - first))
        backup = cb.GuardedBackup(os.path.join(state, "backup-finetune"), save_freq=opts.checkpoint_every or "epoch",
                                  guard=guard)
        callbacks = [guard, history, backup, *cb.tensorboard(run.file(runs.LOGS)), *extra_callbacks]
        p.model.fit(p.train_ds, validation_data=p.val_ds, initial_epoch=first, epochs=opts.epochs,
                    callbacks=callbacks, verbose=int(bar))
    history.finish()
    if guard.where is not None:
        epoch, batch = guard.where
        at = f"epoch {epoch + 1}" + (f", step {batch + 1}" if batch is not None else "")
        kept = max(history.rows) + 1 if history.rows else 0
        where = (f"the last good checkpoint (end of epoch {kept}) is kept in {state}" if kept else
                 "no epoch finished, so no checkpoint was kept")
        raise TrainingDiverged(f"the loss became NaN or infinite at {at}; stopped; {where}. Lower --lr or "
                               f"--weight-decay and run again (with --restart to start over).")
    return history


def _fit_and_publish(p: _Prepared, run: runs.RunDir, log, extra_callbacks) -> dict:
    history = _fit(p, run, log, extra_callbacks)
    opts, data = p.opts, p.data
    infer = surgery.inference_model(p.model)
    test_ds = make_pipeline(data.x_test, data.y_test, p.config[runs.K_INPUT_SHAPE], batch_size=opts.batch_size,
                            training=False, native_shape=data.image_shape, resize=opts.resize, cache=False)
    result = evaluate_model(infer, test_ds, data.num_classes)
    metrics = _metrics(p, infer, result, history)
    curves, title = history.history(), f"{opts.model} on {data.name}"
    with run.staged() as stage:
        infer.save(os.path.join(stage, runs.MODEL))
        with contextlib.redirect_stdout(io.StringIO()):  # export() prints its signature listing
            infer.export(os.path.join(stage, runs.SAVED_MODEL))
        _io.write_json(os.path.join(stage, runs.CONFIG), p.config)
        _io.write_text(os.path.join(stage, runs.HISTORY), _history_csv(curves, history.steps()))
        viz.save_figure(viz.training_curves(curves, title=title), os.path.join(stage, runs.CURVES))
        viz.save_figure(viz.confusion_matrix(result["confusion_matrix"], class_names=data.class_names,
                                             title=f"{title}: test accuracy {result['accuracy']:.4f}"),
                        os.path.join(stage, runs.CONFUSION))
        _io.write_json(os.path.join(stage, runs.METRICS), metrics)
    shutil.rmtree(run.file(runs.RESUME), ignore_errors=True)
    n = len(history.rows)
    log(f"{opts.model}: test accuracy {result['accuracy']:.4f} on {data.name} ({n} epoch{'s' * (n != 1)}, "
        f"{history.train_time_s:.1f} s); saved to {opts.out}")
    return metrics


def _metrics(p: _Prepared, infer, result: dict, history: cb.RunHistory) -> dict:
    curves, t = history.history(), history.train_time_s
    n = p.config["train_images"]
    return {
        "model": p.opts.model, "dataset": p.data.name, "test_accuracy": result["accuracy"],
        "test_loss": result["loss"], "per_class_accuracy": result["per_class_accuracy"],
        "confusion_matrix": result["confusion_matrix"], "test_images": result["examples"],
        "params": int(infer.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in infer.trainable_weights)),
        "macs": int(summarize(infer).total_macs), "epochs": p.opts.epochs, "resumed_at_epoch": history.resumed_at,
        "batch_size": p.opts.batch_size, "wall_time_s": round(t, 3), "train_images": n,
        "train_images_per_s": round(n * len(history.rows) / t, 1) if t else None,
        "final": {k: v[-1] for k, v in curves.items()} if curves else {},
    }


def _history_csv(history: dict, steps: list[int]) -> str:
    """One row per epoch; ``steps`` says how many steps each row's means cover (fewer after a mid-epoch resume)."""
    keys = list(history)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["epoch", *keys, "steps"])
    for i in range(len(steps)):
        writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys), steps[i]])
    return buf.getvalue()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tfcnn_version = version("tfcnn")
    except PackageNotFoundError:
        tfcnn_version = None
    return {"tfcnn": tfcnn_version, "tensorflow": tf.__version__, "tf_keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version()}
