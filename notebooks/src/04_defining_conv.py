# %% [markdown]
# # 04 卷积的定义和使用 / Three ways to define convolution and BN, and im2col
#
# **What you will learn**
# - way 1, raw `tf.nn`: you create the weights (`filter_weight`, `biases`) and call `tf.nn.conv2d`;
# - way 2, slim style: `slim.conv2d(inputs, num_outputs, kernel_size, normalizer_fn=slim.batch_norm, scope=...)`;
# - way 3, Keras: `Conv2D` → `BatchNormalization` → `Activation` as three layers;
# - that all three compute the same numbers, and that convolution is image-to-columns plus one matrix multiply
#   (Im2col实现卷积运算).

# %% setup

# %%
from tfcnn.data import load_dataset
from tfcnn.layers import get_style, raw, slim
from tfcnn.models._common import copy_weights

images = load_dataset("digits").x_test[:8].astype("float32")[..., :] / 255.0
print("a batch of real digits:", images.shape)

# %% [markdown]
# ## Way 1: raw `tf.nn`
# The convolution is one function over explicit tensors (printed from `tfcnn.layers.raw`):

# %%
print(inspect.getsource(raw.conv2d))

# %%
filter_weight = tf.random.normal((3, 3, 1, 4), stddev=0.5, seed=1)
biases = tf.constant([0.1, -0.1, 0.0, 0.2])
y_raw = raw.conv2d(images, filter_weight, biases, strides=1, padding="SAME")
print("output:", y_raw.shape)

# %% [markdown]
# ## Way 2: slim style, and way 3: Keras
# `tfcnn.layers.slim` keeps TF-Slim's vocabulary (`num_outputs`, `stride`, `activation_fn`, `scope`); it builds
# Keras layers so the result is an ordinary model.

# %%
inputs = keras.Input((8, 8, 1))
slim_model = keras.Model(inputs, slim.conv2d(inputs, 4, [3, 3], activation_fn=None, scope="conv1"))
keras_model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding="same", name="conv1_conv")])
for m in (slim_model, keras_model):
    m.get_layer("conv1_conv").set_weights([filter_weight.numpy(), biases.numpy()])
y_slim = slim_model(images)
y_keras = keras_model(images)
print("| pair | max abs difference |\n|---|---:|")
for name, y in (("slim vs raw", y_slim), ("keras vs raw", y_keras)):
    diff = float(tf.reduce_max(tf.abs(y - y_raw)))
    print(f"| {name} | {diff:.1e} |")
    assert diff < 1e-5

# %% [markdown]
# ## Conv + BN + ReLU in all three styles, whole networks
# `tfcnn.layers.get_style(style).conv_bn` builds the same block in each style with the same layer names, so weights
# copy across by name. In inference mode (moving statistics) and in training mode (batch statistics) the outputs
# agree.

# %%
def block(style):
    L = get_style(style)
    inputs = x = keras.Input((8, 8, 1))
    x = L.conv_bn(x, 8, 3, name="conv1")
    x = L.conv_bn(x, 8, 3, strides=2, name="conv2")
    return keras.Model(inputs, x, name=style)


models = {s: block(s) for s in ("keras", "slim", "raw")}
ref = models["keras"]
# Give BN non-trivial statistics so the check is not 0 == 0.
for layer in ref.layers:
    if "bn" in layer.name:
        layer.set_weights([np.random.default_rng(0).uniform(0.5, 2, w.shape).astype("float32")
                           for w in layer.get_weights()])
for style in ("slim", "raw"):
    copy_weights(ref, models[style])
# Inference first: a training-mode call updates the moving statistics it would otherwise compare.
inference = {s: m(images, training=False) for s, m in models.items()}
training = {s: m(images, training=True) for s, m in models.items()}
print("| style | layers | inference diff | training diff |\n|---|---|---:|---:|")
for style, m in models.items():
    d_inf = float(tf.reduce_max(tf.abs(inference[style] - inference["keras"])))
    d_tr = float(tf.reduce_max(tf.abs(training[style] - training["keras"])))
    print(f"| {style} | {', '.join(type(layer).__name__ for layer in m.layers[1:4])} | {d_inf:.1e} | {d_tr:.1e} |")
    assert d_inf < 1e-4 and d_tr < 1e-4
assert float(tf.reduce_max(tf.abs(inference["keras"] - training["keras"]))) > 0.1  # the two modes differ

# %% [markdown]
# The raw batch norm is one line of `tf.nn`:

# %%
print(inspect.getsource(raw.batch_norm))

# %% [markdown]
# ## im2col: convolution as one matrix multiply
# Every receptive field is flattened into a row: the image becomes a `[H_out·W_out, F·F·C_in]` matrix, the
# filters a `[F·F·C_in, C_out]` matrix, and their product is every output pixel of every channel at once.

# %%
print(inspect.getsource(raw.conv2d_im2col))

# %%
cols, (h_out, w_out) = raw.im2col(images, 3, 1, "SAME")
print("patch matrix:", cols.shape, "= [batch, H_out*W_out, F*F*C_in]")
y_im2col = raw.conv2d_im2col(images, filter_weight, biases, 1, "SAME")
diff = float(tf.reduce_max(tf.abs(y_im2col - y_raw)))
print(f"max |im2col - tf.nn.conv2d| = {diff:.1e}")
assert diff < 1e-5

rgb = tf.random.uniform((2, 9, 9, 3), seed=2)
w3 = tf.random.normal((3, 3, 3, 5), seed=3)
for s, p in [(1, "VALID"), (2, "SAME"), (2, "VALID")]:
    a = raw.conv2d_im2col(rgb, w3, None, s, p)
    b = tf.nn.conv2d(rgb, w3, s, p)
    assert a.shape == b.shape and float(tf.reduce_max(tf.abs(a - b))) < 1e-5, (s, p)
print("im2col == tf.nn.conv2d for 3 channels, strides 1 and 2, SAME and VALID")

fig, axes = plt.subplots(1, 3, figsize=(10, 3), gridspec_kw={"width_ratios": [1, 1, 0.5]})
axes[0].imshow(images[0, ..., 0], cmap="gray")
axes[0].set_title("digit 8x8")
axes[1].imshow(cols[0].numpy().T, cmap="gray", aspect="auto")
axes[1].set_title("im2col: 9 rows x 64 positions")
axes[1].set_xlabel("output position")
axes[2].imshow(tf.reshape(filter_weight, (9, 4)).numpy(), cmap="RdBu", aspect="auto")
axes[2].set_title("kernel 9 x 4")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercises
# 1. Redo the first comparison with `strides=2, padding="VALID"`. Which output size do you expect?
# 2. Use `slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm)` and check that the conv layer loses its bias.
# 3. For a 224×224×64 input and 3×3×64×64 filters, how big is the im2col matrix? What does that say about memory?
