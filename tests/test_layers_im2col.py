"""im2col + one matrix multiply is a convolution."""

from __future__ import annotations

import numpy as np
import pytest

from tfcnn._compat import tf
from tfcnn.layers import style_raw


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
@pytest.mark.parametrize("strides", [1, 2, 3])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("channels", [(1, 1), (3, 8), (16, 4)])
def test_im2col_matches_tf_nn_conv2d(kernel_size, strides, padding, channels):
    c_in, c_out = channels
    rng = np.random.default_rng(kernel_size * 100 + strides * 10 + c_in)
    x = tf.constant(rng.normal(size=(2, 13, 11, c_in)).astype("float32"))
    w = tf.constant(rng.normal(size=(kernel_size, kernel_size, c_in, c_out)).astype("float32"))
    b = tf.constant(rng.normal(size=(c_out,)).astype("float32"))
    want = tf.nn.bias_add(tf.nn.conv2d(x, w, strides=strides, padding=padding), b)
    got = style_raw.conv2d_im2col(x, w, b, strides=strides, padding=padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-4)


def test_im2col_rows_are_receptive_fields():
    x = tf.reshape(tf.range(16, dtype=tf.float32), (1, 4, 4, 1))
    cols, (h, w) = style_raw.im2col(x, 3, strides=1, padding="VALID")
    assert (int(h), int(w)) == (2, 2)
    np.testing.assert_array_equal(cols[0, 0].numpy(), [0, 1, 2, 4, 5, 6, 8, 9, 10])
    np.testing.assert_array_equal(cols[0, 3].numpy(), [5, 6, 7, 9, 10, 11, 13, 14, 15])


def test_raw_conv2d_rejects_bad_arguments():
    x = tf.zeros((1, 4, 4, 1))
    w = tf.zeros((3, 3, 1, 1))
    with pytest.raises(ValueError, match="Received: strides=0"):
        style_raw.conv2d(x, w, strides=0)
    with pytest.raises(ValueError, match="Received: padding='FULL'"):
        style_raw.conv2d(x, w, padding="FULL")
