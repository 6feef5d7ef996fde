"""python -m tfcnn.predict: image files classified by LiteRT exactly as the test pipeline would."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _compress_util import train_lenet
from PIL import Image

from tfcnn.compress import interpreter, load_model, to_tflite, write_tflite
from tfcnn.compress.tflite import run
from tfcnn.data import load_dataset, preprocess
from tfcnn.predict import main, predict

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    model_dir = train_lenet(root / "run", epochs=3)
    model = load_model(f"{model_dir}/model.keras")
    data = load_dataset("digits")
    rep = preprocess(data.x_train[:50], (28, 28, 1)).numpy()
    paths = {}
    for mode in ("float32", "int8_io"):
        paths[mode] = str(root / "run" / "tflite" / f"{mode}.tflite")
        write_tflite(paths[mode], lambda mode=mode: to_tflite(model, mode, representative=rep))
    (root / "run" / "tflite" / "labels.txt").write_text("\n".join(NAMES) + "\n")
    images = []
    for i in range(6):
        p = root / f"digit{i}.png"
        Image.fromarray(data.x_test[i][..., 0]).save(p)
        images.append(str(p))
    x = preprocess(data.x_test[:6], (28, 28, 1)).numpy()
    return {"model": model, "paths": paths, "images": images, "x": x, "root": root}


def test_predict_float_matches_keras_on_the_same_images(files):
    results = predict(files["paths"]["float32"], files["images"])
    expected = np.argmax(files["model"].predict(files["x"], verbose=0), axis=-1)
    assert [r["top"][0]["class"] for r in results] == expected.tolist()
    assert [r["top"][0]["label"] for r in results] == [NAMES[c] for c in expected]  # labels.txt beside the file


def test_predict_int8_io_quantizes_input_like_the_evaluation(files):
    results = predict(files["paths"]["int8_io"], files["images"], top=3)
    it = interpreter(files["paths"]["int8_io"])
    assert it.get_input_details()[0]["dtype"] == np.int8
    expected = np.argmax(run(it, files["x"]), axis=-1)
    assert [r["top"][0]["class"] for r in results] == expected.tolist()
    for r in results:
        probs = [t["probability"] for t in r["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


def test_predict_colour_jpeg_is_converted_to_the_model_channels(files):
    grey = np.asarray(Image.open(files["images"][0]))
    jpeg = files["root"] / "digit_rgb.jpg"
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(jpeg, quality=100)
    png_class = predict(files["paths"]["float32"], files["images"][:1])[0]["top"][0]["class"]
    assert predict(files["paths"]["float32"], [str(jpeg)])[0]["top"][0]["class"] == png_class


def test_predict_cli_prints_json(files, capsys):
    assert main([files["paths"]["float32"], *files["images"][:2], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in out] == files["images"][:2]


@pytest.mark.parametrize("case", ["undecodable", "missing_image", "corrupt_tflite"])
def test_predict_bad_input_one_line_exit_2(files, capsys, case):
    model, image = files["paths"]["float32"], files["images"][0]
    if case == "undecodable":
        image = str(files["root"] / "broken.png")
        with open(image, "wb") as f:
            f.write(b"\x89PNG not really")
    elif case == "missing_image":
        image = str(files["root"] / "absent.png")
    else:
        model = str(files["root"] / "bad.tflite")
        with open(model, "wb") as f:
            f.write(b"junk" * 10)
    assert main([model, files["images"][1], image]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Received:" in captured.err
    assert captured.out == ""  # a bad image fails before any result is printed
