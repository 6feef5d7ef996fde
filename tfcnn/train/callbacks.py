"""The trainer's Keras callbacks: a NaN guard, a backup that skips broken weights, the run's history."""

from __future__ import annotations

import json
import os
import time

import numpy as np

from tfcnn import _io
from tfcnn._compat import keras


class NonFiniteGuard(keras.callbacks.Callback):
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
        self.steps = 0  # steps run in the current epoch (fewer than an epoch's after a mid-epoch resume)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
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


class GuardedBackup(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` that refuses to back up weights after the loss went non-finite.

    With a step frequency (``--checkpoint-every N``) Keras checkpoints only every
    N steps; this one also checkpoints at every epoch end, so the step
    checkpoints add to the per-epoch ones instead of replacing them.
    """

    def __init__(self, backup_dir, *, save_freq, guard: NonFiniteGuard):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        self._guard = guard

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":  # the saved batch is the epoch's last: a resume starts the next epoch
            self._backup(epoch=epoch)

    def _backup(self, epoch, batch=0):
        if self._guard.where is None:
            super()._backup(epoch, batch)


_NOT_METRICS = ("time_s", "steps", "lr")


class RunHistory(keras.callbacks.Callback):
    """The whole run's history (all epochs, across resumes) kept in ``.resume/history.json``.

    Written before the checkpoint of the same epoch, so a kill in between
    only makes the resumed run redo (and overwrite) that epoch's row.
    """

    def __init__(self, path, *, epochs: int, log, guard: NonFiniteGuard):
        super().__init__()
        self.path, self.epochs, self.log, self.guard = path, epochs, log, guard
        self.rows: dict[int, dict] = {}
        self.resumed_at: int | None = None
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
        row["steps"] = self.guard.steps  # an epoch resumed mid-way averages only the steps it ran
        self.rows[epoch] = row
        _io.write_json(self.path, {str(k): v for k, v in self.rows.items()})
        shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in _NOT_METRICS)
        self.log(f"epoch {epoch + 1}/{self.epochs}  {shown}  {row['time_s']:.1f} s")

    def finish(self) -> None:
        """After ``fit``: a run resumed after its last epoch ran no epoch, and resumed where it ended."""
        if self.resumed_at is None:
            self.resumed_at = len(self.rows)

    def history(self) -> dict[str, list[float]]:
        """``{metric: [value per epoch]}`` over every epoch of the run."""
        keys = [k for k in (self.rows[min(self.rows)] if self.rows else {}) if k not in _NOT_METRICS]
        return {k: [self.rows[e].get(k, float("nan")) for e in sorted(self.rows)] for k in keys}

    def steps(self) -> list[int]:
        """Steps each epoch ran (its row averages over these)."""
        return [int(self.rows[e].get("steps", 0)) for e in sorted(self.rows)]

    @property
    def train_time_s(self) -> float:
        return sum(r["time_s"] for r in self.rows.values())


def tensorboard(log_dir: str) -> list:
    """Keras's TensorBoard callback (``tensorboard`` is a dependency of tfcnn)."""
    return [keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, profile_batch=0)]
