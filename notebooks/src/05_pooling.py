# %% [markdown]
# # 05 池化 / Pooling
#
# **What you will learn**
# - max pooling and average pooling, computed by hand on the notes' 4×4 example;
# - how pooling shrinks feature maps (and costs no parameters);
# - why it helps: a small shift of the input changes a pooled map less than an unpooled one;
# - overlapping pooling (AlexNet's 3×3 at stride 2) and global average pooling;
# - that pooling has no parameters but back-propagation still goes *through* it: the notes' claim, corrected with a
#   computation, and max pooling's backward pass written by you and checked numerically.

# %% setup

# %%
from tfcnn.layers import get_style

L = get_style("keras")

# %% [markdown]
# ## By hand
# 2×2 windows with stride 2 on a 4×4 input: max pooling keeps the largest value of each window, average pooling
# the mean.

# %%
x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float32)
inputs = keras.Input((4, 4, 1))
pools = keras.Model(inputs, [L.max_pool(inputs, 2, name="max"), L.avg_pool(inputs, 2, name="avg")])
mx, av = (p.numpy()[0, ..., 0] for p in pools(x[None, ..., None]))
print("input:\n", x, "\nmax pool:\n", mx, "\naverage pool:\n", av)
np.testing.assert_array_equal(mx, [[6, 8], [3, 4]])
np.testing.assert_array_equal(av, [[3.25, 5.25], [2, 2]])
assert pools.count_params() == 0

# %% [markdown]
# ## Output sizes
# Pooling uses the same size formula as convolution. The table lists the classic settings.

# %%
print("| input | window | stride | output |\n|---:|---:|---:|---:|")
for n, f, s in [(28, 2, 2), (224, 2, 2), (55, 3, 2), (13, 3, 2)]:
    out = analysis.conv_output_size(n, f, s)
    measured = L.max_pool(keras.Input((n, n, 1)), f, strides=s, name=f"p{n}").shape[1]
    assert out == measured
    print(f"| {n} | {f} | {s} | {out} |")

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「卷积中的重要参数」, under Pad: 「比如$8*8$大小的矩阵,卷积核的大小为$3*3$,那么经过pooling得到的Feature Map的大小为$6*6$,$8*8$和$6*6$相差不是整数倍!」 —
# > "an 8×8 matrix with a 3×3 kernel: after *pooling* the feature map is 6×6". 6×6 is what a 3×3 *convolution*
# > (stride 1, no padding) gives; pooling, used as it is (stride = window, or AlexNet's overlapping stride 2), gives
# > something else. Compute all of them with TensorFlow:

# %%
x8 = tf.random.uniform((1, 8, 8, 1))
conv_valid = tf.nn.conv2d(x8, tf.ones((3, 3, 1, 1)), 1, "VALID").shape[1]
conv_same = tf.nn.conv2d(x8, tf.ones((3, 3, 1, 1)), 1, "SAME").shape[1]
pooled = {s: tf.nn.max_pool2d(x8, 3, s, "VALID").shape[1] for s in (3, 2, 1)}
print(f"8x8 input | 3x3 conv VALID: {conv_valid}x{conv_valid} | 3x3 conv SAME (pad 1): {conv_same}x{conv_same}")
print("8x8 input | 3x3 max pool VALID, stride -> output:", {s: f"{o}x{o}" for s, o in pooled.items()})
print("8x8 SAME conv then 2x2/2 pool:", tf.nn.max_pool2d(tf.nn.conv2d(x8, tf.ones((3, 3, 1, 1)), 1, "SAME"), 2, 2,
                                                          "VALID").shape[1:3])
assert conv_valid == 6 and conv_same == 8 and pooled == {3: 2, 2: 3, 1: 6}
print("✓ 8x8 -> 6x6 is the VALID 3x3 convolution; 3x3 pooling gives 2x2 at stride 3 and 3x3 at stride 2 "
      "(6x6 only at stride 1, which no network in the notes uses)")

# %% [markdown]
# **Corrected.** The example belongs to convolution: a 3×3 convolution without padding turns 8×8 into 6×6
# (`(8 − 3)/1 + 1`), which is not an integer fraction of 8 — the notes' real point, and the reason for padding.
# With `P = 1` ("same") the convolution keeps 8×8, and a following 2×2/2 pooling halves it exactly to 4×4. Pooling
# itself follows the same formula: 3×3 windows at stride 3 give 2×2, at stride 2 (overlapping) 3×3.

# %% [markdown]
# ## Pooling a real feature map
# A digit goes through a 3×3 edge filter, then 2×2 max and average pooling.

# %%
from tfcnn.data import load_dataset, preprocess

