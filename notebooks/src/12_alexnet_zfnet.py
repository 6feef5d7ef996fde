# %% [markdown]
# # 12 AlexNet 与 ZFNet / AlexNet and ZFNet
#
# **What you will learn**
# - AlexNet (2012): five convolutions and three fully connected layers, ReLU, overlapping max pooling, dropout, and
#   local response normalisation (LRN) — checked against the paper's formula;
# - the two-GPU split: conv2, conv4 and conv5 see only their own GPU's half of the channels (`groups=2`), with
#   the kernel shapes and parameter counts that follow, and why a grouped convolution is two convolutions side by side;
# - ZFNet (2013): the same network with a 7×7/2 first layer instead of 11×11/4, motivated by *looking* at what the
#   layers see — deconvnet and guided-backpropagation reconstructions with `tfcnn.viz`;
# - ZFNet's other finding, measured on a trained model: deeper features change less when the input is shifted or
#   scaled a little.

# %% setup

# %% [markdown]
# ## Local response normalisation
# The paper (Sec. 3.3): `b_i = a_i / (k + α Σ_j a_j²)^β`, the sum running over the `n = 5` adjacent channels
# around `i`, with `k = 2, α = 1e-4, β = 0.75`. That is exactly `tf.nn.local_response_normalization` with
# `depth_radius = 2` (TensorFlow does not divide α by `n`; Caffe does). Recomputed here from the formula:

# %%
from tfcnn.models import alexnet as alexnet_module

params = alexnet_module.LRN_PARAMS
print("LRN_PARAMS =", params)
a = np.random.default_rng(0).normal(0, 30, size=(1, 4, 4, 16)).astype("float32")  # large, so LRN matters
n_half = params["depth_radius"]
b = np.empty_like(a)
for i in range(a.shape[-1]):
    window = a[..., max(0, i - n_half): i + n_half + 1]
    b[..., i] = a[..., i] / (params["bias"] + params["alpha"] * (window ** 2).sum(-1)) ** params["beta"]
inputs = keras.Input((4, 4, 16))
lrn_model = keras.Model(inputs, tfcnn.layers.get_style("keras").lrn(inputs, **params, name="conv1_lrn"))
layer_out = lrn_model(a).numpy()  # the layer AlexNet's builder puts after conv1 and conv2
print(f"max |formula - LRN layer| = {np.abs(b - layer_out).max():.1e}; mean |b / a| = {np.mean(np.abs(b / a)):.3f}")
np.testing.assert_allclose(b, layer_out, rtol=1e-5)
np.testing.assert_allclose(b, tf.nn.local_response_normalization(a, **params).numpy(), rtol=1e-5)

# %% [markdown]
# ## One tower or two GPUs: `groups=1` vs `groups=2`
# The paper trained on two GTX 580s with 3 GB each; conv2, conv4 and conv5 "take input only from those kernel maps
# in the previous layer which reside on the same GPU". In Keras that is a grouped convolution: `Conv2D(groups=2)`.
# Each grouped kernel sees half of the input channels, so its kernel is half as deep and the layer has half the
# weights and half the multiply-accumulates (MACs).

# %%
towers = {g: tfcnn.create_model("alexnet", groups=g) for g in (1, 2)}
summaries = {g: analysis.summarize(m) for g, m in towers.items()}
print("| layer | kernel, groups=1 | kernel, groups=2 | params 1 | params 2 | MACs 1 | MACs 2 |")
print("|---|---|---|---:|---:|---:|---:|")
for i in range(1, 6):
    name = f"conv{i}_conv"
    k1, k2 = (tuple(towers[g].get_layer(name).kernel.shape) for g in (1, 2))
    r1, r2 = (summaries[g].layer(name) for g in (1, 2))
    print(f"| {name} | {k1} | {k2} | {r1.params:,} | {r2.params:,} | {r1.macs / 1e6:.0f} M | {r2.macs / 1e6:.0f} M |")
    if i in (2, 4, 5):
        assert k2[2] * 2 == k1[2] and r2.macs * 2 == r1.macs
    else:
        assert k1 == k2
print(f"total: groups=1 {summaries[1].total_params:,}, groups=2 {summaries[2].total_params:,} "
      f"(the paper's '60 million'); FC share {100 * summaries[1].fc_share:.0f} %")
assert (summaries[1].total_params, summaries[2].total_params) == (62_378_344, 60_965_224)

# %% [markdown]
# A grouped convolution is two ordinary convolutions, each on its own half of the channels, concatenated: the
# two GPUs. Checked on conv4 of the two-GPU model with its real 13×13×384 input shape:

