"""Flatten a nested Keras model into one flat functional model, so TFMOT can prune and quantize it.

The usual transfer-learning layout puts a pretrained backbone ``Model``
inside another model (``outputs = head(backbone(inputs))``). TFMOT's
``quantize_model`` rejects that nesting; :func:`flatten_model` rebuilds the
same graph with every inner layer at the top level, copying weights and
``trainable`` flags, so the result computes the same outputs and can be
quantization-aware trained.
"""

from __future__ import annotations

from tfcnn._compat import keras, tf


def _is_graph_model(layer) -> bool:
    return isinstance(layer, keras.Model) and getattr(layer, "_is_graph_network", False)


def is_nested(model) -> bool:
    """True when ``model`` holds another model as a layer."""
    return any(isinstance(layer, keras.Model) for layer in model.layers)


def flatten_model(model, *, name: str | None = None):
    """One flat functional model with the same layers, weights and outputs as a nested ``model``.

    Args:
        model: a functional or Sequential ``tf_keras.Model``, possibly holding
            functional/Sequential models as layers (to any depth).
        name: the new model's name (default: the original's).

    Returns:
        A flat functional ``tf_keras.Model``; its layers are fresh copies, so
        the original is left untouched.

    Raises:
        ValueError: ``model`` (or a nested model) is subclassed, or two
            layers would share a name.

    Example:
        >>> base = tf_keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False)
        >>> x = tf_keras.Input((32, 32, 3)); y = tf_keras.layers.Dense(10)(
        ...     tf_keras.layers.GlobalAveragePooling2D()(base(x, training=False)))
        >>> flat = flatten_model(tf_keras.Model(x, y))  # doctest: +SKIP
        >>> tfmot.quantization.keras.quantize_model(flat)  # doctest: +SKIP
    """
    if not _is_graph_model(model):
        raise ValueError(f"only functional or Sequential models can be flattened (subclassed models have no graph). "
                         f"Received: model={type(model).__name__}")
    copies: dict[int, object] = {}
    names: set[str] = set()
    inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype, name=layer.name)
              for t, layer in zip(model.inputs, model._input_layers)]
    outputs = _run_graph(model, inputs, copies, names)
    flat = keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name or model.name)
    return flat


def _copy_layer(layer, copies: dict, names: set):
    key = id(layer)
    if key in copies:  # a shared layer stays shared
        return copies[key]
    if layer.name in names:
        raise ValueError(f"two layers of the nested model share a name; rename one before flattening. "
                         f"Received: layer={layer.name!r}")
    names.add(layer.name)
    new = layer.__class__.from_config(layer.get_config())
    new.trainable = layer.trainable
    copies[key] = (new, layer)
    return copies[key]


def _run_graph(model, inputs: list, copies: dict, names: set) -> list:
    """Call copies of ``model``'s layers on ``inputs`` in graph order; inner models are inlined."""
    if not _is_graph_model(model):
        raise ValueError(f"a nested model must be functional or Sequential to be flattened. "
                         f"Received: {model.name!r} ({type(model).__name__})")
    values = {id(t): v for t, v in zip(model.inputs, inputs)}

    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            layer = node.layer
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if any(id(t) not in values for t in tf.nest.flatten(node.keras_inputs)):
                continue  # a node of this layer used by another graph
            args = tf.nest.map_structure(lambda t: values.get(id(t), t) if _is_keras_tensor(t) else t,
                                         node.call_args)
            kwargs = tf.nest.map_structure(lambda t: values.get(id(t), t) if _is_keras_tensor(t) else t,
                                           node.call_kwargs)
            if _is_graph_model(layer):
                inner_in = tf.nest.flatten(args)
                out = _run_graph(layer, inner_in, copies, names)
                out = out if len(out) > 1 else out[0]
                if not layer.trainable:  # the outer model froze the backbone as a whole
                    _freeze(copies, layer)
            elif isinstance(layer, keras.Model):
                raise ValueError(f"subclassed models cannot be flattened. Received: {layer.name!r}")
            else:
                new, _ = _copy_layer(layer, copies, names)
                kwargs = {k: v for k, v in kwargs.items() if k != "training"}  # inference flags follow trainable
                out = new(*args, **kwargs)
                if layer.weights:
                    new.set_weights(layer.get_weights())
            for t, v in zip(tf.nest.flatten(node.outputs), tf.nest.flatten(out)):
                values[id(t)] = v
    return [values[id(t)] for t in model.outputs]


def _is_keras_tensor(t) -> bool:
    return hasattr(t, "_keras_history")


def _freeze(copies: dict, inner_model) -> None:
    """Give the copies of a frozen inner model's layers ``trainable=False``."""
    inner = {id(layer) for layer in inner_model._flatten_layers(include_self=False)}
    for key, (new, _old) in copies.items():
        if key in inner:
            new.trainable = False
