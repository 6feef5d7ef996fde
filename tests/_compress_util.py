"""Shared by the compression tests: a LeNet briefly trained on the bundled digits by the real trainer."""

from __future__ import annotations

import os


def train_lenet(out_dir, *, epochs: int = 8, style: str = "keras", seed: int = 0) -> str:
    """Train LeNet on digits with ``tfcnn.train`` (the run folder compression reads) and return its path."""
    from tfcnn import train

    code = train.main(["lenet", "--dataset", "digits", "--epochs", str(epochs), "--style", style, "--seed", str(seed),
                       "--out", os.fspath(out_dir), "--quiet"])
    assert code == 0, f"training the compression fixture failed with exit code {code}"
    return os.fspath(out_dir)


def nothing_written(run) -> bool:
    """Whether a refused ``python -m tfcnn.compress`` left the run folder as it was (no outputs of its own)."""
    from pathlib import Path

    return not any(os.path.exists(Path(run) / n) for n in ("tflite", "compressed", "compression.json",
                                                           "compression.md"))


def one_line_exit_2(capsys, code: int, expect: str) -> None:
    """A refusal on the command line: exit code 2 and one line on stderr that contains ``expect``."""
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert expect in err, err
