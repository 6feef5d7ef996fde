"""``python -m tfcnn.compress MODEL_DIR``: every compression variant as a verified ``.tflite``, and a report.

    python -m tfcnn.compress saved_models/lenet                 # float32, dynamic range, float16, int8
    python -m tfcnn.compress saved_models/lenet --prune 0.8 --qat
    python -m tfcnn.compress saved_models/vgg16 --prune 0.9 --prune-layers dense
    python -m tfcnn.compress saved_models/lenet --all           # everything below in one go

Fine-tuning, int8 calibration and evaluation use the dataset the model was
trained on (from the run's ``config.json``/``metrics.json``). Files land in
``MODEL_DIR/tflite/<variant>.tflite`` (each written atomically and verified
to load), fine-tuned Keras models in ``MODEL_DIR/compressed/``, and the
report in ``MODEL_DIR/compression.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

from tfcnn import _io
from tfcnn.compress import cluster as cluster_mod
from tfcnn.compress import prune as prune_mod
from tfcnn.compress import quantize as quantize_mod
from tfcnn.compress import report as report_mod
from tfcnn.compress import tflite as tflite_mod
from tfcnn.compress._common import CompressError, keras_accuracy, load_run, overall_sparsity, read_meta

PROG = "python -m tfcnn.compress"
ALL_PRUNE = ("0.8", "2:4")
ALL_CLUSTERS = 16


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Compress a trained tfcnn model to verified TFLite files and "
                                "report size, accuracy and latency of every variant.")
    p.add_argument("model_dir", help="a folder written by python -m tfcnn.train (e.g. saved_models/lenet)")
    p.add_argument("--prune", action="append", default=None, metavar="SPARSITY",
                   help="magnitude pruning: a fraction in (0, 1) such as 0.8, or 2:4 (structured); repeatable")
    p.add_argument("--prune-layers", default=None,
                   help="which layers to prune: all (default), dense, conv, or comma-separated names/patterns")
    p.add_argument("--cluster", type=str, default=None, metavar="K", help="weight clustering into K >= 2 values")
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware training (pruning-/cluster-preserving after --prune/--cluster)")
    p.add_argument("--int8-io", action="store_true", help="also a full-int8 file with int8 input and output")
    p.add_argument("--all", action="store_true",
                   help=f"every variant: --prune {' --prune '.join(ALL_PRUNE)} --cluster {ALL_CLUSTERS} --qat --int8-io")
    p.add_argument("--epochs", type=int, default=None,
                   help="fine-tuning epochs for pruning, clustering and QAT (default: 5, 1 and 1)")
    p.add_argument("--lr", type=float, default=None, help="fine-tuning learning rate (default: the training recipe's)")
    p.add_argument("--latency-images", type=int, default=200, help="test images timed for latency (default 200)")
    p.add_argument("--quiet", action="store_true", help="less output")
    return p


def resolve(args: argparse.Namespace) -> dict:
    """Validate everything before any work is done, so bad input leaves nothing behind."""
    prunes = list(args.prune or [])
    clusters = args.cluster
    if args.all:
        prunes = prunes or list(ALL_PRUNE)
        clusters = clusters or str(ALL_CLUSTERS)
    sparsities = []
    for p in prunes:
        try:
            sparsities.append(prune_mod.parse_sparsity(p))
        except CompressError as err:
            raise CompressError(str(err).replace("Received: sparsity=", "Received: --prune=")) from None
    k = None
    if clusters is not None:
        try:
            k = cluster_mod.check_clusters(clusters)
        except CompressError as err:
            raise CompressError(str(err).replace("Received: clusters=", "Received: --cluster=")) from None
    if args.epochs is not None and args.epochs < 1:
        raise CompressError(f"--epochs must be >= 1. Received: --epochs={args.epochs}")
    if args.lr is not None and not args.lr > 0:
        raise CompressError(f"--lr must be > 0. Received: --lr={args.lr}")
    if args.latency_images < 1:
        raise CompressError(f"--latency-images must be >= 1. Received: --latency-images={args.latency_images}")
    read_meta(args.model_dir)  # not a trained model: fail before loading anything
    return {"model_dir": args.model_dir, "sparsities": sparsities, "prune_layers": args.prune_layers,
            "clusters": k, "qat": bool(args.qat or args.all), "int8_io": bool(args.int8_io or args.all),
            "epochs": args.epochs, "lr": args.lr, "latency_images": args.latency_images, "quiet": args.quiet}


def compress(model_dir: str, *, prune=None, prune_layers=None, clusters: int | None = None, qat: bool = False,
             int8_io: bool = False, epochs: int | None = None, lr: float | None = None, latency_images: int = 200,
             log=print) -> dict:
    """Produce, verify and measure the compressed variants of a trained model; write the report.

    Args:
        model_dir: a folder written by ``python -m tfcnn.train``.
        prune: a sparsity or a list of them (``0.8``, ``'2:4'``).
        prune_layers: ``None``/``'all'``, ``'dense'``, ``'conv'`` or layer names.
        clusters: number of weight clusters, or ``None``.
        qat: quantization-aware training too (collaborative after pruning/clustering).
        int8_io: also an int8-input/output file.
        epochs: fine-tuning epochs (default 5 for pruning, 1 for clustering and QAT).
        lr: fine-tuning learning rate (default: the training recipe's; a tenth of it for QAT and clustering).
        latency_images: test images timed for latency.
        log: where progress lines go.

    Returns:
        The report (also written to ``MODEL_DIR/compression.json``).

    Raises:
        CompressError: bad arguments, not a trained model, corrupt model file.

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
    run = load_run(model_dir)
    base_lr = lr or run.lr
    small_lr = lr or run.lr / 10
    tune = {"optimizer": run.optimizer}
    train_ds = run.pipeline("train", training=True)
    images, labels = run.test_images(), run.data.y_test
    representative = run.representative()
    keras_acc, reference = keras_accuracy(run.model, images, labels)
    tflite_dir = os.path.join(model_dir, "tflite")
    keras_dir = os.path.join(model_dir, "compressed")
    variants: dict = {}
    skipped: dict = {}
    sparsity_report: dict = {}
    started = time.perf_counter()

    def emit(name, convert, *, resolver=tflite_mod.DEFAULT, extra=None):
        path = os.path.join(tflite_dir, f"{name}.tflite")
        try:
            tflite_mod.write_tflite(path, convert, resolver=resolver)
        except CompressError:
            raise
        except Exception as err:  # noqa: BLE001  (a converter failure is a result to report, not a crash)
            skipped[name] = f"conversion failed: {type(err).__name__}: {str(err).strip().splitlines()[0][:200]}"
            log(f"{name}: skipped ({skipped[name]})")
            return
        result = tflite_mod.evaluate(path, images, labels, reference_pred=reference, resolver=resolver,
                                     latency_images=latency_images)
        result["file"] = os.path.relpath(path, model_dir)
        result.update(extra or {})
        variants[name] = result
        log(f"{name}: {result['size']:,} B ({result['gzip_size']:,} B gzipped), accuracy {result['accuracy']:.4f}, "
            f"agreement {result['agreement']:.4f}")

    def save_keras(model, name, *, h5=False):
        path = os.path.join(keras_dir, f"{name}.h5" if h5 else f"{name}.keras")
        with _io.atomic_path(path) as tmp, warnings.catch_warnings():
            # QAT models go to .h5 on purpose: tf_keras 2.21's .keras format drops the quantizer variables.
            warnings.simplefilter("ignore", UserWarning)
            model.save(tmp)
        return os.path.relpath(path, model_dir)

    def attempt(name, fn):
        try:
            fn()
        except CompressError as err:
            skipped[name] = str(err)
            log(f"{name}: skipped ({err})")

    # 1 post-training quantization of the trained float model
    emit("float32", lambda: quantize_mod.to_tflite(run.model, "float32"))
    emit("dynamic_range", lambda: quantize_mod.to_tflite(run.model, "dynamic_range"))
    emit("float16", lambda: quantize_mod.to_tflite(run.model, "float16"))
    emit("int8", lambda: quantize_mod.to_tflite(run.model, "int8", representative=representative))
    emit("int8_per_tensor", lambda: quantize_mod.to_tflite(run.model, "int8_per_tensor", representative=representative))
    if int8_io:
        emit("int8_io", lambda: quantize_mod.to_tflite(run.model, "int8_io", representative=representative))

    # 2 quantization-aware training
    if qat:
        def do_qat():
            q = quantize_mod.qat(run.model, train_ds, epochs=epochs or 1, lr=small_lr, **tune)
            saved = save_keras(q, "qat", h5=True)
            emit("qat_int8", lambda: quantize_mod.to_tflite(q, "qat"), extra={"keras_model": saved})
        attempt("qat_int8", do_qat)

    # 3 pruning, then int8, sparse encoding, and pruning-preserving QAT
    pruned_models = {}
    for s in sparsities:
        tag = prune_mod.variant_tag(s)

        def do_prune(s=s, tag=tag):
            m_by_n = s if isinstance(s, tuple) else None
            chosen = prune_mod.select_layers(run.model, prune_layers, m_by_n=m_by_n)
            stripped, _ = prune_mod.prune_model(run.model, s, train_ds, layers=prune_layers,
                                          epochs=epochs or 5, lr=base_lr, **tune)
            per_layer = prune_mod.pruning_report(stripped, chosen)
            sparsity_report[tag] = per_layer
            extra = {"sparsity": overall_sparsity({k: v for k, v in per_layer.items() if v["pruned"]}),
                     "keras_model": save_keras(stripped, tag)}
            if m_by_n:
                extra["m_by_n_ok"] = all(prune_mod.check_m_by_n(stripped.get_layer(n).kernel.numpy(), m_by_n)
                                         for n in chosen)
            pruned_models[tag] = stripped
            emit(f"{tag}_float32", lambda: quantize_mod.to_tflite(stripped, "float32"), extra=extra)
            emit(f"{tag}_int8", lambda: quantize_mod.to_tflite(stripped, "int8", representative=representative),
                 extra=extra)
            emit(f"{tag}_int8_per_tensor", lambda: quantize_mod.to_tflite(
                stripped, "int8_per_tensor", representative=representative), extra=extra)
            emit(f"{tag}_int8_sparse", lambda: quantize_mod.to_tflite(
                stripped, "int8", representative=representative, sparse=True),
                resolver=tflite_mod.NO_DELEGATES, extra=extra)
            if qat:
                def do_pqat():
                    q = quantize_mod.qat(stripped, train_ds, epochs=epochs or 1, lr=small_lr,
                                         scheme="prune_preserve", **tune)
                    emit(f"{tag}_pqat_int8", lambda: quantize_mod.to_tflite(q, "qat"),
                         extra={"keras_model": save_keras(q, f"{tag}_pqat", h5=True)})
                attempt(f"{tag}_pqat_int8", do_pqat)
        attempt(f"{tag}", do_prune)

    # 4 clustering (after the first unstructured pruning too, keeping its zeros), cluster-preserving QAT
    if clusters:
        bases = [(f"clustered{clusters}", run.model, False)]
        bases += [(f"{tag}_clustered{clusters}", m, True) for tag, m in pruned_models.items()
                  if "of" not in tag][:1]
        for name, base, keep_zeros in bases:
            def do_cluster(name=name, base=base, keep_zeros=keep_zeros):
                stripped, _ = cluster_mod.cluster_model(base, clusters, train_ds, epochs=epochs or 1, lr=small_lr,
                                                  preserve_sparsity=keep_zeros, **tune)
                extra = {"keras_model": save_keras(stripped, name),
                         "distinct_values": cluster_mod.distinct_values(stripped)}
                emit(f"{name}_int8", lambda: quantize_mod.to_tflite(stripped, "int8", representative=representative),
                     extra=extra)
                if qat:
                    scheme = "prune_cluster_preserve" if keep_zeros else "cluster_preserve"
                    suffix = "pcqat" if keep_zeros else "cqat"

                    def do_cqat():
                        q = quantize_mod.qat(stripped, train_ds, epochs=epochs or 1, lr=small_lr, scheme=scheme,
                                             **tune)
                        emit(f"{name}_{suffix}_int8", lambda: quantize_mod.to_tflite(q, "qat"),
                             extra={"keras_model": save_keras(q, f"{name}_{suffix}", h5=True)})
                    attempt(f"{name}_{suffix}_int8", do_cqat)
            attempt(name, do_cluster)

    if not variants:
        raise CompressError(f"no variant could be produced ({skipped}). Received: model_dir={model_dir!r}")
    labels_path = os.path.join(tflite_dir, "labels.txt")
    _io.write_text(labels_path, "\n".join(run.data.class_names) + "\n")
    report = {
        "model": run.meta.get("model", run.model.name), "dataset": run.data.name, "model_dir": model_dir,
        "keras_accuracy": keras_acc, "test_images": len(labels), "params": int(run.model.count_params()),
        "input_shape": list(run.input_shape), "class_names": list(run.data.class_names),
        "variants": report_mod.rows_with_ratios(variants), "sparsity": sparsity_report, "skipped": skipped,
        "wall_time_s": round(time.perf_counter() - started, 1), "note": report_mod.HONEST_SPEED,
    }
    paths = report_mod.write(model_dir, report)
    log(f"report: {paths['md']}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        opts = resolve(args)
        log = (lambda *_: None) if opts["quiet"] else print
        report = compress(opts["model_dir"], prune=opts["sparsities"], prune_layers=opts["prune_layers"],
                          clusters=opts["clusters"], qat=opts["qat"], int8_io=opts["int8_io"],
                          epochs=opts["epochs"], lr=opts["lr"], latency_images=opts["latency_images"], log=log)
    except ValueError as err:  # CompressError, DatasetError: one line, exit 2
        print(f"{PROG}: error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
        return 2
    if not opts["quiet"]:
        print(report_mod.markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
