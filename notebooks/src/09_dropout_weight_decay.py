# %% [markdown]
# # 09 Dropout 与权重衰退 / Dropout and weight decay
#
# **What you will learn**
# - what over-fitting looks like: training accuracy reaches 100 % while test accuracy stalls;
# - two remedies: dropout (randomly silencing units while training) and weight decay (an L2 penalty on weights);
# - the L1 and L2 norms behind weight decay;
# - both as gradient terms, from scratch: inverted dropout (you write it) multiplies the gradient by its mask, and
#   the L2 penalty `(λ/2)‖w‖²` adds `λw`, so an SGD step is `w ← (1 − ηλ)w − η·g`, checked against Keras.

# %% setup

# %% [markdown]
# ## Norms
# `‖w‖₁ = Σ|wᵢ|`, `‖w‖₂ = √(Σwᵢ²)`. Keras's `L2(λ)` regulariser adds `λ·Σwᵢ²` to the loss; slim's
# `l2_regularizer(λ)` adds `λ·Σwᵢ²/2` (`tf.nn.l2_loss`).

# %%
from tfcnn.layers import get_style, slim

w = tf.constant([3.0, -4.0, 0.0, 1.0])
l1, l2 = float(tf.reduce_sum(tf.abs(w))), float(tf.norm(w))
print(f"w = {w.numpy()}: L1 = {l1}, L2 = {l2:.4f}")
assert l1 == 8 and abs(l2 - np.sqrt(26)) < 1e-6
assert abs(float(keras.regularizers.L2(0.1)(w)) - 0.1 * 26) < 1e-5
assert abs(float(slim.l2_regularizer(0.1)(w)) - 0.1 * float(tf.nn.l2_loss(w))) < 1e-5
assert abs(float(slim.l1_regularizer(0.1)(w)) - 0.1 * l1) < 1e-5

# %% [markdown]
# ## An over-fitting experiment
# A wide network, only 100 training digits, many epochs: it can memorise the training set.

# %%
from tfcnn.data import load_dataset

data = load_dataset("digits")
n_train = 100
x_train = data.x_train[:n_train].reshape(n_train, -1).astype("float32") / 255.0
y_train = data.y_train[:n_train]
x_test = data.x_test.reshape(len(data.x_test), -1).astype("float32") / 255.0
y_test = data.y_test
L = get_style("keras")


def mlp(dropout_rate=0.0, weight_decay=0.0):
    inputs = h = keras.Input((64,))
    for i in range(2):
        h = L.dense(h, 512, activation="relu", weight_decay=weight_decay, name=f"fc{i}")
        if dropout_rate:
            h = L.dropout(h, dropout_rate, name=f"drop{i}")
    return keras.Model(inputs, L.dense(h, 10, name="logits"))


epochs = 80 if QUICK else 200
variants = {"baseline": {}, "dropout 0.5": {"dropout_rate": 0.5}, "weight decay 1e-3": {"weight_decay": 1e-3}}
results, histories = {}, {}
for name, kwargs in variants.items():
    keras.utils.set_random_seed(0)
    m = mlp(**kwargs)
    # Keras's "loss" includes the weight-decay penalty; the "ce" metric is the cross-entropy alone, comparable
    # across the variants.
    m.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy", keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="ce")])
    histories[name] = m.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=epochs, batch_size=n_train,
                            verbose=0).history
    train_acc = m.evaluate(x_train, y_train, verbose=0)[1]
    test_acc = m.evaluate(x_test, y_test, verbose=0)[1]
    weight_norm = float(sum(tf.norm(m.get_layer(n).kernel) ** 2 for n in ("fc0", "fc1", "logits")) ** 0.5)
    results[name] = (train_acc, test_acc, weight_norm)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for name, h in histories.items():
    axes[0].plot(h["ce"], label=f"{name} train")
    axes[1].plot(h["val_ce"], label=f"{name} test")
for ax, t in zip(axes, ("training cross-entropy", "test cross-entropy")):
    ax.set_yscale("log")
    ax.set_title(t)
    ax.set_xlabel("epoch")
    ax.legend(fontsize=7)
plt.show()
print("| model | train accuracy | test accuracy | gap | weight L2 norm |\n|---|---:|---:|---:|---:|")
for name, (tr, te, wn) in results.items():
    print(f"| {name} | {tr:.3f} | {te:.3f} | {tr - te:.3f} | {wn:.1f} |")

# %% [markdown]
# ## Checks
# - The baseline memorises: training accuracy 1.0, and the test cross-entropy rises again after its minimum.
# - Weight decay keeps the weights small (the L2 norm is lower).
# - Each remedy narrows the generalisation gap or lowers the final test cross-entropy.

