"""Writing files so that nothing is ever half-written: a temporary name, then a rename."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it.

    Works for files and for directories (a SavedModel): a directory already at
    ``path`` is replaced only after the new one is complete.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(path)
    if suffix is None:
        suffix = os.path.splitext(base)[1] if os.path.splitext(base)[1] else ""
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{suffix}", dir=parent)
    os.close(fd)
    os.unlink(tmp)  # the writer creates it (some writers refuse an existing file)
    try:
        yield tmp
        if os.path.isdir(tmp):
            old = None
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=f".{base}.old.", dir=parent)
                os.rmdir(old)
                os.replace(path, old)
            os.replace(tmp, path)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True, default=_jsonable)
        f.write("\n")


def write_text(path, text: str) -> None:
    """Write ``text``, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
