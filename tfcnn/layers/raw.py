"""Convolution, batch norm and friends written with ``tf.nn`` and explicit weights.

This is the lesson's "way 1": the weights are tensors you create yourself
(``filter_weight``, ``biases``) and every operation is a ``tf.nn`` call.
The pure functions come first; below them, thin Keras layers wrap the same
functions so that raw-style models train with ``fit``, save, load, convert
to TFLite and can be pruned. The layers use the Keras weight names
(``kernel``, ``bias``, ``gamma``, ``beta``, ``moving_mean``,
``moving_variance``) in the Keras order, so weights copy across styles by
layer name.
"""

from __future__ import annotations

from collections.abc import Sequence

from tfcnn import defaults
from tfcnn._compat import keras, tf


def _pair(value, argname: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, Sequence)
        or len(pair) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)
    ):
        raise ValueError(f"{argname} must be a positive int or a pair of them. Received: {argname}={value!r}")
    return tuple(pair)


def _padding(padding: str) -> str:
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'same' or 'valid'. Received: padding={padding!r}")
    return padding.upper()


# ---------------------------------------------------------------------------
# Pure functions over explicit tensors
# ---------------------------------------------------------------------------


def conv2d(x, filter_weight, biases=None, strides=1, padding="SAME", groups: int = 1):
    """Convolve NHWC ``x`` with ``filter_weight`` of shape ``[F, F, C_in/groups, C_out]``.

    Args:
        x: input, ``[batch, height, width, channels]``.
        filter_weight: the kernel; weights are shared over every position.
        biases: one bias per output channel, or ``None``.
        strides: int or ``(sh, sw)``.
        padding: ``'SAME'`` or ``'VALID'``.
        groups: split input and output channels into this many towers
            (AlexNet's two-GPU layout); ``tf.nn.conv2d`` infers it from the
            kernel's input depth.

    Returns:
        The convolved tensor ``[batch, H_out, W_out, C_out]``.
    """
    del groups  # tf.nn.conv2d derives the group count from the kernel shape.
    sh, sw = _pair(strides, "strides")
    y = tf.nn.conv2d(x, filter_weight, strides=[1, sh, sw, 1], padding=_padding(padding))
    if biases is not None:
        y = tf.nn.bias_add(y, biases)
    return y


def depthwise_conv2d(x, depthwise_weight, biases=None, strides=1, padding="SAME"):
    """Depthwise convolution, one ``[F, F]`` filter per input channel (MobileNet)."""
    sh, sw = _pair(strides, "strides")
    y = tf.nn.depthwise_conv2d(x, depthwise_weight, strides=[1, sh, sw, 1], padding=_padding(padding))
    if biases is not None:
        y = tf.nn.bias_add(y, biases)
    return y


def _extract_patches(x, kernel_size, strides, padding):
    kh, kw = kernel_size
    sh, sw = strides
    return tf.image.extract_patches(
        x, sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1], rates=[1, 1, 1, 1], padding=padding
    )


