# %% [markdown]
# # 06 激活函数 / Activations
#
# **What you will learn**
# - why a network needs a non-linearity: without one, any stack of layers is a single linear classifier;
# - sigmoid, tanh and ReLU and their derivatives (sigmoid's is at most 0.25);
# - vanishing gradients measured through depth: with sigmoid the first layers of a deep net hardly learn;
# - the derivatives by hand: you write sigmoid's backward pass, then back-propagate through a hand-written chain of
#   12 layers in NumPy and get TensorFlow's gradients, layer by layer.

# %% setup

# %% [markdown]
# ## Linear vs non-linear classifiers on a toy 2-D problem
# Two interleaved half-moons cannot be separated by a line. The same 2-layer network is trained twice, with a
# linear "activation" and with ReLU. The notes: “激活函数:增加网络的非线性,进而提升网络的表达能力”. Without
# one, every layer is an affine map of the layer before, so the whole stack is one affine map, whatever its depth:
# the boundary it draws is a line.

# %%
from sklearn.datasets import make_moons

from tfcnn.layers import get_style

L = get_style("keras")
points, labels = make_moons(n_samples=300, noise=0.15, random_state=0)
points = points.astype("float32")


def mlp(activation, depth=2, width=32):
    inputs = x = keras.Input((2,))
    for i in range(depth):
        x = L.dense(x, width, activation=activation, name=f"fc{i}")
    return keras.Model(inputs, L.dense(x, 2, name="logits"))


results, models = {}, {}
for act in ("linear", "relu", "tanh"):
    keras.utils.set_random_seed(0)
    m = mlp(act)
    m.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    m.fit(points, labels, epochs=60 if QUICK else 200, batch_size=300, verbose=0)
    results[act] = m.evaluate(points, labels, verbose=0)[1]
    models[act] = m

fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
for ax, (act, m) in zip(axes, models.items()):
    viz.plot_decision_boundary(m, points, labels, resolution=120, ax=ax, title=f"{act}: accuracy {results[act]:.2f}")
plt.show()
print("| activation | training accuracy |\n|---|---:|")
for act, acc in results.items():
    print(f"| {act} | {acc:.3f} |")
assert results["relu"] > results["linear"] + 0.05

# %% [markdown]
# The linear network's boundary is a straight line, however many layers it has: its two `Dense` layers multiply
# out to one matrix. Check: the product of the weights gives the same logits.

# %%
lin = models["linear"]
(w0, b0), (w1, b1), (w2, b2) = (lin.get_layer(n).get_weights() for n in ("fc0", "fc1", "logits"))
w = w0 @ w1 @ w2
b = (b0 @ w1 + b1) @ w2 + b2
np.testing.assert_allclose(lin.predict(points, verbose=0), points @ w + b, rtol=1e-4, atol=1e-4)
print("three linear layers == one linear layer: W =", np.round(w, 2).tolist())

# %% [markdown]
# ## The functions and their derivatives
# `viz.activation_derivatives` computes each function and its derivative with TensorFlow's autodiff, using the
# same `tf.nn` functions as the raw layer style.

# %%
viz.plot_activations(("sigmoid", "tanh", "relu", "swish"))
plt.show()
curves = viz.activation_derivatives(("sigmoid", "tanh", "relu"))
print("| function | max derivative | derivative at x = 5 |\n|---|---:|---:|")
for name, (x, y, dy) in curves.items():
    print(f"| {name} | {dy.max():.3f} | {np.interp(5.0, x, dy):.4f} |")
assert abs(curves["sigmoid"][2].max() - 0.25) < 1e-3 and abs(curves["tanh"][2].max() - 1.0) < 1e-3
assert np.interp(5.0, *curves["relu"][::2]) == 1.0  # ReLU does not saturate for positive inputs

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「激活函数,sigmoid,tanh,ReLU」: 「sigmoid函数将输入的值归一化到0到1中去 $x => [0,1]$」 — "sigmoid maps
# > its input into the *closed* interval [0, 1]". The formula $\sigma(x) = 1 / (1 + e^{-x})$ never reaches 0 or 1:
# > $e^{-x} > 0$ for every real $x$, so $0 < \sigma(x) < 1$, and $1 - \sigma(x) = \sigma(-x) > 0$. Check in
# > float64, and with 50 significant digits (Python's `decimal`), then see what float32 does:

# %%
from decimal import Decimal, getcontext

getcontext().prec = 50
for v in (-30.0, 30.0):
    s64 = float(tf.sigmoid(tf.constant(v, tf.float64)))
    s50 = 1 / (1 + (-Decimal(v)).exp())
    print(f"sigmoid({v:+.0f}): float64 {s64!r} | 50 digits {s50:.20E} | distance to the nearer end "
          f"{min(s50, 1 - s50):.3E}")
    assert 0.0 < s64 < 1.0 and 0 < s50 < 1
