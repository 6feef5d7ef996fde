"""The compression pipeline as a table: which Keras models to make, and which ``.tflite`` files from each.

A *stage* makes one Keras model from another (the trained float model, QAT,
pruning at one sparsity, clustering, their collaborative combinations,
channel pruning that rebuilds a thinner model, optionally distilled); each
stage lists the *conversions* it publishes. :func:`plan` writes the table
for a request, :func:`compress` walks it: a stage whose parent failed is
skipped with the reason, every file is verified with LiteRT on the whole
test set, and the report is written at the end.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable

import numpy as np

from tfcnn import _io, analysis, runs
from tfcnn._compat import quiet_native_stderr
from tfcnn.compress import cluster as cluster_mod
from tfcnn.compress import prune as prune_mod
from tfcnn.compress import quantize as quantize_mod
from tfcnn.compress import report as report_mod
from tfcnn.compress import structured
from tfcnn.compress import tflite as tflite_mod
from tfcnn.compress._common import compile_for_fine_tuning, keras_accuracy, overall_sparsity
from tfcnn.compress.distill import check_alpha, check_temperature
from tfcnn.compress.distill import distill as distill_into
from tfcnn.errors import CompressError
from tfcnn.optim import check_lr

PTQ = ("float32", "dynamic_range", "float16", "int8", "int8_per_tensor")
"""Post-training conversions of the trained float model."""

CHANNEL_DEFAULTS = {"criterion": "l1", "round_to": 1, "scope": "layer", "slimming": None, "distill": False,
                    "temperature": 4.0, "alpha": 0.1}
"""What a channel-pruning request holds besides its ``ratio`` or ``target_macs`` (:func:`channel_request`)."""

REUSED_EXTRAS = ("keras_model", "sparsity", "m_by_n_ok", "distinct_values", "macs", "params", "macs_ratio", "widths",
                 "fine_tuning", "ratio_removed", "slimming", "student")
"""The report extras a reused stage carries over from the previous report."""


@dataclasses.dataclass(frozen=True)
class Conversion:
    """One ``.tflite`` file: its variant name, the converter mode and whether to use the sparse encoding."""

    name: str
    mode: str
    sparse: bool = False


@dataclasses.dataclass(frozen=True)
class Stage:
    """One Keras model of the pipeline: made from ``parent`` by ``make``, then converted as listed.

    ``make(parent_model, ctx) -> (model, extra)``; ``extra`` goes into the
    report row of each of the stage's files.
    """

    name: str
    parent: str
    make: Callable
    conversions: tuple[Conversion, ...]


@dataclasses.dataclass
class Context:
    """What every stage reads: the loaded run, its data as batches, fine-tuning settings, the request."""

    loaded: runs.LoadedRun
    train_ds: object
    representative: object
    epochs: int | None
    base_lr: float
    small_lr: float
    optimizer: str
    prune_layers: object
    keras_dir: str
    sparsity: dict = dataclasses.field(default_factory=dict)
    teacher: object = None  # the model distillation learns from: another run's (``--teacher``), else the float model
    train_epochs: int = 5  # the run's own training epochs: a student from scratch trains as long

    def save(self, model, name: str, *, h5: bool = False) -> str:
        """Save a Keras model of a stage into ``compressed/``, atomically; returns its path inside the run."""
        path = os.path.join(self.keras_dir, f"{name}.h5" if h5 else f"{name}.keras")
        with _io.atomic_path(path) as tmp, warnings.catch_warnings():
            # QAT models go to .h5 on purpose: tf_keras 2.21's .keras format drops the quantizer variables.
            warnings.simplefilter("ignore", UserWarning)
            model.save(tmp)
        return os.path.relpath(path, self.loaded.run.path)


# ---------------------------------------------------------------------------------------- the stages
def _identity(model, ctx):
    return model, {}


def _qat(scheme: str | None, name: str):
    def make(model, ctx):
        q = quantize_mod.qat(model, ctx.train_ds, epochs=ctx.epochs or 1, lr=ctx.small_lr, scheme=scheme,
                             optimizer=ctx.optimizer)
        return q, {"keras_model": ctx.save(q, name, h5=True)}
    return make


def _prune(sparsity, tag: str):
    def make(model, ctx):
        m_by_n = sparsity if isinstance(sparsity, tuple) else None
        chosen = prune_mod.select_layers(model, ctx.prune_layers, m_by_n=m_by_n)
        stripped, _ = prune_mod.prune_model(model, sparsity, ctx.train_ds, layers=ctx.prune_layers,
                                            epochs=ctx.epochs or 5, lr=ctx.base_lr, optimizer=ctx.optimizer)
        per_layer = prune_mod.pruning_report(stripped, chosen)
        ctx.sparsity[tag] = per_layer
        extra = {"sparsity": overall_sparsity({k: v for k, v in per_layer.items() if v["pruned"]}),
                 "keras_model": ctx.save(stripped, tag)}
        if m_by_n:
            extra["m_by_n_ok"] = all(prune_mod.check_m_by_n(stripped.get_layer(n).kernel.numpy(), m_by_n)
                                     for n in chosen)
        return stripped, extra
    return make


def _cluster(clusters: int, name: str, keep_zeros: bool):
    def make(model, ctx):
        stripped, _ = cluster_mod.cluster_model(model, clusters, ctx.train_ds, epochs=ctx.epochs or 1,
                                                lr=ctx.small_lr, preserve_sparsity=keep_zeros,
                                                optimizer=ctx.optimizer)
        return stripped, {"keras_model": ctx.save(stripped, name),
                          "distinct_values": cluster_mod.distinct_values(stripped)}
    return make


def channel_tag(request) -> str:
    """A file-name-safe tag of a channel request (or a bare ratio).

    ``0.5`` -> ``channels50``, ``0.375`` -> ``channels37p5``, a MACs target of
    0.4 -> ``macs40``; Network Slimming's sparsity training adds ``slim_``.
    """
    request = request if isinstance(request, dict) else {"ratio": request}
    if request.get("target_macs") is not None:
        tag = "macs" + f"{request['target_macs'] * 100:g}".replace(".", "p")
    else:
        tag = "channels" + f"{request['ratio'] * 100:g}".replace(".", "p")
    return ("slim_" if request.get("slimming") else "") + tag


def channel_request(ratio=None, *, target_macs=None, criterion: str = "l1", round_to: int = 1, scope: str = "layer",
                    slimming=None, distill: bool = False, temperature: float = 4.0, alpha: float = 0.1) -> dict:
    """A checked channel-pruning request: a ``ratio`` of channels to remove or a ``target_macs`` fraction to keep.

    ``slimming`` is Network Slimming's penalty strength (a sparsity-training
    phase before a ``bn``-criterion pruning), or ``None``.

    Raises:
        CompressError: neither or both of ratio and target, either outside (0, 1), an unknown criterion or
            scope, a bad ``round_to``, slimming strength, temperature or alpha, slimming with another criterion.
    """
    if (ratio is None) == (target_macs is None):
        raise CompressError(f"give a channel ratio or a MACs target, one of them. Received: ratio={ratio!r}, "
                            f"target_macs={target_macs!r}")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio < 1):
        raise CompressError(f"the channel ratio must be a fraction in (0, 1). Received: ratio={ratio!r}")
    if target_macs is not None:
        target_macs = structured.check_target_macs(target_macs)
    if criterion not in structured.CRITERIA:
        raise CompressError(f"criterion must be one of {', '.join(structured.CRITERIA)}. "
                            f"Received: criterion={criterion!r}")
    if isinstance(round_to, bool) or not isinstance(round_to, int) or round_to < 1:
        raise CompressError(f"round_to must be a positive integer. Received: round_to={round_to!r}")
    if scope not in ("layer", "global"):
        raise CompressError(f"scope must be 'layer' or 'global'. Received: scope={scope!r}")
    if slimming is not None:
        slimming = structured.check_strength(slimming, argname="slimming")
        if criterion != "bn":
            raise CompressError(f"slimming trains the batch-norm scales that criterion 'bn' ranks. "
                                f"Received: slimming={slimming:g}, criterion={criterion!r}")
    return {"ratio": None if ratio is None else float(ratio), "target_macs": target_macs, "criterion": criterion,
            "round_to": round_to, "scope": scope, "slimming": slimming, "distill": bool(distill),
            "temperature": check_temperature(temperature), "alpha": check_alpha(alpha)}


def _distill_or_fit(student, teacher, ctx, request, epochs, teacher_label) -> str:
    """Train ``student`` by distillation from ``teacher`` (``request["distill"]``) or on the labels; say how."""
    if request["distill"]:
        distill_into(teacher, student, ctx.train_ds, temperature=request["temperature"], alpha=request["alpha"],
                     epochs=epochs, optimizer=ctx.optimizer, lr=ctx.base_lr)
        return f"distilled from {teacher_label} (T={request['temperature']:g}, alpha={request['alpha']:g})"
    compile_for_fine_tuning(student, optimizer=ctx.optimizer, lr=ctx.base_lr)
    student.fit(ctx.train_ds, epochs=epochs, verbose=0)
    return "fine-tuned on the labels"


def _thin_extra(thin, model, ctx, tag, how, epochs) -> dict:
    macs, float_macs = analysis.summarize(thin).total_macs, analysis.summarize(ctx.loaded.model).total_macs
    return {"keras_model": ctx.save(thin, tag), "macs": int(macs), "params": int(thin.count_params()),
            "macs_ratio": macs / float_macs if float_macs else None, "fine_tuning": f"{how}, {epochs} epochs"}


def _channels(request: dict, tag: str):
    """Remove channels for real (a thinner model), then fine-tune it on the labels or distil a teacher into it."""
    def make(model, ctx):
        epochs = ctx.epochs or 5  # as long as TFMOT pruning's fine-tuning
        source, slim = model, None
        if request["slimming"]:
            source = structured.slimming_train(model, ctx.train_ds, strength=request["slimming"], epochs=epochs,
                                               optimizer=ctx.optimizer, lr=ctx.base_lr)
            slim = {"strength": request["slimming"], "epochs": epochs,
                    "small_gamma_before": structured.small_gamma_fraction(model),
                    "small_gamma_after": structured.small_gamma_fraction(source)}
        data = ctx.train_ds if request["criterion"] == "taylor" else None
        options = {"criterion": request["criterion"], "round_to": request["round_to"], "scope": request["scope"],
                   "data": data}
        ratio = request["ratio"]
        if ratio is None:
            ratio = structured.ratio_for_macs(source, request["target_macs"], **options)
        thin, table = structured.prune_channels(source, ratio=ratio, **options)
        teacher, label = (ctx.teacher, "the --teacher run") if ctx.teacher is not None else (model, "the float model")
        how = _distill_or_fit(thin, teacher, ctx, request, epochs, label)
        how += f", criterion {request['criterion']} ({request['scope']} scope)"
        if slim:
            how = f"after {epochs} epochs of slimming (L1 {slim['strength']:g} on batch-norm gammas), " + how
        return thin, {**_thin_extra(thin, model, ctx, tag, how, epochs), "widths": table, "ratio_removed": ratio,
                      "slimming": slim}
    return make


def student_request(student: str, *, student_alpha=None, temperature: float = 4.0, alpha: float = 0.1) -> dict:
    """A checked student request: a registered model name (``student_alpha`` its width) or a run folder.

    ``temperature`` and ``alpha`` are the distillation's (:func:`tfcnn.compress.distill.distill`).

    Raises:
        CompressError: a name that is neither a registered model nor a folder, a width for a run folder or
            for a model that takes none, a bad temperature or alpha.
        RunDirError: a folder that is not a finished run.
    """
    from tfcnn.models import registry

    width = student_alpha
    if not isinstance(student, str) or not student:
        raise CompressError(f"student must be a registered model name or a run folder. Received: student={student!r}")
    if student in registry.list_models():
        kind = "model"
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 4:
                raise CompressError(f"the student's width multiplier must be a number in (0, 4]. "
                                    f"Received: student_alpha={width!r}")
            if "alpha" not in registry.model_arguments(student):
                raise CompressError(f"model {student} has no width multiplier alpha. Received: student_alpha={width!r}")
    elif os.path.isdir(student):
        runs.RunDir.open(student, argname="student")  # a finished run, or a clear error
        kind = "run"
        if width is not None:
            raise CompressError(f"a width multiplier applies to a registered student model, not to a run folder. "
                                f"Received: student_alpha={width!r}")
    else:
        raise CompressError(f"student is neither a registered model (tfcnn.list_models()) nor a run folder. "
                            f"Received: student={student!r}")
    return {"student": student, "kind": kind, "alpha": None if width is None else float(width),
            "temperature": check_temperature(temperature), "kd_alpha": check_alpha(alpha)}


def student_tag(request: dict) -> str:
    """``student_mobilenet_v2_a0p35`` for a registered model, ``student_<model>`` for a run folder."""
    if request["kind"] == "run":
        name = runs.RunDir.open(request["student"]).model_name
    else:
        name = request["student"]
    width = "" if request["alpha"] is None else "_a" + f"{request['alpha']:g}".replace(".", "p")
    return f"student_{name}{width}".replace("-", "_")


def _student(request: dict, tag: str):
    """A smaller model distilled from the teacher: a registered model built for the run's data, or a saved run."""
    def make(model, ctx):
        from tfcnn.models.registry import create_model

        loaded = ctx.loaded
        if request["kind"] == "model":
            width = {} if request["alpha"] is None else {"alpha": request["alpha"]}
            student = create_model(request["student"], input_shape=loaded.input_shape,
                                   num_classes=len(loaded.data.class_names), **width)
            epochs = ctx.epochs or ctx.train_epochs  # from scratch: as long as the teacher's training
        else:
            student = _matching_run(request["student"], "student", loaded).load_model()
            epochs = ctx.epochs or 5
        teacher, label = (ctx.teacher, "the --teacher run") if ctx.teacher is not None else (model, "the float model")
        how = _distill_or_fit(student, teacher, ctx, {"distill": True, "temperature": request["temperature"],
                                                      "alpha": request["kd_alpha"]}, epochs, label)
        return student, {**_thin_extra(student, model, ctx, tag, how, epochs), "student": request["student"]}
    return make