# %%
base = histories["baseline"]
assert results["baseline"][0] == 1.0
assert base["val_ce"][-1] > min(base["val_ce"]), "the baseline's test cross-entropy has passed its minimum"
assert results["weight decay 1e-3"][2] < results["baseline"][2]
for name in ("dropout 0.5", "weight decay 1e-3"):
    better_gap = results[name][0] - results[name][1] < results["baseline"][0] - results["baseline"][1]
    better_loss = histories[name]["val_ce"][-1] < base["val_ce"][-1]
    print(f"{name}: smaller gap {better_gap}, lower final test cross-entropy {better_loss}")
    assert better_gap or better_loss

# %% [markdown]
# ## Dropout at training and at inference
# Inverted dropout scales the kept units by `1/(1 − p)` during training, so nothing changes at inference.

# %%
drop = keras.layers.Dropout(0.5)
ones = tf.ones((1, 10000))
trained = drop(ones, training=True).numpy()
print(f"kept {np.mean(trained > 0):.3f}, kept value {trained.max():.1f}, mean {trained.mean():.3f}")
assert abs(trained.mean() - 1.0) < 0.05 and trained.max() == 2.0
np.testing.assert_array_equal(drop(ones, training=False), ones)

# %% [markdown]
# ## From scratch: dropout and weight decay as gradient terms
# ### Exercise: inverted dropout
# While training, keep each unit with probability `1 − rate` and divide the kept ones by `1 − rate`, so the
# expected activation is unchanged and inference needs no rescaling. Use the 0/1 `mask` when one is given (the
# grader gives one), else draw it with `rng.random(x.shape) >= rate`. Store the *scaled* mask in the cache: the
# backward pass `tfcnn.scratch.dropout.dropout_backward` multiplies `dy` by `cache["mask"]`.

# %% exercise dropout_forward
def my_dropout_forward(x, *, rate=0.5, training=True, rng=None, mask=None):
    """Inverted dropout: y = x * mask / (1 - rate) while training, y = x at inference."""
    # TODO: if not training: return x, {"mask": None}
    #       draw the mask if none was given; scaled = mask / (1 - rate); return x * scaled, {"mask": scaled}
    raise NotImplementedError


# %% [markdown]
# The grader compares your output with `x · mask / (1 − rate)`, checks that inference is the identity, and checks
# the gradient through your cache against finite differences.

# %%
from tfcnn.scratch import dropout as scratch_dropout
from tfcnn.scratch import gradcheck, losses

rng = np.random.default_rng(0)
x_d = rng.normal(size=(8, 20))
mask_d = rng.random(x_d.shape) >= 0.3


def check_dropout(f):
    y_d, _ = f(x_d, rate=0.3, mask=mask_d)
    return {"forward": gradcheck.rel_error(y_d, np.where(mask_d, x_d / 0.7, 0)),
            "inference": gradcheck.rel_error(f(x_d, rate=0.3, training=False)[0], x_d),
            **gradcheck.check_layer(f, scratch_dropout.dropout_backward, x_d, rate=0.3, mask=mask_d)}


dropout_forward = gradcheck.grade("dropout_forward", my_dropout_forward, scratch_dropout.dropout_forward, check_dropout)
y_big, cache_big = dropout_forward(np.ones(100_000), rate=0.3, rng=np.random.default_rng(1))
dx_big, _ = scratch_dropout.dropout_backward(np.ones(100_000), cache_big)
print(f"mean activation kept: {y_big.mean():.3f} (expected 1); units with no gradient: {np.mean(dx_big == 0):.3f} "
      "(expected 0.3)")
assert abs(y_big.mean() - 1) < 0.02 and abs(np.mean(dx_big == 0) - 0.3) < 0.01

# %% [markdown]
# ### Weight decay is a gradient term
# With the penalty `(λ/2)‖w‖²` added to the loss its gradient `λw` adds to `g = ∂L/∂w`, and one SGD step becomes
#
# `w ← w − η(g + λw) = (1 − ηλ)·w − η·g`:
#
# every step first **shrinks** the weights by the factor `1 − ηλ` (the "decay"), then follows the data's gradient.
# Check it on one dense layer, by hand and with Keras (`kernel_regularizer=L2(λ/2)`, since Keras's `L2(l)` is
# `l·‖w‖²` without the ½), float64, plain SGD:

# %%
from tfcnn.scratch import dense as scratch_dense

lr, lam = 0.1, 0.05
x_w, y_w = rng.normal(size=(16, 6)), rng.integers(0, 3, size=16)
w0 = {"kernel": rng.normal(size=(6, 3)), "bias": np.zeros(3)}
logits, c_dense = scratch_dense.dense_forward(x_w, w0)
_, c_loss = losses.softmax_cross_entropy_forward(logits, y_w)
_, grads = scratch_dense.dense_backward(losses.softmax_cross_entropy_backward(1.0, c_loss)[0], c_dense)
penalty, penalty_grad = losses.l2_penalty(w0["kernel"], lam)
by_gradient = w0["kernel"] - lr * (grads["kernel"] + penalty_grad)
by_decay = (1 - lr * lam) * w0["kernel"] - lr * grads["kernel"]

layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(lam / 2), dtype="float64")
layer.build((None, 6))
layer.set_weights([w0["kernel"], w0["bias"]])
with tf.GradientTape() as tape:
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_w, layer(x_w)) + tf.add_n(layer.losses)
keras.optimizers.SGD(lr).apply_gradients(zip(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights))
print("| update | rel. error vs (1 − ηλ)w − ηg |\n|---|---:|")
for label, w in (("w − η(g + λw), by hand", by_gradient), ("Keras SGD + L2(λ/2)", layer.kernel.numpy())):
    err = gradcheck.rel_error(w, by_decay)
    print(f"| {label} | {err:.0e} |")
    assert err <= 1e-12 if label.endswith("hand") else err <= 1e-8
print(f"penalty (λ/2)‖w‖² = {penalty:.4f}; Keras's regulariser loss = {float(tf.add_n(layer.losses)):.4f}")

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「L0,L1,L2正则化(范数约束/正则项/惩罚项)」: 「L2:所有数平方相加开根号(距离)」 — "the L2 *penalty*: add
# > up the squares and take the square root (a distance)". That is the L2 *norm* $\|w\|_2$, correctly defined in the
# > notes' 「L2范数:假设n维向量x中的元素是x1,…,xn,其L2范数是向量元素平方和的平方根。」. Weight decay penalises its
# > **square**, $\lambda\|w\|_2^2 = \lambda\sum_i w_i^2$, and the two give different gradients:
# > $\nabla\,\lambda\|w\|_2^2 = 2\lambda w$, but $\nabla\,\lambda\|w\|_2 = \lambda\,w / \|w\|_2$.

# %%
w_t = tf.Variable(w0["kernel"])
lam_k = 0.01
with tf.GradientTape(persistent=True) as tape:
    squared = keras.regularizers.L2(lam_k)(w_t)  # what Keras (and weight decay) adds to the loss
    rooted = lam_k * tf.norm(w_t)  # the notes' "square root of the sum of squares"
g_squared, g_rooted = tape.gradient(squared, w_t).numpy(), tape.gradient(rooted, w_t).numpy()
norm_w = np.linalg.norm(w0["kernel"])
print(f"‖w‖₂ = {norm_w:.4f} | Keras L2({lam_k}) = {float(squared):.5f} = λ·Σw² = {lam_k * norm_w**2:.5f} "
      f"(λ·‖w‖₂ would be {lam_k * norm_w:.5f})")
print(f"gradient of λΣw²: 2λw, rel. error {gradcheck.rel_error(g_squared, 2 * lam_k * w0['kernel']):.0e} | "
      f"gradient of λ‖w‖₂: λw/‖w‖, rel. error {gradcheck.rel_error(g_rooted, lam_k * w0['kernel'] / norm_w):.0e}")
# (Keras stores λ as a float32, hence 1e-6 rather than float64's 1e-12)
assert abs(float(squared) / (lam_k * norm_w**2) - 1) < 1e-6 and abs(float(squared) - lam_k * norm_w) > 1e-3
assert gradcheck.rel_error(g_squared, 2 * lam_k * w0["kernel"]) < 1e-6
assert gradcheck.rel_error(g_rooted, lam_k * w0["kernel"] / norm_w) < 1e-12
# halve the weights: the squared penalty's pull halves, the square root's stays the same length
pulls = [np.linalg.norm(2 * lam_k * v) for v in (w0["kernel"], w0["kernel"] / 2)]
assert abs(pulls[1] / pulls[0] - 0.5) < 1e-12
print("✓ weight decay penalises the *squared* L2 norm: Keras's L2(λ) is λΣw², its gradient 2λw shrinks each "
      "weight in proportion (the square root's λw/‖w‖ would pull with a constant length λ)")

# %% [markdown]
# **Corrected.** The L2 *norm* is $\sqrt{\sum_i w_i^2}$; the L2 *regulariser* used for weight decay (Keras's
# `L2`, slim's `l2_regularizer`, `tf.nn.l2_loss`) is its square, $\lambda\sum_i w_i^2$ (or with a ½). Only the
# square gives a gradient proportional to the weight, hence the multiplicative decay $w \leftarrow (1 - \eta\lambda)w$
# checked above. The square root would pull every weight vector towards 0 with the same strength $\lambda$
# whatever its size, and has no gradient at $w = 0$.

# %% [markdown]
# ## Exercises
# 1. Combine dropout and weight decay. Is the result better than either alone?
# 2. Increase `n_train` to 400. How does the baseline's gap change?
# 3. Replace `weight_decay` by an L1 penalty (`slim.l1_regularizer`) and count weights with `|w| < 1e-3`.
# 4. Replace the L2 penalty by `losses.l1_penalty`. What does one step do to a weight of 0.001 when `ηλ = 0.01`?
