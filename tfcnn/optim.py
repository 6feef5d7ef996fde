"""Optimizers and learning-rate schedules by name, shared by training and compression fine-tuning.

Example:
    >>> from tfcnn.optim import make_optimizer, make_schedule
    >>> opt = make_optimizer("sgd", make_schedule("cosine", 0.1, total_steps=1000), momentum=0.9)
"""

from __future__ import annotations

import math

from tfcnn._compat import keras
from tfcnn.errors import UsageError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine")


def make_schedule(name: str, lr: float, total_steps: int):
    """A learning rate or a Keras ``LearningRateSchedule`` over ``total_steps`` optimizer steps.

    ``step`` multiplies the rate by 0.1 at 50 % and again at 75 % of training;
    ``cosine`` decays it to zero along half a cosine (Loshchilov & Hutter 2017).

    Raises:
        UsageError: unknown schedule, or a learning rate that is not a finite number > 0.
    """
    check_lr(lr)
    if name == "constant":
        return lr
    if name == "step":
        bounds = [max(1, total_steps // 2), max(2, (3 * total_steps) // 4)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(bounds, [lr, lr * 0.1, lr * 0.01])
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, total_steps))
    raise UsageError(f"schedule must be one of {SCHEDULES}. Received: schedule={name!r}")


def make_optimizer(name: str, lr, momentum: float = 0.9):
    """The optimizer by name; ``lr`` may be a float or a schedule; ``momentum`` applies to sgd and rmsprop.

    Raises:
        UsageError: unknown optimizer.
    """
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=momentum)
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "adamw":
        return keras.optimizers.AdamW(lr)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=momentum)
    raise UsageError(f"optimizer must be one of {OPTIMIZERS}. Received: optimizer={name!r}")


def check_lr(lr, *, argname: str = "lr") -> float:
    """``lr`` as a float when it is a finite number > 0.

    Raises:
        UsageError: naming ``argname`` and the value.
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise UsageError(f"{argname} must be a finite number > 0. Received: {argname}={lr!r}")
    return float(lr)


__all__ = ["OPTIMIZERS", "SCHEDULES", "check_lr", "make_optimizer", "make_schedule"]
