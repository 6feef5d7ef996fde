"""The contract every registered model keeps, parametrised over ``list_models()``.

Each model is built at the small input on its card (``contract_input``, with
``contract_options`` such as ``alpha``) and three classes: the three layer
styles compute the same function after copying weights by name, one training
step moves every kernel, TFMOT can prune it, bad options name the option, and
the summary's parameter count is Keras's. A new family is covered by adding
its card and its file; nothing here changes. Family files keep only
paper-specific facts.
"""

from __future__ import annotations

import pytest
from golden_params import GOLDEN_PARAMS
from zoo_checks import DEEP_REPEATS, assert_prunable, assert_styles_agree, assert_trains_one_step, zoo_param

import tfcnn
from tfcnn import analysis
from tfcnn._compat import keras

MODELS = tfcnn.list_models()
CLASSES = 3
# Deep or wide at any input: a style comparison costs 20 s or more on two cores.
# (attention92, resnet101/152 and efficientnet_b1-b3 repeat a sibling's blocks: zoo_checks.DEEP_REPEATS.)
HEAVY = {"inception_v3", "se_resnet50", "cbam_resnet50", "eca_resnet50"}
BIG_GOLDEN = 50_000_000  # building a model this large at 224x224 takes seconds: marked slow


def _marks(name):
    return [pytest.mark.slow] if name in HEAVY else []


PARAMS = [zoo_param(n, *_marks(n)) for n in MODELS]


def _small(name, style="keras", **extra):
    card = tfcnn.get_config(name)
    return tfcnn.create_model(name, style=style, input_shape=card.contract_input, num_classes=CLASSES,
                              **{**card.contract_options, **extra})


def test_the_zoo_is_the_one_the_docs_list():
    """A renamed, dropped or undocumented model fails here rather than silently leaving the suite or the docs."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("python -m tfcnn.summary --compare` is chapter 17 as a command:", 1)[1].split("\n\n")[1]
    rows = re.findall(r"^\| (\w+) \| \d+x\d+x\d+ \|", table, flags=re.MULTILINE)
    assert len(rows) == len(set(rows)) and sorted(rows) == sorted(MODELS), \
        "README's --compare table must list exactly tfcnn.list_models(), each once"
    assert {"lenet", "alexnet", "vgg16", "resnet50", "inception_v3", "mobilenet_v2", "attention56", "googlenet",
            "se_resnet50", "zfnet"} <= set(MODELS)


def test_the_deep_repeats_are_deeper_siblings_checked_every_run():
    """Each skipped model is a bigger member of a family whose checked sibling runs; its golden count still runs."""
    for deep, sibling in DEEP_REPEATS.items():
        assert tfcnn.get_config(deep).family == tfcnn.get_config(sibling).family and sibling not in DEEP_REPEATS
        assert GOLDEN_PARAMS[(deep, ())][0] > GOLDEN_PARAMS[(sibling, ())][0]  # built and compared in the golden test
        keras.backend.clear_session()


@pytest.mark.parametrize("name", MODELS)
def test_card_is_complete(name):
    card = tfcnn.get_config(name)
    assert card.name == name and card.reference
    assert card.published_error is not None and card.published_error.source and card.published_error.protocol
    assert card.golden_params and all(g.source for g in card.golden_params)
    h, w, c = card.contract_input
    assert min(h, w) >= card.min_input_size and c == card.input_shape[2]
    if card.keras is not None:
        assert hasattr(keras.applications, card.keras.builder)
        default = {"include_top": True, "input_shape": card.input_shape, "num_classes": 1000, **card.options}
        assert card.keras.imagenet_file(default), "Keras ships ImageNet weights for the paper's configuration"


@pytest.mark.parametrize("key", [pytest.param(k, marks=[pytest.mark.slow] if v[0] > BIG_GOLDEN else [],
                                              id=f"{k[0]}{dict(k[1]) or ''}") for k, v in GOLDEN_PARAMS.items()])
def test_golden_parameter_counts(key):
    name, overrides = key
    assert tfcnn.create_model(name, **dict(overrides)).count_params() == GOLDEN_PARAMS[key][0]
    keras.backend.clear_session()


@pytest.mark.parametrize("name", PARAMS)
def test_three_styles_agree_train_and_summarise(name):
    card = tfcnn.get_config(name)
    model = assert_styles_agree(name, card.contract_input, num_classes=CLASSES, **card.contract_options)
    assert analysis.summarize(model).total_params == model.count_params()
    assert_trains_one_step(model, CLASSES)
    keras.backend.clear_session()


@pytest.mark.parametrize("name", PARAMS)
def test_tfmot_prunes_it_and_the_pruned_model_runs(name):
    assert_prunable(_small(name))
    keras.backend.clear_session()


OPTION_CASES = [pytest.param(n, opt, id=f"{n}-{opt}") for n in MODELS for opt in tfcnn.get_config(n).options]


@pytest.mark.parametrize("name,option", OPTION_CASES)
def test_a_bad_option_value_names_the_option(name, option):
    with pytest.raises(ValueError, match=f"Received: {option}="):
        _small(name, **{option: "bogus"})


@pytest.mark.parametrize("name", MODELS)
def test_an_unknown_option_or_a_tiny_input_is_refused_naming_it(name):
    with pytest.raises(TypeError, match="no_such_option"):
        _small(name, no_such_option=1)
    card = tfcnn.get_config(name)
    side = card.min_input_size - 1
    with pytest.raises(ValueError, match="Received: input_shape="):
        tfcnn.create_model(name, input_shape=(side, side, card.input_shape[2]))
