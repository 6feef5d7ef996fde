"""Running ``.tflite`` files with LiteRT, as a device would: load, quantize the input, invoke, measure.

``ai_edge_litert.interpreter.Interpreter`` is the successor of the deprecated
``tf.lite.Interpreter``. :func:`evaluate` runs a whole test set one image at a
time and reports accuracy, top-1 agreement with the float Keras model, raw
and gzipped size, and the median latency per image with one thread and with
all threads. Used by compression (to verify every variant), ``predict`` and
``deploy`` (to cross-check the microcontroller interpreter).
"""

from __future__ import annotations

import gzip
import os
import time

import numpy as np

from tfcnn._compat import quiet_native_stderr
from tfcnn.errors import CompressError


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


DEFAULT = "default"
NO_DELEGATES = "builtin_without_default_delegates"
"""Op resolver without XNNPACK: sparse (``EXPERIMENTAL_SPARSITY``) int8 models fail under XNNPACK here."""


def interpreter(model, *, num_threads: int | None = None, resolver: str = DEFAULT):
    """A LiteRT interpreter for a ``.tflite`` path or bytes, tensors allocated.

    Raises:
        CompressError: the file is missing or not a valid TFLite model.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {"num_threads": num_threads or 1}
    if resolver == NO_DELEGATES:
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    elif resolver != DEFAULT:
        raise CompressError(f"resolver must be {DEFAULT!r} or {NO_DELEGATES!r}. Received: resolver={resolver!r}")
    if isinstance(model, (bytes, bytearray)):
        kwargs["model_content"] = bytes(model)
        where = "<bytes>"
    else:
        where = os.fspath(model)
        if not os.path.isfile(where):
            raise CompressError(f"TFLite file does not exist. Received: path={where!r}")
        kwargs["model_path"] = where
    try:
        with quiet_native_stderr():  # "Created TensorFlow Lite XNNPACK delegate for CPU."
            it = Interpreter(**kwargs)
            it.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise CompressError(f"not a valid TFLite model ({_first_line(err)}). Received: path={where!r}") from None
    return it


def gzipped_size(path: str | os.PathLike) -> int:
    """Bytes after gzip at maximum compression: where zeros and shared values show."""
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=9, mtime=0))


def _quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] in (np.int8, np.uint8):
        scale, zero_point = detail["quantization"]
        info = np.iinfo(detail["dtype"])
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(detail["dtype"])
    return x.astype(detail["dtype"])


def _dequantize_output(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] in (np.int8, np.uint8):
        scale, zero_point = detail["quantization"]
        return (y.astype(np.float32) - zero_point) * scale
    return y.astype(np.float32)


def run(it, images: np.ndarray, *, timings: list | None = None) -> np.ndarray:
    """Run ``images`` (float32, preprocessed) one at a time; returns float outputs ``[N, classes]``.

    Quantized inputs and outputs are converted with the model's scale and zero point.
    """
    inp = it.get_input_details()[0]
    out = it.get_output_details()[0]
    results = []
    for i in range(len(images)):
        x = _quantize_input(images[i:i + 1], inp)
        it.set_tensor(inp["index"], x)
        start = time.perf_counter()
        it.invoke()
        if timings is not None:
            timings.append(time.perf_counter() - start)
        results.append(_dequantize_output(it.get_tensor(out["index"]), out)[0])
    return np.stack(results) if results else np.zeros((0, 0), np.float32)


def median_latency_ms(path, images: np.ndarray, *, num_threads: int, resolver: str = DEFAULT,
                      repeats: int = 1) -> float:
    """Median ``invoke`` time per image in milliseconds (after one warm-up run)."""
    it = interpreter(path, num_threads=num_threads, resolver=resolver)
    run(it, images[:1])
    timings: list = []
    for _ in range(repeats):
        run(it, images, timings=timings)
    return float(np.median(timings) * 1e3)


def evaluate(path, images: np.ndarray, labels: np.ndarray, *, reference_pred: np.ndarray | None = None,
             resolver: str = DEFAULT, latency_images: int = 200, threads: int | None = None) -> dict:
    """Measure one ``.tflite`` file on the whole test set.

    Args:
        path: the ``.tflite`` file.
        images: the test set, preprocessed as in training (float32 NHWC).
        labels: integer labels.
        reference_pred: the float Keras model's top-1 classes, for agreement.
        resolver: ``'default'`` (XNNPACK) or ``'builtin_without_default_delegates'``.
        latency_images: how many test images time the latency.
        threads: "all threads" count (default: the CPU count).

    Returns:
        ``{size, gzip_size, accuracy, agreement, latency_ms_1_thread,
        latency_ms_all_threads, threads, resolver, input_dtype}``.

    Raises:
        CompressError: the file is not a valid TFLite model.
    """
    threads = threads or os.cpu_count() or 1
    it = interpreter(path, num_threads=threads, resolver=resolver)
    pred = np.argmax(run(it, images), axis=-1)
    labels = np.asarray(labels)
    sample = images[:latency_images]
    result = {
        "size": os.path.getsize(path),
        "gzip_size": gzipped_size(path),
        "accuracy": float(np.mean(pred == labels)),
        "agreement": float(np.mean(pred == reference_pred)) if reference_pred is not None else None,
        "latency_ms_1_thread": median_latency_ms(path, sample, num_threads=1, resolver=resolver),
        "latency_ms_all_threads": median_latency_ms(path, sample, num_threads=threads, resolver=resolver),
        "threads": threads,
        "resolver": resolver,
        "input_dtype": np.dtype(it.get_input_details()[0]["dtype"]).name,
    }
    return result


__all__ = ["DEFAULT", "NO_DELEGATES", "evaluate", "gzipped_size", "interpreter", "median_latency_ms", "run"]
