"""Network Slimming: train with an L1 penalty on batch-norm scales, so that unimportant channels show.

A batch norm's ``gamma`` multiplies each channel's normalised output, so a
channel whose ``|gamma|`` is near zero contributes almost nothing. Liu et al.
add ``strength * sum(|gamma|)`` over every batch norm to the training loss
(a sparsity-training phase), which drives many scales towards zero; then the
``bn`` criterion (:mod:`.criteria`) removes the channels with the smallest
scales, best with one threshold over the whole model (``scope="global"``).

Reference: Z. Liu et al., "Learning Efficient Convolutional Networks through Network Slimming", ICCV 2017,
arXiv:1708.06519 (strength 1e-4 to 1e-5 in the paper, with SGD).

Example:
    >>> from tfcnn.compress.structured import prune_channels, slimming_train
    >>> sparse = slimming_train(model, train_ds, strength=1e-4, epochs=3)  # doctest: +SKIP
    >>> thin, table = prune_channels(sparse, ratio=0.5, criterion="bn", scope="global")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tfcnn._compat import keras, tf
from tfcnn.compress._common import compile_for_fine_tuning
from tfcnn.errors import CompressError


def check_strength(strength, *, argname: str = "strength") -> float:
    """``strength`` as a float, or :class:`CompressError` unless it is a finite number > 0."""
    if (isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not math.isfinite(strength)
            or strength <= 0):
        raise CompressError(f"{argname} must be a finite number > 0 (such as 1e-4). Received: {argname}={strength!r}")
    return float(strength)


def scaled_batch_norms(model) -> list:
    """The batch-norm layers of ``model`` that have a trainable scale ``gamma``."""
    return [layer for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization) and layer.scale and layer.trainable]


def gamma_l1(model):
    """``sum(|gamma|)`` over every batch norm of ``model`` (a scalar tensor): the penalty before its strength."""
    return tf.add_n([tf.reduce_sum(tf.abs(layer.gamma)) for layer in scaled_batch_norms(model)])


def small_gamma_fraction(model, threshold: float = 1e-2) -> float:
    """The fraction of all batch-norm scales with ``|gamma| < threshold``: how sparse the scales are."""
    gammas = np.concatenate([np.abs(layer.gamma.numpy()) for layer in scaled_batch_norms(model)] or [np.zeros(0)])
    return float((gammas < threshold).mean()) if gammas.size else 0.0


def check_has_scales(model) -> None:
    """:class:`CompressError` unless ``model`` has a batch norm with a trainable scale to slim."""
    if not scaled_batch_norms(model):
        raise CompressError(f"network slimming needs batch norms with a scale (gamma); {model.name} has none. "
                            f"Received: model={model.name}")


def slimming_train(model, data, *, strength: float = 1e-4, epochs: int = 1, optimizer: str = "adam",
                   lr: float = 1e-3, verbose: int = 0):
    """A copy of ``model`` trained on ``data`` with ``strength * sum(|gamma|)`` added to the loss.

    ``model`` itself is not changed (it stays the teacher for distillation).
    The copy carries the penalty only while it trains here: the thinner model
    :func:`prune_channels` rebuilds from it is a plain model.

    Args:
        model: a flat functional model with batch norms and logits out.
        data: a ``tf.data.Dataset`` of ``(images, labels)`` batches.
        strength: the penalty's weight, > 0.
        epochs, optimizer, lr, verbose: the sparsity-training phase.

    Returns:
        The trained copy.

    Raises:
        CompressError: a strength that is not > 0, epochs < 1, a model without a scaled batch norm.
    """
    strength = check_strength(strength)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CompressError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
    check_has_scales(model)
    trainer = keras.models.clone_model(model)
    trainer.set_weights(model.get_weights())
    copy = keras.models.clone_model(trainer)  # the same layers' graph, without the penalty attached
    trainer.add_loss(lambda: strength * gamma_l1(trainer))
    compile_for_fine_tuning(trainer, optimizer=optimizer, lr=lr)
    trainer.fit(data, epochs=epochs, verbose=verbose)
    copy.set_weights(trainer.get_weights())
    return copy


__all__ = ["check_has_scales", "check_strength", "gamma_l1", "scaled_batch_norms", "slimming_train", "small_gamma_fraction"]
