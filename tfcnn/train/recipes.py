"""Training recipes: the default epochs, batch size, optimizer and learning rate of each model.

A recipe may differ per dataset (LeNet: 30 epochs at batch 32 on the 1,437
scikit-learn digits, 15 epochs at batch 64 on MNIST); :func:`recipe` merges
the dataset's row over the model's. Flags given on the command line win over
both (:mod:`tfcnn.train.options`).
"""

from __future__ import annotations

from tfcnn.models.registry import get_config


def _recipe_table(name: str) -> dict:
    return dict(get_config(name).train)


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
