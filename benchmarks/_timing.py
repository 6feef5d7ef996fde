"""Side-by-side timing: interleave the candidates, repeat, report medians and ratios.

Machines here are noisy (2 shared cores), so absolute times drift; timing
the candidates in alternation and comparing medians measured in the same
run keeps the ratio honest.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_samples(candidates: dict[str, Callable[[], object]], *, repeats: int = 15, warmup: int = 3,
                        inner: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each candidate at every repetition, timed round-robin after ``warmup`` calls."""
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
    return samples


def interleaved(candidates: dict[str, Callable[[], object]], *, repeats: int = 15, warmup: int = 3,
                inner: int = 1, stat: str = "min") -> dict[str, float]:
    """Seconds per call of each candidate, timed round-robin; ``stat`` is ``'min'`` or ``'median'``.

    The minimum is the default: on a shared machine other processes only ever
    add time, so the fastest repetition is the best estimate of the work
    itself (``timeit``'s advice). Each candidate must block until its work is
    done (e.g. call ``.numpy()``).
    """
    samples = interleaved_samples(candidates, repeats=repeats, warmup=warmup, inner=inner)
    reduce = min if stat == "min" else statistics.median
    return {name: reduce(values) for name, values in samples.items()}


def step_functions(model, x, y):
    """A forward pass and an SGD training step of ``model`` on ``(x, y)``, each under ``tf.function``.

    Returns two blocking callables, ``(forward, train_step)``.
    """
    from tfcnn._compat import keras, tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(0.01)

    @tf.function
    def forward():
        return model(x, training=False)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return (lambda: forward().numpy()), (lambda: train_step().numpy())


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" ---: " if i else " --- " for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