def _matching_run(path: str, argname: str, loaded) -> runs.RunDir:
    """A run folder whose model takes the same input and predicts the same classes as ``loaded``'s."""
    other = runs.RunDir.open(path, argname=argname)
    if tuple(other.input_shape) != tuple(loaded.input_shape):
        raise CompressError(f"the {argname} run takes input {tuple(other.input_shape)}, this run "
                            f"{tuple(loaded.input_shape)}. Received: {argname}={path!r}")
    if list(other.class_names) != list(loaded.data.class_names):
        raise CompressError(f"the {argname} run predicts other classes ({len(other.class_names)}: "
                            f"{', '.join(other.class_names[:4])}...) than this run ({len(loaded.data.class_names)}). "
                            f"Received: {argname}={path!r}")
    return other


def plan(sparsities=(), clusters: int | None = None, qat: bool = False, int8_io: bool = False,
         channels: dict | None = None, student: dict | None = None) -> list[Stage]:
    """The table of stages for a request, in the order they run.

    ``channels`` is a :func:`channel_request` (or ``None``): one stage that
    removes channels from the float model and publishes a float32 and an int8 file.
    ``student`` is a :func:`student_request` (or ``None``): one stage that
    distils the teacher into a smaller model, with the same two files.

    Example:
        >>> [s.name for s in plan([0.8], clusters=16, qat=True)]
        ['float', 'qat', 'p80', 'p80_pqat', 'clustered16', 'clustered16_cqat', 'p80_clustered16', 'p80_clustered16_pcqat']
    """
    ptq = [Conversion(m, m) for m in PTQ] + ([Conversion("int8_io", "int8_io")] if int8_io else [])
    stages = [Stage("float", "float", _identity, tuple(ptq))]
    if qat:
        stages.append(Stage("qat", "float", _qat(None, "qat"), (Conversion("qat_int8", "qat"),)))
    tags = []
    for s in sparsities:
        tag = prune_mod.variant_tag(s)
        tags.append(tag)
        stages.append(Stage(tag, "float", _prune(s, tag), (
            Conversion(f"{tag}_float32", "float32"), Conversion(f"{tag}_int8", "int8"),
            Conversion(f"{tag}_int8_per_tensor", "int8_per_tensor"),
            Conversion(f"{tag}_int8_sparse", "int8", sparse=True))))
        if qat:
            stages.append(Stage(f"{tag}_pqat", tag, _qat("prune_preserve", f"{tag}_pqat"),
                                (Conversion(f"{tag}_pqat_int8", "qat"),)))
    if clusters:
        bases = [(f"clustered{clusters}", "float", False)]
        # clustering after the first unstructured pruning keeps its zeros (2:4 patterns do not survive it)
        bases += [(f"{tag}_clustered{clusters}", tag, True) for tag in tags if "of" not in tag][:1]
        for name, parent, keep_zeros in bases:
            stages.append(Stage(name, parent, _cluster(clusters, name, keep_zeros),
                                (Conversion(f"{name}_int8", "int8"),)))
            if qat:
                scheme, suffix = ("prune_cluster_preserve", "pcqat") if keep_zeros else ("cluster_preserve", "cqat")
                stages.append(Stage(f"{name}_{suffix}", name, _qat(scheme, f"{name}_{suffix}"),
                                    (Conversion(f"{name}_{suffix}_int8", "qat"),)))
    if channels:
        tag = channel_tag(channels)
        stages.append(Stage(tag, "float", _channels(channels, tag),
                            (Conversion(f"{tag}_float32", "float32"), Conversion(f"{tag}_int8", "int8"))))
    if student:
        tag = student_tag(student)
        stages.append(Stage(tag, "float", _student(student, tag),
                            (Conversion(f"{tag}_float32", "float32"), Conversion(f"{tag}_int8", "int8"))))
    return stages


