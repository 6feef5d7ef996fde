"""What the pictures share: saving a figure, preparing an input image, finding layers."""

from __future__ import annotations

import os
import sys

import matplotlib
import numpy as np

# Headless (CLI, CI): Agg. Inside Jupyter, leave the inline backend alone.
if not os.environ.get("DISPLAY") and "ipykernel" not in sys.modules and "MPLBACKEND" not in os.environ and \
        "JPY_PARENT_PID" not in os.environ:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from tfcnn._io import atomic_path


def save_figure(fig: Figure, path, *, dpi: int = 100) -> str:
    """Save ``fig`` as a PNG atomically and close it; returns the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return os.fspath(path)


# ---------------------------------------------------------------------------
# Inputs and layers
# ---------------------------------------------------------------------------


def _as_batch(model, image) -> np.ndarray:
    """One image (or a batch of one) as the float32 batch the model expects."""
    from tfcnn.data import preprocess

    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[0] != 1:
        raise ValueError(f"image must be one [H, W, C] image or a batch of one. Received: image.shape={np.shape(image)}")
    input_shape = tuple(model.input_shape[1:])
    if arr.dtype == np.uint8:
        return np.asarray(preprocess(arr, input_shape), dtype=np.float32)
    if None not in input_shape and arr.shape[1:] != input_shape:
        raise ValueError(f"a float image must match the model input {input_shape}; pass uint8 to have it resized. "
                         f"Received: image.shape={arr.shape[1:]}")
    return arr.astype(np.float32)


def _layer(model, layer_name: str):
    try:
        return model.get_layer(layer_name)
    except ValueError:
        names = ", ".join(layer.name for layer in model.layers[:40])
        raise ValueError(f"no such layer in {model.name} (layers: {names}). Received: layer_name={layer_name!r}") from None


def conv_layer_names(model) -> list[str]:
    """Names of the layers with a 4-D convolution kernel (``Conv2D``, ``RawConv2D``, depthwise...)."""
    return [layer.name for layer in model.layers if any(len(w.shape) == 4 for w in layer.weights)]


def spatial_layer_names(model) -> list[str]:
    """Names of the layers whose output is a feature map ``[batch, H, W, C]``, in graph order."""
    names = []
    for layer in model.layers[1:]:
        shape = getattr(layer, "output_shape", None)
        if isinstance(shape, tuple) and len(shape) == 4:
            names.append(layer.name)
    return names


def _grid(n: int, max_cols: int = 8) -> tuple[int, int]:
    cols = min(n, max_cols)
    return -(-n // cols), cols


def _show_image(ax, img: np.ndarray, title: str | None = None) -> None:
    img = np.asarray(img, dtype=np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        ax.imshow(np.clip(img, 0, 1))
    else:
        ax.imshow(img, cmap="gray")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def feature_maps(model, layer_name: str, image) -> np.ndarray:
    """The output ``[H, W, C]`` of any named layer for one image (``[C]`` for a vector layer).

    Uses :func:`tfcnn.models._common.feature_extractor`, the same cut the
    notes describe: everything up to that layer.
    """
    from tfcnn.models._common import feature_extractor

    _layer(model, layer_name)
    out = feature_extractor(model, layer_name)(_as_batch(model, image), training=False)
    return np.asarray(out)[0]