# %%
conv4 = towers[2].get_layer("conv4_conv")
w, bias = conv4.get_weights()
x = tf.random.normal((1, 13, 13, 384), seed=1)
gpu1 = tf.nn.conv2d(x[..., :192], w[..., :192], 1, "SAME")
gpu2 = tf.nn.conv2d(x[..., 192:], w[..., 192:], 1, "SAME")
diff = float(tf.reduce_max(tf.abs(conv4(x) - (tf.concat([gpu1, gpu2], -1) + bias))))
print(f"kernel {w.shape}: max |grouped conv - two towers| = {diff:.1e}")
assert diff < 1e-3

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「AlexNet」: 「AlexNet在设计的时候,每一个卷积之后,都会配有relu,pooling,LRN三个层。」 — "in AlexNet every
# > convolution is followed by ReLU, pooling and LRN". Only ReLU follows all five. Read what comes after each
# > convolution, up to the next one, from the model's layers:

# %%
after, current = {}, None
for layer in towers[1].layers:
    if isinstance(layer, keras.layers.Conv2D):
        current = layer.name.replace("_conv", "")
        after[current] = []
    elif isinstance(layer, keras.layers.Flatten):
        break
    elif current:
        after[current].append(layer.name.replace(f"{current}_", "").rstrip("0123456789"))
print("| conv | followed by |\n|---|---|")
for conv, ops in after.items():
    print(f"| {conv} | {' → '.join(ops)} |")
assert all(ops[0] == "relu" for ops in after.values())
assert [c for c, ops in after.items() if "lrn" in ops] == ["conv1", "conv2"]
assert [c for c, ops in after.items() if "pool" in ops] == ["conv1", "conv2", "conv5"]
assert after["conv1"] == after["conv2"] == ["relu", "lrn", "pool"]
print("✓ ReLU after all five convolutions, LRN only after conv1 and conv2, max pooling only after conv1, conv2 and "
      "conv5 (and LRN comes before the pooling)")

# %% [markdown]
# **Corrected.** As Krizhevsky et al. (2012, §3.5) put it: "Response-normalization layers follow the first and
# second convolutional layers. Max-pooling layers … follow both response-normalization layers as well as the fifth
# convolutional layer. The ReLU non-linearity is applied to the output of every convolutional and fully-connected
# layer." So: conv1 and conv2 are `conv → ReLU → LRN → pool`, conv3 and conv4 are `conv → ReLU`, conv5 is
# `conv → ReLU → pool` — three pools and two LRNs, not five of each, and the order is LRN then pooling (the notes'
# heading 「conv-relu-pooling-LRN」 swaps them).

# %% [markdown]
# ## ZFNet: a smaller first stride
# Zeiler and Fergus visualised AlexNet's first layers and saw dead filters and aliasing from the 11×11 kernels at
# stride 4. ZFNet uses 7×7 at stride 2 (and stride 2 in conv2), so the early maps are finer. Output sizes and
# receptive fields from `analysis.summarize`:

# %%
zf = analysis.summarize(tfcnn.create_model("zfnet"))
print("| layer | AlexNet output | AlexNet RF | ZFNet output | ZFNet RF |\n|---|---|---:|---|---:|")
for name in ("conv1_conv", "pool1", "conv2_conv", "pool2", "conv5_conv", "pool5"):
    ra, rz = summaries[1].layer(name), zf.layer(name)
    print(f"| {name} | {ra.output_shape} | {ra.receptive_field[0]} | {rz.output_shape} | {rz.receptive_field[0]} |")
assert zf.layer("conv1_conv").params == analysis.conv_params(7, 3, 96) == 14_208
assert summaries[1].layer("conv1_conv").params == analysis.conv_params(11, 3, 96) == 34_944
assert zf.layer("conv1_conv").output_shape == (110, 110, 96)
assert zf.layer("pool5").output_shape == summaries[1].layer("pool5").output_shape == (6, 6, 256)

# %% [markdown]
# ## A short training run
# To look inside a *trained* network cheaply, tfcnn's AlexNet (the real layers: 11×11/4, LRN, overlapping pools)
# is built at 64×64×1 without its 4096-wide classifier; a global average pool and a 10-way `Dense` go on top, still
# one flat model. It trains on real MNIST digits (resized to 64×64) for two epochs in quick mode.

# %%
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("mnist-t10k")  # real MNIST digits bundled with tfcnn: 8,000 train / 2,000 test
keras.utils.set_random_seed(0)
base = tfcnn.create_model("alexnet", input_shape=(64, 64, 1), include_top=False, pooling="avg")
model = keras.Model(base.input, keras.layers.Dense(10, name="logits")(base.output), name="alexnet_64")
n_train, epochs = (2000, 2) if QUICK else (len(data.x_train), 6)
shape = (64, 64, 1)
train_ds = make_pipeline(data.x_train[:n_train], data.y_train[:n_train], shape, batch_size=64, training=True)
x_test = preprocess(data.x_test[:300], shape).numpy()
y_test = data.y_test[:300]
model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history = model.fit(train_ds, epochs=epochs, verbose=0).history
test_acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
print(f"{model.count_params():,} parameters; training accuracy {history['accuracy'][-1]:.3f}, "
      f"hold-out accuracy {test_acc:.3f} (300 images)")
