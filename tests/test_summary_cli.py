"""``python -m tfcnn.summary``: the table, JSON, the comparison, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest

import tfcnn
from tfcnn import analysis
from tfcnn.summary import main


def test_summary_cli_prints_every_layer_and_the_totals(capsys):
    assert main(["lenet"]) == 0
    out = capsys.readouterr().out
    summary = analysis.summarize(tfcnn.create_model("lenet"))
    for row in summary.layers:
        assert row.name in out
    assert f"{summary.total_params:,}" in out and f"{summary.total_macs:,}" in out


@pytest.mark.parametrize("style", ["keras", "raw", "slim"])
def test_summary_cli_json_matches_summarize_in_each_style(capsys, style):
    assert main(["lenet", "--style", style, "--input-shape", "32,32,1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    want = analysis.summarize(tfcnn.create_model("lenet", style=style, input_shape=(32, 32, 1))).to_dict()
    assert data == want
    assert data["input_shape"] == [32, 32, 1]


def test_summary_cli_compare_markdown_and_json(capsys):
    assert main(["--compare", "lenet", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| Model |") and lines[2].startswith("| lenet | 28x28x1 | 5 |")
    assert main(["--compare", "lenet", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == json.loads(json.dumps(analysis.compare_architectures(["lenet"])))


@pytest.mark.parametrize("argv,needle", [
    (["nosuch"], "Received: MODEL='nosuch'"),
    (["--compare", "nosuch"], "Received: MODEL='nosuch'"),
    (["lenet", "--input-shape", "32,32"], "Received: --input-shape='32,32'"),
    (["lenet", "--input-shape", "a,b,c"], "Received: --input-shape='a,b,c'"),
    (["lenet", "--input-shape", "8,8,1"], "Received: input_shape=(8, 8, 1)"),  # too small for LeNet
    (["lenet", "--style", "fancy"], "invalid choice"),
    (["lenet", "vgg16"], "exactly one MODEL"),
    ([], "exactly one MODEL"),
])
def test_summary_cli_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_summary_cli_unknown_model_lists_the_names(capsys):
    assert main(["nosuch"]) == 2
    err = capsys.readouterr().err
    for name in tfcnn.list_models():
        assert name in err


def test_summary_cli_list(capsys):
    assert main(["--list"]) == 0
    assert capsys.readouterr().out.split() == tfcnn.list_models()
