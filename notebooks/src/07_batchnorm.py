# %% [markdown]
# # 07 BatchNorm / Batch normalisation
#
# **What you will learn**
# - what BN computes: `γ · (x − μ_B) / √(σ²_B + ε) + β` with batch statistics in training, moving averages at
#   inference;
# - the three ways to write it (raw `tf.nn`, slim, Keras) and that they agree;
# - training the same CNN with and without BN;
# - MinMax scaling vs standard scaling of the input, the same idea applied once to the data;
# - BN's backward pass from scratch: you write the compact formula, checked against finite differences, the
#   step-by-step graph version and Keras's `BatchNormalization` under `GradientTape`.

# %% setup

# %%
from tfcnn.data import load_dataset, make_pipeline
from tfcnn.layers import get_style, raw, slim

data = load_dataset("digits")
x = data.x_train[:64].astype("float32") / 255.0

# %% [markdown]
# ## What BN does to a batch
# After BN (γ = 1, β = 0) every channel of the batch has mean 0 and standard deviation 1, whatever the scale of the
# conv output.

# %%
w = tf.random.normal((3, 3, 1, 8), stddev=3.0, seed=0)
conv = raw.conv2d(x, w, tf.fill((8,), 5.0))
moving_mean, moving_var = tf.zeros(8), tf.ones(8)
y, new_mean, new_var = raw.batch_norm_train(conv, moving_mean, moving_var, beta=tf.zeros(8), gamma=tf.ones(8))
print(inspect.getsource(raw.batch_norm_train).split('"""')[0])
mean_before, std_before = tf.nn.moments(conv, axes=[0, 1, 2])
mean_after, var_after = tf.nn.moments(y, axes=[0, 1, 2])
print("| channel | mean before | std before | mean after | std after |\n|---:|---:|---:|---:|---:|")
for c in range(4):
    print(f"| {c} | {mean_before[c]:.2f} | {np.sqrt(std_before[c]):.2f} | {mean_after[c]:.1e} | "
          f"{np.sqrt(var_after[c]):.3f} |")
np.testing.assert_allclose(mean_after, 0, atol=1e-4)
np.testing.assert_allclose(np.sqrt(var_after), 1, atol=1e-2)

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「BatchNorm层/批量归一化层」: 「BatchNorm层:通过一定的规范化手段,把每层神经网络任意神经元这个输入值的分布强行拉回到均值为0,方差为1的标准正态分布。」 —
# > "BN forcibly pulls the distribution of every neuron's input back to the *standard normal* distribution with mean
# > 0 and variance 1". BN subtracts a mean and divides by a standard deviation: an affine map per channel, which
# > moves and stretches a distribution but cannot change its *shape*. Feed it a skewed channel and a two-peaked one:

# %%
import scipy.stats

