"""GoogLeNet: Table 1 widths, the torchvision cross-check, auxiliary heads, styles, training."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_checks import assert_styles_agree, assert_trains_one_step

import tfcnn
from tfcnn.models.googlenet import GOOGLENET_MODULES, aux_loss_weights, without_aux

AUX_SMALL = (65, 65, 3)  # the smallest input the auxiliary 5x5/3 pooling allows


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_googlenet_modules_have_table1_output_depths():
    """Each module's output depth is #1x1 + #3x3 + #5x5 + pool proj (Table 1's 'depth' column)."""
    model = tfcnn.create_model("googlenet", input_shape=(32, 32, 3), num_classes=10)
    table1_out = {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832, "5a": 832, "5b": 1024}
    for row in (r for r in GOOGLENET_MODULES if not isinstance(r, str)):
        module = row[0]
        assert model.get_layer(f"inception_{module}_out").output_shape[-1] == table1_out[module]
        assert model.get_layer(f"inception_{module}_branch3_conv").kernel.shape[:2] == (5, 5)
        assert model.get_layer(f"inception_{module}_branch2_reduce_conv").kernel.shape[-1] == row[2]


def test_bn_variant_equals_torchvision_up_to_its_3x3_bug():
    """torchvision's googlenet (6,624,904 trainable) uses 3x3 kernels in the '5x5' branch; the rest is ours."""
    model = tfcnn.create_model("googlenet", use_bn=True)
    assert not any("lrn" in layer.name for layer in model.layers)
    missing = sum(16 * row[4] * row[5] for row in GOOGLENET_MODULES if not isinstance(row, str))
    assert _trainable(model) - missing == 6_624_904


def test_default_forward_with_aux_heads():
    model = tfcnn.create_model("googlenet", aux_logits=True)
    assert model.output_names == ["logits", "aux1_logits", "aux2_logits"]
    # Sec. 5: 4x4x512 (4a) and 4x4x528 (4d) after the 5x5/3 pooling, FC 1024.
    assert model.get_layer("aux1_pool").output_shape == (None, 4, 4, 512)
    assert model.get_layer("aux2_pool").output_shape == (None, 4, 4, 528)
    assert model.get_layer("aux1_fc").units == 1024 and model.get_layer("aux1_dropout").rate == 0.7
    outputs = model.predict(np.zeros((1, 224, 224, 3), "float32"), verbose=0)
    assert [o.shape for o in outputs] == [(1, 1000)] * 3
    aux = model.count_params() - tfcnn.create_model("googlenet").count_params()
    assert aux == (512 + 528) * 128 + 2 * 128 + 2 * (2048 * 1024 + 1024 + 1024 * 1000 + 1000)


def test_aux_training_weighs_heads_and_inference_drops_them():
    model = tfcnn.create_model("googlenet", aux_logits=True, input_shape=AUX_SMALL, num_classes=10)
    weights = aux_loss_weights(model)
    assert weights == {"logits": 1.0, "aux1_logits": 0.3, "aux2_logits": 0.3}
    assert_trains_one_step(model, 10)  # compiles three losses, every kernel (aux ones too) moves
    main = without_aux(model)
    assert main.output_names == ["logits"]
    assert main.count_params() < model.count_params()
    x = np.random.default_rng(0).uniform(size=(1, *AUX_SMALL)).astype("float32")
    np.testing.assert_allclose(main(x).numpy(), model(x)[0].numpy(), rtol=1e-6)
    assert main.get_layer("logits") is model.get_layer("logits")  # shared, not copied


def test_aux_weights_are_applied_by_keras():
    """With loss_weights from the helper, Keras's total loss is main + 0.3 * (aux1 + aux2)."""
    from tfcnn._compat import keras

    model = tfcnn.create_model("googlenet", aux_logits=True, input_shape=AUX_SMALL, num_classes=10)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  loss_weights=aux_loss_weights(model))
    x = np.random.default_rng(0).uniform(size=(2, *AUX_SMALL)).astype("float32")
    y = np.array([1, 2])
    result = model.evaluate(x, [y, y, y], verbose=0, return_dict=True)
    expected = result["logits_loss"] + 0.3 * (result["aux1_logits_loss"] + result["aux2_logits_loss"])
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"use_bn": True, "aux_logits": True}])
def test_googlenet_styles_agree(kwargs):
    shape = AUX_SMALL if kwargs.get("aux_logits") else (32, 32, 3)
    model = assert_styles_agree("googlenet", shape, num_classes=10, **kwargs)
    if not kwargs:
        assert_trains_one_step(model, 10)


def test_googlenet_input_limits():
    tfcnn.create_model("googlenet", input_shape=(32, 32, 3), num_classes=10)
    with pytest.raises(ValueError, match="input_shape"):
        tfcnn.create_model("googlenet", input_shape=(31, 31, 3))
    with pytest.raises(ValueError, match="input_shape"):
        tfcnn.create_model("googlenet", input_shape=(64, 64, 3), aux_logits=True)


@pytest.mark.parametrize("kwargs,arg", [
    ({"aux_logits": True, "include_top": False}, "aux_logits"), ({"aux_logits": "yes"}, "aux_logits"),
    ({"use_bn": 1}, "use_bn"), ({"dropout_rate": -0.1}, "dropout_rate"), ({"num_classes": 0}, "num_classes"),
])
def test_googlenet_bad_options_name_the_option(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tfcnn.create_model("googlenet", **kwargs)


def test_googlenet_headless():
    model = tfcnn.create_model("googlenet", input_shape=(64, 64, 3), include_top=False, pooling="max")
    assert model.output_shape == (None, 1024)