# ---------------------------------------------------------------------------------------- the walk
def compress(model_dir: str, *, prune=None, prune_layers=None, clusters: int | None = None, qat: bool = False,
             int8_io: bool = False, prune_channels: float | None = None, target_macs: float | None = None,
             criterion: str = "l1", round_to: int = 1, scope: str = "layer", slimming: float | None = None,
             distill: bool = False, temperature: float = 4.0, alpha: float = 0.1, teacher: str | None = None,
             student: str | None = None, student_alpha: float | None = None, channels_optional: bool = False,
             epochs: int | None = None, lr: float | None = None, latency_images: int = 200, log=print) -> dict:
    """Produce, verify and measure the compressed variants of a trained model; write the report.

    The report (``compression.{json,md}``) is rewritten after every variant, so
    an interrupted run keeps what it finished; a rerun with the same request
    reuses every variant whose file and fine-tuned model are still there, and
    removes the temporary files a killed run left.

    Args:
        model_dir: a folder written by ``python -m tfcnn.train``.
        prune: a sparsity or a list of them (``0.8``, ``'2:4'``).
        prune_layers: ``None``/``'all'``, ``'dense'``, ``'conv'`` or layer names.
        clusters: number of weight clusters, or ``None``.
        qat: quantization-aware training too (collaborative after pruning/clustering).
        int8_io: also an int8-input/output file.
        prune_channels: fraction of the channels of every prunable layer group to remove for real
            (:func:`tfcnn.compress.structured.prune_channels`: a thinner model, fewer MACs), or ``None``.
        target_macs: instead of ``prune_channels``, the fraction of the float model's MACs to keep.
        criterion: how channels are ranked: ``'l1'``, ``'l2'``, ``'bn'`` or ``'taylor'``.
        round_to: kept widths rounded up to a multiple of this.
        scope: ``'layer'`` (the ratio in every layer) or ``'global'`` (one threshold over the model).
        slimming: Network Slimming's L1 strength on batch-norm gammas for a sparsity-training phase before
            pruning (needs ``criterion='bn'``), or ``None``.
        distill: fine-tune the thinner model by distillation instead of on the labels.
        temperature, alpha: the distillation's softening and hard-label weight (:func:`tfcnn.compress.distill.distill`).
        teacher: a run folder whose model is the distillation's teacher (same input and classes); default the
            float model of ``model_dir``.
        student: with ``distill``, a registered model name (trained from scratch by distillation, as many
            epochs as the run trained) or a run folder (its model, fine-tuned by distillation).
        student_alpha: the registered student's width multiplier (its ``alpha`` argument).
        channels_optional: a model the channel graph refuses skips the channel stage (the reason goes into
            the report) instead of refusing the whole request; ``--all`` asks for channel pruning this way.
        epochs: fine-tuning epochs (default 5 for pruning and channel pruning, 1 for clustering and QAT).
        lr: fine-tuning learning rate (default: the run's; a tenth of it for QAT and clustering).
        latency_images: test images timed for latency.
        log: where progress lines go.

    Returns:
        The report (also written to ``MODEL_DIR/compression.json``).

    Raises:
        CompressError: bad arguments (checked against the model before any work), or no variant could be produced.
        RunDirError: not a finished run folder, or its model file is corrupt.

    Example:
        >>> from tfcnn.compress import compress
        >>> report = compress("saved_models/lenet", prune=0.8, qat=True)  # doctest: +SKIP
        >>> report["variants"]["int8"]["ratio"]  # doctest: +SKIP
        0.27
    """
    sparsities = [prune_mod.parse_sparsity(p) for p in ([] if prune is None else
                                                         prune if isinstance(prune, list) else [prune])]
    if clusters is not None:
        clusters = cluster_mod.check_clusters(clusters)
    if lr is not None:
        check_lr(lr, argname="--lr")
    if distill and prune_channels is None and target_macs is None and student is None:
        raise CompressError("distill needs a channel pruning or a student to distil into. Received: distill=True, "
                            "prune_channels=None, student=None")
    if (student is not None or teacher is not None) and not distill:
        given = "student" if student is not None else "teacher"
        raise CompressError(f"{given} applies to distillation (distill=True). Received: {given}="
                            f"{student if student is not None else teacher!r}, distill=False")
    channels = None if prune_channels is None and target_macs is None else channel_request(
        prune_channels, target_macs=target_macs, criterion=criterion, round_to=round_to, scope=scope,
        slimming=slimming, distill=distill, temperature=temperature, alpha=alpha)
    student_req = None if student is None else student_request(student, student_alpha=student_alpha,
                                                                temperature=temperature, alpha=alpha)
    run = runs.RunDir.open(model_dir)
    loaded = run.load()
    teacher_model = None if teacher is None else _matching_run(teacher, "teacher", loaded).load_model()
    if student_req and student_req["kind"] == "run":
        _matching_run(student, "student", loaded)
    _check_against_model(loaded.model, sparsities, prune_layers, clusters, None if channels_optional else channels)
    for folder in (runs.TFLITE, runs.COMPRESSED):
        _io.remove_stale_temporaries(run.file(folder))
    tuning = run.fine_tuning
    ctx = Context(loaded, loaded.pipeline("train", training=True), loaded.representative(), epochs,
                  base_lr=lr or tuning["lr"], small_lr=lr or tuning["lr"] / 10, optimizer=tuning["optimizer"],
                  prune_layers=prune_layers, keras_dir=run.file(runs.COMPRESSED), teacher=teacher_model,
                  train_epochs=int(run.config.get("epochs") or 5))
    request = {"prune": [prune_mod.variant_tag(s) for s in sparsities], "prune_layers": prune_layers,
               "clusters": clusters, "qat": qat, "int8_io": int8_io, "epochs": epochs, "lr": lr,
               "latency_images": latency_images}
    # only when asked, so that earlier reports of other requests stay reusable
    if channels:
        request["prune_channels"] = channels
    if student_req:
        request["student"] = student_req
    if teacher is not None:
        request["teacher"] = os.path.abspath(teacher)
    images, labels = loaded.test_images(), loaded.data.y_test
    keras_acc, reference = keras_accuracy(loaded.model, images, labels)
    report = {
        "model": run.model_name, "dataset": loaded.data.name, "model_dir": model_dir, "request": request,
        "keras_accuracy": keras_acc, "test_images": len(labels), "params": int(loaded.model.count_params()),
        "input_shape": list(loaded.input_shape), "class_names": list(loaded.data.class_names),
        "variants": {}, "sparsity": ctx.sparsity, "skipped": {}, "note": report_mod.HONEST_SPEED,
    }
    verify = {"images": images, "labels": labels, "reference_pred": reference, "latency_images": latency_images}
    _io.write_text(run.file(runs.TFLITE, runs.LABELS), "\n".join(loaded.data.class_names) + "\n")
    _walk(plan(sparsities, clusters, qat, int8_io, channels, student_req), ctx, verify, report, _reusable(run, request), log)
    if not report["variants"]:
        raise CompressError(f"no variant could be produced ({report['skipped']}). Received: model_dir={model_dir!r}")
    report["variants"] = report_mod.rows_with_ratios(report["variants"])
    paths = report_mod.write(model_dir, report)
    log(f"report: {paths['md']}")
    return report


