# %% [markdown]
# # 09 Dropout 与权重衰退 / Dropout and weight decay
#
# **What you will learn**
# - what over-fitting looks like: training accuracy reaches 100 % while test accuracy stalls;
# - two remedies: dropout (randomly silencing units while training) and weight decay (an L2 penalty on weights);
# - the L1 and L2 norms behind weight decay.

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
# ## Exercises
# 1. Combine dropout and weight decay. Is the result better than either alone?
# 2. Increase `n_train` to 400. How does the baseline's gap change?
# 3. Replace `weight_decay` by an L1 penalty (`slim.l1_regularizer`) and count weights with `|w| < 1e-3`.
