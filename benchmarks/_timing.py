"""Side-by-side timing: interleave the candidates, repeat, report medians and ratios.

Machines here are noisy (2 shared cores), so absolute times drift; timing
the candidates in alternation and comparing medians measured in the same
run keeps the ratio honest.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(candidates: dict[str, Callable[[], object]], *, repeats: int = 15, warmup: int = 3,
                inner: int = 1, stat: str = "min") -> dict[str, float]:
    """Seconds per call of each candidate, timed round-robin; ``stat`` is ``'min'`` or ``'median'``.

    The minimum is the default: on a shared machine other processes only ever
    add time, so the fastest repetition is the best estimate of the work
    itself (``timeit``'s advice). Each candidate must block until its work is
    done (e.g. call ``.numpy()``).
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - start) / inner)
    reduce = min if stat == "min" else statistics.median
    return {name: reduce(values) for name, values in samples.items()}


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" ---: " if i else " --- " for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
