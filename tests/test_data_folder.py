"""folder:DIR as real photo folders come: mixed sizes, modes and formats, resize policies, bad files, caching."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from PIL import Image

from tfcnn._compat import tf
from tfcnn.data import CacheBudget, DatasetError, load_dataset, make_pipeline, shuffle_buffer_size
from tfcnn.data.decode import resize_image

RED = (200, 30, 40)

# (file name, size (w, h), how to write it): every mode and format a user's folder holds.
FILES = [
    ("rgb.jpg", (40, 30), lambda im: im.save),
    ("grey.jpg", (31, 47), lambda im: im.convert("L").save),
    ("rgba.png", (25, 25), lambda im: im.convert("RGBA").save),
    ("palette.gif", (64, 20), lambda im: im.convert("P", palette=Image.ADAPTIVE).save),
    ("palette.png", (20, 33), lambda im: im.convert("P", palette=Image.ADAPTIVE).save),
    ("rgb.bmp", (17, 19), lambda im: im.save),
    ("palette.bmp", (23, 21), lambda im: im.convert("P", palette=Image.ADAPTIVE).save),
    ("cmyk.jpg", (50, 35), lambda im: im.convert("CMYK").save),
]


def _grey16(path, size, value=40000):
    Image.fromarray(np.full(size[::-1], value, np.uint16)).save(path)


def write_photo_folder(root, per_class=2):
    """Two classes of solid-colour images in every format above, plus a 16-bit grey PNG each."""
    for label in ("cats", "dogs"):
        folder = root / label
        folder.mkdir(parents=True)
        for k in range(per_class):
            for name, size, how in FILES:
                how(Image.new("RGB", size, RED))(folder / f"{k}_{name}")
            _grey16(folder / f"{k}_grey16.png", (28 + k, 26))
    return root


def _by_name(data, x):
    """Decoded images keyed by file name, in the order of ``data.x_train`` (evaluation keeps the order)."""
    names = [p.split("/")[-1].split("_", 1)[1] for p in data.x_train]
    return dict(zip(names, x))


def test_mixed_sizes_modes_and_formats_decode_to_the_model_input(tmp_path):
    data = load_dataset(f"folder:{write_photo_folder(tmp_path / 'photos')}", holdout=0.2)
    assert data.is_files and data.num_classes == 2 and data.class_names == ["cats", "dogs"]
    assert data.image_shape[2] == 3  # most files are colour
    ds = make_pipeline(data.x_train, data.y_train, (24, 24, 3), batch_size=64, training=False)
    x, y = next(iter(ds))
    assert x.shape == (len(data.x_train), 24, 24, 3) and x.dtype == np.float32
    assert np.array_equal(y.numpy(), data.y_train)
    images = _by_name(data, np.round(x.numpy() * 255))
    luma = 0.2989 * RED[0] + 0.5870 * RED[1] + 0.1140 * RED[2]
    for name, img in images.items():
        centre = img[12, 12]
        if name == "grey16.png":
            assert np.allclose(centre, 40000 // 257, atol=1)  # 16 bits scaled to 8, not clipped
        elif name == "grey.jpg":
            assert np.allclose(centre, luma, atol=3)
        else:  # CMYK JPEG and palette BMP go through Pillow; the rest through TensorFlow
            assert np.allclose(centre, RED, atol=8 if name.endswith("jpg") else 2), name


def test_grey_model_gets_grey_from_every_format(tmp_path):
    data = load_dataset(f"folder:{write_photo_folder(tmp_path / 'photos', per_class=1)}", holdout=0.5)
    x, _ = next(iter(make_pipeline(data.x_train, data.y_train, (16, 16, 1), batch_size=64, training=False)))
    luma = 0.2989 * RED[0] + 0.5870 * RED[1] + 0.1140 * RED[2]
    for name, img in _by_name(data, np.round(x.numpy() * 255)).items():
        expected = 40000 // 257 if name == "grey16.png" else luma
        assert img.shape == (16, 16, 1) and abs(img[8, 8, 0] - expected) < 6, name


def _thirds():
    """10 x 30 (h x w): black, white, black thirds."""
    img = np.zeros((10, 30, 1), np.uint8)
    img[:, 10:20] = 255
    return tf.constant(img)


def test_resize_crop_pad_and_stretch_keep_different_parts():
    crop = resize_image(_thirds(), (10, 10), "crop").numpy()[..., 0]
    pad = resize_image(_thirds(), (30, 30), "pad").numpy()[..., 0]
    stretch = resize_image(_thirds(), (10, 10), "stretch").numpy()[..., 0]
    assert crop.min() == 255  # the centred square is the white third (Keras's crop_to_aspect_ratio)
    assert pad[:9].max() == 0 and pad[-9:].max() == 0 and pad[15, 15] == 255 and pad[15, 2] == 0  # black bands
    assert stretch[5, 0] == 0 and stretch[5, 5] == 255 and stretch[5, 9] == 0  # all three thirds squeezed in
    with pytest.raises(DatasetError, match="resize=.squash."):
        resize_image(_thirds(), (10, 10), "squash")


def test_train_val_test_subfolders_give_three_splits(tmp_path):
    for split, n in (("train", 3), ("val", 2), ("test", 1)):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True)
            for k in range(n):
                Image.new("RGB", (8 + k, 9), RED).save(tmp_path / split / label / f"{k}.png")
    data = load_dataset(f"folder:{tmp_path}")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (6, 4, 2)
    x_tr, _, x_val, _y_val = data.validation_split(0.5)
    assert list(x_val) == list(data.x_val) and list(x_tr) == list(data.x_train)  # the folder's own val/, not carved


def _folder_with_bad_files(root):
    write_photo_folder(root, per_class=1)
    (root / "cats" / "0_broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    (root / "dogs" / "0_text.png").write_text("hello")
    return root


def test_unreadable_files_are_refused_naming_the_first(tmp_path):
    root = _folder_with_bad_files(tmp_path / "photos")
    with pytest.raises(DatasetError) as info:
        load_dataset(f"folder:{root}")
    message = str(info.value)
    assert "2 file(s)" in message and str(root / "cats" / "0_broken.jpg") in message and "\n" not in message
    assert "--skip-bad-images" in message and message.endswith(f"Received: dataset='folder:{root}'")


def test_skip_bad_images_leaves_them_out_and_reports_them(tmp_path):
    root = _folder_with_bad_files(tmp_path / "photos")
    data = load_dataset(f"folder:{root}", skip_bad_images=True, holdout=0.3)
    assert data.skipped == 2 and set(data.skipped_paths) == {str(root / "cats" / "0_broken.jpg"),
                                                              str(root / "dogs" / "0_text.png")}
    every = set(data.x_train) | set(data.x_test)
    assert len(every) == 2 * (len(FILES) + 1) and not any("broken" in p or "text" in p for p in every)
    assert "2 unreadable file(s) skipped" in data.note


def test_decoding_happens_in_the_pipeline_and_can_skip_there(tmp_path):
    # A PNG whose header is fine but whose pixels are cut off: loading (headers only) accepts it.
    write_photo_folder(tmp_path / "photos", per_class=1)
    good = tmp_path / "photos" / "cats" / "0_rgba.png"
    cut = tmp_path / "photos" / "cats" / "0_cut.png"
    cut.write_bytes(good.read_bytes()[:60])
    data = load_dataset(f"folder:{tmp_path / 'photos'}", holdout=0.5, seed=1)
    paths, labels = np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test])
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(make_pipeline(paths, labels, (8, 8, 3), batch_size=4, training=False))
    kept = list(make_pipeline(paths, labels, (8, 8, 3), batch_size=100, training=False, skip_bad_images=True))
    assert sum(len(y) for _, y in kept) == len(paths) - 1


def _count(ds):
    return sum(int(tf.shape(y)[0]) for _, y in ds)


def test_cache_is_in_memory_under_the_shared_budget_else_a_file_else_none(tmp_path):
    data = load_dataset(f"folder:{write_photo_folder(tmp_path / 'photos')}", holdout=0.25)
    one = len(data.x_train) * 16 * 16 * 3  # uint8 images of the model's size
    budget = CacheBudget(one + 10)
    report = {}
    first = make_pipeline(data.x_train, data.y_train, (16, 16, 3), batch_size=8, training=True, cache_budget=budget,
                          report=report)
    assert report["cache"] == "memory" and budget.used == one
    report = {}
    again = make_pipeline(data.x_train, data.y_train, (16, 16, 3), batch_size=8, training=False,
                          cache_budget=budget, report=report)
    assert report["cache"] == "memory (shared)" and budget.used == one  # the same split is never cached twice
    report = {}
    second = make_pipeline(data.x_train, data.y_train, (15, 15, 3), batch_size=8, training=True,
                           cache_budget=budget, cache_dir=tmp_path / "run", report=report)
    assert report["cache"].startswith(str(tmp_path / "run"))  # the budget is spent: a cache file in the run folder
    assert _count(second) == len(data.x_train) and any((tmp_path / "run").iterdir())
    report = {}
    make_pipeline(data.x_train, data.y_train, (14, 14, 3), batch_size=8, training=True, cache_budget=budget,
                  report=report)
    assert report["cache"] == "none"  # no room and no folder: nothing is cached
    assert _count(first) == _count(again) == len(data.x_train)
    del first, again
    gc.collect()
    assert budget.used == 0  # dropped pipelines give their bytes back


def test_shuffle_buffer_is_sized_in_bytes(tmp_path):
    assert shuffle_buffer_size(1_000_000, 224 * 224 * 3, 224 * 224 * 3 * 100) == 100
    assert shuffle_buffer_size(50, 10, 10**9) == 50 and shuffle_buffer_size(50, 10**9, 10) == 1
    data = load_dataset(f"folder:{write_photo_folder(tmp_path / 'photos')}", holdout=0.25)
    report = {}
    ds = make_pipeline(data.x_train, data.y_train, (16, 16, 3), batch_size=4, training=True, report=report,
                       shuffle_buffer_bytes=5 * 16 * 16 * 3, cache_budget=CacheBudget(10**8))
    assert report["shuffle_buffer"] == 5
    epochs = [np.concatenate([y.numpy() for _, y in ds]) for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == sorted(data.y_train)