assert test_acc > 0.5  # far above chance (0.1); the pictures below are of a network that has learned something

# %% [markdown]
# ## What a unit sees: deconvnet and guided backpropagation
# ZFNet's deconvnet keeps one activation, zeros the rest and sends it back to the pixels: through transposed
# convolutions, through max pooling's "switches", and rectifying at every ReLU. Guided backpropagation also masks
# by where the forward ReLU was on, which gives sharper pictures. `viz.plot_deconv` shows the six most active
# units of a layer for one digit.

# %%
digit = x_test[0]
for layer in ("conv1_conv", "conv2_conv", "conv5_conv"):
    viz.plot_deconv(model, digit, layer, top=6)
    plt.show()
viz.plot_deconv(model, digit, "conv5_conv", top=6, mode="deconv")
plt.show()

# %% [markdown]
# A reconstruction can be non-zero only inside the unit's receptive field: conv1 sees 11×11 pixels, conv2 51×51,
# conv5 more than the whole 64×64 image. The measured extent of each reconstruction:

# %%
summary = analysis.summarize(model)
print("| layer | receptive field | reconstruction extent (rows x cols) |\n|---|---:|---|")
for layer in ("conv1_conv", "conv2_conv", "conv3_conv", "conv5_conv"):
    rec = viz.deconv_reconstruction(model, digit, layer)
    rows, cols = np.nonzero(np.abs(rec[..., 0]) > 0)
    extent = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    rf = summary.layer(layer).receptive_field
    print(f"| {layer} | {rf[0]} | {extent[0]} x {extent[1]} |")
    assert extent[0] <= min(rf[0], 64) and extent[1] <= min(rf[1], 64)

# %% [markdown]
# ## Deeper features are more stable
# ZFNet's Fig. 5 shifts, scales and rotates images and measures how far each layer's feature vector moves. Here:
# the relative change `‖φ(x') − φ(x)‖ / ‖φ(x)‖`, averaged over 300 hold-out digits, for shifts of 1, 2 and 4 pixels
# (MNIST digits have an empty border, so rolling the image is a shift) and a 10 % zoom.

# %%
from tfcnn.models._common import feature_extractor

layers = ["conv1_relu", "conv2_relu", "conv3_relu", "conv4_relu", "conv5_relu", "avg_pool", "logits"]
features = feature_extractor(model, layers)


def relative_change(x, x_moved):
    before, after = features(x), features(x_moved)
    return [float(np.mean(np.linalg.norm(np.reshape(b - a, (len(x), -1)), axis=1)
                          / np.linalg.norm(np.reshape(a, (len(x), -1)), axis=1))) for a, b in zip(before, after)]


moves = {f"shift {s}px": np.roll(x_test, s, axis=2) for s in (1, 2, 4)}
moves["zoom 1.1x"] = tf.image.resize(tf.image.central_crop(x_test, 1 / 1.1), shape[:2]).numpy()
changes = {name: relative_change(x_test, moved) for name, moved in moves.items()}
print("| transform | " + " | ".join(layers) + " |\n|---|" + "---:|" * len(layers))
for name, values in changes.items():
    print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
fig, ax = plt.subplots(figsize=(6, 3))
for name, values in changes.items():
    ax.plot(layers, values, marker="o", label=name)
ax.set_ylabel("relative change of the feature")
ax.tick_params(axis="x", labelsize=7)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# **Check.** From conv1 to the pooled conv5 feature the change shrinks at every layer, for every transform, and the
# pooled feature moves several times less than conv1. (The logits move a little more than the pooled feature: the
# classifier amplifies the directions that matter for the class, as in ZFNet's figure, where the output
# probabilities react most to rotation.)

# %%
for name, values in changes.items():
    conv_to_pool = values[: layers.index("avg_pool") + 1]
    assert all(a > b for a, b in zip(conv_to_pool, conv_to_pool[1:])), (name, conv_to_pool)
    assert values[0] > 3 * values[layers.index("avg_pool")], name

# %% [markdown]
# ## Exercises
# 1. Train the same 64×64 model with `groups=2`. Does the split cost accuracy? Compare the kernels of conv2 with
#    `viz.plot_filters`: the paper saw one GPU learn colour-agnostic and the other colour-specific filters.
# 2. Build ZFNet at 64×64 the same way and compare conv1 filters after training with AlexNet's: which has more
#    dead (near-zero) filters?
# 3. Add a rotation of 10° to the stability table (`tf.image.rot90` is too coarse; try
#    `keras.layers.RandomRotation` with a fixed factor). Which layer reacts most?
