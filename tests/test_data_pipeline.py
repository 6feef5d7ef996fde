"""The one tf.data pipeline: resize, channels, scale, augment, files vs arrays, labels for aux heads."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tfcnn.data import DatasetError, choose_input_shape, load_dataset, make_pipeline, preprocess


def test_preprocess_resizes_converts_channels_and_scales():
    images = np.full((2, 8, 8, 1), 255, np.uint8)
    x = preprocess(images, (16, 16, 3)).numpy()
    assert x.shape == (2, 16, 16, 3) and x.dtype == np.float32 and np.allclose(x, 1.0)
    rgb = np.zeros((1, 4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    assert preprocess(rgb, (4, 4, 1)).numpy() == pytest.approx(0.2989, abs=1e-3)  # ITU-R 601 luma of pure red


def test_input_shape_is_native_when_accepted_else_the_smallest_accepted():
    assert choose_input_shape((28, 28, 1), model_shape=(224, 224, 3), min_input_size=16)[0] == (28, 28, 3)
    shape, why = choose_input_shape((8, 8, 1), model_shape=(28, 28, 1), min_input_size=16)
    assert shape == (16, 16, 1) and "16x16" in why
    assert choose_input_shape((8, 8, 1), model_shape=(28, 28, 1), min_input_size=16, requested=28)[0] == (28, 28, 1)
    with pytest.raises(DatasetError, match="input_size=8"):
        choose_input_shape((32, 32, 3), model_shape=(32, 32, 3), min_input_size=32, requested=8)


def test_training_pipeline_shuffles_and_augments_each_epoch_but_keeps_labels():
    data = load_dataset("digits")
    ds = make_pipeline(data.x_train[:64], data.y_train[:64], (16, 16, 1), batch_size=64, training=True,
                       augment_images=True, hflip=False)
    (x1, y1), (_x2, y2) = [next(iter(ds)) for _ in range(2)]
    assert sorted(y1.numpy()) == sorted(y2.numpy()) == sorted(data.y_train[:64])
    assert not np.array_equal(y1.numpy(), y2.numpy())  # reshuffled
    clean = make_pipeline(data.x_train[:64], data.y_train[:64], (16, 16, 1), batch_size=64, training=False)
    x0, y0 = next(iter(clean))
    assert np.array_equal(y0.numpy(), data.y_train[:64])  # evaluation keeps the order
    # augmentation only shifts pixels around: same value range, different images
    assert x1.shape == x0.shape and 0.0 <= float(np.min(x1)) and float(np.max(x1)) <= 1.0


def test_file_images_decode_to_the_same_tensors_as_arrays(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 10, 12, 3), dtype=np.uint8)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    labels = np.arange(3)
    a = next(iter(make_pipeline(images, labels, (10, 12, 3), batch_size=3, training=False)))[0]
    b = next(iter(make_pipeline(np.asarray(paths), labels, (10, 12, 3), batch_size=3, training=False,
                                native_shape=(10, 12, 3))))[0]
    assert np.array_equal(a.numpy(), b.numpy())


def test_labels_repeat_for_auxiliary_heads_and_one_hot_for_smoothing():
    x, y = np.zeros((4, 8, 8, 1), np.uint8), np.array([0, 1, 2, 1])
    _, ys = next(iter(make_pipeline(x, y, (8, 8, 1), batch_size=4, training=False, num_outputs=3)))
    assert len(ys) == 3 and all(np.array_equal(t.numpy(), y) for t in ys)
    _, oh = next(iter(make_pipeline(x, y, (8, 8, 1), batch_size=4, training=False, num_classes=3)))
    assert np.array_equal(oh.numpy(), np.eye(3)[y])


@pytest.mark.parametrize("batch_size", [0, -1, 1.5])
def test_batch_size_must_be_positive_int(batch_size):
    with pytest.raises(DatasetError, match="batch_size"):
        make_pipeline(np.zeros((2, 8, 8, 1), np.uint8), np.zeros(2), (8, 8, 1), batch_size=batch_size, training=False)


def test_validation_split_comes_from_training_data_only():
    data = load_dataset("digits")
    x_tr, _y_tr, x_val, _y_val = data.validation_split(0.1, seed=0)
    assert len(x_tr) + len(x_val) == len(data.x_train)
    test_keys = {x.tobytes() for x in data.x_test}
    train_keys = {x.tobytes() for x in data.x_train}
    assert all(x.tobytes() in train_keys for x in x_val)
    assert sum(x.tobytes() in test_keys for x in x_val) <= sum(x.tobytes() in test_keys for x in data.x_train)