def im2col(x, kernel_size, strides=1, padding="SAME"):
    """Rearrange image patches into columns: ``[batch, H_out*W_out, F*F*C]``.

    Every row holds one receptive field, flattened in ``(row, col, channel)``
    order, which is also the order of ``tf.reshape(filter_weight, [-1, C_out])``.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    patches = _extract_patches(x, (kh, kw), _pair(strides, "strides"), _padding(padding))
    shape = tf.shape(patches)
    return tf.reshape(patches, [shape[0], shape[1] * shape[2], shape[3]]), (shape[1], shape[2])


def conv2d_im2col(x, filter_weight, biases=None, strides=1, padding="SAME"):
    """Convolution as image-to-columns plus one matrix multiply (Im2col实现卷积运算).

    The ``[H_out*W_out, F*F*C_in]`` patch matrix times the ``[F*F*C_in, C_out]``
    kernel matrix gives every output pixel at once; this is how many BLAS-based
    libraries implement convolution.
    """
    kh, kw, c_in, c_out = filter_weight.shape
    cols, (h_out, w_out) = im2col(x, (kh, kw), strides, padding)
    y = tf.matmul(cols, tf.reshape(filter_weight, [kh * kw * c_in, c_out]))
    y = tf.reshape(y, [tf.shape(x)[0], h_out, w_out, c_out])
    if biases is not None:
        y = tf.nn.bias_add(y, biases)
    return y


def batch_norm(x, mean, variance, beta, gamma, epsilon=defaults.BN_EPSILON):
    """Normalise with the given statistics: ``gamma * (x - mean) / sqrt(var + eps) + beta``."""
    return tf.nn.batch_normalization(x, mean, variance, offset=beta, scale=gamma, variance_epsilon=epsilon)


def batch_norm_train(x, moving_mean, moving_variance, beta, gamma, momentum=defaults.BN_MOMENTUM,
                     epsilon=defaults.BN_EPSILON):
    """Training-mode batch norm: normalise with batch moments, update the moving averages.

    The batch is normalised with its biased variance; the moving variance is
    updated with the unbiased (Bessel-corrected) one, as TensorFlow's fused
    batch norm and PyTorch do.

    Returns:
        ``(y, new_moving_mean, new_moving_variance)``; the caller assigns them.
    """
    axes = list(range(len(x.shape) - 1))
    mean, variance = tf.nn.moments(x, axes=axes)
    y = batch_norm(x, mean, variance, beta, gamma, epsilon)
    n = tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axes)), x.dtype)
    unbiased = variance * n / tf.maximum(n - 1.0, 1.0)
    new_mean = moving_mean * momentum + mean * (1.0 - momentum)
    new_var = moving_variance * momentum + unbiased * (1.0 - momentum)
    return y, new_mean, new_var


@keras.utils.register_keras_serializable(package="tfcnn")
def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: MobileNet v3's piecewise-linear sigmoid (Howard et al. 2019, Eq. 1).

    Not Keras 2's ``hard_sigmoid``, which is ``clip(0.2 x + 0.5, 0, 1)``: the
    two differ everywhere except at 0 and beyond +-3 (at x=1: 0.667 vs 0.7).
    """
    return tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


@keras.utils.register_keras_serializable(package="tfcnn")
def hard_swish(x):
    """``x * relu6(x + 3) / 6``: swish with its sigmoid replaced by :func:`hard_sigmoid` (MobileNet v3)."""
    return x * hard_sigmoid(x)


_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "sigmoid": tf.nn.sigmoid,
    "tanh": tf.nn.tanh,
    "swish": tf.nn.silu,
    "hard_sigmoid": hard_sigmoid,
    "hard_swish": hard_swish,
    "linear": tf.identity,
}


def activation_fn(name: str | None):
    """The ``tf.nn`` function for an activation name (``None`` means linear)."""
    key = "linear" if name is None else name
    if key not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)} or None. Received: activation={name!r}")
    return _ACTIVATIONS[key]


# ---------------------------------------------------------------------------
# Keras layers whose call() uses only the functions above
# ---------------------------------------------------------------------------


class RawLayer(keras.layers.Layer):
    """Base of the raw layers: TFMOT may wrap them (nothing to prune by default)."""

    def get_prunable_weights(self):
        return []


def _regularizer(weight_decay):
    return keras.regularizers.L2(weight_decay) if weight_decay else None


