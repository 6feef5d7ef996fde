"""Write ``.tflite`` files atomically, verified to load in LiteRT before they get their final name.

Running and measuring the files is :mod:`tfcnn.litert`'s job (re-exported here).
"""

from __future__ import annotations

import os

from tfcnn import _io
from tfcnn.litert import DEFAULT, NO_DELEGATES, evaluate, gzipped_size, interpreter, median_latency_ms, run

__all__ = ["DEFAULT", "NO_DELEGATES", "evaluate", "gzipped_size", "interpreter", "median_latency_ms", "run",
           "write_tflite"]


def write_tflite(path: str | os.PathLike, convert, *, resolver: str = DEFAULT) -> int:
    """Convert and write one variant atomically; returns its size in bytes.

    Args:
        path: destination, usually ``MODEL_DIR/tflite/<variant>.tflite``.
        convert: a zero-argument function returning the flatbuffer bytes
            (called inside the atomic write, so a failed conversion leaves
            no file behind).
        resolver: how to verify the file loads (``'default'`` or
            ``'builtin_without_default_delegates'``).

    Raises:
        CompressError: the converted file does not load.
        Exception: whatever the converter raised; no file is left.
    """
    with _io.atomic_path(path) as tmp:
        content = convert()
        interpreter(content, resolver=resolver)  # refuse to publish a file that cannot run
        with open(tmp, "wb") as f:
            f.write(content)
    return os.path.getsize(path)
