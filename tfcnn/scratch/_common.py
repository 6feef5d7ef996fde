"""Shared helpers of the scratch layers: argument checks and TensorFlow's padding arithmetic."""

from __future__ import annotations

import math

from tfcnn.errors import UsageError


def pair(value, name: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(2, 1)`` stays; anything not a positive int (pair) is refused."""
    pair_ = (value, value) if isinstance(value, int) else value
    if not (isinstance(pair_, (tuple, list)) and len(pair_) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair_)):
        raise UsageError(f"{name} must be a positive int or a pair of them. Received: {name}={value!r}")
    return int(pair_[0]), int(pair_[1])


def pad_amounts(size: int, kernel: int, stride: int, dilation: int, padding) -> tuple[int, int]:
    """(before, after) padding of one spatial axis, exactly as TensorFlow pads.

    ``'valid'`` pads nothing; ``'same'`` makes the output ``ceil(size / stride)``
    long and puts the odd pixel *after* (bottom/right), as ``tf.nn.conv2d`` does;
    an int pads both sides by that much (the notes' explicit ``P``).

    Raises:
        UsageError: padding is none of those, or the window does not fit.
    """
    span = dilation * (kernel - 1) + 1  # a dilated kernel covers this many pixels
    if padding == "valid":
        before = after = 0
    elif padding == "same":
        total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
        before, after = total // 2, total - total // 2
    elif isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        before = after = padding
    else:
        raise UsageError(f"padding must be 'valid', 'same' or an int >= 0. Received: padding={padding!r}")
    if size + before + after < span:
        raise UsageError(f"the window ({span} pixels) is larger than the padded input ({size + before + after}). "
                         f"Received: size={size}, kernel={kernel}, dilation={dilation}, padding={padding!r}")
    return before, after


def output_size(size: int, kernel: int, stride: int, dilation: int, before: int, after: int) -> int:
    """The notes' formula ``(N + 2P - F) / S + 1`` (floored), with a dilated kernel span ``F``."""
    return (size + before + after - (dilation * (kernel - 1) + 1)) // stride + 1
