"""Three equivalent ways to write a layer: raw ``tf.nn``, TF-Slim, and Keras.

Each style module exports the same façade with identical signatures
(see :data:`FACADE`), so an architecture
is written once and realised in any style::

    from tfcnn.layers import get_style
    L = get_style("raw")
    x = L.conv_bn(x, 64, 3, strides=2, name="conv1")
"""

from __future__ import annotations

from types import ModuleType

STYLES = ("keras", "raw", "slim")

FACADE = ("activation", "add", "avg_pool", "bn_act", "channel_conv", "channel_pool", "channel_shuffle", "channel_slice",
          "concat", "conv_bn", "dense", "depthwise_conv_bn", "dropout", "flatten", "global_pool", "lrn", "max_pool",
          "multiply", "zero_pad")


def get_style(style: str) -> ModuleType:
    """The façade module for ``style`` (``'keras'``, ``'raw'`` or ``'slim'``).

    Raises:
        ValueError: ``style`` is not one of :data:`STYLES`.
    """
    if style == "keras":
        from tfcnn.layers import style_keras as module
    elif style == "raw":
        from tfcnn.layers import style_raw as module
    elif style == "slim":
        from tfcnn.layers import style_slim as module
    else:
        raise ValueError(f"style must be one of {STYLES}. Received: style={style!r}")
    return module


__all__ = ["FACADE", "STYLES", "get_style"]
