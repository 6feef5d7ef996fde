"""The chapters' sliders (03: convolution arithmetic, 09: dropout): the numbers they show are a real layer's."""

from __future__ import annotations

import numpy as np
import pytest

from tfcnn import analysis
from tfcnn._compat import keras
from tfcnn.analysis import explore
from tfcnn.errors import UsageError
from tfcnn.viz import interactive


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    (3, 1, "same", 1), (5, 2, "valid", 1), (3, 1, "valid", 2), (3, 1, "same", 3), (7, 3, "valid", 1),
])
def test_conv_arithmetic_is_what_conv2d_builds(kernel, stride, padding, dilation):
    r = explore.conv_arithmetic(28, kernel, stride, padding, dilation, in_channels=3, filters=8)
    inputs = keras.Input((28, 28, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(8, kernel, stride, padding, dilation_rate=dilation)(inputs))
    assert model.output_shape == (None, r["output"], r["output"], 8)
    assert model.count_params() == r["params"]
    assert analysis.summarize(model).total_macs == r["macs"]


def test_dilation_widens_the_receptive_field_not_the_weights():
    plain, dilated = (explore.conv_arithmetic(28, 3, 1, "valid", d) for d in (1, 2))
    assert (plain["receptive_field"], dilated["receptive_field"]) == (3, 5)
    assert plain["params"] == dilated["params"] and dilated["output"] == 24
    with pytest.raises(UsageError, match="Received: dilation=0"):
        explore.conv_arithmetic(28, 3, 1, "same", 0)


def test_the_static_table_has_one_row_per_setting():
    table = explore.conv_table([(3, 1, "same", 1), (5, 2, "valid", 1)]).splitlines()
    assert len(table) == 4 and table[3].startswith("| 5 | 2 | valid | 1 | 12 |")


def test_the_conv_sliders_update_the_numbers():
    box = explore.conv_explorer(28)
    kernel, stride, padding, dilation, out = box.children
    assert "28×28×8" in out.value
    kernel.value, padding.value, dilation.value = 5, "valid", 2  # effective kernel 9: 28 - 9 + 1 = 20
    assert "20×20×8" in out.value and "receptive field 9×9" in out.value
    stride.value = 3
    assert "7×7×8" in out.value


def test_dropout_keeps_about_1_minus_p_and_the_mean_in_expectation():
    image = np.full((64, 64, 1), 0.5, np.float32)
    r = interactive.dropout_sample(image, 0.5, seed=1)
    assert abs(r["kept"] - 0.5) < 0.03 and abs(r["mean_out"] - r["mean_in"]) < 0.03
    assert set(np.unique(r["output"]).round(4)) <= {0.0, 1.0}  # kept pixels scaled by 1 / (1 - p)
    assert interactive.dropout_sample(image, 0.0)["kept"] == 1.0
    with pytest.raises(UsageError, match="Received: rate=1.0"):
        interactive.dropout_sample(image, 1.0)
    fig = interactive.plot_dropout_rates(image, (0.0, 0.5))
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["p = 0", "p = 0.5"]


def test_the_dropout_slider_builds_and_moves():
    box = interactive.dropout_explorer(np.ones((8, 8, 1), np.float32))
    rate, _ = box.children
    rate.value = 0.25
    assert rate.value == 0.25
