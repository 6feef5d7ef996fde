"""TF-Slim's layer vocabulary, rebuilt on ``tf_keras`` layers in a functional graph.

Way 2 of defining a convolution. The signatures and defaults follow
``tf_slim.layers`` (``num_outputs``, ``stride``, ``activation_fn``,
``normalizer_fn``, ``weights_regularizer``, ``scope``, ``keep_prob``), and every
op is decorated with :func:`add_arg_scope`, so a whole network reads like a
TF-Slim model::

    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm):
        net = slim.repeat(images, 2, slim.conv2d, 64, [3, 3], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], scope="pool1")

Differences from TF-Slim, because there is no TF1 graph here: a scope names
Keras layers instead of variable scopes (``conv2d(scope="conv1")`` makes
``conv1_conv``, ``conv1_bn``, ``conv1_relu``; ``repeat(scope="conv1")`` uses
``conv1_1``, ``conv1_2``, ...), and the defaults for batch norm and
initialisers come from :mod:`tfcnn.defaults`, shared with the other styles.
"""

from __future__ import annotations

from tfcnn import defaults
from tfcnn._compat import keras, tf
from tfcnn.layers.arg_scope import add_arg_scope, arg_scope  # noqa: F401  (slim.arg_scope)
from tfcnn.layers.raw import hard_sigmoid, hard_swish

_FN_NAMES = {
    tf.nn.relu: "relu",
    tf.nn.relu6: "relu6",
    tf.nn.sigmoid: "sigmoid",
    tf.sigmoid: "sigmoid",
    tf.nn.tanh: "tanh",
    tf.tanh: "tanh",
    tf.nn.silu: "swish",
    hard_sigmoid: "hard_sigmoid",  # MobileNet v3's; Keras 2 has neither, so the layer keeps the function
    hard_swish: "hard_swish",
}


def _apply_activation(x, activation_fn, scope):
    if activation_fn is None:
        return x
    name = _FN_NAMES.get(activation_fn, getattr(activation_fn, "__name__", "act"))
    return activation(x, activation_fn, scope=f"{scope}_{name}" if scope else None)


@add_arg_scope
def activation(inputs, activation_fn, scope=None):
    """An activation as a layer of its own (slim nets call ``tf.nn.relu(net)``, which
    Keras would wrap in a ``TFOpLambda`` that TFMOT cannot quantize)."""
    name = _FN_NAMES.get(activation_fn)
    if name == "relu6":
        return keras.layers.ReLU(6.0, name=scope)(inputs)
    if activation_fn in (hard_sigmoid, hard_swish):
        return keras.layers.Activation(activation_fn, name=scope)(inputs)
    return keras.layers.Activation(name or activation_fn, name=scope)(inputs)


def _name(scope, suffix):
    return f"{scope}_{suffix}" if scope else None


def _keras_padding(padding: str) -> str:
    """Slim's ``'SAME'``/``'VALID'`` (either case) as the lower-case name Keras layers take."""
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID'. Received: padding={padding!r}")
    return padding.lower()


def l2_regularizer(scale: float):
    """TF-Slim's L2 regularizer: ``scale * tf.nn.l2_loss(w)`` = ``scale * sum(w**2) / 2``."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0. Received: scale={scale}")
    return keras.regularizers.L2(scale / 2.0) if scale else None


def l1_regularizer(scale: float):
    """TF-Slim's L1 regularizer: ``scale * sum(|w|)``."""
    if scale < 0:
        raise ValueError(f"scale must be >= 0. Received: scale={scale}")
    return keras.regularizers.L1(scale) if scale else None


@add_arg_scope
def batch_norm(inputs, decay=None, center=True, scale=False, epsilon=None, activation_fn=None, is_training=True,
               scope=None):
    """Batch normalisation (slim defaults: ``center=True, scale=False``).

    ``decay`` and ``epsilon`` default to :data:`tfcnn.defaults.BN_MOMENTUM` and
    :data:`tfcnn.defaults.BN_EPSILON`. ``is_training=False`` freezes the layer
    in inference mode; ``True`` follows Keras's training flag.
    """
    layer = keras.layers.BatchNormalization(
        momentum=defaults.BN_MOMENTUM if decay is None else decay,
        epsilon=defaults.BN_EPSILON if epsilon is None else epsilon,
        center=center, scale=scale, name=scope)
    x = layer(inputs) if is_training else layer(inputs, training=False)
    return _apply_activation(x, activation_fn, scope)


@add_arg_scope
def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", rate=1, activation_fn=tf.nn.relu,
           normalizer_fn=None, normalizer_params=None, weights_initializer=None, weights_regularizer=None,
           biases_initializer="zeros", groups=1, use_bias=None, trainable=True, scope=None):
    """A 2-D convolution with optional normalizer and activation (``slim.conv2d``).

    With a ``normalizer_fn`` the convolution has no bias, as in TF-Slim.
    Extensions: ``groups`` for AlexNet's two-tower layout, and ``use_bias=True``
    to keep a bias before the normalizer (as Keras Applications' ResNet does).
    """
    if use_bias is None:
        use_bias = normalizer_fn is None and biases_initializer is not None
    x = keras.layers.Conv2D(
        num_outputs, kernel_size, strides=stride, padding=_keras_padding(padding), dilation_rate=rate, groups=groups,
        use_bias=use_bias, kernel_initializer=weights_initializer or defaults.KERNEL_INITIALIZER,
        bias_initializer=biases_initializer or "zeros", kernel_regularizer=weights_regularizer,
        trainable=trainable, name=_name(scope, "conv"))(inputs)
    if normalizer_fn is not None:
        x = normalizer_fn(x, scope=_name(scope, "bn"), **(normalizer_params or {}))
    return _apply_activation(x, activation_fn, scope)


