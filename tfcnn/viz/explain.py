"""Explanations: what a unit or a class looks at (deconvnet, guided backprop, Grad-CAM, attention masks)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from tfcnn.viz._common import _as_batch, _layer, _show_image, feature_maps, spatial_layer_names

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
    """The input as it was (its own aspect ratio), the Grad-CAM map at layer resolution, and the map laid over it.

    The title names the explained class with its probability and, when it
    differs, the class the model predicts.
    """
    layer_name = layer_name or last_conv_layer_name(model)
    batch = _as_batch(model, image)
    probs = _softmax(np.asarray(model(batch, training=False), dtype=np.float64)[0])
    predicted = int(np.argmax(probs))
    class_index = predicted if class_index is None else int(class_index)
    heat = gradcam(model, batch, layer_name, class_index=class_index)
    shown = _display_image(image, batch[0])
    big = upsample(heat, shown.shape[:2])

    def name(i):
        return str(class_names[i]) if class_names is not None and i < len(class_names) else str(i)

    fig, axes = plt.subplots(1, 3, figsize=(8.5, 3.2))
    _show_image(axes[0], shown, f"input {shown.shape[1]}x{shown.shape[0]}")
    im = axes[1].imshow(heat, cmap="jet", vmin=0, vmax=1, interpolation="nearest")
    axes[1].set_title(f"{layer_name} ({heat.shape[0]}x{heat.shape[1]})", fontsize=8)
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
    _show_image(axes[2], shown)
    axes[2].imshow(big, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    title = f"Grad-CAM for {name(class_index)!r} (p={probs[class_index]:.2f})"
    if predicted != class_index:
        title += f"\npredicted {name(predicted)!r} (p={probs[predicted]:.2f})"
    axes[2].set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _display_image(image, model_input: np.ndarray) -> np.ndarray:
    """The original uint8 image scaled to [0, 1] (not the square model input), else the model input."""
    arr = np.asarray(image)
    if arr.ndim == 4:
        arr = arr[0]
    if arr.dtype == np.uint8 and arr.ndim in (2, 3):
        return arr.astype(np.float32) / 255.0
    return model_input


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


