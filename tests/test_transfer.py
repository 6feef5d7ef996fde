"""Transfer learning and small data from the command line: a pretrained backbone with a new classifier,
a frozen backbone (BatchNorm in inference mode), a second phase that fine-tunes everything, a validation split
carved from training, recipes that fit small folders, and the run's resize policy reused downstream."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tfcnn import runs, train
from tfcnn._compat import keras
from tfcnn.errors import UsageError
from tfcnn.models import create_model, create_transfer_model

FAST = ["--dataset", "digits", "--input-size", "16", "--quiet"]


def _weights(model, layer):
    return model.get_layer(layer).get_weights()


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def _photo_folder(root, n_per_class=12, classes=3, seed=0):
    """Colour JPEGs of random sizes and aspect ratios (one PNG palette image per class), ``classes`` folders."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(n_per_class):
            h, w = (int(v) for v in rng.integers(24, 90, 2))
            img = np.zeros((h, w, 3), np.uint8)
            img[..., c] = 200  # the class is the colour: learnable
            img = np.clip(img + rng.integers(0, 50, img.shape), 0, 255).astype(np.uint8)
            im = Image.fromarray(img)
            if i == 0:
                im.convert("P").save(root / f"class{c}" / f"{i}.png")
            else:
                im.save(root / f"class{c}" / f"{i}.jpg", quality=90)
    return root


# -------------------------------------------------------------------------------- the Python API
def test_a_fitting_classifier_is_kept_and_one_that_does_not_fit_is_replaced(tmp_path):
    source = create_model("lenet", input_shape=(16, 16, 1), num_classes=10)
    source.save(tmp_path / "lenet10.keras")
    same, plan = create_transfer_model("lenet", num_classes=10, weights=str(tmp_path / "lenet10.keras"),
                                       input_shape=(16, 16, 1))
    assert plan.classifier == "pretrained" and _same(_weights(same, "logits"), _weights(source, "logits"))
    other, plan = create_transfer_model("lenet", num_classes=3, weights=str(tmp_path / "lenet10.keras"),
                                        input_shape=(16, 16, 1), dropout_rate=0.2)
    assert plan.classifier == "new" and other.output_shape == (None, 3)
    assert _same(_weights(other, "conv2_conv"), _weights(source, "conv2_conv"))  # the backbone came from the file
    assert [layer.name for layer in other.layers][-3:] == ["avg_pool", "head_dropout", "logits"]
    assert not any(isinstance(layer, keras.Model) for layer in other.layers)  # flat: TFMOT can wrap every layer


# -------------------------------------------------------------------------------- a photo folder, a Keras file
@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    """A weights file in Keras Applications' own layout and names (MobileNetV2, 1000 classes)."""
    path = tmp_path_factory.mktemp("keras") / "mobilenet_v2_1.0_96.h5"
    keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=1.0).save_weights(path)
    return path