# 1 - sigmoid(x) = sigmoid(-x) = 1 / (1 + e^x): positive for any x (Decimal's exponent range is huge), so sigmoid < 1.
tails = {v: 1 / (1 + Decimal(v).exp()) for v in (100, 1000, 10000)}
print("1 - sigmoid(x) = sigmoid(-x) at x = 100, 1000, 10000:", ", ".join(f"{t:.2E}" for t in tails.values()))
assert all(t > 0 for t in tails.values())
f32 = tf.sigmoid(tf.constant([-30.0, 17.0, 30.0], tf.float32)).numpy()
print("float32 sigmoid at -30, 17, 30:", f32.tolist(), "(the nearest float32 to 1 - 4e-8 is 1.0)")
assert f32[2] == 1.0  # rounding, not the function
print("✓ sigmoid stays strictly inside (0, 1): at ±30 float64 gives 9.4e-14 and 1 - 9.4e-14; only rounding "
      "(float32 above x ≈ 17) prints 1.0")

# %% [markdown]
# **Corrected.** Sigmoid maps ℝ onto the *open* interval $(0, 1)$ — which is what lets it be read as a
# probability that is never exactly certain. In floating point it *rounds* to 1.0 once $e^{-x}$ is below half the
# spacing of numbers near 1 (float32: from about $x = 17$; float64: about $x = 37$), and to 0 far to the left. That
# is why losses take logits (`from_logits=True`) rather than $\log\sigma(x)$: a rounded 0 or 1 would give
# $\log 0 = -\infty$.

# %% [markdown]
# ## Vanishing gradients through depth
# The gradient reaching layer `l` is a product of one derivative per layer above it. Sigmoid's derivative is at
# most 0.25, so the product shrinks geometrically. Measure the gradient norm of every layer's kernel in a 12-layer
# network at initialisation, on a batch of real digits.

# %%
from tfcnn.data import load_dataset

data = load_dataset("digits")
x = data.x_train[:256].reshape(256, -1).astype("float32") / 255.0
y = data.y_train[:256]
depth = 12
norms, models = {}, {}
for act in ("sigmoid", "tanh", "relu"):
    keras.utils.set_random_seed(0)
    inputs = h = keras.Input((64,))
    for i in range(depth):
        # Glorot init for every activation, so only the activation differs.
        h = keras.layers.Dense(64, activation=act, kernel_initializer="glorot_uniform", name=f"fc{i}")(h)
    m = keras.Model(inputs, keras.layers.Dense(10, name="logits")(h))
    models[act] = m
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, m(x), from_logits=True)
    grads = tape.gradient(loss, [m.get_layer(f"fc{i}").kernel for i in range(depth)])
    norms[act] = np.array([float(tf.norm(g)) for g in grads])

fig, ax = plt.subplots(figsize=(6, 3.2))
for act, n in norms.items():
    ax.semilogy(range(1, depth + 1), n, marker="o", label=act)
ax.set_xlabel("layer (1 = nearest the input)")
ax.set_ylabel("gradient norm")
ax.legend()
ax.grid(alpha=0.3)
plt.show()
ratio = {act: n[0] / n[-1] for act, n in norms.items()}
print("| activation | first-layer / last-layer gradient norm |\n|---|---:|")
for act, r in ratio.items():
    print(f"| {act} | {r:.2e} |")
assert ratio["sigmoid"] < 1e-3 * ratio["relu"], "sigmoid gradients vanish towards the input"

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「激活函数,sigmoid,tanh,ReLU」, under tanh: 「tanh和sigmoid的问题是类似的,一个就是梯度弥散的问题,一个就是指数运算的问题。」 —
# > "tanh has the same problems as sigmoid: vanishing gradients and the cost of the exponential". The table above
# > says otherwise for vanishing gradients: through the same 12 layers, tanh's first layer gets about as much
# > gradient as its last, like ReLU, while sigmoid's gets millions of times less.

# %%
peak = {act: curves[act][2].max() for act in ("sigmoid", "tanh")}
print(f"max derivative: sigmoid {peak['sigmoid']:.3f}, tanh {peak['tanh']:.3f} | first/last gradient ratio over "
      f"{depth} layers: sigmoid {ratio['sigmoid']:.1e}, tanh {ratio['tanh']:.1e}, relu {ratio['relu']:.1e}")
assert peak["tanh"] > 3.9 * peak["sigmoid"]
assert ratio["tanh"] > 1e3 * ratio["sigmoid"] and ratio["tanh"] > 0.1
print("✓ tanh does not vanish like sigmoid here: its derivative peaks at 1 (sigmoid 0.25), and its first layer "
      f"gets {ratio['tanh'] / ratio['sigmoid']:.0e} times sigmoid's share of the gradient")

# %% [markdown]
# **Corrected.** Both functions *saturate*: for large $|x|$ their derivatives go to 0 (at $x = 5$ tanh's is even
# smaller than sigmoid's, see the table of derivatives), so a unit pushed far into its tails stops learning with
# either. But the geometric vanishing through depth that the notes describe for sigmoid comes from its derivative
# being at most $\tfrac14$ *everywhere*, so a product of $n$ of them is at most $4^{-n}$. tanh's derivative is
# $1 - \tanh^2 x$, equal to 1 at 0 and close to 1 for the small pre-activations a Glorot initialisation produces,
# so the product does not shrink — and tanh is zero-centred ($\tanh = 2\sigma(2x) - 1$), which sigmoid is not.
# The exponential cost is shared, and is small next to a convolution.