def _check_against_model(model, sparsities, prune_layers, clusters, channels=None) -> None:
    """Refuse, before any work, what the model cannot take: layer names that match nothing, too many clusters,
    a layer the channel graph does not know, a criterion the model cannot score (``bn`` without batch norm)."""
    for s in sparsities:
        try:
            prune_mod.select_layers(model, prune_layers, m_by_n=s if isinstance(s, tuple) else None)
        except CompressError as err:
            raise CompressError(str(err).replace("Received: layers=", "Received: --prune-layers=")) from None
    if clusters:
        cluster_mod.check_clusters_for(model, clusters)
    if channels:
        # The plan is cheap without Taylor (no data): build the graph and rank once, keep nothing.
        criterion = "l1" if channels["criterion"] == "taylor" else channels["criterion"]
        try:
            if channels["slimming"]:  # the gammas that slimming trains must be there
                structured.slimming.check_has_scales(model)
            if channels["slimming"] and channels["scope"] == "global":
                # one threshold over scales that slimming is yet to train: only the graph can be checked now
                structured.channel_graph(model)
            elif channels["ratio"] is not None:
                structured.plan_channels(model, ratio=channels["ratio"], criterion=criterion,
                                         round_to=channels["round_to"], scope=channels["scope"])
            else:  # an unreachable target fails here, before any training
                structured.ratio_for_macs(model, channels["target_macs"], criterion=criterion,
                                          round_to=channels["round_to"], scope=channels["scope"], steps=0)
        except CompressError as err:
            raise CompressError(str(err).replace("Received: criterion=", "Received: --criterion=")) from None


