"""Transfer learning: a pretrained backbone with a new classifier for another set of classes.

Keras's transfer-learning guide builds the backbone with ``include_top=False``
and pooling, then adds a new ``Dense``; timm's ``create_model(pretrained=True,
num_classes=N)`` resets the classifier whenever ``N`` differs from the
pretrained one. :func:`create_transfer_model` does both, and keeps the model
flat (one graph, no nested model), so TFMOT can still prune and quantize it.
"""

from __future__ import annotations

import dataclasses

from tfcnn._compat import keras
from tfcnn.errors import ModelError
from tfcnn.layers import get_style
from tfcnn.models.registry import create_model

__all__ = ["TransferPlan", "create_transfer_model"]


@dataclasses.dataclass(frozen=True)
class TransferPlan:
    """How :func:`create_transfer_model` used the weights.

    Attributes:
        classifier: ``'pretrained'`` (the file's classifier fits the classes and was kept), ``'new'``
            (backbone from the file, a new randomly initialised classifier) or ``'random'`` (no weights).
        reason: one line saying why, for the run's log and ``config.json``.
    """

    classifier: str
    reason: str


def create_transfer_model(name: str, *, num_classes: int, weights=None, input_shape=None, style: str = "keras",
                          dropout_rate: float | None = None, **options):
    """A registered model with pretrained weights, its classifier replaced when the classes differ.

    * ``weights=None``: the plain model (``create_model``).
    * ``weights='imagenet'``: with 1000 classes Keras's whole file, classifier
      included; otherwise the backbone from Keras's ``no_top`` file
      (``include_top=False, pooling='avg'``) and a new ``logits`` Dense.
    * ``weights=PATH``: the whole file when its classifier fits ``num_classes``
      (a run of tfcnn's, a Keras Applications file with the same classes);
      otherwise its backbone and a new ``logits`` Dense.

    The new classifier is ``[Dropout(dropout_rate)] -> Dense(num_classes, name='logits')``
    on the globally average-pooled features, in the model's layer ``style``.

    Returns:
        ``(model, plan)``: a flat ``tf_keras.Model`` with logits, and a :class:`TransferPlan`.

    Raises:
        ModelError: the weights fit neither the whole model nor its backbone
            (the backbone's reason is given), or a bad option.
        PretrainedWeightsUnavailable: ``'imagenet'`` offline without the file in the Keras cache.

    Example:
        >>> model, plan = create_transfer_model("lenet", num_classes=3)
        >>> plan.classifier
        'random'
    """
    common = {"input_shape": input_shape, "style": style, **options}
    if weights is None:
        return (create_model(name, num_classes=num_classes, dropout_rate=dropout_rate, **common),
                TransferPlan("random", "no weights given: every layer starts random"))
    if weights != "imagenet" or num_classes == 1000:
        try:
            model = create_model(name, num_classes=num_classes, dropout_rate=dropout_rate, weights=weights, **common)
            return model, TransferPlan("pretrained", f"the whole file fits {num_classes} classes, classifier included")
        except ModelError:
            if weights == "imagenet":
                raise
    backbone = create_model(name, include_top=False, pooling="avg", weights=weights, **common)
    model = with_new_classifier(backbone, num_classes, dropout_rate=dropout_rate or 0.0, style=style)
    source = "Keras's ImageNet backbone (no top)" if weights == "imagenet" else "the file's backbone"
    return model, TransferPlan("new", f"{source} with a new {num_classes}-class classifier")


def with_new_classifier(backbone, num_classes: int, *, dropout_rate: float = 0.0, style: str = "keras"):
    """``backbone``'s graph extended by ``[dropout] -> logits`` (one flat model, the backbone's layers shared).

    ``backbone`` must end in pooled features ``[N, C]`` (``include_top=False, pooling='avg'``).

    Raises:
        ModelError: the backbone's output is not a pooled ``[N, C]`` vector, or ``num_classes`` is not a positive int.
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ModelError(f"num_classes must be a positive int. Received: num_classes={num_classes!r}")
    x = backbone.outputs[0]
    if len(x.shape) != 2:
        raise ModelError("a new classifier needs pooled features [N, C] (build the backbone with pooling='avg'). "
                         f"Received: output shape {tuple(x.shape)}")
    L = get_style(style)
    if dropout_rate:
        x = L.dropout(x, dropout_rate, name="head_dropout")
    logits = L.dense(x, num_classes, name="logits")
    return keras.Model(backbone.inputs, logits, name=backbone.name)
