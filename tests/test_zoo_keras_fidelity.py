"""tfcnn computes the same function as Keras Applications: copy Keras's weights in by the name map, same logits.

For VGG16, VGG19, ResNet50/101/152, MobileNet, MobileNetV2, MobileNetV3Small/Large, EfficientNetB0-B3 and DenseNet121/169/201: the default
configuration (224x224x3, 1000 classes; the deep ones marked slow) and at
least one other per family (small input, other class count, headless with
pooling, other width; ResNet-152 shares ResNet-50/101's code and is checked at
its default only, to keep the suite's time). Batch norm statistics are randomised so BN layers are exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest
from golden_params import GOLDEN_PARAMS
from zoo_checks import build_keras_reference, copy_keras_weights, randomize_bn, rel_diff

import tfcnn
from tfcnn._compat import keras
from tfcnn.models import _pretrained

RTOL = 1e-4

CASES = [
    ("vgg16", {}),
    ("vgg16", {"input_shape": (32, 32, 3), "num_classes": 10}),
    ("vgg19", {"input_shape": (48, 48, 3), "include_top": False, "pooling": "max"}),
    pytest.param("vgg19", {}, marks=pytest.mark.slow),
    ("resnet50", {}),
    ("resnet50", {"input_shape": (32, 32, 3), "num_classes": 10}),
    ("resnet101", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    pytest.param("resnet101", {}, marks=pytest.mark.slow),
    pytest.param("resnet152", {}, marks=pytest.mark.slow),
    ("mobilenet_v1", {}),
    ("mobilenet_v1", {"input_shape": (32, 32, 3), "alpha": 0.25, "depth_multiplier": 2, "include_top": False,
                      "pooling": "avg"}),
    ("mobilenet_v2", {}),
    ("mobilenet_v2", {"input_shape": (33, 47, 3), "alpha": 1.4, "include_top": False, "pooling": "max"}),
    # Keras built with include_preprocessing=False: tfcnn keeps the Rescaling(1/127.5, -1) outside the model.
    ("mobilenet_v3_small", {}),
    ("mobilenet_v3_small", {"input_shape": (64, 64, 3), "minimalistic": True, "num_classes": 10}),
    ("mobilenet_v3_large", {}),
    ("mobilenet_v3_large", {"input_shape": (33, 47, 3), "alpha": 0.75, "include_top": False, "pooling": "max"}),
    ("efficientnet_b0", {}),
    ("efficientnet_b0", {"input_shape": (33, 47, 3), "include_top": False, "pooling": "max"}),
    ("efficientnet_b1", {"input_shape": (64, 64, 3), "num_classes": 10}),
    pytest.param("efficientnet_b3", {}, marks=pytest.mark.slow),
    ("densenet121", {}),
    ("densenet121", {"input_shape": (33, 47, 3), "include_top": False, "pooling": "max"}),
    pytest.param("densenet169", {"input_shape": (32, 32, 3), "num_classes": 10}, marks=pytest.mark.slow),
    pytest.param("densenet201", {}, marks=pytest.mark.slow),
]

# Keras's EfficientNet starts with Rescaling(1/255) and a Normalization layer (identity until adapted or loaded):
# per family, the factor Keras's input is multiplied by and how many weighted Keras layers tfcnn leaves out.
KERAS_PREPROCESSING = {"efficientnet": (255.0, 1)}


@pytest.mark.parametrize("name, kwargs", CASES)
def test_keras_weights_give_identical_logits_and_counts(name, kwargs):
    ref = build_keras_reference(name, **kwargs)
    model = tfcnn.create_model(name, **kwargs)
    normalization = sum(layer.count_params() for layer in ref.layers if isinstance(layer, keras.layers.Normalization))
    assert model.count_params() == ref.count_params() - normalization
    if not kwargs:
        assert model.count_params() == GOLDEN_PARAMS[(name, ())][0]
    randomize_bn(ref)
    copied = copy_keras_weights(ref, model, name)
    scale, left_out = KERAS_PREPROCESSING.get(tfcnn.get_config(name).family, (1.0, 0))
    assert copied == len([layer for layer in ref.layers if layer.weights]) - left_out  # every Keras weight was used
    x = np.random.default_rng(0).uniform(-1, 1, (1, *model.input_shape[1:])).astype("float32")
    expected, got = ref(scale * x, training=False).numpy(), model(x, training=False).numpy()
    assert got.shape == expected.shape
    assert rel_diff(expected, got) <= RTOL


def test_fidelity_is_not_vacuous_a_wrong_weight_changes_the_logits():
    """The comparison above would notice one mis-mapped layer."""
    kwargs = {"input_shape": (32, 32, 3), "alpha": 0.35, "num_classes": 10}
    ref = build_keras_reference("mobilenet_v2", **kwargs)
    model = tfcnn.create_model("mobilenet_v2", **kwargs)
    copy_keras_weights(ref, model, "mobilenet_v2")
    kernel = model.get_layer("block3_project_conv")
    kernel.set_weights([w[..., ::-1] for w in kernel.get_weights()])  # permute output channels
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    assert rel_diff(ref(x).numpy(), model(x).numpy()) > 1e-3


def test_every_keras_application_family_is_registered():
    assert {"vgg16", "vgg19", "resnet50", "resnet101", "resnet152", "mobilenet_v1", "mobilenet_v2",
            "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "densenet121"} <= set(_pretrained.list_keras_applications())
