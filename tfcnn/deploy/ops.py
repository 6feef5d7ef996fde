"""Which ops a ``.tflite`` uses, which of them TFLM can run, and the ``MicroMutableOpResolver`` call for each.

Where the supported list comes from: the installed ``tflite-micro`` wheel.
Its host interpreter (``tflite_micro/python/tflite_micro/_runtime.so``) is
TFLM built with every kernel registered (``PythonOpsResolver``), and each
kernel is linked in as a ``Register_<OP>()`` function whose name survives
as a symbol in the shared object. :func:`tflm_builtins` reads those symbols
and keeps the names that are TFLite builtin operators in the wheel's own
schema (``schema_py_generated.BuiltinOperator``), so the list follows the
installed TFLM version instead of a hand-written guess. A test checks the
list against the interpreter itself: an op outside it fails to load.
"""

from __future__ import annotations

import functools
import re

from tfcnn.errors import DeployError

# MicroMutableOpResolver method names whose spelling is not the op name in CamelCase
# (tensorflow/lite/micro/micro_mutable_op_resolver.h).
_METHOD_EXCEPTIONS = {
    "BATCH_MATMUL": "AddBatchMatMul",
    "CUMSUM": "AddCumSum",
    "PADV2": "AddPadV2",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
}

# Why an op is missing on a microcontroller and what to use instead: the usual offenders in CNNs.
_ADVICE = {
    "GELU": ("TFLM has no GELU kernel", "use activation='relu', 'relu6' or 'hard_swish' (all run in TFLM)"),
    "LOCAL_RESPONSE_NORMALIZATION": ("TFLM has no LRN kernel (AlexNet-style local response normalisation)",
                                     "use BatchNormalization, which the converter folds into the convolution"),
    "CUSTOM": ("a custom or TensorFlow (Flex) op, outside the TFLite builtins TFLM runs",
               "replace the tf.* call by a Keras layer that converts to a builtin (Conv2D, Dense, pooling, ReLU)"),
    "REDUCE_PROD": ("TFLM has no product reduction", "restructure the layer with MEAN, SUM or MUL"),
    "SWISH": ("no SWISH kernel in this TFLM", "use hard_swish or relu"),
}


def _runtime_path() -> str:
    try:
        from tflite_micro.python.tflite_micro import _runtime
    except ImportError as err:
        raise DeployError("the tflite-micro package is needed to check ops and measure the arena "
                          f"(pip install tflite-micro). Received: {err}") from None
    return _runtime.__file__


@functools.lru_cache(maxsize=1)
def tflm_builtins() -> frozenset[str]:
    """The TFLite builtin ops the installed TFLM can run, e.g. ``'CONV_2D'``, ``'FULLY_CONNECTED'``.

    Read from the ``Register_<OP>`` symbols of the ``tflite-micro`` wheel's
    interpreter and intersected with the builtin operators of its schema
    (see the module docstring).

    Returns:
        A frozenset of builtin op names.

    Raises:
        DeployError: ``tflite-micro`` is not installed, or its interpreter holds no kernels.

    Example:
        >>> "CONV_2D" in tflm_builtins() and "GELU" not in tflm_builtins()
        True
    """
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    path = _runtime_path()
    with open(path, "rb") as f:
        blob = f.read()
    builtins = {n for n in dir(schema.BuiltinOperator) if not n.startswith("_")}
    # Itanium mangling: <length><identifier>, e.g. "12Register_ADD"; the length bounds the name exactly.
    found = set()
    for m in re.finditer(rb"(\d{1,3})Register_([A-Z0-9_]+)", blob):
        length = int(m.group(1)) - len("Register_")
        if 0 < length <= len(m.group(2)):
            found.add(m.group(2)[:length].decode())
    supported = frozenset(found & builtins)
    if not supported:
        raise DeployError(f"no TFLM kernels found in the tflite-micro interpreter. Received: path={path!r}")
    return supported


