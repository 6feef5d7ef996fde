"""The arithmetic of convolution from chapter 3, with the notes' own examples."""

from __future__ import annotations

import pytest

from tfcnn import analysis
from tfcnn._compat import keras


@pytest.mark.parametrize("n,f,s,p,want", [
    (32, 5, 1, "valid", 28),     # (32 - 5)/1 + 1
    (227, 11, 4, "valid", 55),   # AlexNet conv1
    (224, 7, 2, 3, 112),         # ResNet conv1 with explicit padding 3
    (28, 5, 1, "same", 28),
    (7, 3, 2, "same", 4),        # ceil(7/2)
    (7, 3, 2, 1, 4),             # (7 + 2 - 3)//2 + 1
])
def test_conv_output_size(n, f, s, p, want):
    assert analysis.conv_output_size(n, f, s, p) == want


@pytest.mark.parametrize("n,f,s,padding", [(10, 3, 1, "same"), (10, 3, 2, "valid"), (9, 5, 2, "same"), (12, 3, 1, 1)])
def test_conv_output_size_agrees_with_keras(n, f, s, padding):
    x = keras.Input((n, n, 1))
    y = keras.layers.ZeroPadding2D(padding)(x) if isinstance(padding, int) else x
    y = keras.layers.Conv2D(1, f, strides=s, padding="valid" if isinstance(padding, int) else padding)(y)
    assert y.shape[1] == analysis.conv_output_size(n, f, s, padding)


@pytest.mark.parametrize("f,p", [(3, 1), (5, 2), (7, 3), (1, 0)])
def test_same_padding_keeps_size(f, p):
    assert analysis.same_padding(f) == p
    assert analysis.conv_output_size(20, f, 1, p) == 20


def test_even_kernel_cannot_keep_size_symmetrically():
    with pytest.raises(ValueError, match="Received: kernel_size=4"):
        analysis.same_padding(4)


def test_notes_1000x1000_image_example():
    pixels = 1000 * 1000
    # fully connected to 10^6 hidden units
    assert analysis.dense_params(pixels, pixels, use_bias=False) == 10**12
    # locally connected: each of the 10^6 hidden units sees a 10x10 patch
    assert analysis.locally_connected_params(10, 1, 1, 1000, use_bias=False) == 10**8
    # weight sharing: one 10x10 filter
    assert analysis.conv_params(10, 1, 1, use_bias=False) == 100


def test_notes_32x32x3_with_100_5x5_filters():
    assert analysis.conv_params(5, 3, 100, use_bias=False) == 7_500
    assert analysis.conv_params(5, 3, 100) == 7_600
    out = analysis.conv_output_size(32, 5, 1, "valid")
    assert out == 28
    assert analysis.locally_connected_params(5, 3, 100, out, use_bias=False) == 5 * 5 * 3 * 28 * 28 * 100


def test_conv_params_agree_with_keras():
    x = keras.Input((32, 32, 3))
    layer = keras.layers.Conv2D(100, 5)
    layer(x)
    assert layer.count_params() == analysis.conv_params(5, 3, 100)


def test_receptive_field_of_stacked_3x3():
    assert analysis.receptive_field([(3, 1), (3, 1)]) == analysis.receptive_field([(5, 1)]) == (5, 1)
    assert analysis.receptive_field([(3, 1)] * 3) == analysis.receptive_field([(7, 1)]) == (7, 1)
    assert analysis.receptive_field([(3, 1), (2, 2), (3, 1)]) == (8, 2)


@pytest.mark.parametrize("call,arg", [
    (lambda: analysis.conv_output_size(5, 7, 1, "valid"), "kernel_size=7"),
    (lambda: analysis.conv_output_size(5, 3, 0), "stride=0"),
    (lambda: analysis.conv_output_size(5, 3, -1), "stride=-1"),
    (lambda: analysis.conv_output_size(5.5, 3), "input_size=5.5"),
    (lambda: analysis.conv_output_size(5, 3, 1, "full"), "padding='full'"),
    (lambda: analysis.conv_output_size(5, 3, 1, -1), "padding=-1"),
    (lambda: analysis.receptive_field([(3, 0)]), "stride=0"),
    (lambda: analysis.conv_params(3, 0, 4), "in_channels=0"),
])
def test_invalid_arguments_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=f"Received: {arg}"):
        call()
