"""Magnitude pruning with TFMOT: a target sparsity, structured 2:4, or only chosen layers.

The notes' 模型剪枝: most weights of a trained network are small, and setting
the smallest to zero, then fine-tuning so the rest compensate, loses little
accuracy. Unstructured zeros make a file smaller only after compression
(gzip) and do not make dense kernels faster; 2:4 sparsity (two zeros in
every four consecutive input channels) is the structured pattern that sparse
hardware and kernels can exploit.

Reference: M. Zhu, S. Gupta, "To prune, or not to prune: exploring the
efficacy of pruning for model compression", arXiv:1710.01878 (the polynomial
schedule); A. Mishra et al., "Accelerating Sparse Deep Neural Networks",
arXiv:2104.08378 (2:4).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence

from tfcnn._compat import keras
from tfcnn.compress._common import (
    CompressError,
    compile_for_fine_tuning,
    kernel_of,
    kernel_sparsity,
    tfmot,
)

M_BY_N = (2, 4)
LAYER_KINDS = ("all", "dense", "conv")


def parse_sparsity(value) -> float | tuple[int, int]:
    """``0.8``/``'0.8'`` -> 0.8 (unstructured), ``'2:4'`` -> ``(2, 4)`` (structured).

    Raises:
        CompressError: a fraction outside (0, 1) or a pattern other than ``m:n`` with ``0 < m < n``.
    """
    if isinstance(value, str) and ":" in value:
        try:
            m, n = (int(v) for v in value.split(":"))
        except ValueError:
            raise CompressError(f"sparsity pattern must be 'm:n' such as '2:4'. Received: sparsity={value!r}") from None
        if not 0 < m < n:
            raise CompressError(f"sparsity pattern m:n needs 0 < m < n. Received: sparsity={value!r}")
        return (m, n)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return parse_sparsity(f"{value[0]}:{value[1]}")
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise CompressError(f"sparsity must be a fraction in (0, 1) or 'm:n'. Received: sparsity={value!r}") from None
    if not 0.0 < s < 1.0 or math.isnan(s):
        raise CompressError(f"sparsity must be in (0, 1). Received: sparsity={value!r}")
    return s


def variant_tag(sparsity) -> str:
    """A file-name-safe tag: 0.8 -> ``pruned80``, (2, 4) -> ``pruned2of4``."""
    s = parse_sparsity(sparsity)
    if isinstance(s, tuple):
        return f"pruned{s[0]}of{s[1]}"
    return f"pruned{round(s * 100):d}"


def select_layers(model, layers=None, *, m_by_n: tuple[int, int] | None = None) -> list[str]:
    """Names of the layers to prune.

    Args:
        model: a flat functional model.
        layers: ``None``/``'all'`` (every layer with a conv or dense kernel),
            ``'dense'`` (fully connected kernels only: VGG/AlexNet keep ~80 % of
            their parameters there), ``'conv'``, or a list of layer names or
            shell patterns (``['fc*']``).
        m_by_n: for structured pruning, keep only layers whose input-channel
            count divides by ``n`` (a 1- or 3-channel first convolution cannot
            hold the pattern).

    Raises:
        CompressError: an unknown kind, or no layer matches.
    """
    candidates = []
    for layer in model.layers:
        kernel = kernel_of(layer)
        if kernel is None or not _can_prune(layer):
            continue
        kind = "dense" if len(kernel.shape) == 2 else "conv" if len(kernel.shape) == 4 else None
        if kind is None:
            continue
        if m_by_n and int(kernel.shape[-2]) % m_by_n[1]:
            continue
        candidates.append((layer.name, kind))
    if layers is None or layers == "all":
        chosen = [n for n, _ in candidates]
    elif isinstance(layers, str) and layers in LAYER_KINDS:
        chosen = [n for n, k in candidates if k == layers]
    elif isinstance(layers, str) or (isinstance(layers, Sequence) and all(isinstance(p, str) for p in layers)):
        patterns = [p.strip() for p in (layers.split(",") if isinstance(layers, str) else layers) if p.strip()]
        chosen = [n for n, _ in candidates if any(fnmatch.fnmatch(n, p) for p in patterns)]
    else:
        raise CompressError(f"layers must be 'all', 'dense', 'conv' or layer names. Received: layers={layers!r}")
    if not chosen:
        raise CompressError(f"no prunable layer matches (prunable: {[n for n, _ in candidates]}). "
                            f"Received: layers={layers!r}")
    return chosen


def _can_prune(layer) -> bool:
    if hasattr(layer, "get_prunable_weights"):  # tfcnn's raw tf.nn layers, any PrunableLayer
        return bool(layer.get_prunable_weights())
    from tensorflow_model_optimization.python.core.sparsity.keras import prune_registry

    return prune_registry.PruneRegistry.supports(layer)


def clone(model):
    """A copy of ``model`` with its own layers and the same weights.

    TFMOT's wrappers reuse the layers they wrap, so pruning the original
    would make the dense baseline sparse too.
    """
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def apply_pruning(model, sparsity=0.8, *, layers=None, begin_step: int = 0, end_step: int = 1000,
                  initial_sparsity: float = 0.0):
    """Wrap the chosen layers of a copy of ``model`` for pruning (the baseline stays dense).

    Args:
        model: a flat functional model.
        sparsity: a fraction in (0, 1) reached by a polynomial schedule from
            ``begin_step`` to ``end_step``, or ``'2:4'`` (m zeros in every n
            consecutive input channels, from the first step).
        layers: see :func:`select_layers`.
        begin_step, end_step: the polynomial schedule's steps (optimizer steps).
        initial_sparsity: sparsity at ``begin_step``.

    Returns:
        A functional model whose chosen layers are ``PruneLowMagnitude`` wrappers.

    Raises:
        CompressError: bad sparsity or layer choice.
    """
    target = parse_sparsity(sparsity)
    m_by_n = target if isinstance(target, tuple) else None
    names = set(select_layers(model, layers, m_by_n=m_by_n))
    sk = tfmot().sparsity.keras
    if m_by_n:
        params = {"sparsity_m_by_n": m_by_n, "pruning_schedule": sk.ConstantSparsity(0.5, begin_step=0, frequency=1)}
    else:
        params = {"pruning_schedule": sk.PolynomialDecay(
            initial_sparsity=initial_sparsity, final_sparsity=target, begin_step=begin_step,
            end_step=max(end_step, begin_step + 1), frequency=max(1, (end_step - begin_step) // 20))}
    base = clone(model)

    def wrap(layer):
        return sk.prune_low_magnitude(layer, **params) if layer.name in names else layer

    return keras.models.clone_model(base, clone_function=wrap)


def strip(model):
    """Remove the pruning wrappers, keeping the sparse weights (what is exported)."""
    return tfmot().sparsity.keras.strip_pruning(model)


def prune_model(model, sparsity, train_ds, *, layers=None, epochs: int = 2, optimizer: str = "adam", lr: float = 1e-3,
          validation_data=None, verbose: int = 0):
    """Prune ``model`` to ``sparsity`` while fine-tuning on ``train_ds``.

    The schedule reaches the target after 70 % of the fine-tuning steps, so
    the last 30 % recover accuracy at the final sparsity.

    Args:
        model: a trained flat functional model (left unchanged).
        sparsity: fraction in (0, 1), or ``'2:4'``.
        train_ds: a batched ``tf.data.Dataset`` of (image, label) with a known length.
        layers: which layers (:func:`select_layers`).
        epochs: fine-tuning epochs.
        optimizer, lr: fine-tuning optimizer (``tfcnn.train`` names).
        validation_data: optional, passed to ``fit``.
        verbose: ``fit`` verbosity.

    Returns:
        ``(stripped, wrapped)``: the exported model with sparse weights and the
        model still holding the pruning wrappers (for pruning-preserving QAT).

    Raises:
        CompressError: bad arguments.

    Example:
        >>> stripped, _ = prune_model(model, 0.8, train_ds, epochs=2)  # doctest: +SKIP
        >>> kernel_sparsity(stripped)["fc1"]["sparsity"]  # doctest: +SKIP
        0.8
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise CompressError(f"epochs must be a positive int. Received: epochs={epochs!r}")
    steps = int(train_ds.cardinality().numpy())
    if steps <= 0:
        raise CompressError(f"the training data must have a known, non-zero length. Received: steps={steps}")
    total = steps * epochs
    wrapped = apply_pruning(model, sparsity, layers=layers, begin_step=0, end_step=max(1, int(total * 0.7)))
    compile_for_fine_tuning(wrapped, optimizer=optimizer, lr=lr)
    wrapped.fit(train_ds, epochs=epochs, validation_data=validation_data, verbose=verbose,
                callbacks=[tfmot().sparsity.keras.UpdatePruningStep()])
    return strip(wrapped), wrapped


def pruning_report(model, pruned_layers=None) -> dict:
    """Per-layer measured sparsity, and which layers were pruned."""
    per_layer = kernel_sparsity(model)
    if pruned_layers is not None:
        for name, info in per_layer.items():
            info["pruned"] = name in pruned_layers
    return per_layer


def check_m_by_n(kernel, m_by_n=M_BY_N) -> bool:
    """True when every full group of ``n`` consecutive input channels holds exactly ``m`` zeros.

    Groups run along the input-channel axis (``kernel.shape[-2]``: Conv2D
    ``[H, W, C_in, C_out]``, Dense ``[C_in, C_out]``), the layout TFLite uses
    for 2:4 sparse kernels.
    """
    import numpy as np

    m, n = m_by_n
    w = np.asarray(kernel)
    w = np.moveaxis(w, -2, -1)  # input channels last
    c_in = w.shape[-1]
    full = (c_in // n) * n
    if full == 0:
        return False
    groups = w[..., :full].reshape(-1, n)
    return bool(np.all(np.sum(groups == 0, axis=1) == m))
