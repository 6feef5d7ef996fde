"""Bad input to `python -m tfcnn.train`: exit 2, one line, no traceback, nothing written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tfcnn import runs, train

PREFIX = f"{train.PROG}: error:"


def _images(root, shapes):
    for c, shape in enumerate(shapes):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.zeros(shape, np.uint8)).save(root / f"c{c}" / f"{i}.png")


def _case(tmp_path, case):
    """argv, and the words the error line must contain."""
    data = tmp_path / "data"
    if case == "unknown_dataset":
        return ["lenet", "--dataset", "no_such_set"], "unknown dataset"
    if case == "unknown_model":
        return ["no_such_net", "--dataset", "digits"], "unknown model"
    if case == "missing_folder":
        return ["lenet", "--dataset", f"folder:{data}"], "does not exist"
    if case == "empty_folder":
        data.mkdir()
        return ["lenet", "--dataset", f"folder:{data}"], "at least 2 classes; found 0"
    if case == "one_class":
        _images(data, [(8, 8)])
        return ["lenet", "--dataset", f"folder:{data}"], "at least 2 classes; found 1"
    if case == "no_images":
        for c in ("a", "b"):
            (data / c).mkdir(parents=True)
            (data / c / "notes.txt").write_text("not an image")
        return ["lenet", "--dataset", f"folder:{data}"], "no image files"
    if case == "batch_zero":
        return ["lenet", "--dataset", "digits", "--batch-size", "0"], "--batch-size"
    if case == "batch_negative":
        return ["lenet", "--dataset", "digits", "--batch-size", "-4"], "--batch-size"
    if case == "lr_zero":
        return ["lenet", "--dataset", "digits", "--lr", "0"], "--lr"
    if case == "lr_negative":
        return ["lenet", "--dataset", "digits", "--lr", "-0.1"], "--lr"
    if case == "input_too_small":
        return ["lenet", "--dataset", "digits", "--input-size", "8"], "at least 16"
    if case == "unwritable_out":
        blocker = tmp_path / "a_file"
        blocker.write_text("x")
        return ["lenet", "--dataset", "digits", "--out", str(blocker / "out")], "--out"
    raise AssertionError(case)


def test_a_folder_of_mixed_sizes_and_modes_trains(tmp_path):
    """Photo folders come in many sizes and modes: the pipeline resizes and converts, as Keras's loader does."""
    _images(tmp_path / "data", [(8, 8), (9, 13), (8, 8, 3), (12, 10, 4)])
    out = tmp_path / "out"
    assert train.main(["lenet", "--dataset", f"folder:{tmp_path / 'data'}", "--input-size", "16", "--epochs", "1",
                       "--val-split", "0.25", "--out", str(out), "--quiet"]) == 0
    run = runs.RunDir.open(out)
    assert run.class_names == ["c0", "c1", "c2", "c3"] and run.input_shape == (16, 16, 1)


@pytest.mark.parametrize("case", ["unknown_dataset", "unknown_model", "missing_folder", "empty_folder",
                                  "one_class", "no_images", "batch_zero", "batch_negative", "lr_zero",
                                  "lr_negative", "input_too_small", "unwritable_out"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    argv, words = _case(tmp_path, case)
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    assert train.main([*argv, "--quiet", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1 and words in lines[0] and "Received:" in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_second_run_on_a_locked_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    with runs.RunDir(out).lock():
        assert train.main(["lenet", "--dataset", "digits", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
        assert sorted(p.name for p in out.iterdir()) == [".lock"]  # the holder's folder is untouched
    err = capsys.readouterr().err
    assert "another run" in err and str(out) in err
    assert not out.joinpath(".lock").exists()  # released: no stale lock file


def test_options_default_to_the_recipe_for_the_dataset_and_flags_win():
    parser = train.build_parser()
    request = train.resolve_options(parser.parse_args(["lenet"]))
    for dataset in ("mnist", "digits"):
        opts = train.resolve(request, dataset)
        recipe = train.recipe("lenet", dataset)
        assert (opts.epochs, opts.batch_size, opts.lr) == (recipe["epochs"], recipe["batch_size"], recipe["lr"])
    assert train.resolve(request, "digits").epochs != train.resolve(request, "mnist").epochs  # the per-dataset row
    request = train.resolve_options(parser.parse_args(["lenet", "--epochs", "3", "--lr", "0.01"]))
    opts = train.resolve(request, "digits")
    assert (opts.epochs, opts.lr, opts.batch_size) == (3, 0.01, train.recipe("lenet", "digits")["batch_size"])
    assert set(request.tuned) == {"epochs", "lr"}


def test_resolved_options_are_frozen():
    import dataclasses

    opts = train.resolve(train.resolve_options(train.build_parser().parse_args(["lenet"])), "digits")
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.epochs = 99
