"""Where training runs: ``tf.distribute`` strategies by name and the mixed-precision policy.

``mirrored`` uses every local GPU, or every logical CPU device when there is
no GPU but several CPU devices are configured (how the tests run it);
``multi_worker`` reads the cluster from ``TF_CONFIG``.
"""

from __future__ import annotations

from tfcnn._compat import tf
from tfcnn.errors import UsageError

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str):
    """The ``tf.distribute`` strategy called ``name``.

    Raises:
        UsageError: an unknown name.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if not tf.config.list_physical_devices("GPU"):
            cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
            if len(cpus) > 1:
                return tf.distribute.MirroredStrategy(devices=cpus)
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        _fresh_eager_context()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UsageError(f"--strategy must be one of {STRATEGIES}. Received: --strategy={name!r}")


def _fresh_eager_context() -> None:
    """Start TensorFlow's eager context again if something already ran an op in it.

    ``MultiWorkerMirroredStrategy`` must configure collective ops before the
    context starts ("Collective ops must be configured at program startup"),
    but a caller (a notebook, a test) may already have run an op. Nothing else
    exists at this point of a command-line run, so the context is reset
    (TensorFlow's own tests do the same) and the strategy can configure it.
    """
    from tensorflow.python.eager import context  # private API: the only way to reset the context

    if getattr(context.context(), "_context_handle", None) is not None:
        context._reset_context()


def is_chief(strategy) -> bool:
    """Whether this process writes the run folder (the chief, or worker 0 of a cluster without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0 and
                                             "chief" not in resolver.cluster_spec().as_dict())


def worker_of(strategy) -> tuple[int, int]:
    """``(number of workers, this worker's index)`` of a multi-worker cluster; ``(1, 0)`` on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1, 0
    spec = resolver.cluster_spec().as_dict()
    tasks = [(kind, i) for kind in ("chief", "worker") for i in range(len(spec.get(kind, [])))]
    return len(tasks), tasks.index((resolver.task_type, int(resolver.task_id)))


def mixed_policy_name() -> str:
    """``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU (bfloat16 keeps float32's range)."""
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
