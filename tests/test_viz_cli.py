"""python -m tfcnn.viz: every kind writes its PNG from a trained run folder; bad input is one line and exit 2."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tfcnn.viz.cli import main as viz_main


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A raw-style LeNet run folder written by the trainer (one epoch on digits), and a digit image in it."""
    from tfcnn import train

    out = tmp_path_factory.mktemp("lenet") / "run"
    assert train.main(["lenet", "--style", "raw", "--dataset", "digits", "--epochs", "1", "--out", str(out),
                       "--quiet"]) == 0
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1"
    Image.fromarray(digit).save(out / "one.png")
    return out


@pytest.mark.parametrize("kind,layer", [("feature_maps", "conv1_relu"), ("filters", None), ("gradcam", None),
                                        ("deconv", "conv2_conv")])
def test_cli_writes_the_requested_picture(model_dir, kind, layer, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    argv = [str(model_dir), str(model_dir / "one.png"), "--kind", kind, "--out", str(out)]
    if layer:
        argv += ["--layer", layer]
    assert viz_main(argv) == 0
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.strip() == str(out)


def test_cli_defaults_pick_first_conv_and_write_into_the_model_dir(model_dir):
    assert viz_main([str(model_dir), "--kind", "filters"]) == 0
    assert (model_dir / "filters_conv1_conv.png").is_file()


@pytest.mark.parametrize("argv_tail,needle", [
    (["--layer", "nope"], "Received: layer_name='nope'"),
    (["--kind", "feature_maps", "--layer", "conv1_conv", "IMAGE_MISSING"], "image file not found"),
    (["--kind", "filters", "--layer", "logits"], "Received: layer_name='logits'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(model_dir, argv_tail, needle, capsys):
    argv = [str(model_dir)]
    if "IMAGE_MISSING" in argv_tail:
        argv += [str(model_dir / "missing.png")] + [a for a in argv_tail if a != "IMAGE_MISSING"]
    else:
        argv += [str(model_dir / "one.png")] + argv_tail
    assert viz_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("python -m tfcnn.viz: error:")


def test_cli_missing_model_dir_is_exit_2(tmp_path, capsys):
    assert viz_main([str(tmp_path / "none"), "x.png"]) == 2
    err = capsys.readouterr().err
    assert "is not a folder" in err and "Received: MODEL_DIR=" in err and len(err.strip().splitlines()) == 1


def test_cli_opens_a_pruned_model_file_of_the_run(model_dir, tmp_path, capsys):
    """A model wrapped by TFMOT (saved mid-pruning) opens through the run loader and is drawn like any other."""
    from tfcnn._compat import tfmot
    from tfcnn.runs import RunDir
    from tfcnn.viz.cli import load_model_dir

    model = RunDir.open(model_dir).load_model()
    pruned = tfmot().sparsity.keras.prune_low_magnitude(model)
    pruned.save(tmp_path / "pruned.keras")
    loaded = load_model_dir(str(tmp_path / "pruned.keras"))
    assert any(type(layer).__name__ == "PruneLowMagnitude" for layer in loaded.layers)
    x = np.random.default_rng(0).random((2, 28, 28, 1), np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-5)  # masks start all ones
    out = tmp_path / "maps.png"
    assert viz_main([str(tmp_path / "pruned.keras"), str(model_dir / "one.png"), "--kind", "feature_maps",
                     "--layer", "prune_low_magnitude_conv1_conv", "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
