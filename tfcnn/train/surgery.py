"""Changes the trainer makes to a built model: float32 outputs, a frozen (then unfrozen) backbone, an L2 penalty."""

from __future__ import annotations

from tfcnn._compat import keras, tf


def float32_outputs(model):
    """The same flat model with a float32 ``<output>_float32`` layer after each output.

    Under a mixed policy the builders' ``logits`` Dense computes in 16 bits;
    softmax and the loss need float32 for range and precision.
    """
    outputs = [keras.layers.Activation("linear", dtype="float32", name=f"{name}_float32")(out)
               for name, out in zip(model.output_names, model.outputs)]
    return keras.Model(model.inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)


def classifier_layers(model) -> list[str]:
    """The layers that produce the model's outputs: from each output back to the first layer with weights.

    A float32 ``Activation`` added by :func:`float32_outputs` has no weights, so
    the ``logits`` Dense behind it is the classifier.
    """
    names = []
    for out in model.outputs:
        layer = out.node.layer
        while not layer.weights and layer.inbound_nodes and layer.inbound_nodes[0].inbound_layers:
            inbound = layer.inbound_nodes[0].inbound_layers
            layer = inbound[0] if isinstance(inbound, list) else inbound
        names.append(layer.name)
    return names


def freeze_backbone(model) -> int:
    """Make every layer untrainable except the classifier(s) (see :func:`classifier_layers`).

    A frozen ``BatchNormalization`` runs in inference mode in tf_keras: it
    normalises with its moving statistics and does not update them.

    Returns:
        The number of layers left trainable.
    """
    heads = set(classifier_layers(model))
    for layer in model.layers:
        layer.trainable = layer.name in heads
    return len(heads)


def unfreeze(model) -> int:
    """Make every layer trainable again, except ``BatchNormalization`` (kept frozen, in inference mode).

    Keras's transfer-learning guide keeps BN in inference mode while
    fine-tuning, so a few small batches of new data do not overwrite the
    statistics learnt on the large dataset.

    Returns:
        The number of layers made trainable.
    """
    n = 0
    for layer in model.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
        n += layer.trainable
    return n


def add_weight_decay(model, weight_decay: float) -> None:
    """Add ``weight_decay * sum(kernel ** 2)`` over every trainable kernel to the model's loss (L2)."""
    kernels = [w for w in model.trainable_weights if "kernel" in w.name.split("/")[-1]]
    if weight_decay and kernels:
        model.add_loss(lambda: weight_decay * tf.add_n(
            [tf.reduce_sum(tf.square(tf.cast(k, tf.float32))) for k in kernels]))


def inference_model(model):
    """The model with its first output only (GoogLeNet's auxiliary heads dropped for inference)."""
    return model if len(model.outputs) == 1 else keras.Model(model.inputs, model.outputs[0], name=model.name)
