"""Pictures that make a CNN visible, and the numbers behind them.

Every ``plot_*`` function (and :func:`training_curves`, :func:`confusion_matrix`)
returns a matplotlib ``Figure``; :func:`save_figure` writes it as a PNG. The
numbers each picture shows come from a function of their own, so they can be
checked (and the tests check them):

=====================================  =========================================
numbers                                picture
=====================================  =========================================
:func:`confusion_counts`               :func:`confusion_matrix` (of the counts)
:func:`conv_kernel`                    :func:`plot_filters`
:func:`feature_maps`                   :func:`plot_feature_maps`
:func:`deconv_reconstruction`          :func:`plot_deconv` (ZFNet / guided backprop)
:func:`gradcam`                        :func:`plot_gradcam`
:func:`attention_weights`              :func:`plot_attention` (SE and residual-attention masks)
:func:`activation_derivatives`         :func:`plot_activations`
:func:`decision_grid`                  :func:`plot_decision_boundary`
:func:`compression_points`             :func:`plot_compression`
=====================================  =========================================

Images passed to the model-based functions are one ``[H, W, C]`` image (or a
batch of one): ``uint8`` images are scaled to [0, 1] and resized to the
model's input exactly as :func:`tfcnn.data.preprocess` does for training;
float images must already match the model's input shape.

Command line::

    python -m tfcnn.viz saved_models/lenet digit.png --layer conv1_conv --kind feature_maps

Figures are drawn with the non-interactive Agg backend when no display is
set, so the command line and CI work headless; in Jupyter they display inline.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence

import matplotlib
import numpy as np

# Headless (CLI, CI): Agg. Inside Jupyter, leave the inline backend alone.
if not os.environ.get("DISPLAY") and "ipykernel" not in sys.modules and "MPLBACKEND" not in os.environ and \
        "JPY_PARENT_PID" not in os.environ:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from tfcnn._io import atomic_path

PROG = "python -m tfcnn.viz"
KINDS = ("feature_maps", "filters", "gradcam", "deconv")


def save_figure(fig: Figure, path, *, dpi: int = 100) -> str:
    """Save ``fig`` as a PNG atomically and close it; returns the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return os.fspath(path)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


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


