"""Flash and RAM against a microcontroller's budget, and what would fit when the model does not.

Flash holds the model array (``model_data.cc``); RAM holds the tensor arena
(code, stack and the application's own buffers come on top, so leave room).
For a model that does not fit, the estimates scale the *measured* numbers
with the counting rules of :mod:`tfcnn.analysis`:

* a convolution has ``k·k·c_in·c_out`` weights (``analysis.conv_params``), so
  keeping a fraction ``w`` of the channels of every layer (a narrower MobileNet
  ``alpha``, or structured channel pruning at ratio ``1 - w``) scales weight
  bytes by about ``w²``, while activations (``H·W·C``) scale by ``w``;
* a smaller input side scales every activation map by ``(s'/s)²`` and leaves
  convolution weights alone; with a Keras model given, the analyser re-counts
  parameters at that input (a ``Flatten`` → ``Dense`` head shrinks too).

Persistent arena bytes (tensor structs, quantization parameters) and the
flatbuffer's non-weight bytes are kept as they are.
"""

from __future__ import annotations

import math
import re

from tfcnn.errors import DeployError

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2}


def parse_size(value, *, argname: str = "size") -> int:
    """Bytes from ``256K``, ``1M``, ``1.5MB``, ``262144`` (K and M are binary, as microcontroller datasheets mean).

    Raises:
        DeployError: not a positive size.

    Example:
        >>> parse_size("256K"), parse_size("1M"), parse_size(4096)
        (262144, 1048576, 4096)
    """
    if isinstance(value, bool):
        raise DeployError(f"{argname} must be a size such as 256K or 1M. Received: {argname}={value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value))
        if not m or m.group(2).upper() not in _UNITS:
            raise DeployError(f"{argname} must be a size such as 256K, 1M or 262144 (K = 1024 bytes). "
                              f"Received: {argname}={value!r}")
        number, unit = float(m.group(1)), m.group(2).upper()
    size = int(number * _UNITS[unit])
    if not math.isfinite(number) or size <= 0:
        raise DeployError(f"{argname} must be a positive size. Received: {argname}={value!r}")
    return size


def check_margin(margin, *, argname: str = "arena_margin") -> float:
    """The arena margin as a float in [1, 4].

    Raises:
        DeployError: not a number in that range.
    """
    try:
        value = float(margin)
    except (TypeError, ValueError):
        value = float("nan")
    if not (1.0 <= value <= 4.0):
        raise DeployError(f"{argname} must be a factor between 1 and 4 (1.1 adds 10 %). "
                          f"Received: {argname}={margin!r}")
    return value


def verdict(flash_bytes: int, arena_bytes: int, *, flash: int | None, ram: int | None) -> dict:
    """Pass or fail for each budget given; ``fits`` is ``None`` when no budget was given."""
    out = {"flash_bytes": int(flash_bytes), "flash_budget": flash, "arena_bytes": int(arena_bytes), "ram_budget": ram}
    out["flash_fits"] = None if flash is None else flash_bytes <= flash
    out["ram_fits"] = None if ram is None else arena_bytes <= ram
    given = [v for v in (out["flash_fits"], out["ram_fits"]) if v is not None]
    out["fits"] = all(given) if given else None
    return out


def _width_needed(weights: int, other_flash: int, persistent: int, activations: int, *, flash, ram, margin) -> float:
    """Largest channel fraction ``w`` with ``other + weights·w² <= flash`` and ``(persistent + acts·w)·margin <= ram``."""
    w = 1.0
    if flash is not None and weights > 0:
        w = min(w, math.sqrt(max(flash - other_flash, 0) / weights))
    if ram is not None and activations > 0:
        w = min(w, max(ram / margin - persistent, 0) / activations)
    return max(w, 0.0)


def suggestions(measured: dict, *, flash: int | None, ram: int | None, alpha: float | None = None,
                input_params=None) -> list[dict]:
    """What would fit the budget: a narrower width (``alpha`` / channel pruning) and, for RAM, a smaller input.

    Args:
        measured: ``{'flash_bytes', 'weight_bytes', 'persistent', 'non_persistent', 'margin', 'input_side'}``.
        flash, ram: the budget in bytes (``None``: not constrained).
        alpha: the model's width multiplier, if it has one (MobileNet), to turn a width into an ``alpha``.
        input_params: ``side -> parameter count`` from the analyser (a Keras model's :func:`summarize` at
            that input), or ``None`` to keep weights unchanged at smaller inputs.

    Returns:
        Rows ``{'change', 'estimated_flash', 'estimated_arena'}``; empty when the model already fits.
    """
    weights, other = measured["weight_bytes"], measured["flash_bytes"] - measured["weight_bytes"]
    persistent, acts, margin = measured["persistent"], measured["non_persistent"], measured["margin"]
    if verdict(measured["flash_bytes"], math.ceil((persistent + acts) * margin), flash=flash, ram=ram)["fits"] in (
            True, None):
        return []
    rows = []
    w = _width_needed(weights, other, persistent, acts, flash=flash, ram=ram, margin=margin)
    if w <= 0.05:
        rows.append({"change": "no narrower width fits: the fixed part (flatbuffer structure "
                               f"{other:,} B, persistent arena {persistent:,} B) alone is over budget",
                     "width": None, "estimated_flash": other, "estimated_arena": math.ceil(persistent * margin)})
    else:
        w = math.floor(w * 100) / 100
        change = f"keep {w:.0%} of the channels (structured channel pruning ratio {1 - w:.2f})"
        if alpha is not None:
            change += f", i.e. alpha = {alpha * w:.2f} instead of {alpha:g}"
        rows.append({"change": change, "width": w, "estimated_flash": int(other + weights * w * w),
                     "estimated_arena": math.ceil((persistent + acts * w) * margin)})
    side = measured.get("input_side")
    if ram is not None and side and acts > 0:
        scale = max(ram / margin - persistent, 0) / acts
        new_side = math.floor(side * math.sqrt(min(scale, 1.0)))
        if 0 < new_side < side:
            flash_est = measured["flash_bytes"]
            if input_params is not None:  # the analyser re-counts weights at the smaller input
                base, small = input_params(side), input_params(new_side)
                flash_est = int(other + weights * small / base) if base else flash_est
            rows.append({"change": f"input {new_side}x{new_side} instead of {side}x{side}", "input_side": new_side,
                         "estimated_flash": flash_est,
                         "estimated_arena": math.ceil((persistent + acts * (new_side / side) ** 2) * margin)})
    return rows


__all__ = ["check_margin", "parse_size", "suggestions", "verdict"]
