"""Pictures of training, weights and feature maps, activations, decision boundaries and compression."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from tfcnn.viz._common import _as_batch, _grid, _layer, _show_image, conv_layer_names, feature_maps

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
    """Accuracy against model size for compression variants, readable with twenty of them.

    Each variant's *family* (what was done to the weights: post-training,
    QAT, ``pruned80``, ``clustered16``...) gets a colour and its number format
    (float32, float16, int8...) a marker; a legend names every point instead
    of labels printed over each other.

    Args:
        variants: dicts with ``name``, a size and an accuracy, e.g.
            ``{"name": "int8", "size": 235488, "accuracy": 0.9795}``.
        size_unit: axis label of the size (log scale).

    Example:
        >>> fig = plot_compression([{"name": "float32", "size": 903488, "accuracy": 0.98},
        ...                         {"name": "int8", "size": 235488, "accuracy": 0.98}])
    """
    names, sizes, accs = compression_points(variants, size_key=size_key, accuracy_key=accuracy_key)
    families = sorted({variant_family(n)[0] for n in names}, key=lambda f: (f != "post-training", f))
    colours = {f: plt.cm.tab10(i % 10) for i, f in enumerate(families)}
    markers = {"float32": "o", "float16": "s", "dynamic range": "D", "int8": "^", "int8 per-tensor": "v",
               "int8 I/O": "P", "int8 sparse": "X"}
    fig, ax = plt.subplots(figsize=(7.5 if len(names) > 6 else 5.5, 4.2))
    for name, size, acc in zip(names, sizes, accs):
        family, number = variant_family(name)
        ax.scatter(size, acc, s=55, color=colours[family], marker=markers.get(number, "o"), zorder=3,
                   edgecolors="black", linewidths=0.4, label=name)
    if sizes.min() > 0:
        ax.set_xscale("log")
    ax.set_xlabel(f"size ({size_unit}, log scale)")
    ax.set_ylabel("test accuracy")
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.set_title(title or "accuracy against size", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), ncol=1 if len(names) <= 14 else 2,
              frameon=False)
    fig.tight_layout()
    return fig


def variant_family(name: str) -> tuple[str, str]:
    """``('pruned80', 'int8')`` for ``'pruned80_int8'``: what was done to the weights, and the number format."""
    formats = (("int8_per_tensor", "int8 per-tensor"), ("int8_sparse", "int8 sparse"), ("int8_io", "int8 I/O"),
               ("dynamic_range", "dynamic range"), ("float32", "float32"), ("float16", "float16"), ("int8", "int8"))
    for suffix, number in formats:
        if name == suffix:
            return "post-training", number
        if name.endswith("_" + suffix):
            return name[: -len(suffix) - 1], number
    return name, "other"

# ---------------------------------------------------------------------------
# Labels that do not overlap
# ---------------------------------------------------------------------------
_OFFSETS = sorted({(sx * dx, dy) for dx in (6, 30, 60, 90) for sx in (1, -1) for k in range(16)
                   for dy in (4.5 * k, -4.5 * k)}, key=lambda o: (o[0] ** 2 + o[1] ** 2, o[0] < 0, o[1] < 0))
"""Candidate label offsets from a point, in typographic points, nearest first (beside the point, then further out)."""


def annotate_points(ax, xs, ys, labels, *, fontsize: float = 7) -> list:
    """Label scatter points so that no label overlaps another label, a point, or the axes' edge.

    Points are labelled from the top of the plot down; each label takes the
    nearest free place among offsets on either side of its point (beside it
    first, then further out), and one moved away from its point is joined to it
    by a thin line. Call it once the axes' limits and scales are final.

    Returns:
        The ``Text`` annotations, in the order of ``labels``.
    """
    ax.figure.canvas.draw()  # settle autoscaled limits and the layout: positions are measured on the canvas
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    marker = 3 * ax.figure.dpi / 72  # half a marker, in pixels
    centres = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    placed = [Bbox.from_extents(x - marker, y - marker, x + marker, y + marker) for x, y in centres]
    texts = [None] * len(labels)
    for i in sorted(range(len(labels)), key=lambda k: -float(ys[k])):
        for n, (dx, dy) in enumerate(_OFFSETS):
            last = n == len(_OFFSETS) - 1
            text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                               fontsize=fontsize, ha="left" if dx >= 0 else "right", va="center",
                               arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.6"} if abs(dy) > 9 or abs(dx) > 6 else None)
            box = _text_box(text, renderer)
            inside = frame.containsx(box.x0) and frame.containsx(box.x1) and frame.containsy(box.y0) and \
                frame.containsy(box.y1)
            if last or (inside and not any(box.overlaps(other) for other in placed)):
                placed.append(box)
                texts[i] = text
                break
            text.remove()
    return texts


def _text_box(text, renderer):
    """The text's own box on the canvas (an annotation's ``get_window_extent`` includes its leader line)."""
    from matplotlib.text import Annotation, Text

    if isinstance(text, Annotation):
        text.update_positions(renderer)  # where the offset puts it (Text's own extent does not place it)
    return Text.get_window_extent(text, renderer)


def labels_overlap(texts) -> bool:
    """Whether any two of these ``Text`` artists overlap on the canvas (what :func:`annotate_points` avoids)."""
    if not texts:
        return False
    renderer = texts[0].figure.canvas.get_renderer()
    boxes = [_text_box(t, renderer) for t in texts]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