def confusion_counts(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``counts[i, j]`` = how many examples of true class ``i`` were predicted as ``j``.

    Raises:
        ValueError: the label arrays differ in length, or hold a negative label
            or one ``>= num_classes``.
    """
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length. Received: y_pred.shape={y_pred.shape}")
    n = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1) if num_classes is None else num_classes
    if min(y_true.min(initial=0), y_pred.min(initial=0)) < 0 or max(y_true.max(initial=0), y_pred.max(initial=0)) >= max(n, 1):
        raise ValueError(f"labels must lie in [0, num_classes). Received: num_classes={num_classes!r}")
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(matrix, *, class_names=None, title: str | None = None, normalize: bool = True) -> Figure:
    """A confusion matrix as a heat map: rows are true classes, columns predicted ones.

    Args:
        matrix: ``[K, K]`` counts, ``matrix[true, predicted]``.
        class_names: ``K`` tick labels (default ``0..K-1``).
        title: figure title.
        normalize: colour each row by its share (per-class recall), so small classes stay visible;
            the counts are written in the cells when ``K <= 20``.
    """
    import numpy as np

    counts = np.asarray(matrix, dtype=np.int64)
    k = counts.shape[0]
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    side = min(max(4.0, 0.45 * k + 2.0), 16.0)
    fig, ax = plt.subplots(figsize=(side + 1.0, side))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class" if normalize else "count")
    if k <= 50:
        names = [str(n) for n in (class_names if class_names is not None else range(k))]
        ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 3 else 0)
        ax.set_yticks(range(k), names)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


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


# ---------------------------------------------------------------------------
# Filters and feature maps
# ---------------------------------------------------------------------------


def conv_kernel(model, layer_name: str) -> np.ndarray:
    """The 4-D kernel ``[F, F, C_in, K]`` of a convolution layer (depthwise: ``[F, F, C, multiplier]``).

    Raises:
        ValueError: no such layer, or the layer has no 4-D kernel.
    """
    layer = _layer(model, layer_name)
    kernels = [w for w in layer.weights if len(w.shape) == 4]
    if not kernels:
        raise ValueError(f"layer has no convolution kernel (conv layers: {', '.join(conv_layer_names(model))}). "
                         f"Received: layer_name={layer_name!r}")
    return np.asarray(kernels[0].numpy())


def plot_filters(model, layer_name: str, *, max_filters: int = 64, channel: int | None = None) -> Figure:
    """The filters of a conv layer, one tile per output channel, in the layer's own values.

    A filter over one input channel (or ``channel=i``) is shown in grey with a
    colour scale shared by all tiles (symmetric around 0, so mid-grey is zero);
    a filter over 3 input channels (the first layer of an RGB net) is shown in
    colour, min-max scaled over the whole layer. Each tile's image data is the
    kernel slice itself, so what you see is exactly ``conv_kernel(...)``.

    Args:
        model: a ``tf_keras`` model.
        layer_name: the conv layer (``conv1_conv``).
        max_filters: draw at most this many output channels.
        channel: for kernels with several input channels, show this one
            (default: the mean over input channels, or RGB when there are 3).
    """
    kernel = conv_kernel(model, layer_name)
    f_h, f_w, c_in, k = kernel.shape
    if channel is not None and not 0 <= channel < c_in:
        raise ValueError(f"channel must lie in [0, {c_in}). Received: channel={channel!r}")
    n = min(k, max_filters)
    rows, cols = _grid(n)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows + 0.4), squeeze=False)
    rgb = c_in == 3 and channel is None
    if rgb:
        lo, hi = kernel.min(), kernel.max()
        tiles = [(kernel[..., i] - lo) / max(hi - lo, 1e-12) for i in range(n)]
    else:
        tiles = [kernel[:, :, channel, i] if channel is not None else kernel[:, :, :, i].mean(axis=-1)
                 for i in range(n)]
        vmax = max(float(np.abs(np.stack(tiles)).max()), 1e-12)
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        if rgb:
            ax.imshow(tiles[i], interpolation="nearest")
        else:
            ax.imshow(tiles[i], cmap="gray", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(str(i), fontsize=7)
    what = "RGB" if rgb else (f"input channel {channel}" if channel is not None else
                              ("" if c_in == 1 else f"mean of {c_in} input channels"))
    fig.suptitle(f"{layer_name}: {k} filters {f_h}x{f_w}x{c_in} {what}".strip(), fontsize=9)
    fig.tight_layout()
    return fig


def feature_maps(model, layer_name: str, image) -> np.ndarray:
    """The output ``[H, W, C]`` of any named layer for one image (``[C]`` for a vector layer).

    Uses :func:`tfcnn.models._common.feature_extractor`, the same cut the
    notes describe: everything up to that layer.
    """
    from tfcnn.models._common import feature_extractor

    _layer(model, layer_name)
    out = feature_extractor(model, layer_name)(_as_batch(model, image), training=False)
    return np.asarray(out)[0]


def plot_feature_maps(model, layer_name: str, image, *, max_maps: int = 32) -> Figure:
    """The input image and up to ``max_maps`` channels of a layer's feature maps."""
    maps = feature_maps(model, layer_name, image)
    if maps.ndim != 3:
        raise ValueError(f"layer output is not a feature map [H, W, C]. Received: layer_name={layer_name!r} "
                         f"with output shape {maps.shape}")
    n = min(maps.shape[-1], max_maps)
    rows, cols = _grid(n + 1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.4), squeeze=False)
    flat = axes.ravel()
    _show_image(flat[0], _as_batch(model, image)[0], "input")
    for i, ax in enumerate(flat[1:]):
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(maps[..., i], cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=7)
    fig.suptitle(f"{layer_name}: {maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Deconvnet and guided backpropagation
# ---------------------------------------------------------------------------


def _is_relu_fn(fn) -> bool:
    return getattr(fn, "__name__", "") in ("relu", "relu6")


def _rectified_gradient(fn: Callable, mode: str) -> Callable:
    """``fn`` with its backward pass replaced by the deconvnet or guided rule.

    ZFNet's deconvnet passes the reconstruction back through a ReLU by
    rectifying it (``relu(grad)``), ignoring where the forward pass was
    positive; guided backpropagation does both (``relu(grad) * fn'(x)``).
    """
    from tfcnn._compat import tf

    @tf.custom_gradient
    def rectified(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)

        def grad(dy):
            if mode == "deconv":
                return tf.nn.relu(dy)
            return tape.gradient(y, x, output_gradients=tf.nn.relu(dy))

        return y, grad

    return rectified


@contextlib.contextmanager
def _rectified_relus(model, mode: str):
    """Temporarily give every ReLU of ``model`` the deconvnet/guided backward rule; restored on exit."""
    from tfcnn._compat import keras
    from tfcnn.layers.raw import RawActivation

    patched: list[tuple[object, str, object]] = []
    try:
        for layer in model.layers:
            if isinstance(layer, keras.layers.ReLU) or (isinstance(layer, RawActivation)
                                                        and layer.activation in ("relu", "relu6")):
                patched.append((layer, "call", None))
                layer.call = _rectified_gradient(layer.__class__.call.__get__(layer), mode)
            elif _is_relu_fn(getattr(layer, "activation", None)):
                patched.append((layer, "activation", layer.activation))
                layer.activation = _rectified_gradient(layer.activation, mode)
        yield
    finally:
        for layer, attr, old in patched:
            if attr == "call":
                del layer.call
            else:
                setattr(layer, attr, old)


def deconv_reconstruction(model, image, layer_name: str, *, unit: int | None = None,
                          position: tuple[int, int] | None = None, mode: str = "guided") -> np.ndarray:
    """Project one unit of a layer back to pixel space (ZFNet's deconvnet, or guided backpropagation).

    As in Zeiler and Fergus: keep a single activation of the layer (channel
    ``unit`` at ``position``), zero all others, and send it back down through
    the network — transposed convolutions (the gradient of a convolution),
    max-pooling "switches" (the gradient of max pooling routes to the max) and
    rectification at every ReLU. The result is non-zero only inside the
    unit's receptive field.

    Args:
        model: a flat functional ``tf_keras`` model.
        image: one image (see the module docstring).
        layer_name: the layer whose unit is reconstructed.
        unit: the channel; default the channel with the largest activation.
        position: ``(row, col)`` in the layer's feature map; default where the
            chosen channel is largest. Ignored for vector (dense) layers.
        mode: ``'guided'`` (guided backpropagation: rectify the signal and
            mask by where the forward ReLU was on) or ``'deconv'`` (ZFNet:
            rectify only).

    Returns:
        ``[H, W, C]`` float array the shape of the model input.

    Reference:
        M. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional
        Networks", ECCV 2014, arXiv:1311.2901; J. Springenberg et al.,
        "Striving for Simplicity: The All Convolutional Net", arXiv:1412.6806.

    Example:
        >>> recon = deconv_reconstruction(model, image, "conv2_conv", unit=3)
    """
    from tfcnn._compat import tf
    from tfcnn.models._common import feature_extractor

    if mode not in ("guided", "deconv"):
        raise ValueError(f"mode must be 'guided' or 'deconv'. Received: mode={mode!r}")
    _layer(model, layer_name)
    x = tf.constant(_as_batch(model, image))
    extractor = feature_extractor(model, layer_name)
    with _rectified_relus(model, mode):
        with tf.GradientTape() as tape:
            tape.watch(x)
            act = extractor(x, training=False)
            act_np = act.numpy()[0]
            channels = act_np.shape[-1]
            if unit is None:
                unit = int(np.argmax(act_np.reshape(-1, channels).max(axis=0)))
            if not isinstance(unit, (int, np.integer)) or not 0 <= unit < channels:
                raise ValueError(f"unit must be a channel index in [0, {channels}). Received: unit={unit!r}")
            if act_np.ndim == 3:
                if position is None:
                    position = np.unravel_index(int(np.argmax(act_np[..., unit])), act_np.shape[:2])
                r, c = (int(p) for p in position)
                if not (0 <= r < act_np.shape[0] and 0 <= c < act_np.shape[1]):
                    raise ValueError(f"position must lie in the {act_np.shape[0]}x{act_np.shape[1]} feature map. "
                                     f"Received: position={position!r}")
                target = act[0, r, c, unit]
            else:
                target = act[0, unit]
        grad = tape.gradient(target, x)
    return np.asarray(grad)[0]


def plot_deconv(model, image, layer_name: str, *, units: Sequence[int] | None = None, mode: str = "guided",
                top: int = 6) -> Figure:
    """The image and, for each unit, its deconvnet/guided-backprop reconstruction (ZFNet Fig. 2 style).

    Args:
        units: channels to show; default the ``top`` most active ones.
    """
    maps = feature_maps(model, layer_name, image)
    flat = maps.reshape(-1, maps.shape[-1])
    if units is None:
        units = [int(u) for u in np.argsort(-flat.max(axis=0))[:top]]
    recons = [deconv_reconstruction(model, image, layer_name, unit=u, mode=mode) for u in units]
    fig, axes = plt.subplots(1, len(units) + 1, figsize=(1.6 * (len(units) + 1), 2.0), squeeze=False)
    _show_image(axes[0, 0], _as_batch(model, image)[0], "input")
    for ax, u, rec in zip(axes[0, 1:], units, recons):
        # Centre on grey and scale symmetrically so positive and negative evidence are both visible.
        scale = max(float(np.abs(rec).max()), 1e-12)
        _show_image(ax, 0.5 + 0.5 * rec / scale, f"unit {u}")
    fig.suptitle(f"{layer_name}: {'guided backprop' if mode == 'guided' else 'deconvnet'}", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Grad-CAM
# ---------------------------------------------------------------------------


def last_conv_layer_name(model) -> str:
    """The last layer with a spatial ``[H, W, C]`` output (Grad-CAM's usual target).

    Raises:
        ValueError: the model has no spatial layer.
    """
    names = spatial_layer_names(model)
    if not names:
        raise ValueError(f"model has no layer with a [H, W, C] output. Received: model={model.name!r}")
    return names[-1]


def gradcam(model, image, layer_name: str | None = None, *, class_index: int | None = None) -> np.ndarray:
    """Grad-CAM: where in a layer's feature map the evidence for a class lies.

    The weight of channel ``k`` is the spatial mean of ``d score / d A_k``;
    the map is ``relu(sum_k weight_k * A_k)``, scaled to ``[0, 1]``.

    Args:
        model: a model whose output is class scores (logits or probabilities).
        image: one image.
        layer_name: a spatial layer; default :func:`last_conv_layer_name`.
        class_index: the class explained; default the predicted one.

    Returns:
        ``[h, w]`` heat map at the layer's resolution (upsample it to overlay;
        :func:`plot_gradcam` does).

    Reference:
        R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks
        via Gradient-based Localization", ICCV 2017, arXiv:1610.02391.

    Example:
        >>> heat = gradcam(model, image, "conv2_conv")
    """
    from tfcnn._compat import keras, tf

    layer_name = layer_name or last_conv_layer_name(model)
    layer = _layer(model, layer_name)
    if len(layer.output.shape) != 4:
        raise ValueError(f"Grad-CAM needs a layer with a [H, W, C] output. Received: layer_name={layer_name!r}")
    both = keras.Model(model.inputs, [layer.output, model.output])
    x = tf.constant(_as_batch(model, image))
    with tf.GradientTape() as tape:
        act, scores = both(x, training=False)
        n = scores.shape[-1]
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        if not isinstance(class_index, (int, np.integer)) or not 0 <= class_index < n:
            raise ValueError(f"class_index must lie in [0, {n}). Received: class_index={class_index!r}")
        score = scores[0, class_index]
    grads = tape.gradient(score, act)[0].numpy()
    act = act[0].numpy()
    weights = grads.mean(axis=(0, 1))
    cam = np.maximum((act * weights).sum(axis=-1), 0.0)
    peak = cam.max()
    return (cam / peak if peak > 0 else cam).astype(np.float32)


def upsample(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``size`` (how a Grad-CAM map is laid over the image)."""
    from tfcnn._compat import tf

    return tf.image.resize(np.asarray(heat, np.float32)[..., None], size, method="bilinear").numpy()[..., 0]


def plot_gradcam(model, image, layer_name: str | None = None, *, class_index: int | None = None,
                 class_names: Sequence[str] | None = None, alpha: float = 0.45) -> Figure:
    """The image, the Grad-CAM map at layer resolution, and the map laid over the image."""
    layer_name = layer_name or last_conv_layer_name(model)
    batch = _as_batch(model, image)
    if class_index is None:
        class_index = int(np.argmax(np.asarray(model(batch, training=False))[0]))
    heat = gradcam(model, batch, layer_name, class_index=class_index)
    big = upsample(heat, batch.shape[1:3])
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    _show_image(axes[0], batch[0], "input")
    axes[1].imshow(heat, cmap="jet", vmin=0, vmax=1, interpolation="nearest")
    axes[1].set_title(f"{layer_name} ({heat.shape[0]}x{heat.shape[1]})", fontsize=8)
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    _show_image(axes[2], batch[0])
    axes[2].imshow(big, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    label = class_names[class_index] if class_names is not None else str(class_index)
    axes[2].set_title(f"Grad-CAM for class {label}", fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Attention masks
# ---------------------------------------------------------------------------


def attention_weights(model, image, layer_name: str) -> np.ndarray:
    """The attention a named layer applies: SE excitation weights ``[C]``, or a soft mask ``[H, W, C]``.

    A squeeze-and-excitation gate layer (``*_se_expand_sigmoid`` in tfcnn's
    SE-ResNet) outputs one sigmoid weight per channel (shape ``[1, 1, C]`` or
    ``[C]``, returned as ``[C]``). Naming the block's ``*_se_excite`` layer
    (the ``Multiply`` that applies the gates) reads the gates that feed it.
    A residual-attention ``*mask*`` layer outputs a soft mask the size of its
    trunk's feature map (returned as ``[H, W, C]``).
    """
    layer_name = _se_gate_layer(model, layer_name)
    out = feature_maps(model, layer_name, image)
    if out.ndim == 3 and out.shape[0] == 1 and out.shape[1] == 1:
        return out[0, 0]
    return out


def _se_gate_layer(model, layer_name: str) -> str:
    """For an SE ``Multiply`` (x * gates), the name of the layer that produces the gates."""
    if not layer_name.endswith("_se_excite"):
        return layer_name
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        return layer_name  # feature_maps reports the unknown name
    if type(layer).__name__ != "Multiply":
        return layer_name  # already the gate layer
    inbound = layer.inbound_nodes[0].inbound_layers if layer.inbound_nodes else []
    inbound = inbound if isinstance(inbound, (list, tuple)) else [inbound]
    gates = [inp for inp in inbound if tuple(inp.output_shape[1:3]) == (1, 1)]
    return gates[0].name if gates else layer_name


def plot_attention(model, image, layer_names: str | Sequence[str]) -> Figure:
    """SE channel weights as bar charts and residual-attention masks laid over the image, one panel per layer."""
    names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
    if not names:
        raise ValueError("layer_names must name at least one layer. Received: layer_names=[]")
    batch = _as_batch(model, image)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(2.8 * (len(names) + 1), 2.6), squeeze=False)
    _show_image(axes[0, 0], batch[0], "input")
    for ax, name in zip(axes[0, 1:], names):
        w = attention_weights(model, batch, name)
        if w.ndim == 1:
            ax.bar(np.arange(len(w)), w, width=1.0, color="tab:orange")
            ax.set_ylim(0, 1)
            ax.set_xlabel("channel", fontsize=8)
            ax.set_title(f"{name}\nSE weights (mean {w.mean():.2f})", fontsize=8)
        else:
            mask = w.mean(axis=-1) if w.ndim == 3 else w
            _show_image(ax, batch[0])
            ax.imshow(upsample(mask, batch.shape[1:3]), cmap="jet", alpha=0.5)
            ax.set_title(f"{name}\nmask {mask.shape[0]}x{mask.shape[1]}, mean over channels", fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Activations, decision boundaries, compression
# ---------------------------------------------------------------------------


def activation_derivatives(names: Iterable[str] = ("sigmoid", "tanh", "relu"), x=None) -> dict[str, tuple]:
    """Each activation and its derivative on a grid, computed by TensorFlow's autodiff.

    Uses the same ``tf.nn`` functions as the raw layer style
    (:func:`tfcnn.layers.raw.activation_fn`).

    Args:
        names: activation names (``sigmoid``, ``tanh``, ``relu``, ``relu6``, ``swish``, ``linear``).
        x: the grid; default 401 points on ``[-6, 6]``.

    Returns:
        ``{name: (x, y, dy_dx)}`` as numpy arrays.
    """
    from tfcnn._compat import tf
    from tfcnn.layers.raw import activation_fn

    x = tf.constant(np.linspace(-6.0, 6.0, 401) if x is None else np.asarray(x, dtype=np.float64), tf.float64)
    out = {}
    for name in names:
        fn = activation_fn(name)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        out[name] = (x.numpy(), y.numpy(), tape.gradient(y, x).numpy())
    return out


def plot_activations(names: Iterable[str] = ("sigmoid", "tanh", "relu"), x=None) -> Figure:
    """Activation functions (left) and their derivatives (right); the sigmoid's never exceeds 0.25."""
    curves = activation_derivatives(names, x)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3.3))
    for name, (xs, y, dy) in curves.items():
        ax_f.plot(xs, y, label=name)
        ax_d.plot(xs, dy, label=f"{name}'")
    for ax, title in ((ax_f, "f(x)"), (ax_d, "f'(x)")):
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title)
        ax.set_xlabel("x")
    fig.tight_layout()
    return fig