@pytest.mark.slow
def test_photos_of_any_size_train_from_a_keras_file_with_a_frozen_backbone(tmp_path, keras_file, capsys):
    photos = _photo_folder(tmp_path / "photos")
    out = tmp_path / "run"
    assert train.main(["mobilenet_v2", "--dataset", f"folder:{photos}", "--input-size", "96", "--epochs", "1",
                       "--weights", str(keras_file), "--freeze-backbone", "--resize", "pad", "--out", str(out),
                       "--quiet"]) == 0
    log = capsys.readouterr().out
    assert "new 3-class classifier" in log and "using batch size" in log  # 128 would be one step on 29 images
    config = json.loads((out / "config.json").read_text())
    assert config["classifier"] == "new" and config["resize"] == "pad" and config["val_images"] >= 3
    trained = runs.RunDir.open(out).load_model()
    keras_model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=1.0)
    keras_model.load_weights(keras_file)
    # Frozen means frozen: kernels and BatchNorm's moving statistics are the file's, to the bit.
    assert _same(_weights(trained, "conv1_conv"), keras_model.get_layer("Conv1").get_weights())
    assert _same(_weights(trained, "conv1_bn"), keras_model.get_layer("bn_Conv1").get_weights())
    assert _same(_weights(trained, "conv_last_bn"), keras_model.get_layer("Conv_1_bn").get_weights())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["trainable_params"] == 1280 * 3 + 3

    # evaluate reuses the run's preprocessing: its accuracy is the one training measured on the same test split
    from tfcnn.evaluate import evaluate_run

    result, _ = evaluate_run(str(out))
    assert result["accuracy"] == pytest.approx(metrics["test_accuracy"])
    loaded = runs.RunDir.open(out).load()
    padded = loaded.test_images()
    from tfcnn.data import make_pipeline

    cropped = np.concatenate([x.numpy() for x, _ in make_pipeline(
        loaded.data.x_test, loaded.data.y_test, (96, 96, 3), batch_size=64, training=False, cache=False,
        resize="crop")])
    assert not np.allclose(padded, cropped)  # the policy matters for these images, so reusing it is checked

    # predict on the .tflite applies the recorded 'pad' too: LiteRT's float32 logits match the Keras model's
    from tfcnn.compress import to_tflite, write_tflite
    from tfcnn.predict import load_image, predict

    (out / runs.TFLITE).mkdir()
    tflite = out / runs.TFLITE / "float32.tflite"
    write_tflite(tflite, lambda: to_tflite(trained, "float32"))
    image = str(loaded.data.x_test[0])
    [answer] = predict(str(tflite), [image])
    logits = trained.predict(load_image(image, (96, 96, 3), resize="pad"), verbose=0)[0]
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert answer["top"][0]["class"] == int(np.argmax(probs))
    assert answer["top"][0]["probability"] == pytest.approx(float(probs.max()), abs=1e-4)
    assert answer["top"][0]["label"] == config["class_names"][int(np.argmax(probs))]


