"""Run a model in the TFLM interpreter on the host: the measured tensor arena and the cross-check with LiteRT.

The ``tflite-micro`` wheel's interpreter is TFLM itself (reference kernels,
the same allocator as on a device) with a ``RecordingMicroAllocator``: after
``invoke()``, ``print_allocations()`` writes the arena use to the process's
stderr from C++ (the Python API returns no numbers), so it is captured at
the file-descriptor level and parsed. TFLM's own errors ("Didn't find op for
builtin opcode ...") reach stderr the same way and are captured for the
error message.

The arena has two ends: the *head* holds non-persistent buffers (activations
and scratch, planned so that tensors whose lifetimes do not overlap share
memory), the *tail* persistent ones (tensor structs, quantization
parameters, kernel op data). The host is 64-bit, so persistent structs with
pointers are somewhat larger than on a 32-bit Cortex-M: the host figure is
an upper bound there, and the margin covers allocator alignment.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from tfcnn.errors import DeployError

PROBE_ARENA_BYTES = 32 * 2**20
"""Arena for the measuring run: large enough that allocation never fails, so the recording shows the real need."""

_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_probe.py")
_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


@contextlib.contextmanager
def captured_stderr():
    """Capture what C++ code writes to file descriptor 2; yields a list that receives the text on exit."""
    sys.stderr.flush()
    saved = os.dup(2)
    out: list[str] = []
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def tflm_interpreter(content: bytes, arena_size: int):
    """A TFLM interpreter for ``content`` with an arena of ``arena_size`` bytes (allocation recording on).

    Raises:
        DeployError: TFLM cannot load the model or allocate its tensors in that arena (TFLM's reason included).
    """
    from tflite_micro.python.tflite_micro import runtime

    with captured_stderr() as log:
        try:
            return runtime.Interpreter.from_bytes(content, arena_size=int(arena_size))
        except (RuntimeError, ValueError) as err:
            failure = err
    reason = " ".join(line.strip() for line in log[0].splitlines() if line.strip())[:300] or str(failure)
    raise DeployError(f"TFLM cannot load the model ({reason}). Received: arena_size={arena_size}")


def arena_usage(it) -> dict:
    """Parse the recording allocator's report: ``{'total', 'non_persistent', 'persistent', 'log'}`` in bytes."""
    with captured_stderr() as log:
        it.print_allocations()
    text = log[0]
    found = {key: int(value) for key, value in _LINE.findall(text)}
    if set(found) != {"total", "head", "tail"}:
        raise DeployError(f"TFLM printed no arena report. Received: {text.strip()[:200]!r}")
    return {"total": found["total"], "non_persistent": found["head"], "persistent": found["tail"],
            "log": [line.replace("[RecordingMicroAllocator] ", "") for line in text.splitlines() if line.strip()]}


def quantize(images: np.ndarray, detail: dict) -> np.ndarray:
    """Float images to the model's int8 input (``q = round(x / scale) + zero_point``, clipped)."""
    scale, zero_point = detail["quantization"]
    return np.clip(np.round(images / scale + zero_point), -128, 127).astype(np.int8)


def run_tflm(it, inputs: np.ndarray) -> np.ndarray:
    """Invoke TFLM once per input (int8 ``[N, ...]``); returns the raw outputs ``[N, classes]``."""
    outs = []
    for i in range(len(inputs)):
        it.set_input(inputs[i:i + 1], 0)
        it.invoke()
        outs.append(np.array(it.get_output(0)).reshape(-1))
    return np.stack(outs)


def run_litert(litert, inputs: np.ndarray) -> np.ndarray:
    """The same through LiteRT (raw int8 in, raw int8 out)."""
    inp, out = litert.get_input_details()[0], litert.get_output_details()[0]
    outs = []
    for i in range(len(inputs)):
        litert.set_tensor(inp["index"], inputs[i:i + 1])
        litert.invoke()
        outs.append(litert.get_tensor(out["index"]).reshape(-1))
    return np.stack(outs)


def round_up(n: float, multiple: int = 16) -> int:
    """``n`` rounded up to a multiple of ``multiple`` bytes."""
    return int(-(-int(np.ceil(n)) // multiple) * multiple)


def _runs_in(model_path: str, input_path: str, arena_size: int) -> bool:
    """Whether TFLM allocates and runs the model in ``arena_size`` bytes, asked in a child process (see _probe.py)."""
    done = subprocess.run([sys.executable, _PROBE, model_path, input_path, str(int(arena_size))],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)
    return done.returncode == 0


def minimum_arena(content: bytes, sample: np.ndarray, *, start: int) -> int:
    """The smallest arena (to 16 bytes) in which TFLM allocates and runs the model, found by bisection.

    The recording allocator reports what stays allocated after ``invoke()``;
    while preparing, TFLM also needs short-lived temporary tensor structs at
    the head of the arena, so the true minimum is somewhat above the
    recorded total. Each probe runs in a child process: for some sizes just
    below the need, TFLM's allocator crashes instead of reporting an error.
    """
    with tempfile.TemporaryDirectory(prefix="tfcnn-arena-") as tmp:
        model_path, input_path = os.path.join(tmp, "model.tflite"), os.path.join(tmp, "input.npy")
        with open(model_path, "wb") as f:
            f.write(content)
        np.save(input_path, np.ascontiguousarray(sample[:1]))
        # The recorded total is a lower bound and the temporaries are small (0-600 B measured here), so step up
        # from it by a growing stride before bisecting, instead of bisecting [total, 2 x total].
        lo, hi, step = round_up(start) - 16, round_up(start), 1024
        while not _runs_in(model_path, input_path, hi):
            lo, hi, step = hi, hi + step, step * 2
            if hi > PROBE_ARENA_BYTES:
                raise DeployError(f"TFLM does not run the model in {PROBE_ARENA_BYTES:,} bytes. Received: "
                                  f"start={start}")
        while hi - lo > 16:
            mid = round_up((lo + hi) / 2)
            if mid >= hi:
                break
            lo, hi = (lo, mid) if _runs_in(model_path, input_path, mid) else (mid, hi)
    return hi


def compare(tflm_out: np.ndarray, ref: np.ndarray) -> dict:
    """Top-1 agreement, share of identical int8 outputs and the largest difference (int8 steps)."""
    diff = np.abs(tflm_out.astype(np.int32) - ref.astype(np.int32))
    return {"top1_agreement": float(np.mean(np.argmax(tflm_out, -1) == np.argmax(ref, -1))),
            "identical_outputs": float(np.mean(np.all(diff == 0, axis=-1))),
            "max_abs_diff_int8": int(diff.max()) if diff.size else 0}


def measure(content: bytes, inputs: np.ndarray, references: dict, *, margin: float) -> tuple[dict, dict]:
    """Run every input through TFLM and LiteRT; the arena measured, the recommendation verified, and agreement.

    Args:
        content: the int8 I/O ``.tflite`` bytes.
        inputs: int8 inputs ``[N, H, W, C]`` (real test images, quantized).
        references: LiteRT interpreters of the same model: ``'reference'`` (reference kernels: TFLM's
            integer arithmetic, so outputs should be identical) and ``'xnnpack'`` (what ``tfcnn.compress``
            measured accuracy with; its int8 kernels round differently, which deep models accumulate).
        margin: factor on the smallest working arena for the recommended one.

    Returns:
        ``(arena, cross_check)`` dictionaries (see ``docs/deploy.md``).
    """
    it = tflm_interpreter(content, max(PROBE_ARENA_BYTES, 10 * len(content)))
    tflm_out = run_tflm(it, inputs)
    arena = arena_usage(it)
    arena["minimum"] = minimum_arena(content, inputs[:1], start=arena["total"])
    arena["recommended"] = round_up(arena["minimum"] * margin)
    arena["margin"] = margin
    # The recommendation is only worth printing if TFLM really runs in it: allocate and invoke once more.
    check = run_tflm(tflm_interpreter(content, arena["recommended"]), inputs[:1])
    arena["verified"] = bool(np.array_equal(check[0], tflm_out[0]))
    cross = {"images": len(inputs), **compare(tflm_out, run_litert(references["reference"], inputs)),
             "litert_kernels": "reference (OpResolverType.BUILTIN_REF)"}
    if references.get("xnnpack") is not None:
        cross["xnnpack"] = compare(tflm_out, run_litert(references["xnnpack"], inputs))
    return arena, cross


__all__ = ["PROBE_ARENA_BYTES", "arena_usage", "captured_stderr", "compare", "measure", "minimum_arena", "quantize", "round_up",
           "run_litert", "run_tflm", "tflm_interpreter"]
