"""One Keras: importing tfcnn makes tf.keras the Keras 2 of tf_keras, which TFMOT accepts."""

from __future__ import annotations

import subprocess
import sys

import tfcnn


def test_tf_keras_is_tf_keras_after_import():
    import tensorflow as tf
    import tf_keras

    assert tf.keras.layers.Conv2D is tf_keras.layers.Conv2D
    assert tfcnn.keras is tf_keras


def test_tfcnn_model_can_be_pruned_by_tfmot():
    import tensorflow_model_optimization as tfmot

    model = tfcnn.create_model("lenet")
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model)
    wrapped = [layer for layer in pruned.layers if type(layer).__name__ == "PruneLowMagnitude"]
    assert len(wrapped) >= 5  # conv1, conv2, fc1, fc2, logits


def test_raw_style_model_can_be_pruned_by_tfmot():
    import tensorflow_model_optimization as tfmot

    pruned = tfmot.sparsity.keras.prune_low_magnitude(tfcnn.create_model("lenet", style="raw"))
    kernels = [w for layer in pruned.layers if type(layer).__name__ == "PruneLowMagnitude"
               for w in layer.pruning_vars]
    assert len(kernels) == 5  # the kernels of the 2 RawConv2D and 3 RawDense layers


def test_import_is_light_and_sets_legacy_keras_first():
    code = (
        "import sys, tfcnn, os; "
        "assert os.environ['TF_USE_LEGACY_KERAS'] == '1'; "
        "assert 'tensorflow_model_optimization' not in sys.modules, 'TFMOT imported eagerly'; "
        "import tensorflow as tf, tf_keras; assert tf.keras.Model is tf_keras.Model; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120,
                         env={"TF_USE_LEGACY_KERAS": "0", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