# -------------------------------------------------------------------------------- two phases
class _StopAt(keras.callbacks.Callback):
    """Raises when training reaches ``epoch``: a crash after that epoch's predecessor was checkpointed."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def test_unfreeze_after_fine_tunes_everything_but_batchnorm_and_resumes_in_phase_two(tmp_path, capsys):
    first = tmp_path / "first"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--out", str(first)]) == 0
    source = keras.models.load_model(first / "model.keras", compile=False)
    out = tmp_path / "second"
    argv = ["lenet", *FAST, "--epochs", "3", "--weights", str(first / "model.keras"), "--freeze-backbone",
            "--unfreeze-after", "1", "--lr", "0.01", "--out", str(out)]
    request = train.resolve_options(train.build_parser().parse_args(argv))
    with pytest.raises(RuntimeError, match="simulated crash"):
        train.train(request, log=print, callbacks=[_StopAt(2)])
    assert "epoch 2: unfreezing" in capsys.readouterr().out
    assert not (out / "metrics.json").exists()
    assert train.main(argv) == 0  # the same command again: phase one is done, phase two resumes at epoch 3
    log = capsys.readouterr().out
    assert "resuming from the checkpoint of epoch 2/3" in log and "epoch 3/3" in log and "epoch 1/3" not in log
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_at_epoch"] == 2 and len((out / "history.csv").read_text().splitlines()) == 4
    tuned = keras.models.load_model(out / "model.keras", compile=False)
    assert not _same(_weights(tuned, "conv1_conv"), _weights(source, "conv1_conv"))  # phase two trained it
    config = json.loads((out / "config.json").read_text())
    assert config["classifier"] == "pretrained" and config["finetune_lr"] == pytest.approx(0.001)


def test_frozen_phase_changes_only_the_classifier(tmp_path):
    first = tmp_path / "first"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--out", str(first)]) == 0
    out = tmp_path / "frozen"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--weights", str(first / "model.keras"),
                       "--freeze-backbone", "--mixed-precision", "--out", str(out)]) == 0
    a = keras.models.load_model(first / "model.keras", compile=False)
    b = keras.models.load_model(out / "model.keras", compile=False)
    # Under a mixed policy the output is a float32 Activation; the Dense behind it is the classifier that trains.
    assert _same(_weights(a, "fc2"), _weights(b, "fc2"))
    assert not _same(_weights(a, "logits"), _weights(b, "logits"))


def test_unfreeze_after_needs_a_frozen_backbone_and_fewer_epochs():
    parse = train.build_parser().parse_args
    with pytest.raises(UsageError, match=r"--freeze-backbone.*Received: --unfreeze-after=1"):
        train.resolve_options(parse(["lenet", "--unfreeze-after", "1"]))
    with pytest.raises(UsageError, match=r"smaller than --epochs. Received: --unfreeze-after=4"):
        train.resolve_options(parse(["lenet", "--freeze-backbone", "--unfreeze-after", "4", "--epochs", "4"]))


# -------------------------------------------------------------------------------- small data, validation
def test_a_small_folder_lowers_the_recipe_batch_size_unless_told_otherwise(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos", n_per_class=10, classes=2)
    out = tmp_path / "run"
    assert train.main(["lenet", "--dataset", f"folder:{photos}", "--epochs", "1", "--input-size", "16",
                       "--out", str(out), "--quiet"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["batch_size"] * 10 <= config["train_images"] and "using batch size" in capsys.readouterr().out
    # the validation split came out of training; the test split was held out and used once
    assert config["val_images"] + config["train_images"] + config["test_images"] == 20
    assert config["validation"].startswith("10% of the training split")
    strict = ["lenet", "--dataset", f"folder:{photos}", "--epochs", "1", "--input-size", "16", "--quiet",
              "--strict-batch-size", "--out", str(tmp_path / "strict")]
    assert train.main(strict) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--strict-batch-size" in err[0] and not (tmp_path / "strict" / "config.json").exists()
    given = tmp_path / "given"
    assert train.main(["lenet", "--dataset", f"folder:{photos}", "--epochs", "1", "--input-size", "16", "--quiet",
                       "--batch-size", "64", "--out", str(given)]) == 0
    assert json.loads((given / "config.json").read_text())["batch_size"] == 64  # the user's value is the user's


def test_val_split_zero_trains_without_validation(tmp_path):
    out = tmp_path / "run"
    assert train.main(["lenet", *FAST, "--epochs", "1", "--val-split", "0", "--out", str(out)]) == 0
    header = (out / "history.csv").read_text().splitlines()[0]
    assert "val_loss" not in header and "accuracy" in header
    config = json.loads((out / "config.json").read_text())
    assert config["val_images"] == 0 and config["train_images"] + config["test_images"] == 1797


def test_skip_bad_images_leaves_out_broken_files_and_says_how_many(tmp_path, capsys):
    photos = _photo_folder(tmp_path / "photos", n_per_class=12, classes=2)
    (photos / "class0" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "run"
    assert train.main(["lenet", "--dataset", f"folder:{photos}", "--epochs", "1", "--input-size", "16",
                       "--skip-bad-images", "--out", str(out), "--quiet"]) == 0
    assert "left out 1 file that could not be decoded (first: " in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["skip_bad_images"] is True


def test_compress_and_predict_work_on_a_photo_folder_run(tmp_path, capsys):
    """Colour photos of mixed sizes into a grey 16x16 LeNet: compression calibrates, fine-tunes and tests on the
    run's own preprocessing (files decoded, converted, fitted with the recorded --resize)."""
    from tfcnn.compress.cli import main as compress_main
    from tfcnn.predict import main as predict_main

    photos = _photo_folder(tmp_path / "photos", n_per_class=15, classes=3)
    out = tmp_path / "run"
    assert train.main(["lenet", "--dataset", f"folder:{photos}", "--epochs", "3", "--input-size", "16",
                       "--resize", "stretch", "--out", str(out), "--quiet"]) == 0
    assert compress_main([str(out), "--quiet"]) == 0
    report = json.loads((out / "compression.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    # the same test files, preprocessed the same way: compress measures the accuracy training measured
    assert report["test_images"] == metrics["test_images"] and report["input_shape"] == [16, 16, 1]
    assert report["keras_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert report["variants"]["int8"]["agreement"] >= 0.75  # int8 calibrated on the run's own training files
    capsys.readouterr()
    image = str(next((photos / "class1").glob("*.jpg")))
    assert predict_main([str(out / runs.TFLITE / "int8.tflite"), image]) == 0
    assert capsys.readouterr().out.split(": ")[1].split()[0] in {"class0", "class1", "class2"}