def _reusable(run: runs.RunDir, request: dict) -> dict:
    """Rows of a previous report made with the same request whose files are still there."""
    path = run.file("compression.json")
    try:
        previous = _io.read_json(path) if os.path.isfile(path) else {}
    except ValueError:
        return {}
    if not isinstance(previous, dict) or previous.get("request") != request:
        return {}
    rows = previous.get("variants") or {}
    return {n: r for n, r in rows.items() if isinstance(r, dict) and os.path.isfile(run.file(r.get("file", "")))
            and (not r.get("keras_model") or os.path.isfile(run.file(r["keras_model"])))}


def _walk(stages: list[Stage], ctx: Context, verify: dict, report: dict, reusable: dict, log) -> None:
    models = {"float": ctx.loaded.model}
    total = sum(len(s.conversions) for s in stages)
    progress = _Progress(total, log)
    for stage in stages:
        if stage.parent not in models:
            report["skipped"][stage.name] = f"needs {stage.parent}, which was skipped"
            progress.skip(len(stage.conversions))
            continue
        model, extra = _stage_model(stage, models, ctx, reusable)
        if model is None:
            report["skipped"][stage.name] = extra
            log(f"{stage.name}: skipped ({extra})")
            progress.skip(len(stage.conversions))
            continue
        models[stage.name] = model
        checked = verify
        if extra.get("widths") or extra.get("student"):  # another network: its files must agree with it, not the float one
            own = model.predict(verify["images"], batch_size=256, verbose=0).argmax(-1)
            checked = {**verify, "reference_pred": own}
        for conv in stage.conversions:
            row = reusable.get(conv.name) or _emit(conv, model, ctx, checked, log)
            if isinstance(row, str):
                report["skipped"][conv.name] = row
            else:
                report["variants"][conv.name] = {**row, **extra}
            progress.step(conv.name, reused=conv.name in reusable)
            report_mod.write(ctx.loaded.run.path, report, figure=False)


