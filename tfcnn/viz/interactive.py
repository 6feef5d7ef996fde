"""A slider for chapter 09: the dropout rate over a real image, live in Jupyter, as panels everywhere else.

:func:`dropout_explorer` needs ``ipywidgets`` and a widget front end; where
there is none (CI, GitHub's notebook view) :func:`plot_dropout_rates` shows a
fixed set of rates, and the chapter displays it too. The numbers come from
:func:`dropout_sample`: Keras's own ``Dropout`` layer in training mode. The
convolution sliders of chapter 03 are :mod:`tfcnn.analysis.explore`.
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import keras, tf
from tfcnn.errors import UsageError

__all__ = ["dropout_explorer", "dropout_sample", "plot_dropout_rates"]


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # the static companion still works
        return None
    return ipywidgets


def dropout_sample(image, rate: float, *, seed: int = 0) -> dict:
    """``image`` through Keras's ``Dropout(rate)`` in training mode: inverted dropout, kept units scaled by 1/(1−p).

    Returns:
        ``{'output', 'kept', 'mean_in', 'mean_out'}``: the dropped image, the fraction of pixels kept,
        and the mean before and after (equal in expectation).

    Raises:
        UsageError: ``rate`` not in [0, 1).
    """
    if not isinstance(rate, (int, float, np.floating)) or isinstance(rate, bool) or not 0 <= rate < 1:
        raise UsageError(f"rate must be in [0, 1). Received: rate={rate!r}")
    x = tf.convert_to_tensor(np.asarray(image, np.float32)[None])
    y = keras.layers.Dropout(float(rate), seed=seed)(x, training=True).numpy()[0]
    src = np.asarray(image, np.float32)
    kept = float(np.mean(y[src != 0] != 0)) if np.any(src != 0) else 1.0
    return {"output": y, "kept": kept, "mean_in": float(src.mean()), "mean_out": float(y.mean())}


def plot_dropout_rates(image, rates=(0.0, 0.25, 0.5, 0.75), *, seed: int = 0):
    """One panel per rate: the image after dropout, its kept fraction and mean (the static companion)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rates), figsize=(2.3 * len(rates), 2.6))
    for ax, rate in zip(np.atleast_1d(axes), rates):
        r = dropout_sample(image, rate, seed=seed)
        ax.imshow(np.squeeze(r["output"]), cmap="gray", vmin=0, vmax=max(1.0, float(r["output"].max())))
        ax.set_title(f"p = {rate:g}: {r['kept']:.0%} kept\nmean {r['mean_in']:.3f} → {r['mean_out']:.3f}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


def dropout_explorer(image, *, seed: int = 0):
    """A slider for the dropout rate over ``image``.

    Returns:
        The ``ipywidgets`` box, or ``None`` without ipywidgets.
    """
    w = _widgets()
    if w is None:
        return None
    import matplotlib.pyplot as plt

    rate = w.FloatSlider(value=0.5, min=0.0, max=0.9, step=0.05, description="rate p")
    out = w.Output()

    def update(_=None):
        with out:
            out.clear_output(wait=True)
            fig = plot_dropout_rates(image, (rate.value,), seed=seed)
            plt.show()
            plt.close(fig)

    rate.observe(update, names="value")
    update()
    return w.VBox([rate, out])
