"""Quantization: post-training (dynamic range, float16, full int8) and quantization-aware training.

Post-training quantization converts a trained float model directly:
dynamic range stores weights as int8 and computes in float; float16 halves
the weights; full int8 also quantizes activations, calibrated on a
representative sample of the training data, optionally with int8 input and
output for microcontrollers. Quantization-aware training (QAT) fine-tunes
with fake-quantized weights and activations so the network learns to live
with int8 rounding. Collaborative optimisation keeps a pruned model's zeros
(``prune_preserve``) or a clustered model's codebook (``cluster_preserve``)
through QAT.

Reference: B. Jacob et al., "Quantization and Training of Neural Networks for
Efficient Integer-Arithmetic-Only Inference", arXiv:1712.05877.
"""

from __future__ import annotations

import warnings

import numpy as np

from tfcnn._compat import keras, quiet_native_stderr, tf
from tfcnn.compress._common import CompressError, compile_for_fine_tuning, tfmot

PTQ_MODES = ("float32", "dynamic_range", "float16", "int8", "int8_per_tensor", "int8_io")
SCHEMES = (None, "prune_preserve", "cluster_preserve", "prune_cluster_preserve")


def _converter(model):
    """A TFLite converter for ``model``'s inference graph, its variables frozen into constants.

    ``from_keras_model`` first writes the model as a SavedModel, tracing every
    layer's call: 18-20 s for MobileNet v2 or v3 at 32x32 on two cores. The
    frozen inference function converts to the same operators and the same
    numbers in 1-2 s (``tests/test_compress_pipeline.py`` compares the two on BN, SE and hard-swish).
    TensorFlow 2.21 calls this frozen-graph input "the deprecated conversion
    path" (a log line, silenced here); should a release remove it, this is the
    one function to change back to ``from_keras_model``.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    specs = [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in model.inputs]
    function = tf.function(lambda *inputs: model(inputs[0] if len(inputs) == 1 else list(inputs), training=False),
                           input_signature=specs)
    frozen = convert_variables_to_constants_v2(function.get_concrete_function())
    from absl import logging as absl_logging

    level = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)  # its one line: TF calls the frozen-graph input "deprecated"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    finally:
        absl_logging.set_verbosity(level)


def to_tflite(model, mode: str = "float32", *, representative: np.ndarray | None = None,
              sparse: bool = False) -> bytes:
    """Convert a Keras model to TFLite flatbuffer bytes.

    Args:
        model: a Keras model (plain, stripped, or quantization-aware).
        mode: ``'float32'``; ``'dynamic_range'``; ``'float16'``; ``'int8'``
            (weights and activations, float input/output); ``'int8_per_tensor'``
            (int8 with one scale per tensor instead of per output channel: a
            float scale and an int64 zero point per channel outweigh a thin
            depthwise kernel's 9 weights, so thin nets shrink further); ``'int8_io'``
            (int8 input and output too); ``'qat'`` (a quantization-aware
            model: int8 from its learned ranges, float I/O).
        representative: preprocessed training images ``[N, H, W, C]`` for
            int8 calibration (required by ``int8`` and ``int8_io``).
        sparse: also apply ``Optimize.EXPERIMENTAL_SPARSITY`` (sparse
            tensor encoding of pruned weights; raw file shrinks, but the
            result runs only without the XNNPACK delegate).

    Returns:
        The ``.tflite`` file's bytes.

    Raises:
        CompressError: unknown mode, or int8 without representative data.
    """
    if mode not in (*PTQ_MODES, "qat"):
        raise CompressError(f"mode must be one of {(*PTQ_MODES, 'qat')}. Received: mode={mode!r}")
    converter = _converter(model)
    optimizations = []
    if mode != "float32":
        optimizations.append(tf.lite.Optimize.DEFAULT)
    if sparse:
        optimizations.append(tf.lite.Optimize.EXPERIMENTAL_SPARSITY)
    converter.optimizations = optimizations
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode in ("int8", "int8_per_tensor", "int8_io"):
        if representative is None or len(representative) == 0:
            raise CompressError(f"int8 conversion needs representative images. Received: representative=None, "
                                f"mode={mode!r}")
        sample = np.asarray(representative, dtype=np.float32)

        def representative_dataset():
            for i in range(len(sample)):
                yield [sample[i:i + 1]]

        converter.representative_dataset = representative_dataset
        # Fail rather than silently leave float ops behind: "full integer" means it.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if mode == "int8_per_tensor":
            converter._experimental_disable_per_channel = True  # the converter's only switch for this
        if mode == "int8_io":
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    with quiet_native_stderr(), warnings.catch_warnings():  # the converter's MLIR and flatbuffer chatter
        # int8 input: the frozen-graph path asks for input statistics it then takes from the calibration
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        return converter.convert()


def quantizable_layers(model) -> list[str]:
    """Layers the default 8-bit QAT scheme knows (Keras built-ins; not custom or raw ``tf.nn`` layers)."""
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry,
    )

    registry = default_8bit_quantize_registry.Default8BitQuantizeRegistry()
    return [layer.name for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer) and registry.supports(layer)]


def _scheme(name):
    combine = tfmot().experimental.combine
    if name is None:
        return None
    if name == "prune_preserve":
        return combine.Default8BitPrunePreserveQuantizeScheme()
    if name == "cluster_preserve":
        return combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=False)
    if name == "prune_cluster_preserve":
        return combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True)
    raise CompressError(f"scheme must be one of {SCHEMES}. Received: scheme={name!r}")


def quantize_aware(model, *, scheme: str | None = None):
    """Wrap a copy of ``model`` for quantization-aware training.

    Only layers the 8-bit scheme supports are annotated, so a model with a
    custom layer is quantized around it instead of failing. Nested models
    and ``Rescaling`` layers are not supported by TFMOT; flatten first
    (:func:`tfcnn.flatten.flatten_model`) and keep preprocessing outside.

    Raises:
        CompressError: the model is nested, or no layer can be quantized.
    """
    if any(isinstance(layer, keras.Model) for layer in model.layers):
        raise CompressError("QAT needs a flat model; flatten it with tfcnn.flatten.flatten_model. "
                            f"Received: model={model.name!r} with a nested model")
    names = set(quantizable_layers(model))
    weighted = [layer.name for layer in model.layers if layer.weights]
    if not names or not any(n in names for n in weighted):
        raise CompressError("no weighted layer of this model can be quantization-aware trained (TFMOT's QAT knows "
                            f"Keras layers; build it with style='keras' or 'slim'). Received: model={model.name!r}")
    qk = tfmot().quantization.keras
    from tfcnn.compress.prune import clone

    base = clone(model)

    def annotate(layer):
        return qk.quantize_annotate_layer(layer) if layer.name in names else layer

    annotated = keras.models.clone_model(base, clone_function=annotate)
    sch = _scheme(scheme)
    return qk.quantize_apply(annotated, sch) if sch is not None else qk.quantize_apply(annotated)


def qat(model, train_ds, *, epochs: int = 1, optimizer: str = "adam", lr: float = 1e-4, scheme: str | None = None,
        verbose: int = 0):
    """Quantization-aware fine-tuning of a copy of ``model``.

    A freshly wrapped model sits at chance accuracy until its quantizer
    ranges adapt, so it always trains at least one epoch before use.

    Args:
        model: trained flat model; for ``prune_preserve``/``cluster_preserve``
            the stripped pruned/clustered model.
        train_ds: batched ``tf.data.Dataset`` of (image, label).
        epochs, optimizer, lr: fine-tuning settings.
        scheme: ``None`` (plain 8-bit QAT), ``'prune_preserve'``,
            ``'cluster_preserve'`` or ``'prune_cluster_preserve'``.
        verbose: ``fit`` verbosity.

    Returns:
        The trained quantization-aware model; convert with ``to_tflite(m, 'qat')``.

    Example:
        >>> q = qat(model, train_ds, epochs=1)  # doctest: +SKIP
        >>> open("qat.tflite", "wb").write(to_tflite(q, "qat"))  # doctest: +SKIP
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise CompressError(f"epochs must be a positive int. Received: epochs={epochs!r}")
    q = quantize_aware(model, scheme=scheme)
    compile_for_fine_tuning(q, optimizer=optimizer, lr=lr)
    q.fit(train_ds, epochs=epochs, verbose=verbose)
    return q
