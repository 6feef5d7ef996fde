"""Writing files so that nothing is ever half-written: a temporary name, fsync, then a rename.

Every file tfcnn writes goes through here: :func:`atomic_path` (one file or
one folder), :func:`write_json`/:func:`write_text`, and :func:`publish` (move
a staged set of artefacts into place, the one that marks completion last).
After a rename the parent directory is fsynced too, so a power cut leaves
either the old file or the new one, never a name pointing at nothing.
"""

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
        fsync_tree(tmp)
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
        fsync_dir(parent)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.unlink(tmp)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a directory's entries (renames, new names) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def fsync_tree(path: str | os.PathLike) -> None:
    """Flush a file, or every file and folder under a folder, to disk."""
    path = os.fspath(path)
    if os.path.isdir(path):
        for root, _, files in os.walk(path, topdown=False):
            for name in files:
                fsync_tree(os.path.join(root, name))
            fsync_dir(root)
    elif os.path.isfile(path):
        with open(path, "rb") as f:
            os.fsync(f.fileno())


def publish(stage: str | os.PathLike, dest: str | os.PathLike, *, last: str | None = None) -> list[str]:
    """Move every entry of the folder ``stage`` into ``dest`` by renames; ``last`` (a name) moves last.

    A folder already at a destination name is replaced only once the new one
    is in place beside it. The entry named ``last`` (a run's ``metrics.json``)
    is published after everything else, so its presence means the rest is there.

    Returns:
        The names published, in the order they were moved.
    """
    stage, dest = os.fspath(stage), os.fspath(dest)
    fsync_tree(stage)
    names = sorted(os.listdir(stage), key=lambda n: (n == last, n))
    for name in names:
        src, dst = os.path.join(stage, name), os.path.join(dest, name)
        if os.path.isdir(src) and os.path.exists(dst):
            old = tempfile.mkdtemp(prefix=f".{name}.old.", dir=dest)
            os.rmdir(old)
            os.replace(dst, old)
            os.replace(src, dst)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(src, dst)
        fsync_dir(dest)
    return names


def remove_stale_temporaries(folder: str | os.PathLike) -> list[str]:
    """Delete what :func:`atomic_path` leaves behind when its process is killed (``.NAME.XXXX.tmp*``).

    Returns:
        The names removed.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return []
    removed = []
    for name in os.listdir(folder):
        if name.startswith(".") and ".tmp" in name:
            path = os.path.join(folder, name)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
            removed.append(name)
    return removed


def read_json(path: str | os.PathLike, *, what: str = "file"):
    """Read a JSON file; ``ValueError`` naming the file when it is unreadable or not JSON."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise ValueError(f"{what} {path} cannot be read as JSON ({first})") from None


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
