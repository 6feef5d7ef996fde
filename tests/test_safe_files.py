"""No file a user opens runs code: a model whose Lambda layer would write a marker file is refused everywhere.

The same malicious model is fed as a zipped ``.keras`` archive, as ``.h5``, and
as HDF5 bytes under a ``.keras`` name (the form tf_keras's own ``safe_mode``
misses) to every entry point that opens a model file.
"""

from __future__ import annotations

import shutil

import pytest

from tfcnn import runs
from tfcnn._compat import keras

FORMATS = ("zipped.keras", "model.h5", "hdf5_named.keras")


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    root = tmp_path_factory.mktemp("evil")
    marker = root / "MARKER"
    inputs = keras.Input((16, 16, 1))
    payload = eval(f"lambda t: (open({str(marker)!r}, 'w').write('ran'), t)[1]")
    x = keras.layers.Lambda(payload, name="payload")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))
    model.save(root / "zipped.keras")
    model.save(root / "model.h5")
    shutil.copy(root / "model.h5", root / "hdf5_named.keras")
    marker.unlink()  # building the model ran the lambda once, here, on purpose
    return root, marker


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tfcnn import train

    out = tmp_path_factory.mktemp("run") / "run"
    assert train.main(["lenet", "--dataset", "digits", "--epochs", "1", "--input-size", "16", "--out", str(out),
                       "--quiet"]) == 0
    return out


def test_the_payload_is_real(evil, tmp_path):
    """Control: plain tf_keras loading of the HDF5 file named .keras does run the code."""
    root, marker = evil
    keras.models.load_model(root / "hdf5_named.keras")
    assert marker.exists()
    marker.unlink()


@pytest.mark.parametrize("fmt", FORMATS)
def test_library_loaders_refuse(evil, fmt):
    import tfcnn
    from tfcnn.compress import load_model
    from tfcnn.errors import UnsafeFileError

    root, marker = evil
    for load in (load_model, runs.load_model,
                 lambda p: tfcnn.create_model("lenet", input_shape=(16, 16, 1), weights=p)):
        with pytest.raises(UnsafeFileError):
            load(root / fmt)
    assert not marker.exists()


def _poisoned_run(run_dir, evil, fmt, tmp_path):
    poisoned = tmp_path / "poisoned"
    shutil.copytree(run_dir, poisoned)
    (poisoned / "model.keras").write_bytes((evil[0] / fmt).read_bytes())
    return poisoned


@pytest.mark.parametrize("fmt", FORMATS)
def test_commands_refuse_in_one_line(evil, run_dir, fmt, tmp_path, capfd):
    from tfcnn.compress.cli import main as compress_main
    from tfcnn.evaluate import main as evaluate_main
    from tfcnn.train import main as train_main
    from tfcnn.viz.cli import main as viz_main

    root, marker = evil
    poisoned = _poisoned_run(run_dir, evil, fmt, tmp_path)
    (tmp_path / "img.png").write_bytes((run_dir / "training_curves.png").read_bytes())
    calls = [
        lambda: evaluate_main([str(poisoned)]),
        lambda: compress_main([str(poisoned), "--quiet"]),
        lambda: viz_main([str(poisoned), "--kind", "filters"]),
        lambda: viz_main([str(root / fmt), "--kind", "filters"]),
        lambda: train_main(["lenet", "--dataset", "digits", "--epochs", "1", "--input-size", "16", "--weights",
                            str(root / fmt), "--out", str(tmp_path / "t"), "--quiet"]),
    ]
    for call in calls:
        capfd.readouterr()
        assert call() == 2
        err = capfd.readouterr().err.strip().splitlines()
        assert len(err) == 1 and ("refused" in err[0] or "Lambda" in err[0]), err
    assert not marker.exists()
    assert not (poisoned / "tflite").exists() and not (tmp_path / "t" / "metrics.json").exists()