def _stage_model(stage: Stage, models: dict, ctx: Context, reusable: dict):
    """The stage's Keras model and report extras: reused from disk when every file of it is, else made.

    Returns ``(None, reason)`` when the stage cannot be made or its fine-tuning diverged.
    """
    rows = [reusable.get(c.name) for c in stage.conversions]
    if stage.name != "float" and all(rows) and rows[0].get("keras_model"):
        saved = rows[0]["keras_model"]
        extra = {k: v for k, v in rows[0].items() if k in REUSED_EXTRAS}
        return ctx.loaded.run.load_model(saved), extra
    try:
        model, extra = stage.make(models[stage.parent], ctx)
    except CompressError as err:
        return None, str(err)
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        return None, "fine-tuning diverged (non-finite weights); lower --lr"
    return model, extra


class _Progress:
    """``[3/17] int8 (12 s elapsed, about 40 s left)`` after every variant."""

    def __init__(self, total: int, log):
        self.total, self.done, self.log = total, 0, log
        self.started = time.perf_counter()
        self._made = 0

    def skip(self, n: int) -> None:
        self.total -= n

    def step(self, name: str, *, reused: bool = False) -> None:
        self.done += 1
        self._made += not reused
        elapsed = time.perf_counter() - self.started
        left = self.total - self.done
        eta = f", about {elapsed / self._made * left:.0f} s left" if self._made and left else ""
        self.log(f"[{self.done}/{self.total}] {name}{' (reused)' if reused else ''} ({elapsed:.0f} s elapsed{eta})")