@keras.utils.register_keras_serializable(package="tfcnn")
class RawConv2D(RawLayer):
    """A convolution layer holding an explicit ``kernel`` and ``bias``, computed by :func:`conv2d`."""

    def __init__(self, filters, kernel_size, strides=1, padding="same", use_bias=True, groups=1,
                 weight_decay=0.0, kernel_initializer=defaults.KERNEL_INITIALIZER, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = _padding(padding).lower()
        self.use_bias = bool(use_bias)
        self.groups = int(groups)
        self.weight_decay = float(weight_decay or 0.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        c_in = int(input_shape[-1])
        if c_in % self.groups or self.filters % self.groups:
            raise ValueError(f"input and output channels must divide by groups. Received: groups={self.groups}")
        self.kernel = self.add_weight(
            "kernel", shape=(*self.kernel_size, c_in // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=_regularizer(self.weight_decay))
        self.bias = self.add_weight("bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None
        super().build(input_shape)

    def call(self, inputs):
        return conv2d(inputs, self.kernel, self.bias, self.strides, self.padding)

    def get_prunable_weights(self):
        return [self.kernel]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "use_bias": self.use_bias,
                "groups": self.groups, "weight_decay": self.weight_decay,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawDepthwiseConv2D(RawLayer):
    """Depthwise convolution with an explicit ``depthwise_kernel`` (Keras's weight name)."""

    def __init__(self, kernel_size, strides=1, padding="same", depth_multiplier=1, use_bias=True,
                 weight_decay=0.0, kernel_initializer=defaults.KERNEL_INITIALIZER, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = _padding(padding).lower()
        self.depth_multiplier = int(depth_multiplier)
        self.use_bias = bool(use_bias)
        self.weight_decay = float(weight_decay or 0.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        c_in = int(input_shape[-1])
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=(*self.kernel_size, c_in, self.depth_multiplier),
            initializer=self.kernel_initializer, regularizer=_regularizer(self.weight_decay))
        self.bias = (self.add_weight("bias", shape=(c_in * self.depth_multiplier,), initializer="zeros")
                     if self.use_bias else None)
        super().build(input_shape)

    def call(self, inputs):
        return depthwise_conv2d(inputs, self.depthwise_kernel, self.bias, self.strides, self.padding)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "depth_multiplier": self.depth_multiplier,
                "use_bias": self.use_bias, "weight_decay": self.weight_decay,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawBatchNorm(RawLayer):
    """Batch normalisation over the last axis with explicit ``gamma``/``beta`` and moving statistics."""

    def __init__(self, momentum=defaults.BN_MOMENTUM, epsilon=defaults.BN_EPSILON, center=True, scale=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

    def build(self, input_shape):
        c = (int(input_shape[-1]),)
        self.gamma = self.add_weight("gamma", shape=c, initializer="ones") if self.scale else None
        self.beta = self.add_weight("beta", shape=c, initializer="zeros") if self.center else None
        self.moving_mean = self.add_weight("moving_mean", shape=c, initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape=c, initializer="ones", trainable=False)
        super().build(input_shape)

    def call(self, inputs, training=None):
        if training is None:
            training = keras.backend.learning_phase()
        if isinstance(training, bool) or not tf.is_tensor(training):
            return self._train(inputs) if training else self._infer(inputs)
        return tf.cond(tf.cast(training, tf.bool), lambda: self._train(inputs), lambda: self._infer(inputs))

    # The pure functions above are the lesson; for 4-D maps the layer calls the
    # fused kernel that computes the same thing in one pass (Keras does the
    # same), so the raw style is not slower. tests/test_layers_parity.py checks
    # the layer against both the pure functions and Keras.
    def _affine(self, x):
        c = x.shape[-1]
        gamma = self.gamma if self.gamma is not None else tf.ones((c,), x.dtype)
        beta = self.beta if self.beta is not None else tf.zeros((c,), x.dtype)
        return gamma, beta

    def _infer(self, x):
        if x.shape.rank == 4:
            gamma, beta = self._affine(x)
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon,
                is_training=False)
            return y
        return batch_norm(x, self.moving_mean, self.moving_variance, self.beta, self.gamma, self.epsilon)

    def _train(self, x):
        if x.shape.rank == 4:
            gamma, beta = self._affine(x)
            y, mean, unbiased = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=self.epsilon,
                                                                 is_training=True)
            new_mean = self.moving_mean * self.momentum + mean * (1.0 - self.momentum)
            new_var = self.moving_variance * self.momentum + unbiased * (1.0 - self.momentum)
        else:
            y, new_mean, new_var = batch_norm_train(
                x, self.moving_mean, self.moving_variance, self.beta, self.gamma, self.momentum, self.epsilon)
        self.moving_mean.assign(new_mean)
        self.moving_variance.assign(new_var)
        return y

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawDense(RawLayer):
    """A fully connected layer ``x @ kernel + bias`` with explicit weights."""

    def __init__(self, units, use_bias=True, weight_decay=0.0, kernel_initializer=defaults.DENSE_INITIALIZER,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.weight_decay = float(weight_decay or 0.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=(int(input_shape[-1]), self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=_regularizer(self.weight_decay))
        self.bias = self.add_weight("bias", shape=(self.units,), initializer="zeros") if self.use_bias else None
        super().build(input_shape)

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        return tf.nn.bias_add(y, self.bias) if self.use_bias else y

    def get_prunable_weights(self):
        return [self.kernel]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "weight_decay": self.weight_decay,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawActivation(RawLayer):
    """An activation from ``tf.nn`` by name."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        activation_fn(activation)
        self.activation = activation

    def call(self, inputs):
        return activation_fn(self.activation)(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawPool2D(RawLayer):
    """Max or average pooling with ``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d``."""

    def __init__(self, mode, pool_size, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "avg"):
            raise ValueError(f"mode must be 'max' or 'avg'. Received: mode={mode!r}")
        self.mode = mode
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = _pair(strides if strides is not None else pool_size, "strides")
        self.padding = _padding(padding).lower()

    def call(self, inputs):
        op = tf.nn.max_pool2d if self.mode == "max" else tf.nn.avg_pool2d
        return op(inputs, ksize=[1, *self.pool_size, 1], strides=[1, *self.strides, 1],
                  padding=self.padding.upper())

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "pool_size": self.pool_size,
                "strides": self.strides, "padding": self.padding}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawGlobalPool(RawLayer):
    """Global average or max pooling: ``tf.reduce_mean``/``tf.reduce_max`` over H and W."""

    def __init__(self, mode="avg", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "avg"):
            raise ValueError(f"mode must be 'max' or 'avg'. Received: mode={mode!r}")
        self.mode = mode

    def call(self, inputs):
        op = tf.reduce_mean if self.mode == "avg" else tf.reduce_max
        return op(inputs, axis=[1, 2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawFlatten(RawLayer):
    """Flatten to ``[batch, -1]`` with ``tf.reshape``."""

    def call(self, inputs):
        size = inputs.shape[1:].num_elements()
        return tf.reshape(inputs, [-1, size] if size is not None else [tf.shape(inputs)[0], -1])


@keras.utils.register_keras_serializable(package="tfcnn")
class RawDropout(RawLayer):
    """Inverted dropout with ``tf.nn.dropout``: kept units are scaled by ``1 / (1 - rate)`` in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"rate must be in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed

    def call(self, inputs, training=None):
        if training is None:
            training = keras.backend.learning_phase()
        if self.rate == 0.0:
            return tf.identity(inputs)
        if isinstance(training, bool) or not tf.is_tensor(training):
            return tf.nn.dropout(inputs, self.rate, seed=self.seed) if training else tf.identity(inputs)
        return tf.cond(tf.cast(training, tf.bool), lambda: tf.nn.dropout(inputs, self.rate, seed=self.seed),
                       lambda: tf.identity(inputs))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawZeroPad(RawLayer):
    """Zero padding with ``tf.pad``; ``padding`` is an int or ``((top, bottom), (left, right))``."""

    def __init__(self, padding, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        self.padding = tuple(tuple(int(v) for v in p) for p in padding)

    def call(self, inputs):
        return tf.pad(inputs, [[0, 0], list(self.padding[0]), list(self.padding[1]), [0, 0]])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawChannelSlice(RawLayer):
    """Channels ``start:stop`` of an NHWC tensor (``inputs[..., start:stop]``), a ``tf.strided_slice``.

    Keras 2 has no slicing layer and a ``Lambda`` would stop TFMOT and saving,
    so ShuffleNet v2's channel split and GhostNet's ``[:out]`` use this in
    every style.
    """

    def __init__(self, start, stop, **kwargs):
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)
        if not 0 <= self.start < self.stop:
            raise ValueError(f"a channel slice needs 0 <= start < stop. Received: start={start!r}, stop={stop!r}")

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and self.stop > int(channels):
            raise ValueError(f"the slice ends past the last channel ({int(channels)}). Received: stop={self.stop!r}")
        super().build(input_shape)

    def call(self, inputs):
        return inputs[..., self.start:self.stop]

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([*input_shape[:-1], self.stop - self.start])

    def get_config(self):
        return {**super().get_config(), "start": self.start, "stop": self.stop}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawLRN(RawLayer):
    """Local response normalisation across channels, ``tf.nn.local_response_normalization``.

    ``b = a / (bias + alpha * sum(a**2 over 2*depth_radius+1 channels)) ** beta``,
    which is exactly the AlexNet paper's formula with its constants
    (``n=5, k=2, alpha=1e-4, beta=0.75``). Caffe's LRN, by contrast, divides
    ``alpha`` by ``n``: to reproduce a Caffe model use ``alpha=1e-4 / 5``.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = int(depth_radius), float(bias), float(alpha), float(beta)

    def call(self, inputs):
        return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha, self.beta)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


@keras.utils.register_keras_serializable(package="tfcnn")
class RawChannelPool(RawLayer):
    """The mean and the maximum over the channels at every position: ``[H, W, C] -> [H, W, 2]``.

    CBAM's spatial attention pools across channels, ``[AvgPool(F); MaxPool(F)]``
    (Woo et al. 2018, Eq. 3, in the paper's order); its official code
    concatenates the maximum first, which only permutes the two input
    channels of the 7x7 convolution that follows. Keras 2 has no such layer
    and a ``Lambda`` would stop TFMOT and saving, so every style uses this.
    """

    def call(self, inputs):
        return tf.concat([tf.reduce_mean(inputs, axis=-1, keepdims=True),
                          tf.reduce_max(inputs, axis=-1, keepdims=True)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([*input_shape[:-1], 2])


@keras.utils.register_keras_serializable(package="tfcnn")
class RawChannelConv(RawLayer):
    """A 1-D convolution along the channel axis, the same ``k`` weights at every channel (ECA-Net).

    Channel ``c`` of the output is ``sum_j kernel[j] * x[c + j - k // 2]``
    with zeros beyond the first and last channel, as ECA's
    ``Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)`` applied to the
    pooled channel vector (Wang et al. 2020, Eq. 4): weight sharing, as in any
    convolution, but across channels instead of positions. Computed with
    ``tf.nn.conv1d`` on the channels of every position; the kernel has shape
    ``(k, 1, 1)``. Keras's ``Conv1D`` would need the channel axis reshaped
    into a spatial one and back, three layers for one idea.
    """

    def __init__(self, kernel_size, weight_decay=0.0, kernel_initializer=defaults.KERNEL_INITIALIZER, **kwargs):
        super().__init__(**kwargs)
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int. Received: kernel_size={kernel_size!r}")
        self.kernel_size = kernel_size
        self.weight_decay = float(weight_decay or 0.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=(self.kernel_size, 1, 1), initializer=self.kernel_initializer,
                                      regularizer=_regularizer(self.weight_decay))
        super().build(input_shape)

    def call(self, inputs):
        shape = tf.shape(inputs)
        channels = tf.reshape(inputs, [-1, shape[-1], 1])  # every position's channel vector as a 1-D signal
        return tf.reshape(tf.nn.conv1d(channels, self.kernel, stride=1, padding="SAME"), shape)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "weight_decay": self.weight_decay,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
