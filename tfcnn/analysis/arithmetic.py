"""The arithmetic of convolution: output sizes, padding, parameter counts, receptive fields.

Chapter 3 of the notes as functions, so every number in the lecture can be
recomputed (and tested):

* output size ``(N + 2P - F) / S + 1`` (rounded down), for VALID, SAME and
  explicit padding;
* the padding that keeps the size for an odd kernel, ``P = (F - 1) / 2``;
* parameters with weight sharing (a conv layer), without it (a locally
  connected layer) and fully connected;
* the receptive field of a stack (two 3x3 convolutions see 5x5, three see 7x7).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tfcnn.errors import UsageError


def _positive_int(argname: str, value, *, allow_zero: bool = False) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        raise UsageError(f"{argname} must be {kind} int. Received: {argname}={value!r}")
    return value


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid") -> int:
    """Spatial output size of a convolution or pooling window along one axis.

    ``'valid'``: ``floor((N - F) / S) + 1``; ``'same'``: ``ceil(N / S)``
    (TensorFlow pads as needed); an int ``P``: ``floor((N + 2P - F) / S) + 1``.

    Raises:
        ValueError: a non-integer or non-positive size, stride <= 0, or a
            kernel larger than the padded input.

    Example:
        >>> conv_output_size(32, 5, 1, "valid")
        28
        >>> conv_output_size(227, 11, 4, "valid")
        55
    """
    n = _positive_int("input_size", input_size)
    f = _positive_int("kernel_size", kernel_size)
    s = _positive_int("stride", stride)
    if isinstance(padding, str):
        if padding.lower() == "same":
            return math.ceil(n / s)
        if padding.lower() != "valid":
            raise UsageError(f"padding must be 'same', 'valid' or a non-negative int. Received: padding={padding!r}")
        p = 0
    else:
        p = _positive_int("padding", padding, allow_zero=True)
    if f > n + 2 * p:
        raise UsageError(f"kernel_size is larger than the padded input ({n} + 2*{p}). Received: kernel_size={f}")
    return (n + 2 * p - f) // s + 1


def same_padding(kernel_size: int) -> int:
    """The zero padding per side that keeps the size at stride 1: ``(F - 1) / 2`` (3->1, 5->2, 7->3).

    Raises:
        ValueError: an even kernel, which cannot be centred and so cannot keep
            the size with symmetric padding (one reason kernels are odd).
    """
    f = _positive_int("kernel_size", kernel_size)
    if f % 2 == 0:
        raise UsageError(f"kernel_size must be odd to keep the size with symmetric padding. Received: kernel_size={f}")
    return (f - 1) // 2


def conv_params(kernel_size: int, in_channels: int, filters: int, *, use_bias: bool = True) -> int:
    """Parameters of a conv layer: weights are shared over positions, ``F*F*C_in*K (+ K)``.

    Example:
        >>> conv_params(5, 3, 100)   # the notes: 100 5x5 filters on 32x32x3
        7600
    """
    f = _positive_int("kernel_size", kernel_size)
    c = _positive_int("in_channels", in_channels)
    k = _positive_int("filters", filters)
    return f * f * c * k + (k if use_bias else 0)


def locally_connected_params(kernel_size: int, in_channels: int, filters: int, output_size: int | tuple[int, int],
                             *, use_bias: bool = True) -> int:
    """Parameters without weight sharing: every output position has its own ``F*F*C_in`` weights.

    ``F*F*C_in*K*H_out*W_out`` weights (plus one bias per output unit).
    """
    f = _positive_int("kernel_size", kernel_size)
    c = _positive_int("in_channels", in_channels)
    k = _positive_int("filters", filters)
    h, w = (output_size, output_size) if isinstance(output_size, int) else output_size
    positions = _positive_int("output_size", h) * _positive_int("output_size", w)
    return f * f * c * k * positions + (k * positions if use_bias else 0)


def dense_params(in_units: int, out_units: int, *, use_bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``in * out (+ out)``."""
    i = _positive_int("in_units", in_units)
    o = _positive_int("out_units", out_units)
    return i * o + (o if use_bias else 0)


def receptive_field(layers: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Receptive field size and jump (stride in input pixels) of a stack of ``(kernel, stride)`` layers.

    ``r_out = r_in + (F - 1) * j_in`` and ``j_out = j_in * S``, starting from a
    single pixel (``r = 1, j = 1``).

    Example:
        >>> receptive_field([(3, 1), (3, 1)])          # two 3x3 = one 5x5
        (5, 1)
        >>> receptive_field([(3, 1)] * 3)              # three 3x3 = one 7x7
        (7, 1)
    """
    r, j = 1, 1
    for i, item in enumerate(layers):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise UsageError(f"each layer must be (kernel_size, stride). Received: layers[{i}]={item!r}")
        f = _positive_int("kernel_size", item[0])
        s = _positive_int("stride", item[1])
        r += (f - 1) * j
        j *= s
    return r, j