def _predict_fn(model_or_fn) -> Callable[[np.ndarray], np.ndarray]:
    if callable(getattr(model_or_fn, "predict", None)) and hasattr(model_or_fn, "layers"):
        return lambda pts: np.asarray(model_or_fn(pts.astype(np.float32), training=False))
    if callable(model_or_fn):
        return lambda pts: np.asarray(model_or_fn(pts))
    raise ValueError(f"model must be a Keras model or a function of [N, 2] points. Received: model={model_or_fn!r}")


def decision_grid(model, xlim: tuple[float, float], ylim: tuple[float, float], *, resolution: int = 200):
    """Predicted class on a ``resolution x resolution`` grid over a 2-D input plane.

    Args:
        model: a Keras model or a function mapping ``[N, 2]`` points to scores
            ``[N, classes]`` (or ``[N]``/``[N, 1]`` logits for two classes,
            thresholded at 0).

    Returns:
        ``(xx, yy, labels)``: the ``meshgrid`` coordinates and the ``int`` class at each.
    """
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2. Received: resolution={resolution!r}")
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    scores = _predict_fn(model)(np.c_[xx.ravel(), yy.ravel()])
    scores = scores.reshape(len(xx.ravel()), -1)
    labels = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
    return xx, yy, labels.reshape(xx.shape)


