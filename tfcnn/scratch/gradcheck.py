"""Check a hand-written backward pass: against finite differences, and against TensorFlow.

:func:`check_layer` projects the layer's output on a random ``dy`` (so the
whole Jacobian is exercised, not one output) and compares the analytic
gradient of ``sum(y * dy)`` with centred differences
``(f(x + h) - f(x - h)) / 2h``, whose error is ``O(h^2)``: in float64 with
``h = 1e-5`` a correct backward agrees to about 1e-10, a wrong one is off by
far more than the 1e-7 the tests ask for.

:func:`compare_with_keras` runs the matching ``tf_keras`` layer with the same
weights copied in and compares forward values and ``GradientTape`` gradients
(input and every trainable weight). It is the only function of
``tfcnn.scratch`` that loads TensorFlow, and only when called.

:func:`grade` is what the notebook exercises call: it checks the learner's
function, falls back to the reference when the cell is still a ``# TODO``,
and fails loudly when the learner's answer is wrong.

Reference: CS231n, "Gradient checks" (cs231n.github.io/neural-networks-3/#gradcheck).
"""

from __future__ import annotations

import numpy as np

from tfcnn.errors import UsageError


def rel_error(a, b) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` (0 when both are 0).

    A norm ratio rather than an element-wise maximum, so a gradient entry
    that is tiny only because the layer barely uses it cannot blow it up.

    Example:
        >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 3e-9])) < 1e-9
        True
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise UsageError(f"rel_error needs arrays of one shape. Received: {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f, x, *, h=1e-5):
    """Centred finite-difference gradient of the scalar ``f()`` with respect to array ``x``, in place.

    ``x`` is nudged one entry at a time and restored, so ``f`` may read it
    through a closure (that is how parameters inside a dict are checked).

    Args:
        f: no-argument function returning a scalar that depends on ``x``.
        x: float array, modified and restored.
        h: step.

    Returns:
        Array of ``x``'s shape.

    Example:
        >>> x = np.array([1.0, 2.0])
        >>> np.round(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 6)
        array([2., 4.])
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def _call(forward, x, params, hyper):
    return forward(x, **hyper) if params is None else forward(x, params, **hyper)


def check_layer(forward, backward, x, params=None, *, seed=0, h=1e-5, **hyper) -> dict[str, float]:
    """Relative error of ``backward`` against finite differences, for ``dx`` and each ``dparams`` entry.

    Args:
        forward: ``forward(x, params, **hyper)`` (or ``forward(x, **hyper)`` when ``params`` is None).
        backward: ``backward(dy, cache) -> (dx, dparams)``.
        x: float64 input (copied).
        params: dict of float64 arrays, or None for a parameterless layer.
        seed: seed of the random projection ``dy``.
        h: finite-difference step.
        **hyper: the layer's hyper-parameters.

    Returns:
        ``{"x": err, "<param>": err, ...}``: one entry per gradient ``backward`` returns.

    Example:
        >>> from tfcnn.scratch import activations
        >>> err = check_layer(activations.tanh_forward, activations.tanh_backward, np.linspace(-2, 2, 7))
        >>> err["x"] < 1e-9
        True
    """
    x = np.array(x, dtype=np.float64)
    params = None if params is None else {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    y, cache = _call(forward, x, params, hyper)
    # Not default_rng(seed): a caller drawing x from that stream would get dy == x.
    dy = np.random.default_rng([seed, 0xD1]).normal(size=np.shape(y))
    dx, dparams = backward(dy, cache)

    def projected():
        return float(np.sum(_call(forward, x, params, hyper)[0] * dy))

    errors = {"x": rel_error(dx, numerical_gradient(projected, x, h=h))}
    for name, grad in dparams.items():
        errors[name] = rel_error(grad, numerical_gradient(projected, params[name], h=h))
    return errors


def _weight_name(variable) -> str:
    """``'conv2d/kernel:0' -> 'kernel'``: Keras's short weight name, the scratch params key."""
    return variable.name.split("/")[-1].split(":")[0]


def compare_with_keras(forward, backward, x, params, keras_layer, *, training=None, seed=0, **hyper):
    """Compare a scratch layer with a ``tf_keras`` layer (or TensorFlow function) given the same weights.

    Args:
        forward, backward: the scratch layer.
        x: float64 input.
        params: the scratch parameters (None for none); each is assigned to the Keras weight of the same name.
        keras_layer: a float64 ``keras.layers.Layer`` (built here if needed) or a function of one tensor.
        training: passed to the Keras layer's call and to ``forward`` when given (batch norm, dropout).
        seed: seed of the random projection ``dy``.
        **hyper: the scratch layer's hyper-parameters.

    Returns:
        ``{"y": err, "x": err, "<weight>": err, ...}``: forward values, input gradient and each trainable weight.

    Raises:
        UsageError: the Keras layer has a weight the scratch params lack.

    Example:
        >>> from tfcnn._compat import keras
        >>> from tfcnn.scratch import conv
        >>> rng = np.random.default_rng(0)
        >>> p = {"kernel": rng.normal(size=(3, 3, 2, 4)), "bias": rng.normal(size=4)}
        >>> errs = compare_with_keras(conv.conv_forward_im2col, conv.conv_backward_im2col, rng.normal(size=(2, 6, 6, 2)),
        ...                           p, keras.layers.Conv2D(4, 3, dtype="float64"))
        >>> max(errs.values()) < 1e-8
        True
    """
    from tfcnn._compat import keras, tf  # TensorFlow loads only for this comparison

    x = np.array(x, dtype=np.float64)
    if training is not None:
        hyper = {**hyper, "training": training}
    y, cache = _call(forward, x, params, hyper)
    dy = np.random.default_rng([seed, 0xD1]).normal(size=np.shape(y))
    dx, dparams = backward(dy, cache)
    is_layer = isinstance(keras_layer, keras.layers.Layer)
    if is_layer:
        if not keras_layer.built:
            keras_layer.build(x.shape)
        for w in keras_layer.weights:
            if (params or {}).get(_weight_name(w)) is None:
                raise UsageError(f"the Keras layer's weight has no scratch value. Received: weight={w.name}, "
                                 f"params={sorted(params or {})}")
            w.assign(params[_weight_name(w)])
    xt = tf.constant(x)
    weights = list(keras_layer.trainable_weights) if is_layer else []
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = keras_layer(xt) if training is None else keras_layer(xt, training=training)
        projected = tf.reduce_sum(yt * tf.constant(dy, dtype=yt.dtype))
    grads = tape.gradient(projected, [xt, *weights])
    errors = {"y": rel_error(y, yt.numpy()), "x": rel_error(dx, grads[0].numpy())}
    for w, g in zip(weights, grads[1:]):
        errors[_weight_name(w)] = rel_error(dparams[_weight_name(w)], g.numpy())
    return errors


def grade(name, learner, reference, check, *, tol=1e-7):
    """Grade a notebook exercise: check the learner's function, or fall back to the reference.

    Args:
        name: what the exercise is called (printed).
        learner: the learner's function; raising ``NotImplementedError`` means "not written yet".
        reference: the library's function with the same signature.
        check: ``check(fn) -> float | dict[str, float]``, the relative error(s) of ``fn``.
        tol: largest accepted relative error.

    Returns:
        The function the rest of the notebook should use: ``learner`` if it passed, else ``reference``.

    Raises:
        AssertionError: the learner's function runs but is wrong (a wrong answer must not pass silently).

    Example:
        >>> f = grade("square", lambda v: v * v, np.square, lambda fn: rel_error(fn(np.arange(3.0)), [0, 1, 4]))
        PASSED square: relative error 0.0e+00 < 1e-07
    """
    try:
        errors = check(learner)
    except NotImplementedError:
        print(f"FALLBACK {name}: your cell is still a TODO, so the notebook uses the reference "
              f"{reference.__module__}.{reference.__name__}")
        return reference
    worst = max(errors.values()) if isinstance(errors, dict) else float(errors)
    if not worst < tol:
        raise AssertionError(f"{name} is not right yet: relative error {worst:.2e} (needs < {tol:g}). "
                             f"Received: errors={errors}")
    print(f"PASSED {name}: relative error {worst:.1e} < {tol:g}")
    return learner
