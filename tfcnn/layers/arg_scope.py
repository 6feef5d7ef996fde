"""TF-Slim's ``arg_scope``: shared default arguments for a set of ops.

    with arg_scope([conv2d, fully_connected], weights_regularizer=l2_regularizer(5e-4)):
        net = conv2d(net, 64, [3, 3], scope="conv1")   # gets the regularizer

Semantics follow ``tf_slim.ops.arg_scope``: scopes nest (the inner one adds
to and overrides the outer one), an argument passed explicitly beats a scoped
one, the dict yielded by ``with arg_scope(...) as sc`` can be re-entered later
with ``with arg_scope(sc):``, and naming an op that is not decorated with
:func:`add_arg_scope` raises ``ValueError``. Implemented here without TF1
because ``tf_slim`` 1.1 itself no longer imports with TensorFlow 2.21 (it needs
``tf.compat.v1`` variable scopes and ``tf.contrib``-era modules).
"""

from __future__ import annotations

import contextlib
import functools
import threading

_local = threading.local()
_DECORATED = "_tfcnn_arg_scope_key"


def _stack() -> list[dict]:
    if not hasattr(_local, "stack"):
        _local.stack = [{}]
    return _local.stack


def current_arg_scope() -> dict:
    """The innermost scope: ``{op_key: {argument: value}}``."""
    return _stack()[-1]


def _key(op) -> str:
    if not callable(op) or not hasattr(op, _DECORATED):
        raise ValueError(f"{getattr(op, '__name__', op)!r} is not decorated with @add_arg_scope. Received: op={op!r}")
    return getattr(op, _DECORATED)


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
    """Set default ``kwargs`` for every op in ``list_ops_or_scope`` (or re-enter a captured scope).

    Args:
        list_ops_or_scope: a list/tuple of ops decorated with :func:`add_arg_scope`,
            or a dict previously yielded by ``arg_scope`` to re-enter.
        **kwargs: the default arguments; not allowed when re-entering a scope.

    Yields:
        The new current scope (a dict you may keep and re-enter).

    Raises:
        ValueError: an op is not decorated, or a captured scope is given with kwargs.
        TypeError: ``list_ops_or_scope`` is neither a list/tuple nor a dict.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError(f"re-entering a captured scope takes no arguments. Received: {sorted(kwargs)}")
        new_scope = list_ops_or_scope
    elif isinstance(list_ops_or_scope, (list, tuple)):
        new_scope = {k: dict(v) for k, v in current_arg_scope().items()}
        for op in list_ops_or_scope:
            key = _key(op)
            new_scope[key] = {**new_scope.get(key, {}), **kwargs}
    else:
        raise TypeError(
            f"list_ops_or_scope must be a list/tuple of ops or a captured scope dict. Received: {list_ops_or_scope!r}")
    _stack().append(new_scope)
    try:
        yield new_scope
    finally:
        _stack().pop()


def add_arg_scope(func):
    """Decorate ``func`` so that :func:`arg_scope` can supply its keyword arguments."""
    key = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        scoped = current_arg_scope().get(key)
        if scoped:
            kwargs = {**scoped, **kwargs}
        return func(*args, **kwargs)

    setattr(wrapper, _DECORATED, key)
    return wrapper


def has_arg_scope(func) -> bool:
    """Whether ``func`` is decorated with :func:`add_arg_scope`."""
    return hasattr(func, _DECORATED)


def arg_scoped_arguments(func) -> dict:
    """The arguments the current scope supplies to ``func``."""
    return dict(current_arg_scope().get(_key(func), {}))