# %% [markdown]
# ## From scratch: the derivatives by hand
# `tfcnn.scratch.activations` writes each derivative from the forward *output*, the way frameworks store it:
# `relu'(x) = 1 if x > 0 else 0`, `tanh'(x) = 1 − t²`, and `sigmoid'(x) = s(1 − s)`, at most ¼ (at `s = ½`).

# %%
from tfcnn.scratch import activations as scratch_act
from tfcnn.scratch import dense as scratch_dense
from tfcnn.scratch import gradcheck, losses

print(inspect.getsource(scratch_act.tanh_backward))

# %% [markdown]
# ### Exercise: sigmoid's backward pass
# `cache["y"]` holds the forward output `s = sigmoid(x)`. Return `(dx, {})` with `dx = dy · s(1 − s)`.

# %% exercise sigmoid_backward
def my_sigmoid_backward(dy, cache):
    """dL/dx = dL/dy * sigmoid'(x), written with the stored output s."""
    # TODO: s = cache["y"]; return the product, and {} (no parameters)
    raise NotImplementedError


# %% [markdown]
# The grader compares your derivative with centred finite differences, on inputs from −8 to 8 (where the
# sigmoid saturates).

# %%
x_act = np.random.default_rng(0).uniform(-8, 8, size=(4, 50))
sigmoid_backward = gradcheck.grade(
    "sigmoid_backward", my_sigmoid_backward, scratch_act.sigmoid_backward,
    lambda f: gradcheck.check_layer(scratch_act.sigmoid_forward, f, x_act))

# %% [markdown]
# ### Vanishing gradients through a hand-written chain
# Now the 12-layer networks above, in NumPy: the same weights, forward through `dense` and the activation, then
# backward by hand, one layer at a time from the loss to the input. Each step multiplies by the activation's
# derivative and by a kernel; with sigmoid, the first factor is ≤ ¼ every time. The hand-written gradients are the
# ones `GradientTape` gave (the Keras models ran in float32, hence about 1e-6).

# %%
backward_of = {"sigmoid": sigmoid_backward, "tanh": scratch_act.tanh_backward, "relu": scratch_act.relu_backward}
x64, hand_norms = x.astype("float64"), {}
print("| activation | layer 1 gradient norm (by hand) | (GradientTape) | rel. error, all 12 kernels |\n|---|---:|---:|---:|")
for act, m in models.items():
    forward = scratch_act.ACTIVATIONS[act][0]
    layers = [{"kernel": m.get_layer(f"fc{i}").kernel.numpy().astype("float64"),
               "bias": m.get_layer(f"fc{i}").bias.numpy().astype("float64")} for i in range(depth)]
    head = {k: v.astype("float64") for k, v in zip(("kernel", "bias"), m.get_layer("logits").get_weights())}
    h, caches = x64, []
    for p in layers:  # forward, keeping each layer's cache
        h, c_dense = scratch_dense.dense_forward(h, p)
        h, c_act = forward(h)
        caches.append((c_dense, c_act))
    logits, c_head = scratch_dense.dense_forward(h, head)
    loss, c_loss = losses.softmax_cross_entropy_forward(logits, y)
    d, _ = losses.softmax_cross_entropy_backward(len(y), c_loss)  # Keras's per-sample losses were summed by the tape
    d, _ = scratch_dense.dense_backward(d, c_head)
    grads = []
    for c_dense, c_act in reversed(caches):  # backward: activation, then dense, layer by layer
        d, _ = backward_of[act](d, c_act)
        d, g = scratch_dense.dense_backward(d, c_dense)
        grads.append(g["kernel"])
    grads = grads[::-1]
    hand_norms[act] = np.array([np.linalg.norm(g) for g in grads])
    err = gradcheck.rel_error(hand_norms[act], norms[act])
    print(f"| {act} | {hand_norms[act][0]:.2e} | {norms[act][0]:.2e} | {err:.0e} |")
    assert err < 1e-4, (act, err)
assert hand_norms["sigmoid"][0] / hand_norms["sigmoid"][-1] < 1e-3 * hand_norms["relu"][0] / hand_norms["relu"][-1]

# %% [markdown]
# ## Exercises
# 1. Train the moons network with `activation="sigmoid"`. How many epochs does it need to match ReLU?
# 2. In the depth experiment, use `kernel_initializer="he_normal"` for ReLU. What happens to the ratio?
# 3. Add `"swish"` to the depth experiment. Does it behave more like ReLU or like sigmoid?
# 4. In the hand-written chain, print the mean of `s(1 − s)` at each sigmoid layer. How does the product of those
#    means compare with the measured first-layer / last-layer ratio?
