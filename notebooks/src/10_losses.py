# %% [markdown]
# # 10 损失层 / Losses
#
# **What you will learn**
# - cross-entropy is the negative log-likelihood of the true class under the softmax;
# - the regression losses L1, L2 and smooth L1 and their gradients (smooth L1 = L2 near zero, L1 far away);
# - L0, L1 and L2 regularisation, and the sparsity that L1 gives;
# - the gradient `p − y` derived from the likelihood, written by you and checked against finite differences and
#   `GradientTape`, with the L1, L2 and smooth-L1 gradients beside it.

# %% setup

# %% [markdown]
# ## Cross-entropy as likelihood
# For logits `z` and true class `y`: `p = softmax(z)`, `loss = −log p_y`. Minimising it maximises the likelihood
# of the training labels.

# %%
logits = tf.constant([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0]])
labels = tf.constant([0, 1, 2])
probs = tf.nn.softmax(logits).numpy()
manual = -np.log(probs[np.arange(3), labels.numpy()])
keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(labels, logits).numpy()
print("| example | p(true class) | -log p | Keras |\n|---:|---:|---:|---:|")
for i in range(3):
    print(f"| {i} | {probs[i, labels[i]]:.3f} | {manual[i]:.4f} | {keras_loss[i]:.4f} |")
np.testing.assert_allclose(keras_loss, manual, rtol=1e-5)
assert abs(manual[2] - np.log(3)) < 1e-6  # a uniform guess over 3 classes costs log 3

# %% [markdown]
# The gradient of cross-entropy with respect to the logits is `p − onehot(y)`: simple, and never saturating while
# the prediction is wrong.

# %%
with tf.GradientTape() as tape:
    tape.watch(logits)
    loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
grad = tape.gradient(loss, logits).numpy()
np.testing.assert_allclose(grad, probs - np.eye(3)[labels.numpy()], atol=1e-6)
print("d loss / d logits = p - onehot(y):\n", np.round(grad, 3))

# %% [markdown]
# ## L1, L2 and smooth L1
# For an error `e = prediction − target`: L1 `|e|`, L2 `e²/2`, smooth L1 (Fast R-CNN) `0.5e²` if `|e| < 1`
# else `|e| − 0.5`. Keras calls smooth L1 `Huber(delta=1)`. The gradients, computed by autodiff: L2's grows
# without bound (outliers dominate), L1's is ±1 everywhere (not smooth at 0), smooth L1 takes the best of both.

# %%
e = tf.constant(np.linspace(-3, 3, 601), tf.float32)
huber = keras.losses.Huber(delta=1.0, reduction="none")
losses = {
    "L1": lambda v: tf.abs(v),
    "L2": lambda v: 0.5 * v**2,
    "smooth L1": lambda v: huber(tf.zeros_like(v)[:, None], v[:, None]),
}
curves = {}
for name, fn in losses.items():
    with tf.GradientTape() as tape:
        tape.watch(e)
        value = fn(e)
    curves[name] = (value.numpy(), tape.gradient(value, e).numpy())
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for name, (v, g) in curves.items():
    axes[0].plot(e, v, label=name)
    axes[1].plot(e, g, label=name)
axes[0].set_title("loss")
axes[1].set_title("gradient")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_xlabel("error e")
plt.show()

en = e.numpy()
smooth_manual = np.where(np.abs(en) < 1, 0.5 * en**2, np.abs(en) - 0.5)
np.testing.assert_allclose(curves["smooth L1"][0], smooth_manual, atol=1e-5)
g = curves["smooth L1"][1]
assert np.abs(g).max() <= 1 + 1e-6  # bounded like L1
np.testing.assert_allclose(g[np.abs(en) < 0.99], en[np.abs(en) < 0.99], atol=1e-5)  # linear like L2 near 0
print("| error | L1 grad | L2 grad | smooth L1 grad |\n|---:|---:|---:|---:|")
for v in (-3.0, -0.5, 0.25, 3.0):
    i = int(np.argmin(np.abs(en - v)))
    print(f"| {v} | {curves['L1'][1][i]:.2f} | {curves['L2'][1][i]:.2f} | {curves['smooth L1'][1][i]:.2f} |")

# %% [markdown]
# ## L0, L1, L2 regularisation and sparsity
# L0 counts the non-zero weights (what we would like to minimise, but it has no gradient); L1 is its closest convex
# relative and drives weights to exactly zero; L2 shrinks all weights but leaves them non-zero.
# Experiment: a linear model on 30 features of which only 3 matter, fitted with an L1 or an L2 penalty.

