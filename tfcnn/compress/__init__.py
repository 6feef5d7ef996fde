"""Model compression: pruning, clustering and quantization with TFMOT, exported to verified TFLite files.

The notes end with 模型压缩 and 模型剪枝: make a network small and fast enough
for an embedded device while losing little accuracy. ``tfcnn.compress``
turns a trained run folder into ``.tflite`` variants (float32, dynamic
range, float16, full int8, int8 I/O, QAT, pruned, 2:4, clustered and their
collaborative combinations, channel-pruned with or without distillation),
runs each on the whole test set with LiteRT, and writes a report with size, gzipped size, accuracy, agreement with the
float model and latency.

TFMOT is imported only when a function needs it, never by ``import tfcnn``.

Example:
    >>> from tfcnn.compress import compress
    >>> report = compress("saved_models/lenet", prune=0.8, qat=True)  # doctest: +SKIP

Command line::

    python -m tfcnn.compress saved_models/lenet --all
"""

from __future__ import annotations

from tfcnn.compress._common import CompressError, kernel_sparsity
from tfcnn.compress.cluster import cluster_model
from tfcnn.compress.distill import distill, distillation_loss
from tfcnn.compress.pipeline import Conversion, Stage, compress, plan
from tfcnn.compress.prune import apply_pruning, check_m_by_n, parse_sparsity, prune_model, strip
from tfcnn.compress.quantize import qat, quantize_aware, to_tflite
from tfcnn.compress.tflite import evaluate, interpreter, write_tflite
from tfcnn.runs import load_model

__all__ = [
    "CompressError",
    "Conversion",
    "Stage",
    "apply_pruning",
    "check_m_by_n",
    "cluster_model",
    "compress",
    "distill",
    "distillation_loss",
    "evaluate",
    "interpreter",
    "kernel_sparsity",
    "load_model",
    "parse_sparsity",
    "plan",
    "prune_model",
    "qat",
    "quantize_aware",
    "strip",
    "to_tflite",
    "write_tflite",
]
