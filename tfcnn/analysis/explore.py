"""Sliders for chapter 03: one convolution's arithmetic, live in Jupyter, as a table everywhere else.

:func:`conv_explorer` moves kernel size, stride, padding and dilation and shows
the output size, parameters, MACs and receptive field of one convolution. It
needs ``ipywidgets`` and a widget front end (JupyterLab, VS Code); where there
is none (CI, GitHub's notebook view) :func:`conv_table` shows the same numbers
for fixed settings, and the chapter displays it too. The numbers come from
:func:`conv_arithmetic`, which a test compares with a real ``Conv2D``.
"""

from __future__ import annotations

import numpy as np

from tfcnn.analysis.arithmetic import conv_output_size, conv_params
from tfcnn.errors import UsageError

__all__ = ["conv_arithmetic", "conv_explorer", "conv_table"]


def conv_arithmetic(input_size: int, kernel_size: int, stride: int = 1, padding="same", dilation: int = 1, *,
                    in_channels: int = 1, filters: int = 8) -> dict:
    """One square convolution's numbers: output side, parameters, MACs, receptive field.

    A dilation ``d`` spreads the ``F`` taps over ``d·(F − 1) + 1`` pixels (the
    effective kernel), which sets the output size and the receptive field; the
    parameters and MACs stay those of ``F × F`` taps.

    Returns:
        ``{'output', 'effective_kernel', 'params', 'macs', 'receptive_field'}``.

    Raises:
        UsageError: a non-positive size or dilation, or a kernel larger than the padded input.

    Example:
        >>> conv_arithmetic(28, 3, 1, "same", 2)["effective_kernel"]
        5
    """
    if not isinstance(dilation, (int, np.integer)) or isinstance(dilation, bool) or dilation < 1:
        raise UsageError(f"dilation must be a positive int. Received: dilation={dilation!r}")
    effective = int(dilation) * (int(kernel_size) - 1) + 1
    out = conv_output_size(input_size, effective, stride, padding)
    return {"output": out, "effective_kernel": effective, "params": conv_params(kernel_size, in_channels, filters),
            "macs": out * out * int(kernel_size) ** 2 * int(in_channels) * int(filters), "receptive_field": effective}


def conv_table(settings, *, input_size: int = 28, in_channels: int = 1, filters: int = 8) -> str:
    """A Markdown table of :func:`conv_arithmetic` for ``(kernel, stride, padding, dilation)`` settings."""
    lines = [f"| kernel | stride | padding | dilation | output ({input_size} in) | params | MACs | receptive field |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for k, s, p, d in settings:
        r = conv_arithmetic(input_size, k, s, p, d, in_channels=in_channels, filters=filters)
        lines.append(f"| {k} | {s} | {p} | {d} | {r['output']} | {r['params']:,} | {r['macs']:,} | "
                     f"{r['receptive_field']} |")
    return "\n".join(lines)


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # the static companions still work
        return None
    return ipywidgets


def conv_explorer(input_size: int = 28, *, in_channels: int = 1, filters: int = 8):
    """Sliders for kernel, stride, padding, dilation; the numbers update as they move.

    Returns:
        The ``ipywidgets`` box (display it, or make it a cell's last line), or ``None`` without ipywidgets.
    """
    w = _widgets()
    if w is None:
        return None
    kernel = w.IntSlider(value=3, min=1, max=11, step=2, description="kernel")
    stride = w.IntSlider(value=1, min=1, max=4, description="stride")
    padding = w.ToggleButtons(options=["same", "valid"], value="same", description="padding")
    dilation = w.IntSlider(value=1, min=1, max=4, description="dilation")
    out = w.HTML()

    def update(_=None):
        try:
            r = conv_arithmetic(input_size, kernel.value, stride.value, padding.value, dilation.value,
                                in_channels=in_channels, filters=filters)
        except UsageError as err:
            out.value = f"<b>{err}</b>"
            return
        out.value = (f"{input_size}×{input_size}×{in_channels} → <b>{r['output']}×{r['output']}×{filters}</b>; "
                     f"effective kernel {r['effective_kernel']}, receptive field {r['receptive_field']}×"
                     f"{r['receptive_field']}; {r['params']:,} parameters, {r['macs']:,} MACs")

    for control in (kernel, stride, padding, dilation):
        control.observe(update, names="value")
    update()
    return w.VBox([kernel, stride, padding, dilation, out])