rng = np.random.default_rng(SEED)
n = 4000
channels = {"skewed (exponential)": rng.exponential(2.0, n) + 3.0,
            "bimodal (two peaks)": np.concatenate([rng.normal(-3, 0.5, n // 2), rng.normal(4, 0.5, n // 2)])}
x_odd = np.stack(list(channels.values()), -1).astype("float32")[:, None, None, :]  # (n, 1, 1, 2): 2 channels
y_odd = raw.batch_norm_train(tf.constant(x_odd), tf.zeros(2), tf.ones(2), beta=tf.zeros(2), gamma=tf.ones(2))[0]
y_odd = y_odd.numpy()[:, 0, 0, :]
normal = rng.standard_normal(n)
fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
grid = np.linspace(-4, 4, 200)
print("| channel | mean after BN | std after BN | skewness before → after | excess kurtosis after | "
      "KS distance to N(0,1) |\n|---|---:|---:|---:|---:|---:|")
for i, (ax, name) in enumerate(zip(axes, channels)):
    after = y_odd[:, i]
    skew_before, skew_after = scipy.stats.skew(x_odd[:, 0, 0, i]), scipy.stats.skew(after)
    ks = scipy.stats.kstest(after, "norm").statistic
    print(f"| {name} | {after.mean():.1e} | {after.std():.3f} | {skew_before:.2f} → {skew_after:.2f} | "
          f"{scipy.stats.kurtosis(after):.2f} | {ks:.3f} |")
    ax.hist(after, bins=60, density=True, alpha=0.6, label="after BN")
    ax.plot(grid, scipy.stats.norm.pdf(grid), "k--", label="N(0, 1)")
    ax.set_title(name)
    ax.legend(fontsize=8)
    assert abs(after.mean()) < 1e-3 and abs(after.std() - 1) < 1e-2  # what BN does guarantee
    assert abs(skew_after - skew_before) < 1e-3  # the shape is untouched
    assert ks > 5 * scipy.stats.kstest(normal, "norm").statistic  # far from normal
plt.show()
print(f"a genuine N(0,1) sample of the same size: KS distance {scipy.stats.kstest(normal, 'norm').statistic:.3f}")
print(f"✓ after BN both channels have mean 0 and std 1, but the skewed one keeps skewness "
      f"{scipy.stats.skew(y_odd[:, 0]):.1f} and the bimodal one keeps its two peaks: standardised, not standard normal")

# %% [markdown]
# **Corrected.** BN *standardises* each channel over the batch: mean 0 and variance 1 (then γ and β, which are
# learned, rescale and shift it again, so the layer's output need not even keep those). Skewness, kurtosis, the
# number of peaks — everything about the shape — pass through unchanged, because
# $\hat x = (x - \mu_B) / \sqrt{\sigma_B^2 + \epsilon}$ is a straight line in $x$. "Zero mean, unit variance"
# is right; "standard normal" is only true if the input was normal to begin with.

# %% [markdown]
# ## Three ways, one result
# Raw `tf.nn` (above), slim's `slim.batch_norm` (slim's default has no γ: `scale=False`) and Keras
# `BatchNormalization` give the same output in training mode, and update the moving averages the same way.

# %%
inp = keras.Input(conv.shape[1:])
slim_bn = keras.Model(inp, slim.batch_norm(inp, scale=True, scope="bn"))
keras_bn = keras.Sequential([keras.Input(conv.shape[1:]), keras.layers.BatchNormalization(momentum=0.9,
                                                                                          epsilon=1e-3)])
y_slim = slim_bn(conv, training=True)
y_keras = keras_bn(conv, training=True)
print("| pair | max abs difference |\n|---|---:|")
for name, other in (("slim vs raw", y_slim), ("keras vs raw", y_keras)):
    d = float(tf.reduce_max(tf.abs(other - y)))
    print(f"| {name} | {d:.1e} |")
    assert d < 1e-4
np.testing.assert_allclose(keras_bn.layers[0].moving_mean.numpy(), new_mean.numpy(), rtol=1e-4, atol=1e-4)
np.testing.assert_allclose(keras_bn.layers[0].moving_variance.numpy(), new_var.numpy(), rtol=1e-3)
# At inference all use the moving statistics:
y_inf = raw.batch_norm(conv, new_mean, new_var, tf.zeros(8), tf.ones(8))
assert float(tf.reduce_max(tf.abs(keras_bn(conv, training=False) - y_inf))) < 1e-3

# %% [markdown]
# ## Training with and without BN
# The same small CNN, with BN after each convolution or without, trained with SGD at a high learning rate.

# %%
def cnn(use_bn):
    L = get_style("keras")
    inputs = h = keras.Input((8, 8, 1))
    h = L.conv_bn(h, 16, 3, use_bn=use_bn, name="conv1")
    h = L.conv_bn(h, 32, 3, use_bn=use_bn, name="conv2")
    h = L.max_pool(h, 2, name="pool")
    h = L.conv_bn(h, 32, 3, use_bn=use_bn, name="conv3")
    h = L.global_pool(h, name="avg_pool")
    return keras.Model(inputs, L.dense(h, 10, name="logits"))


epochs = 3 if QUICK else 12
train_ds = make_pipeline(data.x_train, data.y_train, (8, 8, 1), batch_size=32, training=True)
test_ds = make_pipeline(data.x_test, data.y_test, (8, 8, 1), batch_size=256, training=False)
histories = {}
for use_bn in (False, True):
    keras.utils.set_random_seed(0)
    m = cnn(use_bn)
    m.compile(keras.optimizers.SGD(0.05, momentum=0.9), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    histories["with BN" if use_bn else "without BN"] = m.fit(train_ds, validation_data=test_ds, epochs=epochs,
                                                             verbose=0).history
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, h in histories.items():
    ax.plot(range(1, epochs + 1), h["val_accuracy"], marker="o", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.legend()
ax.grid(alpha=0.3)
plt.show()
print("| model | test accuracy, epoch 1 | final |\n|---|---:|---:|")
for name, h in histories.items():
    print(f"| {name} | {h['val_accuracy'][0]:.3f} | {h['val_accuracy'][-1]:.3f} |")
assert histories["with BN"]["val_accuracy"][-1] > 0.5

# %% [markdown]
# ## MinMax scaling vs standard scaling
# Input normalisation is BN applied once to the data. MinMax maps each feature to [0, 1]; standard scaling to mean
# 0 and variance 1, the same target BN uses inside the network.

# %%
from sklearn.preprocessing import MinMaxScaler, StandardScaler

flat = data.x_train.reshape(len(data.x_train), -1).astype("float64")
mm = MinMaxScaler().fit_transform(flat)
st = StandardScaler().fit_transform(flat)
varying = flat.std(axis=0) > 0
print("| scaling | min | max | mean of feature means | mean of feature stds |\n|---|---:|---:|---:|---:|")
for name, a in (("none", flat), ("MinMax", mm), ("standard", st)):
    a = a[:, varying]
    print(f"| {name} | {a.min():.2f} | {a.max():.2f} | {a.mean(0).mean():.2f} | {a.std(0).mean():.2f} |")
assert mm.min() == 0
np.testing.assert_allclose(mm[:, varying].max(0), 1)
np.testing.assert_allclose(st[:, varying].mean(0), 0, atol=1e-9)
np.testing.assert_allclose(st[:, varying].std(0), 1, atol=1e-9)

# %% [markdown]
# ## From scratch: BN's backward pass
# In training mode the batch mean and variance depend on every input, so the gradient flows through them too.
# Walking the graph `μ → x − μ → σ² → 1/σ → x̂ → γx̂ + β` backwards (`tfcnn.scratch.batchnorm.batchnorm_backward_graph`,
# printed below) and simplifying gives, per channel over the `m` values of the batch:
#
# `dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))`, `dγ = Σ dy · x̂`, `dβ = Σ dy`.
#
# The two means are the statistics' share: moving every input moves the mean with it, so `dx` sums to 0; scaling
# every input scales σ with it, so `dx` is orthogonal to `x̂`. At inference the statistics are constants and
# `dx = γ · dy / √(moving_variance + ε)`.

# %%
from tfcnn.scratch import batchnorm as scratch_bn
from tfcnn.scratch import gradcheck

print(inspect.getsource(scratch_bn.batchnorm_backward_graph))

# %% [markdown]
# ### Exercise: the compact backward pass (training mode)
# `cache` holds `xhat` (the normalised input), `inv_std` (`1/σ` per channel), `params["gamma"]` and `axes` (every
# axis but the channels). Return `(dx, {"gamma": dgamma, "beta": dbeta})`.

# %% exercise batchnorm_backward
def my_batchnorm_backward(dy, cache):
    """Training-mode batch norm backward in three lines."""
    # TODO: axes, xhat, gamma = cache["axes"], cache["xhat"], cache["params"]["gamma"]
    #       dgamma, dbeta = sums over axes; dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
    raise NotImplementedError


# %% [markdown]
# The grader checks your gradients against finite differences, on a dense `(N, C)` batch and on a conv
# `(N, H, W, C)` feature map.

# %%
rng = np.random.default_rng(0)
bn_params = {"gamma": rng.normal(size=3), "beta": rng.normal(size=3), "moving_mean": rng.normal(size=3),
             "moving_variance": rng.uniform(0.5, 2, size=3)}
bn_inputs = {"dense": rng.normal(size=(16, 3)) * 3 + 1, "conv": rng.normal(size=(4, 5, 5, 3))}
batchnorm_backward = gradcheck.grade(
    "batchnorm_backward", my_batchnorm_backward, scratch_bn.batchnorm_backward,
    lambda f: {f"{name} {k}": v for name, xb in bn_inputs.items()
               for k, v in gradcheck.check_layer(scratch_bn.batchnorm_forward, f, xb, bn_params).items()})

# %% [markdown]
# Compact, graph and Keras's `BatchNormalization` (float64, the same γ, β and moving statistics copied in, ε = 1e-3)
# agree in both modes:

# %%
print("| input | mode | backward | vs finite differences | vs Keras (y, dx, dγ, dβ) |\n|---|---|---|---:|---:|")
for name, xb in bn_inputs.items():
    for training in (True, False):
        for label, bwd in (("yours/compact", batchnorm_backward), ("graph", scratch_bn.batchnorm_backward_graph)):
            if label == "graph" and not training:
                continue  # the graph version derives the training-mode gradient
            fd = max(gradcheck.check_layer(scratch_bn.batchnorm_forward, bwd if training else scratch_bn.batchnorm_backward,
                                           xb, bn_params, training=training).values())
            vs = max(gradcheck.compare_with_keras(
                scratch_bn.batchnorm_forward, bwd if training else scratch_bn.batchnorm_backward, xb, bn_params,
                keras.layers.BatchNormalization(epsilon=1e-3, dtype="float64"), training=training).values())
            print(f"| {name} | {'training' if training else 'inference'} | {label} | {fd:.0e} | {vs:.0e} |")
            assert fd < 1e-7 and vs <= 1e-8

# %% [markdown]
# ## Exercises
# 1. Repeat the training comparison with `SGD(0.2)`. Which model still learns?
# 2. Call `keras_bn(conv, training=True)` ten times and print `moving_mean`. Why does it move towards the batch
#    mean, and how fast for `momentum=0.9`?
# 3. Why does a conv layer followed by BN not need a bias? (`tfcnn` drops it: see `conv_bias` in
#    `tfcnn/layers/_common.py`.)
# 4. Check numerically that the training-mode `dx` of every channel sums to 0 and is orthogonal to `x̂`. Why must it?
