"""Sharded TFRecords: python -m tfcnn.data.shard, tfrecord:DIR streamed with interleave, multi-worker sharding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tfcnn._compat import tf
from tfcnn.data import StreamSplit, load_dataset, make_pipeline, shard_inputs, shard_policy
from tfcnn.data.shard import main as shard_main


def _folder(root, n=6):
    rng = np.random.default_rng(0)
    for label in ("ants", "bees", "wasps"):
        (root / label).mkdir(parents=True)
        for k in range(n):
            img = rng.integers(0, 256, (10 + k, 12, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / label / f"{k}.png")
    return root


def _all(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_shard_command_writes_records_and_index_and_they_read_back_the_same(tmp_path, capsys):
    src = _folder(tmp_path / "bugs")
    out = tmp_path / "records"
    assert shard_main([f"folder:{src}", "--out", str(out), "--shards", "3", "--holdout", "0.5"]) == 0
    assert "tfrecord:" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["class_names"] == ["ants", "bees", "wasps"] and index["splits"]["train"]["count"] == 9
    assert len(index["splits"]["train"]["files"]) == 3 and sum(index["splits"]["test"]["class_counts"]) == 9
    assert index["preprocessing"]["stored"] == "original file bytes"
    records = load_dataset(f"tfrecord:{out}")
    folder = load_dataset(f"folder:{src}", holdout=0.5)
    assert isinstance(records.x_train, StreamSplit) and len(records.x_train) == 9
    assert sorted(records.y_train) == sorted(folder.y_train)
    # Same pixels as decoding the folder itself (PNG is lossless): compare as multisets of images.
    a, ya = _all(make_pipeline(records.x_train, records.y_train, (8, 8, 3), batch_size=4, training=False))
    b, yb = _all(make_pipeline(folder.x_train, folder.y_train, (8, 8, 3), batch_size=4, training=False))
    assert np.array_equal(ya, records.y_train)  # the stream's order is its labels' order
    key = lambda x, y: sorted((int(l), img.tobytes()) for img, l in zip(x, y))
    assert key(a, ya) == key(b, yb)


def test_arrays_are_sharded_as_png_and_a_validation_split_streams(tmp_path):
    out = tmp_path / "digits"
    assert shard_main(["digits", "--out", str(out), "--shards", "4"]) == 0
    data, digits = load_dataset(f"tfrecord:{out}"), load_dataset("digits")
    assert len(data.x_train) == len(digits.x_train) and data.image_shape == (8, 8, 1) and not data.hflip
    x_tr, _y_tr, x_val, y_val = data.validation_split(0.1, seed=0)
    assert len(x_val) == len(y_val) == 144 and len(x_tr) + len(x_val) == len(digits.x_train)
    xv, yv = _all(make_pipeline(x_val, y_val, (8, 8, 1), batch_size=64, training=False, cache=False))
    assert np.array_equal(yv, y_val)
    wanted = {(int(l), img.tobytes()) for img, l in zip(np.asarray(digits.x_train), digits.y_train)}
    got = {(int(l), np.round(img * 255).astype(np.uint8).tobytes()) for img, l in zip(xv, yv)}
    assert got <= wanted  # every validation image is one of the training digits, pixel for pixel


@pytest.mark.parametrize("argv, match", [
    (["digits", "--out", "{out}", "--shards", "0"], "--shards must be a positive int"),
    (["no_such_dataset_anywhere!", "--out", "{out}"], "unknown dataset"),
])
def test_shard_command_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    assert shard_main([a.format(out=out) for a in argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_shard_command_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert shard_main(["digits", "--out", str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err and (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_multi_worker_sharding_by_file_else_by_data(tmp_path):
    assert shard_main(["digits", "--out", str(tmp_path / "r"), "--shards", "4"]) == 0
    data = load_dataset(f"tfrecord:{tmp_path / 'r'}")
    assert shard_policy(4, 2) == "file" and shard_policy(4, 8) == "data"
    parts = [shard_inputs(data.x_train, data.y_train, num_workers=2, worker_index=i) for i in range(2)]
    assert [p[2] for p in parts] == ["file", "file"]
    assert [len(p[0].files) for p in parts] == [2, 2] and not set(parts[0][0].files) & set(parts[1][0].files)
    ys = [_all(make_pipeline(x, y, (8, 8, 1), batch_size=256, training=False, cache=False))[1] for x, y, _ in parts]
    assert [list(a) for a in ys] == [list(p[1]) for p in parts]  # each worker's labels match what it reads
    assert sorted(np.concatenate(ys)) == sorted(data.y_train)  # together: everything, once
    context = tf.distribute.InputContext(num_input_pipelines=8, input_pipeline_id=3)
    x, y, policy = shard_inputs(data.x_train, data.y_train, context)
    assert policy == "data" and len(x) == len(y) == len(range(3, len(data.y_train), 8))
    assert shard_inputs(data.x_train, data.y_train, num_workers=1)[2] == "off"
    paths = np.asarray([f"{i}.png" for i in range(10)])
    assert list(shard_inputs(paths, np.arange(10), num_workers=3, worker_index=2)[0]) == ["2.png", "5.png", "8.png"]


def test_a_folder_without_an_index_is_a_dataset_error(tmp_path):
    from tfcnn.data import DatasetError

    (tmp_path / "index.json").write_text('{"format": "something else"}')
    with pytest.raises(DatasetError, match="not a tfcnn-tfrecord v1 folder") as info:
        load_dataset(f"tfrecord:{tmp_path}")
    assert str(info.value).endswith(f"Received: dataset='tfrecord:{tmp_path}'")
    with pytest.raises(DatasetError, match="python -m tfcnn.data.shard"):
        load_dataset(f"tfrecord:{tmp_path / 'missing'}")
