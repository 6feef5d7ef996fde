# %% [markdown]
# # 06 激活函数 / Activations
#
# **What you will learn**
# - why a network needs a non-linearity: without one, any stack of layers is a single linear classifier;
# - sigmoid, tanh and ReLU and their derivatives (sigmoid's is at most 0.25);
# - vanishing gradients measured through depth: with sigmoid the first layers of a deep net hardly learn.

# %% setup

# %% [markdown]
# ## Linear vs non-linear classifiers on a toy 2-D problem
# Two interleaved half-moons cannot be separated by a line. The same 2-layer network is trained twice, with a
# linear "activation" and with ReLU. The notes: “如果不用激活函数，每一层输出都是上层输入的线性函数，无论神经网络有多少层，
# 输出都是输入的线性组合”.

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
norms = {}
for act in ("sigmoid", "tanh", "relu"):
    keras.utils.set_random_seed(0)
    inputs = h = keras.Input((64,))
    for i in range(depth):
        # Glorot init for every activation, so only the activation differs.
        h = keras.layers.Dense(64, activation=act, kernel_initializer="glorot_uniform", name=f"fc{i}")(h)
    m = keras.Model(inputs, keras.layers.Dense(10, name="logits")(h))
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
# ## Exercises
# 1. Train the moons network with `activation="sigmoid"`. How many epochs does it need to match ReLU?
# 2. In the depth experiment, use `kernel_initializer="he_normal"` for ReLU. What happens to the ratio?
# 3. Add `"swish"` to the depth experiment. Does it behave more like ReLU or like sigmoid?
