# %% [markdown]
# # 04 卷积的定义和使用 / Three ways to define convolution and BN, and im2col
#
# **What you will learn**
# - way 1, raw `tf.nn`: you create the weights (`filter_weight`, `biases`) and call `tf.nn.conv2d`;
# - way 2, slim style: `slim.conv2d(inputs, num_outputs, kernel_size, normalizer_fn=slim.batch_norm, scope=...)`;
# - way 3, Keras: `Conv2D` → `BatchNormalization` → `Activation` as three layers;
# - that all three compute the same numbers, and that convolution is image-to-columns plus one matrix multiply
#   (Im2col实现卷积运算);
# - convolution from scratch, forward *and* backward: naive loops you write yourself → im2col → `tf.nn.conv2d` →
#   the three styles, each checked against the next with finite differences and `tf.GradientTape`.

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
# ## Convolution or cross-correlation? (卷积与互相关)
# The notes define the operation precisely: “卷积:对图像和滤波矩阵(卷积核)做互相关运算(对应元素相乘再求和)的操作。”
# (section 卷积的定义和使用). In signal processing, the *convolution* of an image $I$ with a kernel $K$ flips the
# kernel,
# $$(I * K)[i, j] = \sum_{m, n} I[i - m,\, j - n]\, K[m, n],$$
# while *cross-correlation* slides it as it is,
# $$(I \star K)[i, j] = \sum_{m, n} I[i + m,\, j + n]\, K[m, n].$$
# What CNNs call convolution, `tf.nn.conv2d` included, is the second. SciPy has both, so one asymmetric kernel on a
# real digit settles it:

# %%
from scipy.signal import convolve2d, correlate2d

digit = images[0, :, :, 0].astype("float64")
kernel = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -3.0]])  # no symmetry: a flip changes it
tf_out = tf.nn.conv2d(digit[None, :, :, None], kernel[:, :, None, None], strides=1, padding="VALID")[0, :, :, 0]
print(f"max |tf.nn.conv2d - correlate2d|            = {np.abs(tf_out - correlate2d(digit, kernel, 'valid')).max():.1e}")
print(f"max |tf.nn.conv2d - convolve2d|             = {np.abs(tf_out - convolve2d(digit, kernel, 'valid')).max():.3f}")
print(f"max |tf.nn.conv2d - convolve2d(flipped K)| = "
      f"{np.abs(tf_out - convolve2d(digit, kernel[::-1, ::-1], 'valid')).max():.1e}")
np.testing.assert_allclose(tf_out, correlate2d(digit, kernel, "valid"), atol=1e-12)
np.testing.assert_allclose(tf_out, convolve2d(digit, kernel[::-1, ::-1], "valid"), atol=1e-12)
assert np.abs(tf_out - convolve2d(digit, kernel, "valid")).max() > 0.1
print("✓ tf.nn.conv2d is cross-correlation: it equals a true convolution with the kernel flipped")

# %% [markdown]
# The notes are right, and the difference does not matter for learning: the kernel is learned, so a network that
# needs the flipped kernel simply learns it. It matters when a known filter (a Sobel edge detector, a blur from a
# paper) is copied into a layer, and in the backward pass: the gradient with respect to the input is a *true*
# ("full") convolution of the output gradient with the same kernel — the scatter that `tfcnn.scratch.conv`'s
# `backward` performs in the from-scratch section below.

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
# ## From scratch: naive loops → im2col → `tf.nn.conv2d`, forward and backward
# `tfcnn.scratch.conv` (NumPy, float64) computes a convolution as a loop over output pixels and as im2col + one
# matrix product, and it also computes the **backward** pass: given `dy = ∂L/∂y`, the gradients `∂L/∂x`,
# `∂L/∂kernel` and `∂L/∂bias`. Write the loop version yourself first.
#
# ### Exercise 1: the forward pass
# `x` is `(N, H, W, C)`, `params["kernel"]` `(KH, KW, C, O)` (Keras's layout), `params["bias"]` `(O,)`. With
# `padding="valid"`, output pixel `(i, j)` of filter `o` is
# `sum(x[:, i*s : i*s+KH, j*s : j*s+KW, :] * kernel[..., o]) + bias[o]`. Return `(y, cache)`; the cache can be
# anything your backward pass will need (the grader only looks at `y`).