@add_arg_scope
def separable_conv2d(inputs, num_outputs, kernel_size, depth_multiplier=1, stride=1, padding="SAME",
                     activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
                     weights_initializer=None, weights_regularizer=None, biases_initializer="zeros",
                     use_bias=None, scope=None):
    """``slim.separable_conv2d`` with ``num_outputs=None``: a depthwise convolution only."""
    if num_outputs is not None:
        raise ValueError(f"only the depthwise form (num_outputs=None) is provided. Received: num_outputs={num_outputs}")
    if use_bias is None:
        use_bias = normalizer_fn is None and biases_initializer is not None
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=stride, padding=_keras_padding(padding), depth_multiplier=depth_multiplier,
        use_bias=use_bias, depthwise_initializer=weights_initializer or defaults.KERNEL_INITIALIZER,
        depthwise_regularizer=weights_regularizer, name=_name(scope, "conv"))(inputs)
    if normalizer_fn is not None:
        x = normalizer_fn(x, scope=_name(scope, "bn"), **(normalizer_params or {}))
    return _apply_activation(x, activation_fn, scope)


@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=tf.nn.relu, normalizer_fn=None, normalizer_params=None,
                    weights_initializer=None, weights_regularizer=None, biases_initializer="zeros", scope=None):
    """A fully connected layer (``slim.fully_connected``; ReLU by default, as in slim)."""
    use_bias = normalizer_fn is None and biases_initializer is not None
    x = keras.layers.Dense(
        num_outputs, use_bias=use_bias, kernel_initializer=weights_initializer or defaults.DENSE_INITIALIZER,
        bias_initializer=biases_initializer or "zeros", kernel_regularizer=weights_regularizer, name=scope)(inputs)
    if normalizer_fn is not None:
        x = normalizer_fn(x, scope=_name(scope, "bn"), **(normalizer_params or {}))
    return _apply_activation(x, activation_fn, scope)


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", scope=None):
    """Max pooling (slim defaults: stride 2, VALID)."""
    return keras.layers.MaxPooling2D(kernel_size, strides=stride, padding=_keras_padding(padding), name=scope)(inputs)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", scope=None):
    """Average pooling (slim defaults: stride 2, VALID)."""
    return keras.layers.AveragePooling2D(kernel_size, strides=stride, padding=_keras_padding(padding), name=scope)(inputs)


@add_arg_scope
def global_pool(inputs, pooling_type="AVG", scope=None):
    """Mean (or max) over height and width, the ``tf.reduce_mean(net, [1, 2])`` of slim nets."""
    layer = keras.layers.GlobalAveragePooling2D if pooling_type.upper() == "AVG" else keras.layers.GlobalMaxPooling2D
    return layer(name=scope)(inputs)


@add_arg_scope
def dropout(inputs, keep_prob=0.5, is_training=True, scope=None):
    """Dropout in slim's vocabulary: ``keep_prob`` is the fraction of units kept."""
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in (0, 1]. Received: keep_prob={keep_prob}")
    layer = keras.layers.Dropout(1.0 - keep_prob, name=scope)
    return layer(inputs) if is_training else layer(inputs, training=False)


@add_arg_scope
def flatten(inputs, scope=None):
    """Flatten everything but the batch axis."""
    return keras.layers.Flatten(name=scope)(inputs)


@add_arg_scope
def pad(inputs, padding, scope=None):
    """Zero padding (slim nets call ``tf.pad``; here a layer, so TFMOT sees it)."""
    return keras.layers.ZeroPadding2D(padding, name=scope)(inputs)


@add_arg_scope
def lrn(inputs, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, scope=None):
    """Local response normalisation (``tf.nn.lrn``) as a layer."""
    from tfcnn.layers.raw import RawLRN

    return RawLRN(depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta, name=scope)(inputs)


def merge(inputs, mode, scope=None, axis=-1):
    """Combine branches: ``'add'`` (residual), ``'multiply'`` (attention) or ``'concat'`` (Inception).

    Slim nets write ``net + shortcut`` or ``tf.concat``; in a functional graph
    these must be layers; ``axis`` is the concatenation's (channels by default).
    """
    layers = {"add": keras.layers.Add, "multiply": keras.layers.Multiply,
              "concat": lambda name: keras.layers.Concatenate(axis=axis, name=name)}
    if mode not in layers:
        raise ValueError(f"mode must be one of {sorted(layers)}. Received: mode={mode!r}")
    return layers[mode](name=scope)(list(inputs))


def repeat(inputs, repetitions, layer, *args, scope=None, **kwargs):
    """Apply ``layer`` ``repetitions`` times, scopes ``{scope}_1 ... {scope}_N`` (``slim.repeat``)."""
    if repetitions < 1:
        raise ValueError(f"repetitions must be >= 1. Received: repetitions={repetitions}")
    x = inputs
    for i in range(repetitions):
        x = layer(x, *args, scope=f"{scope}_{i + 1}" if scope else None, **kwargs)
    return x


def stack(inputs, layer, stack_args, scope=None, **kwargs):
    """Apply ``layer`` once per entry of ``stack_args`` (``slim.stack``), e.g. VGG's FC stack."""
    x = inputs
    for i, args in enumerate(stack_args):
        args = args if isinstance(args, (list, tuple)) else (args,)
        x = layer(x, *args, scope=f"{scope}_{i + 1}" if scope else None, **kwargs)
    return x
