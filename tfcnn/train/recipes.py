"""Training recipes: the default dataset, epochs, batch size, optimizer and learning rate of each model.

The recipes belong to training, not to the architectures: a model card says
what a network *is*, this table says how tfcnn trains it by default. Rows are
matched by shell-style pattern, first match wins; the last row is the recipe of
a registered model without one of its own.

A recipe may differ per dataset (LeNet: 30 epochs at batch 32 on the 1,437
scikit-learn digits, 15 epochs at batch 64 on MNIST); :func:`recipe` merges
the dataset's row over the model's. Flags given on the command line win over
both (:mod:`tfcnn.train.options`); on a small folder the batch size is lowered
afterwards (:func:`tfcnn.train.options.fit_batch_to_data`).
"""

from __future__ import annotations

import fnmatch
from types import MappingProxyType

from tfcnn.models.registry import get_config

_SGD_CIFAR = {"dataset": "cifar10", "epochs": 30, "optimizer": "sgd"}

RECIPES = (
    # LeCun et al. train on MNIST; offline, the bundled test split stands in.
    ("lenet", {"dataset": "mnist", "fallback_dataset": "mnist-t10k", "epochs": 15, "batch_size": 64,
               "optimizer": "adam", "lr": 1e-3, "schedule": "constant",
               "per_dataset": {"digits": {"epochs": 30, "batch_size": 32, "input_size": 28}}}),
    # Krizhevsky et al.: SGD, momentum 0.9, lr 0.01; 64x64 keeps the 11x11/stride-4 stem meaningful on CIFAR.
    ("alexnet", {**_SGD_CIFAR, "batch_size": 64, "lr": 0.01, "momentum": 0.9, "input_size": 64}),
    ("zfnet", {**_SGD_CIFAR, "batch_size": 64, "lr": 0.01, "momentum": 0.9, "input_size": 64}),
    ("vgg*", {**_SGD_CIFAR, "batch_size": 64, "lr": 0.01, "input_size": 32}),
    ("attention*", {**_SGD_CIFAR, "batch_size": 64, "lr": 0.1, "momentum": 0.9, "input_size": 32}),
    ("*resnet*", {**_SGD_CIFAR, "batch_size": 128, "lr": 0.05, "input_size": 32}),
    ("googlenet", {**_SGD_CIFAR, "batch_size": 64, "lr": 0.01, "momentum": 0.9, "input_size": 32}),
    ("inception_v3", {"dataset": "cifar10", "epochs": 30, "batch_size": 32, "optimizer": "rmsprop", "lr": 1e-3,
                      "input_size": 75}),
    ("mobilenet*", {"dataset": "cifar10", "epochs": 30, "batch_size": 128, "optimizer": "adam", "lr": 1e-3,
                    "input_size": 32}),
    # Any other registered model: CIFAR-10 with Adam, at the dataset's size or the smallest the model accepts.
    ("*", {"dataset": "cifar10", "epochs": 30, "batch_size": 64, "optimizer": "adam", "lr": 1e-3}),
)
"""``(pattern, recipe)`` rows; a recipe holds tunable options (:data:`tfcnn.train.options.DEFAULTS`), ``dataset``,
``fallback_dataset`` (used when ``dataset`` is unavailable offline) and ``per_dataset`` rows."""


def _recipe_table(name: str) -> MappingProxyType:
    get_config(name)  # an unknown model fails here, naming it
    return MappingProxyType(next(r for pattern, r in RECIPES if fnmatch.fnmatchcase(name, pattern)))


def recipe(model: str, dataset: str | None = None) -> dict:
    """The recipe of ``model``, with the row for ``dataset`` (its spec's family: ``idx:DIR`` → ``idx``) merged in.

    Example:
        >>> recipe("lenet", "digits")["epochs"]
        30
    """
    table = _recipe_table(model)
    merged = {k: v for k, v in table.items() if k != "per_dataset"}
    if dataset:
        merged.update(table.get("per_dataset", {}).get(dataset.split(":")[0], {}))
    return merged


def default_dataset(model: str) -> tuple[str, str | None]:
    """The dataset a model trains on when none is given, and the offline fallback to use instead."""
    table = _recipe_table(model)
    return table.get("dataset", "mnist-t10k"), table.get("fallback_dataset")