def resolver_method(op: str) -> str:
    """The ``MicroMutableOpResolver`` method that registers builtin ``op``: ``'CONV_2D'`` -> ``'AddConv2D'``.

    Example:
        >>> resolver_method("DEPTHWISE_CONV_2D"), resolver_method("BATCH_TO_SPACE_ND")
        ('AddDepthwiseConv2D', 'AddBatchToSpaceNd')
    """
    if op in _METHOD_EXCEPTIONS:
        return _METHOD_EXCEPTIONS[op]
    # A part that starts with a digit keeps its case ("2D"); the others are capitalised ("ND" -> "Nd").
    parts = [p if p[:1].isdigit() else p[:1] + p[1:].lower() for p in op.split("_") if p]
    return "Add" + "".join(parts)


def _layer_of(tensor_name: str) -> str:
    """The Keras layer behind a TFLite tensor name such as ``'model/conv1/Relu;model/conv1/BiasAdd'``."""
    first = tensor_name.split(";")[0]
    parts = first.split("/")
    return parts[1] if len(parts) > 2 else parts[0]


def model_ops(it) -> list[dict]:
    """Each builtin op a LiteRT interpreter's model uses, once, sorted by name, with count and producing layers.

    Returns:
        ``[{'op', 'count', 'layers'}]``; ``layers`` are the Keras layer names read from output tensor names.
    """
    names = {t["index"]: t["name"] for t in it.get_tensor_details()}
    ops: dict[str, dict] = {}
    for detail in it._get_ops_details():
        name = str(detail["op_name"])
        row = ops.setdefault(name, {"op": name, "count": 0, "layers": []})
        row["count"] += 1
        # The output tensor is named after the layer, except the model's last one ("StatefulPartitionedCall:0"):
        # then a weight input ("model/logits/MatMul") names it, before the activation coming in.
        inputs = list(detail["inputs"])
        order = (*detail["outputs"], *inputs[1:], *inputs[:1])
        candidates = [names.get(int(i), "") for i in order if int(i) >= 0]
        named = [n for n in candidates if "/" in n]
        layer = _layer_of(named[0]) if named else ""
        if layer and layer not in row["layers"]:
            row["layers"].append(layer)
    return [ops[name] for name in sorted(ops)]


def check_ops(ops: list[dict]) -> list[dict]:
    """Mark each op supported or not by TFLM; unsupported ones get a reason and a suggestion.

    Args:
        ops: rows from :func:`model_ops` (``op``, ``count``, ``layers``).

    Returns:
        The rows with ``supported``, ``resolver_method`` and, when unsupported, ``reason`` and ``suggestion``.
    """
    supported = tflm_builtins()
    rows = []
    for row in ops:
        row = dict(row)
        row["supported"] = row["op"] in supported
        row["resolver_method"] = resolver_method(row["op"]) if row["supported"] else None
        if not row["supported"]:
            key = "CUSTOM" if row["op"] not in _all_builtins() or row["op"].startswith("Flex") else row["op"]
            reason, suggestion = _ADVICE.get(key, (
                f"no {row['op']} kernel in TFLM {tflm_version()}",
                "rewrite that layer with ops TFLM runs (tfcnn.deploy.tflm_builtins() lists them)"))
            row["reason"], row["suggestion"] = reason, suggestion
        rows.append(row)
    return rows


def unsupported_message(rows: list[dict]) -> str:
    """One line naming every unsupported op, its layers, why, and what to use instead."""
    parts = []
    for row in rows:
        if not row["supported"]:
            layers = ", ".join(row["layers"][:3]) or "?"
            parts.append(f"{row['op']} (from layer {layers}): {row['reason']}; {row['suggestion']}")
    return "; ".join(parts)


@functools.lru_cache(maxsize=1)
def _all_builtins() -> frozenset[str]:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return frozenset(n for n in dir(schema.BuiltinOperator) if not n.startswith("_"))


def tflm_version() -> str:
    """The installed ``tflite-micro`` version (it names the TFLM commit it was built from)."""
    try:
        import tflite_micro

        return str(tflite_micro.__version__)
    except ImportError:
        return "not installed"


__all__ = ["check_ops", "model_ops", "resolver_method", "tflm_builtins", "tflm_version", "unsupported_message"]
