"""The one helper every tfcnn command line runs through.

Policy: bad input (any ``ValueError``, ``argparse`` usage errors included)
is one line on stderr, ``PROG: error: ...``, and exit code 2; a run that
diverged is one line and exit code 1; a file-system error (a folder that
cannot be written, a full disk) is one line naming the path and exit code 2.
No traceback, no usage block.

Example:
    >>> def _run(args):
    ...     return 0
    >>> parser = ArgumentParser(prog="python -m tfcnn.thing")
    >>> run_main(parser, _run, [])
    0
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from tfcnn.errors import TrainingDiverged, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` that raises :class:`UsageError` instead of printing its usage block and exiting."""

    def error(self, message: str):
        raise UsageError(message)


def one_line(err: BaseException | str) -> str:
    """An exception's message folded onto one line (newlines and runs of spaces become one space)."""
    return " ".join(str(err).split())


def _os_error_line(err: OSError) -> str:
    where = f" {err.filename}" if getattr(err, "filename", None) else ""
    reason = os.strerror(err.errno) if err.errno else str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "no space left on the device"
    return f"cannot write or read{where}: {reason}"


def _quiet_framework_loggers() -> None:
    """TensorFlow's, absl's and TFMOT's Python warnings ("Callback method ... is slow", "Variant folder ... has
    no dataset_info.json", "Gradients do not exist for variables") stay out of a normal run; TFCNN_VERBOSE=1 keeps them.
    """
    if os.environ.get("TFCNN_VERBOSE") == "1":
        return
    for name in ("tensorflow", "absl", "tensorflow_model_optimization", "h5py", "tensorflow_datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"(tensorflow|tf_keras|tensorflow_model_optimization|absl)(\.|$)")


def run_main(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int | None],
             argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with ``parser``, call ``run(args)`` and turn every expected failure into one line.

    Returns the exit code: ``run``'s own (``None`` counts as 0), 2 for bad input
    or a file-system error, 1 for a diverged run, 130 for Ctrl-C.
    """
    prog = parser.prog
    _quiet_framework_loggers()
    try:
        args = parser.parse_args(argv)
        code = run(args)
    except ValueError as err:  # UsageError and its kin, and builders' ValueErrors
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"{prog}: error: {one_line(_os_error_line(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0 if code is None else int(code)


__all__ = ["ArgumentParser", "one_line", "run_main"]
