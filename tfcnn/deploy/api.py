"""``tfcnn.deploy``: from an int8 ``.tflite`` to the C sources, the measured arena and the budget verdict."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

import numpy as np

from tfcnn import _io
from tfcnn.deploy import budget as _budget
from tfcnn.deploy import carray, ops, report, tflm
from tfcnn.errors import CompressError, DeployError

DEFAULT_DATASET = "mnist-t10k"


def read_flatbuffer(path) -> bytes:
    """The bytes of a ``.tflite`` file, checked to be a TFLite flatbuffer (file identifier ``TFL3``).

    Raises:
        DeployError: missing, unreadable, or not a TFLite flatbuffer.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DeployError(f"TFLite file does not exist. Received: path={path!r}")
    with open(path, "rb") as f:
        content = f.read()
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise DeployError(f"not a TFLite flatbuffer (bytes 4..8 must be the identifier 'TFL3'). "
                          f"Received: path={path!r}, first bytes={content[:8]!r}")
    return content


def _litert(content: bytes, path: str, *, kernels: str = "default"):
    """A LiteRT interpreter: ``'default'`` (XNNPACK, as ``tfcnn.compress`` measures), ``'builtin'`` (no delegate)
    or ``'reference'`` (LiteRT's reference kernels, the integer arithmetic TFLM implements too).

    XNNPACK replaces the ops it takes over by one ``DELEGATE`` node, so the op
    list is read from an interpreter without it.
    """
    from tfcnn.litert import interpreter

    try:
        if kernels != "reference":
            return interpreter(content, resolver="default" if kernels == "default" else
                               "builtin_without_default_delegates")
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        it = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        return it
    except (CompressError, RuntimeError, ValueError) as err:
        raise DeployError(f"LiteRT cannot load the file ({err}). Received: path={path!r}") from None


def check_int8_io(litert, path: str) -> None:
    """TFLM deployment here means int8 in and int8 out, the layout microcontroller kernels are optimised for.

    Raises:
        DeployError: an input or output is not int8.
    """
    dtypes = [np.dtype(d["dtype"]).name for d in (*litert.get_input_details(), *litert.get_output_details())]
    if any(d != "int8" for d in dtypes) or len(litert.get_input_details()) != 1:
        raise DeployError("a microcontroller build needs one int8 input and int8 outputs; convert with "
                          "tfcnn.compress.to_tflite(model, 'int8_io', representative=...) or python -m tfcnn.compress "
                          f"MODEL_DIR --mcu. Received: path={path!r}, input/output dtypes={dtypes}")


