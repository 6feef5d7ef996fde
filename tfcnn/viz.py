"""Pictures that make a CNN visible. Every function returns a matplotlib ``Figure``.

Figures are drawn with the non-interactive Agg backend when no display is
set, so the command line and CI work headless; in Jupyter they display inline.
"""

from __future__ import annotations

import os

import matplotlib

if not os.environ.get("DISPLAY") and "ipykernel" not in os.environ.get("MPLBACKEND", "") and \
        "JPY_PARENT_PID" not in os.environ:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tfcnn._io import atomic_path  # noqa: E402


def save_figure(fig: Figure, path, *, dpi: int = 100) -> str:
    """Save ``fig`` as a PNG atomically and close it; returns the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return os.fspath(path)


def training_curves(history: dict[str, list[float]], *, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training against validation where present.

    Args:
        history: ``keras.callbacks.History.history``-like dict (``loss``,
            ``accuracy``, ``val_loss``, ``val_accuracy``...).
    """
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(5 * max(len(metrics), 1), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        epochs = range(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], marker="o", label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
