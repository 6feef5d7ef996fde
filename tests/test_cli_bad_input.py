"""Every command line against a table of bad inputs: exit code 2, exactly one line on stderr, nothing left behind.

The commands run in this process (``main(argv)``) with file descriptor 2
captured, so a line TensorFlow's C++ code would print counts too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfcnn import runs


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A real trained run, an int8 .tflite, an image, and files that are not what their names say."""
    from tfcnn import train
    from tfcnn.compress import to_tflite, write_tflite

    root = tmp_path_factory.mktemp("world")
    run = root / "run"
    assert train.main(["lenet", "--dataset", "digits", "--epochs", "1", "--input-size", "16", "--out", str(run),
                       "--quiet"]) == 0
    model = runs.RunDir.open(run).load_model()
    rep = np.random.default_rng(0).random((8, 16, 16, 1), np.float32)
    write_tflite(root / "m.tflite", lambda: to_tflite(model, "int8_io", representative=rep))
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(root / "digit.png")
    (root / "text.txt").write_text("not an image, not a model\n")
    (root / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 40)  # an HDF5 signature, then nothing
    (root / "list_config").mkdir()
    for name in os.listdir(run):
        src = run / name
        if src.is_file():
            (root / "list_config" / name).write_bytes(src.read_bytes())
    (root / "list_config" / "model.keras").write_bytes((run / "model.keras").read_bytes())
    (root / "list_config" / "config.json").write_text("[1, 2, 3]")
    (root / "bad_json").mkdir()
    for name in ("metrics.json", "model.keras"):
        (root / "bad_json" / name).write_bytes((run / name).read_bytes())
    (root / "bad_json" / "config.json").write_text("{not json")
    return root


def _train(*a):
    return ["train", "lenet", "--dataset", "digits", "--epochs", "1", *a]


