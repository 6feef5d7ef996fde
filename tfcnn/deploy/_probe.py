"""Run as a script: does TFLM allocate and run MODEL in an arena of ARENA bytes? Exit 0 yes, 3 no.

``python _probe.py MODEL.tflite INPUT.npy ARENA``. A separate process because
TFLM's allocator can crash (segmentation fault) instead of returning an
error for some arena sizes just below what a model needs; a crash here only
answers "no". It imports ``tflite_micro`` and NumPy only, so it starts in a
fraction of a second.
"""

import os
import sys

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def main(argv) -> int:
    model_path, input_path, arena = argv[1], argv[2], int(argv[3])
    with open(model_path, "rb") as f:
        content = f.read()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # TFLM explains each failed allocation on stderr; the caller only needs yes or no
    try:
        it = runtime.Interpreter.from_bytes(content, arena_size=arena)
        it.set_input(np.load(input_path), 0)
        it.invoke()
    except (RuntimeError, ValueError):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
