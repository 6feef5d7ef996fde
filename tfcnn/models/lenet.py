"""LeNet-5: the network that started it all.

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based
learning applied to document recognition", Proc. IEEE 86(11), 1998.

At 28x28 (MNIST) the first convolution uses SAME padding so that its output
is the paper's 28x28 feature map of a 32x32 input; the rest follows the
paper: C1 6@5x5 -> S2 -> C3 16@5x5 -> S4 -> F5 120 -> F6 84 -> 10, 61,706
parameters. The paper used scaled tanh and trainable sub-sampling; tfcnn's
default is ReLU and max pooling (``activation='tanh', pool='avg'`` gives the
classic flavour), which trains faster and reaches the same accuracy.
"""

from __future__ import annotations

from tfcnn.models._common import begin, check_choice, check_rate, fc_head, finish, model_input
from tfcnn.models.registry import ModelConfig, register_model

# (layer, filters or units, kernel, padding) as in the paper's Fig. 2.
LENET_LAYERS = (
    ("conv1", 6, 5, "same"),
    ("conv2", 16, 5, "valid"),
)
LENET_FC = (("fc1", 120), ("fc2", 84))


def _lenet(*, config, input_shape, num_classes, include_top, pooling, weights, style, name, activation, pool,
           dropout_rate):
    check_choice("pool", pool, ("max", "avg"))
    check_rate("dropout_rate", dropout_rate)
    input_shape, L, plan = begin(config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                                 pooling=pooling, weights=weights, style=style)
    subsample = L.max_pool if pool == "max" else L.avg_pool

    inputs = x = model_input(input_shape)
    for i, (layer, filters, kernel, padding) in enumerate(LENET_LAYERS, start=1):
        x = L.conv_bn(x, filters, kernel, padding=padding, activation=activation, use_bn=False, name=layer)
        x = subsample(x, 2, name=f"pool{i}")
    x = fc_head(x, L, LENET_FC, include_top=include_top, pooling=pooling, num_classes=num_classes,
                activation=activation, dropout_rate=dropout_rate)
    return finish(inputs, x, name=name, weights=plan)


@register_model(ModelConfig(
    name="lenet", family="lenet", input_shape=(28, 28, 1), num_classes=10, min_input_size=16,
    reference="LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998",
    options={"activation": "relu", "pool": "max", "dropout_rate": 0.0},
))
def lenet(*, input_shape=None, num_classes=10, include_top=True, pooling=None, weights=None, style="keras",
          name="lenet", activation="relu", pool="max", dropout_rate=0.0):
    """LeNet-5 (61,706 parameters at 28x28x1, 10 classes).

    Args:
        input_shape: ``(H, W, C)``, at least 16x16; default 28x28x1.
        num_classes: size of the logits layer.
        include_top: keep F5, F6 and the logits; otherwise return the S4 feature map.
        pooling: with ``include_top=False``, ``'avg'``/``'max'`` pools the feature map.
        weights: ``None`` or a path of weights saved from a tfcnn LeNet.
        style: ``'keras'``, ``'slim'`` or ``'raw'``.
        name: the model's name.
        activation: ``'relu'`` (default) or ``'tanh'``/``'sigmoid'`` as in the paper.
        pool: ``'max'`` (default) or ``'avg'`` (the paper's sub-sampling).
        dropout_rate: dropout after F5 and F6 (0 = none, as in the paper).

    Returns:
        A flat functional ``tf_keras.Model`` whose output is logits.

    Example:
        >>> import tfcnn
        >>> tfcnn.create_model("lenet").count_params()
        61706
    """
    return _lenet(config=lenet.config, input_shape=input_shape, num_classes=num_classes, include_top=include_top,
                  pooling=pooling, weights=weights, style=style, name=name, activation=activation, pool=pool,
                  dropout_rate=dropout_rate)