# %%
rng = np.random.default_rng(0)
n_features = 30
true_w = np.zeros(n_features, np.float32)
true_w[[2, 11, 25]] = [2.0, -3.0, 1.5]
x = rng.normal(size=(400, n_features)).astype("float32")
y = x @ true_w + rng.normal(size=400).astype("float32")  # noisy: unpenalised, the 27 useless weights fit noise

weights = {}
for name, reg in (("L1", keras.regularizers.L1(0.2)), ("L2", keras.regularizers.L2(0.2))):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(1, kernel_regularizer=reg)])
    # Plain SGD: the L1 subgradient makes small weights oscillate around 0, so count "near zero".
    m.compile(keras.optimizers.SGD(0.05), "mse")
    m.fit(x, y, epochs=300, batch_size=400, verbose=0)
    weights[name] = m.layers[0].kernel.numpy()[:, 0]

fig, ax = plt.subplots(figsize=(8, 2.8))
ax.stem(np.arange(n_features) - 0.15, weights["L1"], linefmt="C0-", markerfmt="C0o", label="L1")
ax.stem(np.arange(n_features) + 0.15, weights["L2"], linefmt="C1-", markerfmt="C1s", label="L2")
ax.set_xlabel("feature")
ax.set_ylabel("weight")
ax.legend()
plt.show()
print("| penalty | L0 (|w| > 0.02) | L1 norm | L2 norm | weights on the 3 true features |\n|---|---:|---:|---:|---|")
for name, wts in weights.items():
    print(f"| {name} | {(np.abs(wts) > 0.02).sum()} | {np.abs(wts).sum():.2f} | {np.linalg.norm(wts):.2f} | "
          f"{np.round(wts[[2, 11, 25]], 2).tolist()} |")
near_zero = {name: int((np.abs(wts) <= 0.02).sum()) for name, wts in weights.items()}
assert near_zero["L1"] > near_zero["L2"] + 5, near_zero

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「L0,L1,L2正则化(范数约束/正则项/惩罚项)」: 「L1是对L0的线性逼近。」 then 「L2是对L1的凸优化」 — "L2 is a
# > convex optimisation (convexification) of L1". L1 needs no convexifying: both $|w|$ and $w^2$ are already convex.
# > Test the definition, $f(\tfrac{a+b}{2}) \le \tfrac{f(a)+f(b)}{2}$, on 100,000 random pairs, for L0 as well:

# %%
pen = {"L0": lambda v: (v != 0).astype(float), "L1": np.abs, "L2": np.square}
a, b = rng.normal(size=(2, 100_000)) * 3
a[:1000] = 0.0  # include pairs with a zero, where L0 jumps
gap = {k: (f(a) + f(b)) / 2 - f((a + b) / 2) for k, f in pen.items()}  # >= 0 everywhere  <=>  convex (midpoint)
same_sign = (a * b > 0)
print("| penalty | pairs violating convexity | pairs with equality (not strictly convex) |\n|---|---:|---:|")
for k, g in gap.items():
    print(f"| {k} | {(g < -1e-12).sum():,} | {(np.abs(g) <= 1e-12).sum():,} |")
w_near0 = tf.constant([-1e-6, 1e-6], tf.float64)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(w_near0)
    l1_near0, l2_near0 = tf.abs(w_near0), tf.square(w_near0)
d_l1, d_l2 = tape.gradient(l1_near0, w_near0).numpy(), tape.gradient(l2_near0, w_near0).numpy()
print(f"derivative just left/right of 0: L1 {d_l1.tolist()}, L2 {d_l2.tolist()}")
assert (gap["L0"] < 0).sum() > 0  # L0 is not convex
assert (gap["L1"] >= -1e-12).all() and (gap["L2"] >= -1e-12).all()  # L1 and L2 both are
assert (np.abs(gap["L1"][same_sign]) <= 1e-9).all() and (gap["L2"][a != b] > 0).all()  # only L2 strictly
assert d_l1.tolist() == [-1.0, 1.0] and np.abs(d_l2).max() < 1e-5  # L1 kinks at 0, L2 is smooth
print("✓ L1 is already convex (no pair violates it), like L2; L0 is the non-convex one. "
      "What L2 adds is smoothness and strict convexity, not convexity")

# %% [markdown]
# **Corrected.** Of the three, only **L0 is non-convex** (and piecewise constant, so it has no useful gradient).
# **L1** is its standard *convex relaxation* — on $[-1, 1]$ the largest convex function below L0 — and is convex
# but not *strictly* convex (linear on each side of 0) and not differentiable at 0, which is exactly what lets it
# set weights to zero (the experiment above). **L2** is convex too, and in addition strictly convex and smooth, so
# its optimum is unique and its gradient $2\lambda w$ is gentle near 0 — it shrinks weights but does not zero them.
# L2 is not an "optimisation" of L1; the two are different penalties with different effects (sparse vs small
# weights), and elastic net uses both.

