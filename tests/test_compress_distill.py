"""Knowledge distillation: Hinton's loss against numpy, a frozen teacher, a student that moves towards it and stays flat."""

from __future__ import annotations

import numpy as np
import pytest

from tfcnn._compat import keras
from tfcnn.compress.distill import distill, distillation_loss
from tfcnn.compress.structured import prune_channels
from tfcnn.errors import CompressError


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _numpy_loss(y, t, s, T, alpha):
    ce = -np.log(_softmax(s)[np.arange(len(y)), y])
    pt, ps = _softmax(t / T), _softmax(s / T)
    kl = (pt * (np.log(pt) - np.log(ps))).sum(-1)
    return float(np.mean(alpha * ce + (1 - alpha) * T**2 * kl))


def _logits(seed, n=6, k=5):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, k)) * 2).astype("float32"), (rng.normal(size=(n, k)) * 2).astype("float32"), \
        rng.integers(0, k, n)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (3.0, 0.3), (4.0, 0.1), (2.5, 0.0)])
def test_distillation_loss_equals_the_numpy_formula(temperature, alpha):
    t, s, y = _logits(0)
    got = float(distillation_loss(y, t, s, temperature=temperature, alpha=alpha))
    assert got == pytest.approx(_numpy_loss(y, t, s, temperature, alpha), rel=1e-5)


def test_distillation_loss_at_alpha_1_is_plain_cross_entropy_and_one_hot_labels_agree():
    t, s, y = _logits(1)
    ce = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, s, from_logits=True)))
    assert float(distillation_loss(y, t, s, temperature=7.0, alpha=1.0)) == pytest.approx(ce, rel=1e-6)
    one_hot = np.eye(5, dtype="float32")[y]
    assert float(distillation_loss(one_hot, t, s, alpha=0.4)) == pytest.approx(
        float(distillation_loss(y, t, s, alpha=0.4)), rel=1e-6)


def test_distillation_loss_soft_term_is_t_squared_times_the_kl():
    t, s, y = _logits(2)
    for T in (1.0, 2.0, 5.0):
        pt, ps = _softmax(t / T), _softmax(s / T)
        kl = float(np.mean((pt * (np.log(pt) - np.log(ps))).sum(-1)))
        assert float(distillation_loss(y, t, s, temperature=T, alpha=0.0)) == pytest.approx(T**2 * kl, rel=1e-5)
    assert float(distillation_loss(y, s, s, temperature=3.0, alpha=0.0)) == pytest.approx(0.0, abs=1e-6)


def _cnn(width, seed, *, scale=1.0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(width, 3, padding="same", name="c1", kernel_regularizer=keras.regularizers.l2(1e-4))(inputs)
    x = keras.layers.BatchNormalization(name="c1_bn")(x)
    x = keras.layers.ReLU(name="c1_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(4, name="logits")(x), name=f"cnn{width}")
    if scale != 1.0:  # a confident teacher: logits far from the student's
        dense = model.get_layer("logits")
        dense.set_weights([w * scale for w in dense.get_weights()])
    return model


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(64, 8, 8, 3)).astype("float32")
    teacher = _cnn(16, seed=0, scale=8.0)
    y = teacher.predict(x, verbose=0).argmax(-1)
    student = _cnn(8, seed=1)
    before = {"teacher": [w.copy() for w in teacher.get_weights()],
              "moving_mean": student.get_layer("c1_bn").moving_mean.numpy().copy(),
              "layers": list(student.layers),
              "gap": float(distillation_loss(y, teacher(x), student(x), temperature=2.0, alpha=0.0))}
    out = distill(teacher, student, (x, y), temperature=2.0, alpha=0.0, epochs=10, batch_size=16, lr=1e-2)
    return {"teacher": teacher, "student": student, "out": out, "x": x, "y": y, "before": before,
            "dir": tmp_path_factory.mktemp("distilled")}


def test_distill_brings_the_student_closer_to_the_teacher(distilled):
    d = distilled
    gap = float(distillation_loss(d["y"], d["teacher"](d["x"]), d["student"](d["x"]), temperature=2.0, alpha=0.0))
    assert gap < 0.5 * d["before"]["gap"], (gap, d["before"]["gap"])


def test_distill_leaves_the_teacher_unchanged_and_updates_the_students_batch_norm(distilled):
    d = distilled
    assert all(np.array_equal(a, b) for a, b in zip(d["before"]["teacher"], d["teacher"].get_weights()))
    assert not np.allclose(d["before"]["moving_mean"], d["student"].get_layer("c1_bn").moving_mean.numpy())


def test_distilled_student_is_the_same_flat_model_it_reloads_and_prunes(distilled):
    d = distilled
    student = d["student"]
    assert d["out"] is student and student.layers == d["before"]["layers"]
    assert type(student).train_step is keras.Model.train_step  # the distilling step stays in the trainer
    path = d["dir"] / "student.keras"
    student.save(path)
    reloaded = keras.models.load_model(path)
    assert type(reloaded).__name__ == "Functional"
    np.testing.assert_allclose(reloaded(d["x"]).numpy(), student(d["x"]).numpy(), atol=1e-5)
    thin, _ = prune_channels(reloaded, ratio=0.5)
    assert thin.get_layer("c1").filters == 4


@pytest.mark.parametrize("options, received", [
    ({"temperature": 0}, "temperature=0"), ({"temperature": -1.5}, "temperature=-1.5"),
    ({"temperature": float("inf")}, "temperature=inf"), ({"temperature": "4"}, "temperature='4'"),
    ({"alpha": 1.5}, "alpha=1.5"), ({"alpha": -0.1}, "alpha=-0.1"), ({"alpha": float("nan")}, "alpha=nan"),
    ({"epochs": 0}, "epochs=0")])
def test_distill_bad_options_are_named(options, received):
    model = _cnn(4, seed=0)
    with pytest.raises(CompressError, match=f"Received: {received}"):
        distill(model, _cnn(2, seed=1), (np.zeros((2, 8, 8, 3)), np.zeros(2)), **options)
    if "epochs" not in options:
        with pytest.raises(CompressError, match=f"Received: {received}"):
            distillation_loss([0], [[1.0, 0.0]], [[0.0, 1.0]], **options)


def test_distill_teacher_and_student_must_agree_on_input_and_output_shapes():
    inputs = keras.Input((8, 8, 3))
    three_classes = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    with pytest.raises(CompressError, match=r"same output shape. Received: teacher output_shape=\(None, 4\)"):
        distill(_cnn(4, seed=0), three_classes, (np.zeros((2, 8, 8, 3)), np.zeros(2)))
    wider = keras.Input((16, 16, 3))
    other_input = keras.Model(wider, keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(wider)))
    with pytest.raises(CompressError, match="same input shape. Received: teacher input_shape=.*16, 16, 3"):
        distill(other_input, _cnn(4, seed=0), (np.zeros((2, 8, 8, 3)), np.zeros(2)))
