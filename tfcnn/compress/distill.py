"""Knowledge distillation: train a student on the labels and on a frozen teacher's softened logits.

``loss = alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))``;
the ``T^2`` keeps the soft term's gradients at the scale of the hard one as
``T`` changes (Hinton et al., section 2). tf_keras has no distiller: the
trainer here is a functional model over the student's own inputs and outputs
(so it shares the student's layers) whose ``train_step`` also runs the
teacher in inference mode. Only the student's trainable variables receive
gradients, and the student that comes back is the same flat functional
model, still prunable (TFMOT, :mod:`tfcnn.compress.structured`) and quantizable.

Reference: G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", 2015, arXiv:1503.02531.

Example:
    >>> from tfcnn.compress.distill import distill
    >>> student = distill(teacher, thin, (x_train, y_train), temperature=4.0, alpha=0.1, epochs=2)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers

from tfcnn._compat import keras, tf
from tfcnn.errors import CompressError
from tfcnn.optim import make_optimizer


def check_temperature(temperature, *, argname: str = "temperature") -> float:
    """``temperature`` as a float, or :class:`CompressError` unless it is a finite number > 0."""
    if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
            or not math.isfinite(temperature) or temperature <= 0):
        raise CompressError(f"{argname} must be a finite number > 0. Received: {argname}={temperature!r}")
    return float(temperature)


def check_alpha(alpha, *, argname: str = "alpha") -> float:
    """``alpha`` as a float, or :class:`CompressError` unless it is a number in [0, 1]."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:  # NaN fails too
        raise CompressError(f"{argname} must be a number in [0, 1]. Received: {argname}={alpha!r}")
    return float(alpha)


def distillation_loss(labels, teacher_logits, student_logits, *, temperature: float = 4.0, alpha: float = 0.1):
    """The batch mean of ``alpha * CE(labels, student) + (1 - alpha) * T^2 * KL(teacher_T || student_T)``.

    Args:
        labels: class indices ``[N]``, or one-hot/soft labels ``[N, classes]``.
        teacher_logits, student_logits: ``[N, classes]``.
        temperature: ``T > 0``; 1 is the plain softmax, larger softens both distributions.
        alpha: weight of the hard-label term, in [0, 1] (1: plain cross-entropy, 0: only the teacher).

    Returns:
        A scalar tensor.

    Raises:
        CompressError: a non-positive temperature or an alpha outside [0, 1].

    Example:
        >>> float(distillation_loss([0], [[2.0, 0.0]], [[2.0, 0.0]], alpha=0.0))
        0.0
    """
    t, a = check_temperature(temperature), check_alpha(alpha)
    student_logits = tf.convert_to_tensor(student_logits, tf.float32)
    teacher_logits = tf.cast(tf.convert_to_tensor(teacher_logits), student_logits.dtype)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == student_logits.shape.rank:
        hard = keras.losses.categorical_crossentropy(tf.cast(labels, student_logits.dtype), student_logits,
                                                     from_logits=True)
    else:
        hard = keras.losses.sparse_categorical_crossentropy(labels, student_logits, from_logits=True)
    log_teacher = tf.nn.log_softmax(teacher_logits / t)
    log_student = tf.nn.log_softmax(student_logits / t)
    soft = tf.reduce_sum(tf.exp(log_teacher) * (log_teacher - log_student), axis=-1)
    return tf.reduce_mean(a * hard + (1.0 - a) * t * t * soft)


class _Distiller(keras.Model):
    """A functional model over the student's inputs and outputs whose training step also asks the teacher.

    The teacher is kept out of Keras's tracking, so the trainer's variables
    are the student's alone and nothing can update the teacher.
    """

    def __init__(self, student, teacher, temperature: float, alpha: float):
        super().__init__(student.inputs, student.outputs, name=f"{student.name}_distiller")
        # Set past Keras's attribute tracking: the teacher's variables must not become the trainer's.
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_teacher", teacher)
        self.temperature, self.alpha = temperature, alpha
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.acc_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, self.acc_tracker]

    def train_step(self, data):
        images, labels = data[0], data[1]
        student, teacher = self._student, self._teacher
        teacher_logits = tf.stop_gradient(teacher(images, training=False))
        with tf.GradientTape() as tape:
            logits = student(images, training=True)  # batch norm in the student updates its moving statistics
            loss = distillation_loss(labels, teacher_logits, logits, temperature=self.temperature, alpha=self.alpha)
            if student.losses:  # weight decay and activity regularisers of the student's layers
                loss += tf.add_n(student.losses)
        self.optimizer.minimize(loss, student.trainable_variables, tape=tape)
        self.loss_tracker.update_state(loss)
        if labels.shape.rank == logits.shape.rank:
            labels = tf.argmax(labels, axis=-1)
        self.acc_tracker.update_state(labels, logits)
        return {m.name: m.result() for m in self.metrics}


def _check_pair(teacher, student) -> None:
    for what in ("input", "output"):
        t, s = (tuple(getattr(m, f"{what}_shape")) for m in (teacher, student))
        if t != s:
            raise CompressError(f"teacher and student must have the same {what} shape. "
                                f"Received: teacher {what}_shape={t}, student {what}_shape={s}")


def distill(teacher, student, data, *, temperature: float = 4.0, alpha: float = 0.1, epochs: int = 1,
            batch_size: int = 32, optimizer: str = "adam", lr: float = 1e-3, verbose: int = 0):
    """Train ``student`` in place on the labels and a frozen ``teacher``'s logits; return ``student``.

    Args:
        teacher: a model with logits out; it runs in inference mode and is never changed.
        student: a flat functional model with the teacher's input and output shapes (a channel-pruned thin model).
        data: a ``tf.data.Dataset`` of ``(images, labels)`` batches, or a tuple ``(images, labels)`` of arrays;
            labels as class indices (or one-hot).
        temperature: softening ``T > 0`` of both softmaxes.
        alpha: weight of the hard-label cross-entropy, in [0, 1]; ``1 - alpha`` weighs the teacher term.
        epochs: passes over ``data``.
        batch_size: for arrays only.
        optimizer, lr: the optimizer by its ``tfcnn.train`` name and its learning rate.
        verbose: ``fit`` verbosity.

    Returns:
        ``student`` itself, trained, still the same flat functional model.

    Raises:
        CompressError: a non-positive temperature, an alpha outside [0, 1], epochs < 1, teacher and
            student with different input or output shapes.

    Example:
        >>> thin, _ = prune_channels(teacher, ratio=0.5)  # doctest: +SKIP
        >>> distill(teacher, thin, train_ds, temperature=4.0, alpha=0.1, epochs=3)  # doctest: +SKIP
    """
    t, a = check_temperature(temperature), check_alpha(alpha)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CompressError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
    _check_pair(teacher, student)
    trainer = _Distiller(student, teacher, t, a)
    trainer.compile(optimizer=make_optimizer(optimizer, lr))
    if isinstance(data, tuple):
        trainer.fit(data[0], data[1], batch_size=batch_size, epochs=epochs, verbose=verbose)
    else:
        trainer.fit(data, epochs=epochs, verbose=verbose)
    return student


__all__ = ["check_alpha", "check_temperature", "distill", "distillation_loss"]