def weight_bytes(content: bytes) -> int:
    """Bytes of constant data in the flatbuffer's buffers (weights, biases, quantization tables)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(content, 0)
    return int(sum(model.Buffers(i).DataLength() for i in range(model.BuffersLength())))


def real_inputs(litert, images: np.ndarray | None, dataset: str) -> np.ndarray:
    """Real test images as the model's int8 input: ``images`` (float, preprocessed) or ``dataset``'s test split."""
    from tfcnn.data import load_dataset, preprocess

    detail = litert.get_input_details()[0]
    shape = tuple(int(d) for d in detail["shape"][1:])
    if images is None:
        data = load_dataset(dataset)
        images = preprocess(data.x_test, shape).numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or tuple(images.shape[1:]) != shape or len(images) == 0:
        raise DeployError(f"images must be float32 [N, {', '.join(map(str, shape))}] preprocessed as in training. "
                          f"Received: images shape={tuple(images.shape)}")
    return tflm.quantize(images, detail)


def _input_params(model):
    """``side -> parameters`` counted by the analyser at that input side, or ``None`` without a Keras model."""
    if model is None:
        return None
    from tfcnn.analysis import summarize

    channels = int(model.input_shape[-1])
    return lambda side: summarize(model, input_shape=(side, side, channels)).total_params


def footprint(tflite, images: np.ndarray) -> dict:
    """Flash and measured arena of any ``.tflite`` TFLM runs, float or int8, without the int8-only checks.

    For comparing compression steps on a microcontroller: float32 against
    int8 against int8 I/O, each measured the same way as :func:`deploy` does.

    Args:
        tflite: path of the ``.tflite`` file.
        images: at least one float32 input ``[N, H, W, C]``, preprocessed as in training
            (quantized here when the model's input is int8).

    Returns:
        ``{'flash', 'recorded', 'persistent', 'non_persistent', 'minimum'}`` in bytes: the file size,
        the recording allocator's total after ``invoke()`` and its two ends, and the smallest arena
        TFLM allocates and runs in.

    Raises:
        DeployError: not a flatbuffer, or TFLM cannot run it.

    Example:
        >>> footprint("lenet_int8_io.tflite", x_test[:1])["minimum"]  # doctest: +SKIP
        10256
    """
    content = read_flatbuffer(tflite)
    it = tflm.tflm_interpreter(content, max(tflm.PROBE_ARENA_BYTES, 10 * len(content)))
    detail = it.get_input_details(0)
    x = np.asarray(images[:1], dtype=np.float32)
    if np.dtype(detail["dtype"]) == np.int8:
        q = detail["quantization_parameters"]
        x = tflm.quantize(x, {"quantization": (float(q["scales"][0]), int(q["zero_points"][0]))})
    tflm.run_tflm(it, x)
    usage = tflm.arena_usage(it)
    return {"flash": len(content), "recorded": usage["total"], "persistent": usage["persistent"],
            "non_persistent": usage["non_persistent"], "minimum": tflm.minimum_arena(content, x, start=usage["total"])}


def analyse(tflite, *, arena_margin: float = 1.1, flash=None, ram=None, images: np.ndarray | None = None,
            dataset: str = DEFAULT_DATASET, model=None, alpha: float | None = None) -> tuple[dict, bytes]:
    """Everything :func:`deploy` reports, without writing a file: ``(result, flatbuffer bytes)``.

    The checks run cheapest first, so bad input fails before TFLM runs:
    budget and margin, flatbuffer, ops against TFLM, int8 I/O, then the measurement.
    """
    margin = _budget.check_margin(arena_margin)
    flash_b = None if flash is None else _budget.parse_size(flash, argname="flash")
    ram_b = None if ram is None else _budget.parse_size(ram, argname="ram")
    path = os.fspath(tflite)
    content = read_flatbuffer(path)
    op_rows = ops.check_ops(ops.model_ops(_litert(content, path, kernels="builtin")))
    if not all(row["supported"] for row in op_rows):
        raise DeployError(f"TFLM cannot run this model: {ops.unsupported_message(op_rows)}. Received: path={path!r}")
    litert = _litert(content, path)
    check_int8_io(litert, path)
    inputs = real_inputs(litert, images, dataset)
    references = {"reference": _litert(content, path, kernels="reference"), "xnnpack": litert}
    arena, cross = tflm.measure(content, inputs, references, margin=margin)
    shape = [int(d) for d in litert.get_input_details()[0]["shape"]]
    measured = {"flash_bytes": len(content), "weight_bytes": weight_bytes(content), "margin": margin,
                "persistent": arena["persistent"],
                # what scales with activations: everything above the persistent tail at the worst moment
                "non_persistent": arena["minimum"] - arena["persistent"],
                "input_side": shape[1] if len(shape) == 4 and shape[1] == shape[2] else None}
    fit = _budget.verdict(len(content), arena["recommended"], flash=flash_b, ram=ram_b)
    fit["suggestions"] = _budget.suggestions(measured, flash=flash_b, ram=ram_b, alpha=alpha,
                                             input_params=_input_params(model) if fit["fits"] is False else None)
    result = {
        "source": path, "sha256": hashlib.sha256(content).hexdigest(), "model_bytes": len(content),
        "weight_bytes": measured["weight_bytes"], "input_shape": shape, "ops": op_rows, "arena": arena,
        "cross_check": cross, "budget": fit, "tflm_version": ops.tflm_version(),
        "dataset": "images given" if images is not None else dataset,
    }
    return result, content


def deploy(tflite, out_dir, *, name: str = "model", arena_margin: float = 1.1, flash=None, ram=None,
           images: np.ndarray | None = None, dataset: str = DEFAULT_DATASET, model=None,
           alpha: float | None = None) -> dict:
    """Export an int8 ``.tflite`` for TensorFlow Lite for Microcontrollers, with its measured arena and budget.

    Writes into ``out_dir``: ``model_data.h`` / ``model_data.cc`` (the file as a
    16-byte aligned ``const unsigned char`` array), ``op_resolver.h`` (a
    ``MicroMutableOpResolver<N>`` with exactly the model's ops), ``deploy.json``
    and ``deploy.md``. All five appear together or not at all.

    Args:
        tflite: path of a ``.tflite`` with int8 input and output (``to_tflite(model, 'int8_io', ...)``).
        out_dir: destination folder (created; files of the same names are replaced).
        name: C identifier prefixing the generated symbols (``g_model_data``, ``model_register_ops``).
        arena_margin: factor on the measured arena for the recommended size (1 to 4).
        flash, ram: budget, bytes or strings such as ``'1M'`` and ``'256K'``; ``None`` for no verdict.
        images: test images, float32 and preprocessed as in training; default: ``dataset``'s test split.
        dataset: a ``tfcnn.data.load_dataset`` spec, used when ``images`` is ``None``.
        model: the Keras model the file came from, so the analyser can re-count weights at a smaller input.
        alpha: the model's width multiplier (MobileNet), to express a narrower width as an ``alpha``.

    Returns:
        The report written to ``deploy.json`` (see ``docs/deploy.md`` for every key).

    Raises:
        DeployError: not a flatbuffer, an op TFLM lacks, float I/O, a bad budget, name or margin, bad images.

    Example:
        >>> from tfcnn.deploy import deploy
        >>> r = deploy("saved_models/lenet/tflite/int8_io.tflite", "mcu/lenet",
        ...            flash="1M", ram="256K")  # doctest: +SKIP
        >>> r["arena"]["recommended"], r["budget"]["fits"]  # doctest: +SKIP
        (14784, True)
    """
    name = carray.check_name(name)
    result, content = analyse(tflite, arena_margin=arena_margin, flash=flash, ram=ram, images=images,
                              dataset=dataset, model=model, alpha=alpha)
    result["name"] = name
    out_dir = os.fspath(out_dir)
    files = {
        "model_data.h": carray.model_data_h(name),
        "model_data.cc": carray.model_data_cc(name, content),
        "op_resolver.h": carray.op_resolver_h(name, result["ops"]),
        "deploy.md": report.markdown(result),
    }
    result["files"] = sorted([*files, "deploy.json"])
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".deploy-stage-", dir=parent)
    try:
        for filename, text in files.items():
            _io.write_text(os.path.join(stage, filename), text)
        _io.write_json(os.path.join(stage, "deploy.json"), result)
        os.makedirs(out_dir, exist_ok=True)
        _io.publish(stage, out_dir, last="deploy.json")  # deploy.json last: its presence means the rest is there
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return result


__all__ = ["analyse", "check_int8_io", "deploy", "footprint", "read_flatbuffer", "real_inputs", "weight_bytes"]
