"""TensorFlow's own FLOP count of a model, to cross-check :func:`tfcnn.analysis.summarize`."""

from __future__ import annotations

import dataclasses
import logging

from tfcnn._compat import tf
from tfcnn.analysis.summary import _resolve_model

# ---------------------------------------------------------------------------
# TensorFlow's own FLOP count, for cross-checking
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FlopProfile:
    """FLOPs that ``tf.compat.v1.profiler`` counts on a model's inference graph (batch 1).

    Attributes:
        total: all counted FLOPs.
        by_op: FLOPs per TensorFlow op type (``Conv2D``, ``MatMul``, ``BiasAdd``...).
        uncounted_calls: names of function-call ops whose insides the profiler
            does not see: tf_keras runs a grouped ``Conv2D`` (``groups > 1``) as
            an XLA-compiled ``tf.function``, so its FLOPs are missing here
            (tfcnn's ``RawConv2D`` with groups is counted).
    """

    total: int
    by_op: dict
    uncounted_calls: tuple[str, ...] = ()

    @property
    def matmul_like(self) -> int:
        """FLOPs of convolutions and matrix products only: exactly 2 x the analytic MACs."""
        keys = ("Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2", "Conv2DBackpropInput")
        return int(sum(self.by_op.get(k, 0) for k in keys))

    def __int__(self) -> int:
        return self.total


def profile_flops(model, input_shape: tuple[int, int, int] | None = None) -> FlopProfile:
    """Count FLOPs with TensorFlow's profiler on the frozen inference graph, one example.

    The model is traced as a ``tf.function`` at batch 1 in inference mode
    and ``tf.compat.v1.profiler`` counts the float operations of the traced
    graph (the widely used ``get_flops`` recipe, minus its freezing step,
    which changes no count). The profiler counts 2 FLOPs per multiply-add for
    Conv2D/MatMul and 1 per element for BiasAdd, Add, Mul and pooling, and
    nothing for fused batch norm or activations. It does not look inside
    nested function calls (see :attr:`FlopProfile.uncounted_calls`).

    Args:
        model: a ``tf_keras.Model`` or a registered name.
        input_shape: ``(H, W, C)``; as for :func:`summarize`.

    Returns:
        A :class:`FlopProfile` (``int(profile)`` is the total).

    Example:
        >>> p = profile_flops("lenet")
        >>> p.matmul_like == 2 * summarize("lenet").total_macs
        True
    """
    model = _resolve_model(model, input_shape)
    spec = tf.TensorSpec([1, *model.inputs[0].shape[1:]], model.inputs[0].dtype)

    def forward(x):
        return model(x, training=False)

    concrete = tf.function(forward, autograph=False).get_concrete_function(spec)
    # The recipe usually freezes variables to constants first; the profiler only needs shapes, and
    # freezing VGG-16's 138 M weights takes a minute, so the traced graph is profiled as it is.
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)  # the v1 profiler warns that its own helpers are deprecated
    try:
        result = tf.compat.v1.profiler.profile(graph=concrete.graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                               options=options)
    finally:
        tf_log.setLevel(level)
    # The "op" view is a chain (each op type is the only child of the previous one), not a flat list.
    by_op, stack = {}, list(result.children)
    while stack:
        node = stack.pop()
        if node.float_ops:
            by_op[node.name] = by_op.get(node.name, 0) + int(node.float_ops)
        stack.extend(node.children)
    calls = tuple(op.name for op in concrete.graph.get_operations()
                  if op.type in ("PartitionedCall", "StatefulPartitionedCall"))
    return FlopProfile(total=int(result.total_float_ops), by_op=by_op, uncounted_calls=calls)
