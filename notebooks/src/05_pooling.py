# %% [markdown]
# # 05 池化 / Pooling
#
# **What you will learn**
# - max pooling and average pooling, computed by hand on the notes' 4×4 example;
# - how pooling shrinks feature maps (and costs no parameters);
# - why it helps: a small shift of the input changes a pooled map less than an unpooled one;
# - overlapping pooling (AlexNet's 3×3 at stride 2) and global average pooling.

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
# ## Exercises
# 1. Repeat the shift experiment with average pooling. Is it more or less shift-tolerant than max pooling?
# 2. Replace the 2×2/2 pooling by a 3×3/2 (overlapping) pooling. What happens to the output size and the change?
# 3. Why does global average pooling let a network accept any input size? Try it on LeNet with
#    `tfcnn.create_model("lenet", include_top=False, pooling="avg", input_shape=(40, 40, 1))`.
