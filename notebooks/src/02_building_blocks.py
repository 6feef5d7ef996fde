# %% [markdown]
# # 02 重要组成单元 / The building blocks
#
# **What you will learn**
# - the layers every CNN is made of: convolution, batch normalisation, activation, pooling, flatten,
#   fully connected, dropout, and softmax with a loss;
# - what each one does to the shape of the data and how many parameters it owns;
# - how `tfcnn` writes them once through a *style façade* (`conv_bn`, `max_pool`, `dense`, ...), so the same
#   network can be realised with raw `tf.nn`, slim-style or Keras layers.

# %% setup

# %% [markdown]
# ## The façade
# A network in `tfcnn` is a function that calls `L.conv_bn`, `L.max_pool`, `L.dense`, ... on a Keras tensor, where
# `L = tfcnn.layers.get_style(style)`. Here is the Keras version of the most common block, conv → BN → activation,
# printed from the library itself:

# %%
from tfcnn.layers import FACADE, get_style

print("façade:", ", ".join(FACADE))
L = get_style("keras")
print(inspect.getsource(L.conv_bn))

# %% [markdown]
# ## A small CNN, one block of each kind
# conv(16, 3×3) → BN → ReLU → max-pool → conv(32) → BN → ReLU → global average pool → dropout → dense → softmax.

# %%
def tiny_cnn(style="keras"):
    L = get_style(style)
    inputs = x = keras.Input((8, 8, 1), name="input")
    x = L.conv_bn(x, 16, 3, name="block1")       # block1_conv, block1_bn, block1_relu
    x = L.max_pool(x, 2, name="pool1")
    x = L.conv_bn(x, 32, 3, name="block2")
    x = L.flatten(x, name="flatten")
    x = L.dropout(x, 0.3, name="dropout")
    x = L.dense(x, 10, name="logits")
    return keras.Model(inputs, x, name=f"tiny_{style}")


model = tiny_cnn()
rows = []
for layer in model.layers[1:]:
    rows.append((layer.name, type(layer).__name__, layer.output_shape[1:], layer.count_params()))
print(f"{'layer':<14}{'type':<22}{'output':<16}{'params':>7}")
for name, kind, shape, params in rows:
    print(f"{name:<14}{kind:<22}{str(shape):<16}{params:>7,}")

# %% [markdown]
# ## Check: every parameter count follows from a formula
# A conv layer owns `F·F·C_in·K` weights (+ `K` biases unless BN follows); BN owns 4 numbers per channel
# (γ and β are trained, the moving mean and variance are not); a dense layer owns `in·out + out`.
# Pooling, activation, flatten and dropout own nothing.

# %%
expected = {
    "block1_conv": analysis.conv_params(3, 1, 16, use_bias=False),
    "block1_bn": 4 * 16,
    "block2_conv": analysis.conv_params(3, 16, 32, use_bias=False),
    "block2_bn": 4 * 32,
    "logits": analysis.dense_params(4 * 4 * 32, 10),
}
print("| layer | formula | Keras |\n|---|---:|---:|")
for name, count in expected.items():
    print(f"| {name} | {count:,} | {model.get_layer(name).count_params():,} |")
    assert model.get_layer(name).count_params() == count
for name in ("block1_relu", "pool1", "flatten", "dropout"):
    assert model.get_layer(name).count_params() == 0
assert model.count_params() == sum(expected.values())

# %% [markdown]
# ## What each block does to one image
# The digit passes through every layer; the feature maps shrink in space and grow in depth.

# %%
from tfcnn.data import load_dataset

data = load_dataset("digits")
image = data.x_test[0]
for name in ("block1_relu", "pool1", "block2_relu"):
    print(name, viz.feature_maps(model, name, image).shape)
viz.plot_feature_maps(model, "block1_relu", image, max_maps=15)
plt.show()

# %% [markdown]
# ## Softmax and the loss
# The last layer outputs **logits**; softmax turns them into probabilities that sum to one, and cross-entropy is
# `-log` of the probability given to the true class (chapter 10 has more).

# %%
logits = model(image[None].astype("float32") / 255.0, training=False)
probs = tf.nn.softmax(logits).numpy()[0]
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)([data.y_test[0]], logits).numpy()
print("probabilities:", np.round(probs, 3))
assert abs(probs.sum() - 1) < 1e-6
assert abs(loss - (-np.log(probs[data.y_test[0]]))) < 1e-5

# %% [markdown]
# ## Dropout behaves differently in training and inference
# In training (`training=True`) dropout zeroes units at random and scales the rest by `1/(1-rate)`; at inference it
# is the identity. BN also switches: batch statistics in training, moving averages at inference.

# %%
flat = viz.feature_maps(model, "flatten", image)
drop = model.get_layer("dropout")
train_out = drop(flat[None], training=True).numpy()[0]
infer_out = drop(flat[None], training=False).numpy()[0]
kept = train_out != 0
print(f"kept {kept.mean():.2f} of the units in training; scale of the kept ones: "
      f"{(train_out[kept] / flat[kept]).mean():.3f} = 1/(1-0.3) = {1 / 0.7:.3f}")
np.testing.assert_allclose(infer_out, flat)
np.testing.assert_allclose(train_out[kept], flat[kept] / 0.7, rtol=1e-5)

# %% [markdown]
# ## The same network in three styles
# Because the façade gives identical layer names and weight shapes, weights copy across styles by name and the
# outputs agree (chapter 04 shows the three styles in detail).

# %%
from tfcnn.models._common import copy_weights

x = data.x_test[:16].astype("float32") / 255.0
outputs = {}
for style in ("keras", "slim", "raw"):
    other = tiny_cnn(style)
    copy_weights(model, other)
    outputs[style] = other(x, training=False).numpy()
for style in ("slim", "raw"):
    diff = np.abs(outputs[style] - outputs["keras"]).max()
    print(f"max |{style} - keras| = {diff:.2e}")
    assert diff < 1e-4

# %% [markdown]
# ## Exercises
# 1. Add `L.avg_pool(x, 2, name="pool2")` after `block2`. Which parameter counts change, and by how much?
# 2. Set `use_bn=False` in `block1`: the conv layer gains 16 parameters. Why exactly 16?
# 3. Print `inspect.getsource(get_style("raw").conv_bn)` and compare it line by line with the Keras version.
