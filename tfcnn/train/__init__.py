"""Train any registered model from one command.

    python -m tfcnn.train lenet
    python -m tfcnn.train resnet18 --dataset cifar10 --epochs 30 --augment --schedule cosine
    python -m tfcnn.train lenet --dataset mnist-t10k --epochs 5

Every flag defaults to ``None`` so that the model's recipe
(:mod:`tfcnn.train.recipes`, with per-dataset rows) supplies the real
default; the options are resolved once, after the dataset is known
(:mod:`tfcnn.train.options`). A run publishes its folder through
:class:`tfcnn.runs.RunDir` (``model.keras``, ``saved_model/``, ``config.json``,
``metrics.json``, ``history.csv``, ``training_curves.png``,
``confusion_matrix.png``, TensorBoard ``logs/``), ``metrics.json`` last.

Nothing is lost: Keras's ``BackupAndRestore`` checkpoints every epoch (and
every ``--checkpoint-every`` steps) into ``<out>/.resume/``; the same command
after a crash or SIGKILL resumes there and ends with the same number of
epochs. A loss that becomes NaN or infinite stops the run and keeps the last
good checkpoint. A lock file keeps two runs out of one folder.

The package, by job: ``options`` (flags, request, resolved options),
``recipes``, ``callbacks``, ``distribute`` (strategies, mixed precision),
``surgery`` (changes to a built model), ``loop`` (the run), ``cli``.
"""

from __future__ import annotations

from tfcnn.errors import TrainingDiverged, UsageError
from tfcnn.models.registry import get_config
from tfcnn.optim import make_optimizer, make_schedule
from tfcnn.train.cli import main
from tfcnn.train.distribute import is_chief, make_strategy, mixed_policy_name
from tfcnn.train.loop import AUX_LOSS_WEIGHT, RESUME_KEYS, load_data, train
from tfcnn.train.options import (
    DEFAULTS,
    PROG,
    TrainOptions,
    TrainRequest,
    build_parser,
    check_out,
    resolve,
    resolve_options,
    validate,
)
from tfcnn.train.recipes import recipe
from tfcnn.train.surgery import add_weight_decay, float32_outputs, freeze_backbone, inference_model

__all__ = [
    "AUX_LOSS_WEIGHT", "DEFAULTS", "PROG", "RESUME_KEYS", "TrainOptions", "TrainRequest", "TrainingDiverged",
    "UsageError", "add_weight_decay", "build_parser", "check_out", "float32_outputs", "freeze_backbone",
    "get_config", "inference_model", "is_chief", "load_data", "main", "make_optimizer", "make_schedule",
    "make_strategy", "mixed_policy_name", "recipe", "resolve", "resolve_options", "train", "validate",
]