# %% [markdown]
# ## From scratch: `dL/dz = p − y`, derived from the likelihood
# The model says class `k` has probability `p_k = e^{z_k} / Σ_j e^{z_j}`. The likelihood of the true label `y` is
# `p_y`, and the loss is its negative log: `L = −log p_y = −z_y + log Σ_j e^{z_j}`. Differentiate term by term:
# `∂(−z_y)/∂z_k = −[k = y]` and `∂ log Σ_j e^{z_j} / ∂z_k = e^{z_k} / Σ_j e^{z_j} = p_k`. So
#
# `∂L/∂z_k = p_k − [k = y]`, i.e. `dL/dz = p − onehot(y)`,
#
# divided by `N` for the batch mean. The softmax's Jacobian and the log's `1/p` cancel, which is why this pair is
# always fused (`from_logits=True`).
#
# ### Exercise: the cross-entropy backward pass
# `cache["p"]` holds the softmax probabilities `(N, K)`, `cache["y"]` the one-hot labels. Return
# `(dlogits, {})` for the **mean** loss, times the upstream gradient `dloss` (1.0 at the top of a network).

# %% exercise cross_entropy_backward
def my_cross_entropy_backward(dloss, cache):
    """Gradient of the mean softmax cross-entropy with respect to the logits."""
    # TODO: p, y = cache["p"], cache["y"]; return dloss * (p - y) / N, {}
    raise NotImplementedError


# %% [markdown]
# The grader checks your gradient against finite differences of `tfcnn.scratch.losses.softmax_cross_entropy_forward`.

# %%
from tfcnn.scratch import gradcheck
from tfcnn.scratch import losses as scratch_losses

rng = np.random.default_rng(0)
z_ce, y_ce = rng.normal(size=(8, 5)) * 3, rng.integers(0, 5, size=8)
cross_entropy_backward = gradcheck.grade(
    "cross_entropy_backward", my_cross_entropy_backward, scratch_losses.softmax_cross_entropy_backward,
    lambda f: gradcheck.check_layer(lambda z: scratch_losses.softmax_cross_entropy_forward(z, y_ce), f, z_ce))

# %% [markdown]
# All four losses, each gradient by hand against finite differences and against `GradientTape` on the Keras loss
# (float64; Keras casts its constants to `floatx`, so it is set to float64 for this cell):

# %%
keras.backend.set_floatx("float64")
target = rng.normal(size=(8, 5))
table = {
    "cross-entropy": (scratch_losses.softmax_cross_entropy_forward, cross_entropy_backward, y_ce,
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    "L1": (scratch_losses.l1_loss_forward, scratch_losses.l1_loss_backward, target, keras.losses.MeanAbsoluteError()),
    "L2": (scratch_losses.l2_loss_forward, scratch_losses.l2_loss_backward, target, keras.losses.MeanSquaredError()),
    "smooth L1": (scratch_losses.smooth_l1_loss_forward, scratch_losses.smooth_l1_loss_backward, target,
                  keras.losses.Huber(delta=1.0)),
}
print("| loss | gradient by hand | vs finite differences | vs Keras (loss, dz) |\n|---|---|---:|---:|")
formula = {"cross-entropy": "(p − y)/N", "L1": "sign(d)/n", "L2": "2d/n", "smooth L1": "clip(d, −1, 1)/n"}
for name, (fwd, bwd, tgt, keras_loss) in table.items():
    fd = gradcheck.check_layer(lambda z, fwd=fwd, tgt=tgt: fwd(z, tgt), bwd, z_ce)["x"]
    vs = max(gradcheck.compare_with_keras(lambda z, fwd=fwd, tgt=tgt: fwd(z, tgt), bwd, z_ce, None,
                                          lambda t, k=keras_loss, tgt=tgt: k(tf.constant(tgt), t)).values())
    print(f"| {name} | {formula[name]} | {fd:.0e} | {vs:.0e} |")
    assert fd < 1e-7 and vs <= 1e-8
keras.backend.set_floatx("float32")

# %% [markdown]
# ## Exercises
# 1. Change `Huber(delta=1.0)` to `delta=0.5`. Where does the gradient stop growing?
# 2. Raise the L1 coefficient to 0.5. Which true feature is lost first, and why?
# 3. Show that for two classes, softmax cross-entropy equals binary cross-entropy on the logit difference.
# 4. Derive the gradient of binary cross-entropy with a sigmoid output the same way. Which two terms cancel?