data = load_dataset("digits")
digits = preprocess(data.x_test[: (64 if QUICK else 256)], (16, 16, 1))
edge = tf.constant([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], tf.float32)[:, :, None, None]
fmap = tf.nn.relu(tf.nn.conv2d(digits, edge, 1, "SAME"))
fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
for ax, (title, img) in zip(axes, [("digit 16x16", digits[0]), ("edges 16x16", fmap[0]),
                                   ("max pool 8x8", tf.nn.max_pool2d(fmap, 2, 2, "VALID")[0]),
                                   ("avg pool 8x8", tf.nn.avg_pool2d(fmap, 2, 2, "VALID")[0])]):
    ax.imshow(img[..., 0], cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Check: pooling makes features less sensitive to small shifts
# Shift every digit one pixel to the right and measure how much each representation changes (relative L2 change,
# averaged over the digits). Max pooling should change less than the raw feature map.

# %%
shifted = tf.roll(digits, shift=1, axis=2)


def relative_change(f):
    a, b = f(digits), f(shifted)
    return float(tf.reduce_mean(tf.norm(tf.reshape(a - b, (len(a), -1)), axis=1)
                                / (tf.norm(tf.reshape(a, (len(a), -1)), axis=1) + 1e-9)))


def features(x):
    return tf.nn.relu(tf.nn.conv2d(x, edge, 1, "SAME"))


changes = {
    "feature map": relative_change(features),
    "max pool 2x2": relative_change(lambda x: tf.nn.max_pool2d(features(x), 2, 2, "VALID")),
    "max pool 4x4": relative_change(lambda x: tf.nn.max_pool2d(features(x), 4, 4, "VALID")),
    "global max": relative_change(lambda x: tf.reduce_max(features(x), axis=(1, 2))),
}
print("| representation | relative change after a 1-pixel shift |\n|---|---:|")
for k, v in changes.items():
    print(f"| {k} | {v:.3f} |")
assert changes["max pool 2x2"] < changes["feature map"]
assert changes["global max"] < changes["max pool 4x4"] < changes["feature map"]

# %% [markdown]
# ## Overlapping pooling and global average pooling
# AlexNet pools 3×3 windows at stride 2, so neighbouring windows overlap by one row; modern nets end with global
# average pooling, one number per channel, which also frees the classifier from a fixed input size.

# %%
inp = keras.Input((None, None, 8))
gap = keras.Model(inp, L.global_pool(inp, name="gap"))
for size in (7, 13):
    out = gap(tf.random.uniform((1, size, size, 8)))
    print(f"global average pool of a {size}x{size}x8 map -> {tuple(out.shape)}")
    assert out.shape == (1, 8)
print("AlexNet overlap: 55 -> 3x3/2 ->", analysis.conv_output_size(55, 3, 2), "(vs 2x2/2 ->",
      analysis.conv_output_size(55, 2, 2), ")")

# %% [markdown]
# ## Back-propagation through pooling: the notes' claim, corrected

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「池化的基本概念」: 「注意: 池化层是没有参数的,所以进行BP的时候是无关池化层的事情!」
# >
# > ("Pooling has no parameters, so back-propagation has nothing to do with the pooling layer.") The first half is
# true (`count_params() == 0` above). The second is not: every layer *below* a pooling layer gets its gradient
# *through* it, and the pooling layer decides where it goes. Ask TensorFlow for the gradient of
# `sum(pool(x) * dy)` with respect to the notes' 4×4 input:

# %%
from tfcnn.scratch import gradcheck
from tfcnn.scratch import pool as scratch_pool

x4 = tf.constant(x[None, ..., None].astype("float64"))
dy4 = tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)[None, ..., None]
grads = {}
for kind, tf_pool in (("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)):
    with tf.GradientTape() as tape:
        tape.watch(x4)
        out = tf.reduce_sum(tf_pool(x4, 2, 2, "VALID") * dy4)
    grads[kind] = tape.gradient(out, x4).numpy()[0, ..., 0]
    print(f"d/dx of sum({kind}_pool(x) * dy), dy = [[1, 2], [3, 4]]:\n", grads[kind])
assert np.abs(grads["max"]).sum() > 0  # pooling is not transparent to BP: the gradient passes through it
np.testing.assert_array_equal(grads["max"], [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]])
np.testing.assert_array_equal(grads["avg"], np.kron([[1, 2], [3, 4]], np.full((2, 2), 0.25)))
print("✓ the gradient passes through pooling: max pooling routes each dy to its window's maximum, "
      "average pooling spreads it as 1/4")

# %% [markdown]
# **Corrected.** Pooling has no parameters, so there is nothing in it to *update*; but back-propagation must still
# pass through it, and how it does matters. Max pooling **routes** each output's gradient to the input that won its window (the arg-max: 6, 8, 3, 4) and
# gives 0 to the other three; average pooling **spreads** it, ¼ to each. Pooling has nothing to *learn*, but it
# shapes what everything before it learns — the check at the end of this chapter shows that a backward pass which
# forgets the routing is wrong by many orders of magnitude. (On a tie, TensorFlow gives the whole gradient to the first maximum in
# row-major order: the window `[[3, 2], [1, 2]]` is fine, but try `[[1, 1], [5, 6]]` with a 1 in two places.)
#
# ### Exercise: write max pooling's backward pass
# `tfcnn.scratch.pool.max_pool_forward(x, pool_size=2)` returns `(y, cache)`; `cache["argmax"][n, i, j, c]` is the
# position of the winner inside window `(i, j)`, counted row-major (0…3 for 2×2), `cache["geo"]["kernel"]` the
# window `(kh, kw)`, `cache["geo"]["stride"]` the stride `(sh, sw)`, `cache["geo"]["x_shape"]` the input's shape
# and `cache["geo"]["pads"]` the SAME padding `((top, bottom), (left, right))`, all 0 for `"valid"` (window
# positions count from the padded corner; a padded pixel is -inf, so it never wins). Return `dx` (the input's
# shape) and `{}` (no parameters).

# %% exercise max_pool_backward
def my_max_pool_backward(dy, cache):
    """Send dy[n, i, j, c] to the arg-max of window (i, j); every other input gets 0."""
    # TODO: dx = zeros of cache["geo"]["x_shape"]; for each (n, i, j, c): a, b = divmod(argmax, kw);
    #       dx[n, i*sh + a - top, j*sw + b - left, c] += dy[n, i, j, c]  (+=: overlapping windows share winners)
    raise NotImplementedError


# %% [markdown]
# The grader compares your gradient with centred finite differences `(f(x+h) − f(x−h)) / 2h` on random inputs,
# for non-overlapping (2×2/2) and overlapping (3×3/2) windows. If your cell is still a TODO, the notebook carries on
# with the reference `tfcnn.scratch.pool.max_pool_backward`.

# %%
rng = np.random.default_rng(0)
x_check = rng.normal(size=(2, 7, 7, 3))
max_pool_backward = gradcheck.grade(
    "max_pool_backward", my_max_pool_backward, scratch_pool.max_pool_backward,
    lambda f: {f"{k}x{k}/2": gradcheck.check_layer(scratch_pool.max_pool_forward, f, x_check,
                                                   pool_size=k, strides=2)["x"] for k in (2, 3)})

# %% [markdown]
# Now the same backward pass against TensorFlow's `GradientTape` on Keras's `MaxPooling2D` and
# `AveragePooling2D` (float64, same input, same upstream gradient), including SAME padding and ties:

# %%
cases = [("max", 2, 2, "valid"), ("max", 3, 2, "same"), ("max", 3, 1, "valid"), ("avg", 2, 2, "valid"),
         ("avg", 3, 2, "same")]
ties = rng.integers(0, 3, size=(2, 6, 6, 2)).astype("float64")  # small integers: many equal maxima
print("| pooling | window/stride | padding | input | forward rel. error | dx rel. error (vs TF) |\n|---|---|---|---|---:|---:|")
for kind, k, s, pad in cases:
    for label, inp in (("random", x_check), ("with ties", ties)):
        if kind == "avg" and label == "with ties":
            continue
        fwd, bwd, layer = ((scratch_pool.max_pool_forward, max_pool_backward, keras.layers.MaxPooling2D)
                           if kind == "max" else
                           (scratch_pool.avg_pool_forward, scratch_pool.avg_pool_backward, keras.layers.AveragePooling2D))
        errors = gradcheck.compare_with_keras(fwd, bwd, inp, None, layer(k, s, pad, dtype="float64"),
                                              pool_size=k, strides=s, padding=pad)
        print(f"| {kind} | {k}x{k}/{s} | {pad} | {label} | {errors['y']:.0e} | {errors['x']:.0e} |")
        assert max(errors.values()) <= 1e-8, errors

# %% [markdown]
# And the check is not vacuous: a backward pass that forgets the routing (spreading the gradient as if max pooling
# were average pooling) fails it by many orders of magnitude.

# %%
def unrouted_backward(dy, cache):
    geo = cache["geo"]
    return scratch_pool.avg_pool_backward(dy, {"geo": geo, "counts": np.full(geo["out"], 4.0),
                                               "padded_shape": cache["padded_shape"]})


wrong = gradcheck.check_layer(scratch_pool.max_pool_forward, unrouted_backward, x_check[:, :6, :6])["x"]
right = gradcheck.check_layer(scratch_pool.max_pool_forward, max_pool_backward, x_check[:, :6, :6])["x"]
print(f"relative error: routed {right:.1e}, not routed {wrong:.1e}")
assert right < 1e-7 and wrong > 0.1

# %% [markdown]
# ## Exercises
# 1. Repeat the shift experiment with average pooling. Is it more or less shift-tolerant than max pooling?
# 2. Replace the 2×2/2 pooling by a 3×3/2 (overlapping) pooling. What happens to the output size and the change?
# 3. Why does global average pooling let a network accept any input size? Try it on LeNet with
#    `tfcnn.create_model("lenet", include_top=False, pooling="avg", input_shape=(40, 40, 1))`.
# 4. Write `avg_pool_backward` yourself (the cache holds `counts`, the number of real pixels in each window) and
#    check it with `gradcheck.check_layer(scratch_pool.avg_pool_forward, your_function, x_check, padding="same")`.
