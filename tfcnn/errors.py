"""Every exception type tfcnn raises on purpose, in one place at the bottom of the house.

Each is a ``ValueError`` (bad input: a command line reports it as one line
and exit code 2) or a ``RuntimeError`` (something went wrong while running:
exit code 1). Modules raise these and never define their own, so a module
high up and one low down can share an error type without importing each
other. Messages end in what was received (``... Received: stride=0``).
"""

from __future__ import annotations


class TfcnnError(Exception):
    """Base of every exception tfcnn raises on purpose."""


class UsageError(TfcnnError, ValueError):
    """Bad input to a function or command line: an option, a path, a value out of range."""


class DatasetError(UsageError):
    """A dataset cannot be found, read or used; the message says which and why."""


class ModelError(UsageError):
    """A model cannot be built or loaded with the options given."""


class PretrainedWeightsUnavailable(ModelError):
    """``weights='imagenet'`` was asked for but the file is neither cached nor downloadable."""


class UnsafeFileError(ModelError):
    """A file would run code when loaded (a ``Lambda`` layer's bytecode, a pickled object) and was refused."""


class RunDirError(UsageError):
    """A run folder is missing, unfinished, corrupt or of another schema."""


class CompressError(UsageError):
    """A compression request cannot be carried out (bad option, unsupported model, failed conversion)."""


class PredictError(UsageError):
    """An image or a TFLite file given to ``predict`` cannot be used."""


class DeployError(UsageError):
    """A model cannot be exported for a microcontroller (not int8, not a flatbuffer, an op TFLM lacks)."""


class TrainingDiverged(TfcnnError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


__all__ = [
    "CompressError",
    "DatasetError",
    "DeployError",
    "ModelError",
    "PredictError",
    "PretrainedWeightsUnavailable",
    "RunDirError",
    "TfcnnError",
    "TrainingDiverged",
    "UnsafeFileError",
    "UsageError",
]