# (command and argv with {w} for the world folder and {o} for a fresh output path, words the line must contain)
CASES = [
    # train: options
    (["train", "no_such_net"], "unknown model"),
    (["train", "lenet", "--dataset", "no_such_set"], "unknown dataset"),
    (["train", "lenet", "--dataset", "folder:{w}/missing"], "does not exist"),
    (_train("--batch-size", "0"), "--batch-size"),
    (_train("--batch-size", "-4"), "--batch-size"),
    (_train("--batch-size", "four"), "--batch-size"),
    (_train("--lr", "0"), "--lr"),
    (_train("--lr", "-0.1"), "--lr"),
    (_train("--lr", "inf"), "--lr"),
    (_train("--lr", "nan"), "--lr"),
    (_train("--momentum", "1.0"), "--momentum"),
    (_train("--weight-decay", "inf"), "--weight-decay"),
    (_train("--weight-decay", "-1"), "--weight-decay"),
    (_train("--label-smoothing", "1"), "--label-smoothing"),
    (_train("--dropout", "1.5"), "--dropout"),
    (_train("--val-split", "1"), "--val-split"),
    (_train("--holdout", "0"), "--holdout"),
    (_train("--input-size", "8"), "at least 16"),
    (["train", "lenet", "--epochs", "0"], "--epochs"),
    (_train("--checkpoint-every", "0"), "--checkpoint-every"),
    (_train("--optimizer", "lion"), "--optimizer"),
    (_train("--strategy", "tpu"), "--strategy"),
    (_train("--style", "fancy"), "--style"),
    (_train("--seed", "abc"), "--seed"),
    (_train("--no-such-flag"), "unrecognized arguments"),
    (["train"], "model"),
    (_train("--out", "{w}/text.txt"), "--out"),
    (_train("--out", "{w}/text.txt/sub"), "--out"),
    (_train("--out", "{w}/run"), "already holds a finished run"),
    (_train("--out", "/proc/tfcnn-cannot-write-here"), "/proc/tfcnn-cannot-write-here"),
    # train: transfer learning and image files
    (_train("--unfreeze-after", "1"), "--unfreeze-after"),
    (_train("--freeze-backbone", "--unfreeze-after", "0"), "--unfreeze-after"),
    (_train("--freeze-backbone", "--unfreeze-after", "1"), "--unfreeze-after"),
    (_train("--resize", "squash"), "--resize"),
    (_train("--val-split", "1.5"), "--val-split"),
    # train: weights files
    (_train("--input-size", "16", "--weights", "{w}/missing.h5"), "weights"),
    (_train("--input-size", "16", "--weights", "{w}/text.txt"), "weights"),
    (_train("--input-size", "16", "--weights", "{w}/junk.h5"), "weights"),
    # evaluate
    (["evaluate", "{w}/missing"], "is not a folder"),
    (["evaluate", "{w}"], "not a finished tfcnn run"),
    (["evaluate", "{w}/list_config"], "not a JSON object"),
    (["evaluate", "{w}/bad_json"], "config.json"),
    (["evaluate", "{w}/run", "--batch-size", "0"], "--batch-size"),
    (["evaluate", "{w}/run", "--dataset", "no_such_set"], "unknown dataset"),
    (["evaluate", "{w}/run", "--model-file", "missing.keras"], "does not exist"),
    (["evaluate", "{w}/run", "--holdout", "two"], "--holdout"),
    # compress
    (["compress", "{w}/missing"], "MODEL_DIR"),
    (["compress", "{w}"], "not a finished tfcnn run"),
    (["compress", "{w}/run", "--prune", "1.5"], "--prune"),
    (["compress", "{w}/run", "--prune", "0"], "--prune"),
    (["compress", "{w}/run", "--prune", "3:2"], "--prune"),
    (["compress", "{w}/run", "--cluster", "1"], "--cluster"),
    (["compress", "{w}/run", "--cluster", "many"], "--cluster"),
    (["compress", "{w}/run", "--cluster", "100000"], "--cluster"),
    (["compress", "{w}/run", "--lr", "inf"], "--lr"),
    (["compress", "{w}/run", "--lr", "0"], "--lr"),
    (["compress", "{w}/run", "--epochs", "0"], "--epochs"),
    (["compress", "{w}/run", "--latency-images", "0"], "--latency-images"),
    (["compress", "{w}/run", "--prune", "0.5", "--prune-layers", "no_such_layer"], "--prune-layers"),
    # predict
    (["predict", "{w}/missing.tflite", "{w}/digit.png"], "does not exist"),
    (["predict", "{w}/text.txt", "{w}/digit.png"], "not a valid TFLite model"),
    (["predict", "{w}/m.tflite", "{w}/missing.png"], "image"),
    (["predict", "{w}/m.tflite", "{w}/text.txt"], "cannot decode"),
    (["predict", "{w}/m.tflite", "{w}/digit.png", "--top", "0"], "--top"),
    (["predict", "{w}/m.tflite", "{w}/digit.png", "--labels", "{w}/missing.txt"], "--labels"),
    (["predict", "{w}/m.tflite"], "images"),
    # viz
    (["viz", "{w}/missing", "{w}/digit.png"], "MODEL_DIR"),
    (["viz", "{w}/run", "{w}/digit.png", "--layer", "nope"], "nope"),
    (["viz", "{w}/run", "{w}/missing.png", "--layer", "conv1_conv"], "image file not found"),
    (["viz", "{w}/run", "{w}/digit.png", "--kind", "everything"], "--kind"),
    (["viz", "{w}/run", "--kind", "feature_maps"], "IMAGE"),
    (["viz", "{w}/run", "{w}/digit.png", "--unit", "x"], "--unit"),
    # summary
    (["summary", "no_such_net"], "unknown model"),
    (["summary", "lenet", "--input-shape", "28x28"], "--input-shape"),
    (["summary", "lenet", "--style", "fancy"], "--style"),
    (["summary", "lenet", "--input-shape", "100000,100000,1"], "more memory"),
    # deploy
    (["deploy", "{w}/missing.tflite", "--out", "{o}"], "does not exist"),
    (["deploy", "{w}/text.txt", "--out", "{o}"], "flatbuffer"),
    (["deploy", "{w}/m.tflite", "--out", "{o}", "--ram", "lots"], "--ram"),
    # compress: channel pruning and distillation
    (["compress", "{w}/run", "--prune-channels", "1.5"], "--prune-channels"),
    (["compress", "{w}/run", "--prune-channels", "half"], "--prune-channels"),
    (["compress", "{w}/run", "--prune-channels", "0.5", "--criterion", "magic"], "--criterion"),
    (["compress", "{w}/run", "--distill"], "--distill needs something to distil into"),
    (["compress", "{w}/run", "--prune-channels", "0.5", "--distill", "--kd-alpha", "2"], "--kd-alpha"),
    (["compress", "{w}/run", "--prune-channels", "0.5", "--criterion", "bn"], "BatchNormalization"),
]


def _main(command):
    if command == "train":
        from tfcnn.train import main
    elif command == "evaluate":
        from tfcnn.evaluate import main
    elif command == "compress":
        from tfcnn.compress.cli import main
    elif command == "predict":
        from tfcnn.predict import main
    elif command == "viz":
        from tfcnn.viz.cli import main
    elif command == "summary":
        from tfcnn.summary import main
    else:
        from tfcnn.deploy.cli import main
    return main


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_the_table_holds_at_least_60_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(a).replace("{w}/", "")[:60] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(world, tmp_path, capfd, argv, words):
    out = tmp_path / "out"
    command, *args = [a.replace("{w}", str(world)).replace("{o}", str(out)) for a in argv]
    if command == "train" and "--out" not in args and args and not args[0].startswith("-"):
        args += ["--out", str(out), "--quiet"]
    before = _snapshot(world)
    capfd.readouterr()
    code = _main(command)(args)
    captured = capfd.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err[-2000:]
    assert len(lines) == 1, captured.err[-2000:]
    assert lines[0].startswith(f"python -m tfcnn.{command}: error: ") and words in lines[0], lines[0]
    assert "Traceback" not in captured.err
    assert not out.exists() and _snapshot(world) == before
