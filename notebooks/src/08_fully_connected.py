# %% [markdown]
# # 08 全连接层 / Fully connected layers
#
# **What you will learn**
# - flatten + dense: every output sees every input, `in · out + out` parameters;
# - a fully connected layer on a `k×k×C` map *is* a `k×k` convolution with `valid` padding, and a dense layer on a
#   vector is a 1×1 convolution;
# - what that buys: the convolutional version accepts larger inputs and slides the classifier over them;
# - where the parameters of VGG-16 live (mostly in the fully connected layers).

# %% setup

# %%
from tfcnn.layers import get_style

L = get_style("keras")

# %% [markdown]
# ## Flatten + Dense on a 4×4×8 feature map

# %%
inputs = keras.Input((4, 4, 8))
fc_model = keras.Model(inputs, L.dense(L.flatten(inputs, name="flatten"), 10, name="fc"))
print("flatten:", fc_model.get_layer("flatten").output_shape, "| fc params:", fc_model.get_layer("fc").count_params())
assert fc_model.get_layer("fc").count_params() == analysis.dense_params(4 * 4 * 8, 10)

# %% [markdown]
# ## Check: the same layer as a 4×4 convolution
# Reshape the dense kernel `[4·4·8, 10]` into a conv kernel `[4, 4, 8, 10]` (flatten order is row, column,
# channel — the same as a conv kernel's). The outputs agree.

# %%
conv_in = keras.Input((None, None, 8))
conv_model = keras.Model(conv_in, L.conv_bn(conv_in, 10, 4, padding="valid", use_bn=False, use_bias=True,
                                            activation=None, name="fc_as"))
kernel, bias = fc_model.get_layer("fc").get_weights()
conv_model.get_layer("fc_as_conv").set_weights([kernel.reshape(4, 4, 8, 10), bias])
x = tf.random.uniform((5, 4, 4, 8), seed=0)
d = float(tf.reduce_max(tf.abs(fc_model(x) - conv_model(x)[:, 0, 0, :])))
print(f"max |dense - conv| = {d:.1e}")
assert d < 1e-5

# %% [markdown]
# ## What that buys: any input size
# The dense model only accepts 4×4 inputs. The convolutional one accepts a 6×6 map and returns a 3×3 grid of
# class scores: the classifier applied to every 4×4 window, computed in one pass with shared work (OverFeat, FCN).

# %%
big = tf.random.uniform((1, 6, 6, 8), seed=1)
grid = conv_model(big)
print("6x6 input ->", tuple(grid.shape))
for i in range(3):
    for j in range(3):
        window = big[:, i:i + 4, j:j + 4, :]
        np.testing.assert_allclose(grid[0, i, j], fc_model(window)[0], atol=1e-5)
print("each of the 3x3 outputs equals the dense classifier on its 4x4 window")
try:
    fc_model(big)
except Exception as err:  # noqa: BLE001  (the point: the dense model refuses other sizes)
    print("dense model on 6x6:", type(err).__name__)

# %% [markdown]
# ## 1×1 convolution = a dense layer on every pixel

# %%
pix = keras.Input((None, None, 8))
one_by_one = keras.Model(pix, L.conv_bn(pix, 3, 1, use_bn=False, use_bias=True, activation=None, name="p"))
w1, b1 = one_by_one.get_layer("p_conv").get_weights()
np.testing.assert_allclose(one_by_one(big)[0], tf.tensordot(big[0], w1[0, 0], 1) + b1, atol=1e-5)
print("1x1 conv == x @ W + b at every position; params:", one_by_one.count_params(), "=",
      analysis.conv_params(1, 8, 3))

# %% [markdown]
# ## Where the parameters of VGG-16 live
# The table of VGG-16 (configuration D) recomputed with `tfcnn.analysis`: 13 conv layers hold about 15 M
# parameters, the three fully connected layers about 124 M of the 138 M.

# %%
VGG16_D = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]  # (filters, convs) per stage, all 3x3
rows, c_in, size = [], 3, 224
for stage, (filters, n) in enumerate(VGG16_D, start=1):
    params = sum(analysis.conv_params(3, c_in if i == 0 else filters, filters) for i in range(n))
    rows.append((f"conv{stage} ({n}x conv3-{filters})", params))
    c_in, size = filters, analysis.conv_output_size(size, 2, 2)
fc_in = size * size * c_in
for name, n_in, n_out in (("fc6", fc_in, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 1000)):
    rows.append((f"{name} ({n_in:,} -> {n_out})", analysis.dense_params(n_in, n_out)))
total = sum(p for _, p in rows)
conv_total = sum(p for n, p in rows if n.startswith("conv"))
print("| layer | params | share |\n|---|---:|---:|")
for name, p in rows:
    print(f"| {name} | {p:,} | {p / total:.1%} |")
print(f"| total | {total:,} | |")
assert total == 138_357_544  # VGG-16 as published
assert (total - conv_total) / total > 0.89
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.bar([n.split(" ")[0] for n, _ in rows], [p / 1e6 for _, p in rows])
ax.set_ylabel("parameters (M)")
ax.set_title("VGG-16: most parameters are in fc6")
plt.show()

# %% [markdown]
# ## Exercises
# 1. Replace VGG-16's `fc6` by a 7×7 convolution with 4096 filters. How many parameters does it have?
# 2. Replace flatten + fc6 by global average pooling + a dense layer to 4096 (as later nets do). How many
#    parameters are saved?
# 3. Rebuild `conv_model` for a 5×5 input. What output shape do you expect?