# %% exercise conv_forward
def my_conv_forward(x, params, *, stride=1, padding="valid"):
    """Naive convolution, padding 'valid': loop over output rows, columns and filters."""
    # TODO: h_out = (H - KH) // stride + 1 (same for w_out); y = zeros (N, h_out, w_out, O);
    #       fill y[:, i, j, o] with the window sum; add the bias; return y, {"x": x, "params": params, "stride": stride}
    raise NotImplementedError


# %% [markdown]
# The grader compares your output with `tf.nn.conv2d` on random inputs, strides 1 and 2.

# %%
from tfcnn.scratch import conv as scratch_conv
from tfcnn.scratch import gradcheck

rng = np.random.default_rng(0)
x_c = rng.normal(size=(2, 7, 7, 3))
p_c = {"kernel": rng.normal(size=(3, 3, 3, 4)), "bias": rng.normal(size=4)}


def forward_error(f):
    return {s: gradcheck.rel_error(f(x_c, p_c, stride=s)[0],
                                   tf.nn.conv2d(x_c, p_c["kernel"], s, "VALID").numpy() + p_c["bias"]) for s in (1, 2)}


conv_forward = gradcheck.grade("conv_forward", my_conv_forward, scratch_conv.conv_forward_naive, forward_error)

# %% [markdown]
# ### Exercise 2: the backward pass
# Every window `(i, j)` used `x`'s patch and filter `o` once, weighted by `dy[:, i, j, o]`. So, summing over all
# windows and filters: `dbias[o] = sum(dy[..., o])`; `dkernel[..., o] += sum_n patch[n] * dy[n, i, j, o]`; and each
# patch of `dx` gets `kernel[..., o] * dy[n, i, j, o]` added back (overlapping windows add up). Here `cache` is the
# one `tfcnn.scratch.conv.conv_forward_naive` returns: `cache["xp"]` is the (padded) input, `cache["params"]` the
# weights, `cache["geo"]["stride"]` the stride pair. Return `(dx, {"kernel": dkernel, "bias": dbias})`.

# %% exercise conv_backward
def my_conv_backward(dy, cache):
    """Backward of a 'valid' naive convolution: the same three loops, with += into dx and dkernel."""
    # TODO: x, kernel, (s, _) = cache["xp"], cache["params"]["kernel"], cache["geo"]["stride"];
    #       loop over (i, j, o) as in the forward pass and accumulate dx, dkernel; dbias = dy.sum(axis=(0, 1, 2))
    raise NotImplementedError


# %% [markdown]
# The grader checks your gradients against centred finite differences, for every entry of `x`, `kernel` and `bias`.

# %%
conv_backward = gradcheck.grade(
    "conv_backward", my_conv_backward, scratch_conv.conv_backward_naive,
    lambda f: {f"stride {s} {k}": v for s in (1, 2)
               for k, v in gradcheck.check_layer(scratch_conv.conv_forward_naive, f, x_c, p_c, stride=s).items()})

# %% [markdown]
# ### im2col, forward and backward, and the framework
# The im2col backward pass is the dense layer's two products (`dkernel = colsᵀ·dy`, `dcols = dy·kernelᵀ`) followed
# by **col2im**, which adds every row of `dcols` back onto the pixels it was copied from. The table checks the
# naive and im2col versions against finite differences and against `GradientTape` on Keras's `Conv2D` with the
# same weights, over strides, paddings, dilations and groups.

# %%
print(inspect.getsource(scratch_conv.col2im))

# %%
print("| stride | padding | dilation | groups | naive vs im2col | im2col vs finite diff. | im2col vs Keras Conv2D |"
      "\n|---:|---|---:|---:|---:|---:|---:|")
