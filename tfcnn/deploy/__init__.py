"""From a trained model to a microcontroller: C arrays, the op resolver, and a measured tensor arena.

TensorFlow Lite for Microcontrollers (TFLM) wants three things that a
``.tflite`` file alone does not give: the model as a ``const`` C array, a
``MicroMutableOpResolver`` listing exactly the ops the model uses, and a
tensor arena big enough for it, which the TFLM documentation leaves to
experiment. ``tfcnn.deploy`` writes the first two and *measures* the third:
it runs the model in the ``tflite-micro`` host interpreter (TFLM's own
kernels and allocator) on real test images with the recording allocator,
checks TFLM's int8 outputs against LiteRT's on the whole test set, and says
whether flash and RAM fit a budget, and if not, what would.

Example:
    >>> from tfcnn.deploy import deploy
    >>> r = deploy("saved_models/lenet/tflite/int8_io.tflite", "mcu/lenet", flash="1M", ram="256K")  # doctest: +SKIP

Command line::

    python -m tfcnn.deploy saved_models/lenet/tflite/int8_io.tflite --out mcu/lenet --flash 1M --ram 256K
"""

from __future__ import annotations

from tfcnn.deploy.api import analyse, check_int8_io, deploy, footprint, read_flatbuffer, weight_bytes
from tfcnn.deploy.budget import check_margin, parse_size, suggestions, verdict
from tfcnn.deploy.carray import model_data_cc, model_data_h, op_resolver_h, parse_model_data_cc
from tfcnn.deploy.cli import main
from tfcnn.deploy.ops import check_ops, model_ops, resolver_method, tflm_builtins, tflm_version
from tfcnn.deploy.tflm import arena_usage, tflm_interpreter

__all__ = [
    "analyse",
    "arena_usage",
    "check_int8_io",
    "check_margin",
    "check_ops",
    "deploy",
    "footprint",
    "main",
    "model_data_cc",
    "model_data_h",
    "model_ops",
    "op_resolver_h",
    "parse_model_data_cc",
    "parse_size",
    "read_flatbuffer",
    "resolver_method",
    "suggestions",
    "tflm_builtins",
    "tflm_interpreter",
    "tflm_version",
    "verdict",
    "weight_bytes",
]