def plot_decision_boundary(model, x, y, *, resolution: int = 200, title: str | None = None,
                           ax=None) -> Figure:
    """The regions a small classifier assigns to each class on a 2-D problem, with the data on top.

    Args:
        model: see :func:`decision_grid`.
        x: ``[N, 2]`` points; y: their integer labels.
        ax: draw into this axes (for side-by-side comparisons) instead of a new figure.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must be [N, 2] points. Received: x.shape={x.shape}")
    pad = 0.1 * (x.max(axis=0) - x.min(axis=0) + 1e-9)
    xlim = (x[:, 0].min() - pad[0], x[:, 0].max() + pad[0])
    ylim = (x[:, 1].min() - pad[1], x[:, 1].max() + pad[1])
    xx, yy, labels = decision_grid(model, xlim, ylim, resolution=resolution)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 3.6))
    else:
        fig = ax.figure
    ax.contourf(xx, yy, labels, alpha=0.3, cmap="coolwarm", levels=np.arange(labels.max() + 2) - 0.5)
    ax.scatter(x[:, 0], x[:, 1], c=np.asarray(y), cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def compression_points(variants: Iterable[dict], *, size_key: str = "size", accuracy_key: str = "accuracy"):
    """Validate compression variants and return ``(names, sizes, accuracies)`` arrays.

    Raises:
        ValueError: a variant lacks ``name``, the size or the accuracy key, or a value is not a number.
    """
    names, sizes, accs = [], [], []
    for i, v in enumerate(variants):
        for key in ("name", size_key, accuracy_key):
            if not isinstance(v, dict) or key not in v:
                raise ValueError(f"each variant must be a dict with 'name', {size_key!r} and {accuracy_key!r}. "
                                 f"Received: variants[{i}]={v!r}")
        try:
            sizes.append(float(v[size_key]))
            accs.append(float(v[accuracy_key]))
        except (TypeError, ValueError):
            raise ValueError(f"size and accuracy must be numbers. Received: variants[{i}]={v!r}") from None
        names.append(str(v["name"]))
    if not names:
        raise ValueError("variants must not be empty. Received: variants=[]")
    return names, np.array(sizes), np.array(accs)


def plot_compression(variants: Iterable[dict], *, size_key: str = "size", accuracy_key: str = "accuracy",
                     size_unit: str = "bytes", title: str | None = None) -> Figure:
    """Accuracy against model size for compression variants (float32, int8, pruned...), each point labelled.

    Args:
        variants: dicts with ``name``, a size and an accuracy, e.g.
            ``{"name": "int8", "size": 235488, "accuracy": 0.9795}``.
        size_unit: axis label of the size (log scale).

    Example:
        >>> fig = plot_compression([{"name": "float32", "size": 903488, "accuracy": 0.98},
        ...                         {"name": "int8", "size": 235488, "accuracy": 0.98}])
    """
    names, sizes, accs = compression_points(variants, size_key=size_key, accuracy_key=accuracy_key)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.scatter(sizes, accs, s=40, color="tab:blue", zorder=3)
    for name, s, a in zip(names, sizes, accs):
        ax.annotate(name, (s, a), textcoords="offset points", xytext=(5, 4), fontsize=8)
    if sizes.min() > 0:
        ax.set_xscale("log")
    ax.set_xlabel(f"size ({size_unit})")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3, which="both")
    ax.set_title(title or "accuracy vs size")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def load_image(path: str) -> np.ndarray:
    """An image file (PNG, JPEG...) or a ``.npy`` array as uint8 ``[H, W, C]``.

    Raises:
        ValueError: the file is missing or cannot be read as an image.
    """
    if not os.path.isfile(path):
        raise ValueError(f"image file not found. Received: image={path!r}")
    try:
        if path.endswith(".npy"):
            arr = np.load(path)
        else:
            from PIL import Image

            with Image.open(path) as img:
                arr = np.asarray(img.convert("L" if img.mode in ("L", "1", "I", "I;16") else "RGB"))
    except Exception as err:  # noqa: BLE001  (PIL raises many types; the user needs one line)
        raise ValueError(f"cannot read the image ({type(err).__name__}). Received: image={path!r}") from None
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ValueError(f"image must be [H, W] or [H, W, C]. Received: image shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return arr


def load_model_dir(model_dir: str):
    """The ``model.keras`` written by ``python -m tfcnn.train`` into ``model_dir``.

    Raises:
        ValueError: the folder or its ``model.keras`` is missing or unreadable.
    """
    import tfcnn.layers.raw  # noqa: F401  (registers the raw layers for deserialisation)
    from tfcnn._compat import keras

    path = model_dir if model_dir.endswith(".keras") else os.path.join(model_dir, "model.keras")
    if not os.path.isfile(path):
        raise ValueError(f"no model.keras in the model folder (write one with python -m tfcnn.train). "
                         f"Received: MODEL_DIR={model_dir!r}")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001  (a corrupt or foreign file: say so in one line)
        raise ValueError(f"cannot load {path} ({type(err).__name__}). Received: MODEL_DIR={model_dir!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Draw what a trained tfcnn model sees.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="folder written by python -m tfcnn.train (has model.keras)")
    p.add_argument("image", metavar="IMAGE", nargs="?", default=None,
                   help="image file (PNG/JPEG/.npy); not needed for --kind filters")
    p.add_argument("--layer", default=None, help="layer name (default: first conv layer; gradcam: the last spatial layer)")
    p.add_argument("--kind", choices=KINDS, default="feature_maps", help="which picture (default feature_maps)")
    p.add_argument("--unit", type=int, default=None, help="deconv: the channel to reconstruct (default: top 6)")
    p.add_argument("--class-index", type=int, default=None, help="gradcam: the class to explain (default: predicted)")
    p.add_argument("--out", default=None, help="PNG path (default: MODEL_DIR/<kind>_<layer>.png)")
    return p


def run(args: argparse.Namespace) -> str:
    """Draw the requested picture; returns the PNG path. Raises ValueError on bad input."""
    model = load_model_dir(args.model_dir)
    layer = args.layer
    if layer is not None:
        _layer(model, layer)
    elif args.kind == "gradcam":
        layer = last_conv_layer_name(model)
    else:
        convs = conv_layer_names(model)
        if not convs:
            raise ValueError(f"the model has no conv layer; pass --layer. Received: --layer={layer!r}")
        layer = convs[0]
    if args.kind == "filters":
        fig = plot_filters(model, layer)
    else:
        if args.image is None:
            raise ValueError(f"--kind {args.kind} needs an IMAGE. Received: IMAGE=None")
        image = load_image(args.image)
        if args.kind == "feature_maps":
            fig = plot_feature_maps(model, layer, image)
        elif args.kind == "gradcam":
            fig = plot_gradcam(model, image, layer, class_index=args.class_index)
        else:
            fig = plot_deconv(model, image, layer, units=None if args.unit is None else [args.unit])
    out = args.out or os.path.join(args.model_dir if os.path.isdir(args.model_dir) else ".", f"{args.kind}_{layer}.png")
    return save_figure(fig, out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        path = run(args)
    except (ValueError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