x_g = rng.normal(size=(2, 6, 6, 4))
for s, pad, d, g in [(1, "valid", 1, 1), (2, "same", 1, 1), (1, "same", 2, 1), (1, "valid", 1, 2), (2, "valid", 1, 4)]:
    p_g = {"kernel": rng.normal(size=(3, 3, 4 // g, 4)), "bias": rng.normal(size=4)}
    hyper = {"stride": s, "padding": pad, "dilation": d, "groups": g}
    y1, c1 = scratch_conv.conv_forward_naive(x_g, p_g, **hyper)
    y2, c2 = scratch_conv.conv_forward_im2col(x_g, p_g, **hyper)
    dy = rng.normal(size=y1.shape)
    agree = max(gradcheck.rel_error(a, b) for a, b in [(y1, y2), (scratch_conv.conv_backward_naive(dy, c1)[0],
                                                                   scratch_conv.conv_backward_im2col(dy, c2)[0])])
    fd = max(gradcheck.check_layer(scratch_conv.conv_forward_im2col, scratch_conv.conv_backward_im2col, x_g, p_g,
                                   **hyper).values())
    layer = keras.layers.Conv2D(4, 3, strides=s, padding=pad, dilation_rate=d, groups=g, dtype="float64")
    vs_keras = max(gradcheck.compare_with_keras(scratch_conv.conv_forward_im2col, scratch_conv.conv_backward_im2col,
                                                x_g, p_g, layer, **hyper).values())
    print(f"| {s} | {pad} | {d} | {g} | {agree:.0e} | {fd:.0e} | {vs_keras:.0e} |")
    assert agree < 1e-12 and fd < 1e-7 and vs_keras <= 1e-8

# %% [markdown]
# Finally the three styles: the raw `tf.nn.conv2d`, slim and Keras models above compute the same numbers, so the
# hand-written backward pass matches `GradientTape` on each of them (float32 here, so about 1e-6).

# %%
x32 = images.astype("float64")
p32 = {"kernel": filter_weight.numpy().astype("float64"), "bias": biases.numpy().astype("float64")}
y_s, cache_s = scratch_conv.conv_forward_im2col(x32, p32, padding="same")
dy_s = rng.normal(size=y_s.shape)
dx_s, dp_s = scratch_conv.conv_backward_im2col(dy_s, cache_s)
filter_var = tf.Variable(filter_weight)
styles = {"raw tf.nn": (lambda t: raw.conv2d(t, filter_var, biases, strides=1, padding="SAME"), filter_var),
          "slim": (slim_model, slim_model.get_layer("conv1_conv").kernel),
          "keras": (keras_model, keras_model.get_layer("conv1_conv").kernel)}
print("| style | dx rel. error | dkernel rel. error |\n|---|---:|---:|")
for style, (fn, kernel_var) in styles.items():
    xt = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = tf.reduce_sum(fn(xt) * tf.constant(dy_s, tf.float32))
    gx, gk = tape.gradient(out, [xt, kernel_var])
    ex, ek = gradcheck.rel_error(dx_s, gx.numpy()), gradcheck.rel_error(dp_s["kernel"], gk.numpy())
    print(f"| {style} | {ex:.0e} | {ek:.0e} |")
    assert ex < 1e-5 and ek < 1e-5

# %% [markdown]
# ## Exercises
# 1. Redo the first comparison with `strides=2, padding="VALID"`. Which output size do you expect?
# 2. Use `slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm)` and check that the conv layer loses its bias.
# 3. For a 224×224×64 input and 3×3×64×64 filters, how big is the im2col matrix? What does that say about memory?
# 4. Extend your `my_conv_forward` to `padding="same"` and `dilation=2`, and check it with
#    `gradcheck.check_layer(my_conv_forward, scratch_conv.conv_backward_naive, ...)` (your cache must then match
#    the library's).
