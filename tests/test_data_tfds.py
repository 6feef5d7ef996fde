"""tensorflow-datasets names: mocked loading, fast offline failure, offline build from manual_dir."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tfcnn.data import DatasetError, StreamSplit, load_dataset, make_pipeline, tfds_source

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def no_network(monkeypatch):
    """An unresolvable probe host (RFC 2606 '.invalid'): the probe fails in milliseconds, as offline."""
    monkeypatch.setattr(tfds_source, "PROBE_HOST", "tfcnn-probe.invalid")
    monkeypatch.setattr(tfds_source, "_probe_cache", {})
    monkeypatch.delenv("TFCNN_OFFLINE", raising=False)


def test_tfds_is_streamed_not_materialised(monkeypatch):
    monkeypatch.setattr(tfds_source, "network_available", lambda *a, **k: True)  # mock_data fakes the download
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("mnist")
        assert data.name == "mnist" and data.num_classes == 10 and not data.hflip
        # Only labels are in memory; the images stay in tfds's files until the pipeline reads them.
        assert isinstance(data.x_train, StreamSplit) and data.x_train.encoded and len(data.x_train) == 12
        assert data.image_shape == (28, 28, 1) and len(data.x_test) == 12 and data.y_train.max() < 10
        ds = make_pipeline(data.x_train, data.y_train, (16, 16, 1), batch_size=12, training=False, cache=False)
        x, y = next(iter(ds))
        assert x.shape == (12, 16, 16, 1) and x.dtype == np.float32
        assert np.array_equal(y.numpy(), data.y_train)  # the stream's order is the labels' order
        # A validation split carved from a stream keeps images and labels together.
        x_tr, _y_tr, x_val, y_val = data.validation_split(0.25, seed=0)
        assert isinstance(x_val, StreamSplit) and (len(x_tr), len(x_val)) == (9, 3)
        ds_val = make_pipeline(x_val, y_val, (16, 16, 1), batch_size=12, training=False, cache=False)
        assert np.array_equal(next(iter(ds_val))[1].numpy(), y_val)


def test_missing_dataset_offline_fails_fast_saying_how_to_get_it(tmp_path, no_network):
    start = time.perf_counter()
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=str(tmp_path))
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "\n" not in message and "offline" in message and "--manual-dir" in message
    assert "train-images-idx3-ubyte.gz" in message  # names the files tfds needs


def test_manual_dir_is_used_offline_and_checksums_are_checked(tmp_path, no_network):
    manual = tmp_path / "manual"
    manual.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (manual / name).write_bytes(b"not the real file")
    start = time.perf_counter()
    with pytest.raises(DatasetError, match="Checksum"):  # tfds built from our files and rejected them
        load_dataset("mnist", data_dir=str(tmp_path / "tfds"), manual_dir=str(manual))
    assert time.perf_counter() - start < 10


def test_unknown_tfds_name_is_a_dataset_error():
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("no_such_dataset_anywhere")