def _emit(conv: Conversion, model, ctx: Context, verify: dict, log) -> dict | str:
    """Convert, write atomically once LiteRT loads it, run on the whole test set; a failure is a reason string."""
    run = ctx.loaded.run
    path = run.file(runs.TFLITE, f"{conv.name}.tflite")
    resolver = tflite_mod.NO_DELEGATES if conv.sparse else tflite_mod.DEFAULT
    representative = ctx.representative if conv.mode.startswith("int8") else None
    try:
        with quiet_native_stderr():  # the converter's MLIR and flatbuffer chatter
            tflite_mod.write_tflite(path, lambda: quantize_mod.to_tflite(
                model, conv.mode, representative=representative, sparse=conv.sparse), resolver=resolver)
    except (CompressError, OSError):  # bad input, or the disk: not a property of the variant
        raise
    except Exception as err:  # noqa: BLE001  (a converter failure is a result to report, not a crash)
        reason = f"conversion failed: {type(err).__name__}: {str(err).strip().splitlines()[0][:200]}"
        log(f"{conv.name}: skipped ({reason})")
        return reason
    result = tflite_mod.evaluate(path, verify["images"], verify["labels"], reference_pred=verify["reference_pred"],
                                 resolver=resolver, latency_images=verify["latency_images"])
    result["file"] = os.path.relpath(path, run.path)
    log(f"{conv.name}: {result['size']:,} B ({result['gzip_size']:,} B gzipped), accuracy {result['accuracy']:.4f}, "
        f"agreement {result['agreement']:.4f}")
    return result
