# %% [markdown]
# # 18 Attention / Attention in CNNs: SE, residual attention, CBAM and ECA
#
# **What you will learn**
# - squeeze-and-excitation (SE, Hu et al. 2017): global pooling "squeezes" each channel to one number, two small FC
#   layers and a sigmoid "excite" a gate per channel, and the channels are rescaled — attention over *channels*;
# - the Residual Attention Network (Wang et al. 2017): a bottom-up/top-down mask branch produces a soft mask `M` the
#   size of the trunk's feature map, and the module outputs `(1 + M) · T` — attention over *positions* (and channels);
# - CBAM (Woo et al. 2018): an SE-like channel gate followed by a spatial mask of one value per position, trained
#   on digits and drawn over them next to the untrained network's mask;
# - ECA (Wang et al. 2020): SE's two FC layers replaced by a 1-D convolution of `k` weights across channels;
# - what they cost (gate by gate and `se_resnet50`, `cbam_resnet50`, `eca_resnet50` vs `resnet50`, `attention56`),
#   and what the learned gates and masks look like on real digits, drawn with `tfcnn.viz`.

# %% setup

# %% [markdown]
# ## Squeeze and excitation
# The block as the library builds it (`tfcnn.models._common.squeeze_excite`; `se_resnet50` calls it with
# `squeeze_channels = C / 16` inside every residual block, MobileNet v3 and GhostNet with a hard-sigmoid gate):

# %%
from tfcnn.layers import get_style
from tfcnn.models import attention as attention_module
from tfcnn.models import resnet as resnet_module

print(inspect.getsource(tfcnn.models._common.squeeze_excite))

# %% [markdown]
# SE costs parameters (two FC layers per block) but almost no computation: the FC layers run on a 1×1 map.

# %%
plain = analysis.summarize(tfcnn.create_model("resnet50", variant="paper"))
se = analysis.summarize(tfcnn.create_model("se_resnet50"))
print("| model | params | MACs |\n|---|---:|---:|")
for s in (plain, se):
    print(f"| {s.model_name} | {s.total_params / 1e6:.2f} M | {s.total_macs / 1e9:.3f} G |")
extra_p, extra_m = se.total_params / plain.total_params - 1, se.total_macs / plain.total_macs - 1
print(f"SE adds {100 * extra_p:.1f} % parameters and {100 * extra_m:.2f} % MACs (paper: 28.1 M vs 25.6 M, "
      "3.87 vs 3.86 GFLOPs)")
assert 0.08 < extra_p < 0.12 and extra_m < 0.01
keras.backend.clear_session()

# %% [markdown]
# ## A small SE network on real digits
# Three basic residual blocks with SE (reduction 4) from the library's `basic_block` (its `attend=` argument takes
# the gate `resnet.attention_gate("se", L=L, reduction=4)` returns), trained on MNIST digits at
# 32×32 (quick mode: 2,000 images, 3 epochs).

# %%
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("mnist-t10k")  # real MNIST digits bundled with tfcnn: 8,000 train / 2,000 test
SHAPE = (32, 32, 1)
n_train, epochs = (2000, 3) if QUICK else (len(data.x_train), 6)
train_ds = make_pipeline(data.x_train[:n_train], data.y_train[:n_train], SHAPE, batch_size=64, training=True)
x_test = preprocess(data.x_test[:500], SHAPE).numpy()
y_test = data.y_test[:500]
L = get_style("keras")


def compile_and_fit(model):
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(train_ds, epochs=epochs, verbose=0)
    acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), -1) == y_test))
    print(f"{model.name}: {model.count_params():,} parameters, hold-out accuracy {acc:.3f} (500 images)")
    return acc


def small_attention_resnet(attention, name):
    """A stem and three of the library's basic residual blocks, each gated by ``attention`` ('se', 'cbam', ...)."""
    keras.utils.set_random_seed(0)
    inputs = x = keras.Input(SHAPE)
    x = L.conv_bn(x, 32, 3, strides=2, name="stem")
    for b, (filters, strides) in enumerate([(32, 1), (64, 2), (64, 1)], start=1):
        x = resnet_module.basic_block(x, L, filters, strides=strides, conv_bias=False, bn_epsilon=1e-5,
                                      attend=resnet_module.attention_gate(attention, L=L, reduction=4),
                                      weight_decay=None, name=f"block{b}")
    x = L.global_pool(x, name="avg_pool")
    return keras.Model(inputs, L.dense(x, 10, name="logits"), name=name)


se_net = small_attention_resnet("se", "small_se_resnet")
se_acc = compile_and_fit(se_net)
assert se_acc > 0.7

# %% [markdown]
# **Check: the block does what the formula says.** The gates (`*_se_expand_sigmoid`, one per channel, in (0, 1))
# multiply the residual branch's output channel by channel to give `*_se_excite`.

# %%
from tfcnn.models._common import feature_extractor

digit = x_test[:1]
branch, gates, excited = feature_extractor(
    se_net, ["block3_2_bn", "block3_se_expand_sigmoid", "block3_se_excite"])(digit)
print("branch", branch.shape, "| gates", gates.shape, "| excited", excited.shape)
np.testing.assert_allclose(excited, branch * gates, rtol=1e-5, atol=1e-6)
w = viz.attention_weights(se_net, digit, "block3_se_expand_sigmoid")
assert w.shape == (64,) and (w > 0).all() and (w <= 1).all()  # a sigmoid gate can saturate to 1.0 in float32

# %% [markdown]
# The gates of each block for one digit (`viz.plot_attention` draws channel gates as bars):

# %%
se_layers = [f"block{b}_se_expand_sigmoid" for b in (1, 2, 3)]
viz.plot_attention(se_net, digit, se_layers)
plt.show()

# %% [markdown]
# Hu et al. found that early SE gates are much the same for every class and late ones class-specific. The mean gate
# of each channel per class, for the first and last block, and how much the per-class profiles differ
# (standard deviation across classes, averaged over channels):

# %%
gates_by_block = feature_extractor(se_net, se_layers)(x_test)
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
spread = {}
for ax, name, g in zip(axes, (se_layers[0], se_layers[-1]), (gates_by_block[0], gates_by_block[-1])):
    g = np.reshape(g, (len(x_test), -1))
    per_class = np.stack([g[y_test == k].mean(0) for k in range(10)])
    spread[name] = float(per_class.std(0).mean())
    image = ax.imshow(per_class, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="mean gate")
    ax.set_title(f"{name}: spread across classes {spread[name]:.3f}", fontsize=9)
    ax.set_xlabel("channel")
    ax.set_ylabel("class")
plt.show()
print({k: round(v, 3) for k, v in spread.items()})
assert spread[se_layers[-1]] > spread[se_layers[0]]  # the last block's gates depend more on the class

# %% [markdown]
# ## Hard and soft attention
# The notes name the two kinds by their masks: “Hard-Attention:0/1这样的mask” and “Soft-Attention:0~1这样的mask”
# (section 卷积神经网络中的Attention机制). The difference decides how a mask can be learned. A soft mask
# $m = \sigma(z)$ has the derivative $\sigma(z)(1 - \sigma(z)) > 0$, so backpropagation reaches the layers that
# compute $z$; a hard mask $m = [z > 0]$ is a step function whose derivative is zero wherever it exists. The same
# feature map weighted both ways, with the gradient of a loss with respect to the mask's logits:

# %%
z = tf.Variable(tf.random.stateless_normal((1, 6, 6, 1), seed=(SEED, 0)))
features = tf.random.stateless_uniform((1, 6, 6, 4), seed=(SEED, 1))
with tf.GradientTape(persistent=True) as tape:
    soft = tf.sigmoid(z)
    hard = tf.cast(z > 0, tf.float32)
    loss_soft = tf.reduce_sum(soft * features)
    loss_hard = tf.reduce_sum(hard * features)
g_soft, g_hard = tape.gradient(loss_soft, z), tape.gradient(loss_hard, z)
print(f"soft mask values in ({float(tf.reduce_min(soft)):.3f}, {float(tf.reduce_max(soft)):.3f}); "
      f"hard mask values {sorted(set(np.unique(hard.numpy()).tolist()))}")
print(f"d loss / d z: soft mask, mean |g| = {float(tf.reduce_mean(tf.abs(g_soft))):.3f}; hard mask: {g_hard}")
assert 0 < float(tf.reduce_min(soft)) and float(tf.reduce_max(soft)) < 1
assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
assert g_hard is None and float(tf.reduce_min(tf.abs(g_soft))) > 0
print("✓ a soft mask passes a gradient to every logit; a hard 0/1 mask passes none")

# %% [markdown]
# That is why the attention of SE and of the Residual Attention Network is soft: it trains with the rest of the
# network by backpropagation. Hard attention (choosing where to look, e.g. a crop) needs other tools — sampling
# with the REINFORCE estimator, or a straight-through estimator that pretends the step had a gradient.

# %% [markdown]
# ## Residual attention: a soft mask over positions
# The module, as the library builds it (trunk of `t = 2` units; mask branch of max pools, units, bilinear
# up-sampling and skip connections, ending in a sigmoid; output `trunk + mask · trunk`):

# %%
print(inspect.getsource(attention_module.attention_module))
big = tfcnn.create_model("attention56")
masks = attention_module.mask_layer_names(big)
print(f"attention56: {big.count_params():,} parameters; masks {masks}")
assert len(masks) == 3 and big.get_layer(masks[0]).output_shape == (None, 56, 56, 256)
del big
keras.backend.clear_session()

# %% [markdown]
# A small network with one attention module (two pooling levels in its mask) trained on the same digits:

# %%
keras.utils.set_random_seed(0)
inputs = x = keras.Input(SHAPE)
x = L.conv_bn(x, 32, 3, strides=2, name="stem")
x = attention_module.residual_unit(x, L, 64, name="unit1")
x = attention_module.attention_module(x, L, 64, 2, name="attention1")
x = L.bn_act(x, name="post")
x = L.global_pool(x, name="avg_pool")
att_net = keras.Model(inputs, L.dense(x, 10, name="logits"), name="small_attention_net")
att_acc = compile_and_fit(att_net)
assert att_acc > 0.7

# %% [markdown]
# **Check: `(1 + M) · T`.** The module's output equals the trunk times one plus the mask, element by element.

# %%
trunk, mask, attended = feature_extractor(
    att_net, ["attention1_trunk_2_add", "attention1_mask_sigmoid", "attention1_attend"])(digit)
np.testing.assert_allclose(attended, (1 + mask) * trunk, rtol=1e-4, atol=1e-5)
print("mask", mask.shape, f"in ({float(np.min(mask)):.3f}, {float(np.max(mask)):.3f}); "
      f"max |attend - (1+M)T| = {float(np.max(np.abs(attended - (1 + mask) * trunk))):.1e}")

# %% [markdown]
# The mask (mean over its 64 channels) laid over four hold-out digits by `viz.plot_attention`, and how much of the
# mask's weight falls on the digit's strokes compared with the background:

# %%
for i in range(4):
    viz.plot_attention(att_net, x_test[i], "attention1_mask_sigmoid")
    plt.show()
mask_maps = feature_extractor(att_net, "attention1_mask_sigmoid")(x_test).numpy().mean(-1)
ink = tf.image.resize(x_test, mask_maps.shape[1:3]).numpy()[..., 0] > 0.3
on, off = mask_maps[ink].mean(), mask_maps[~ink].mean()
print(f"mean mask on strokes {on:.3f}, on background {off:.3f} (500 digits)")

# %% [markdown]
# Nothing forces the mask to highlight the object: it is learned for the classification loss, not for segmentation,
# and with `(1 + M)` it can only amplify features, never switch them off. The two numbers above say which way this
# one went; the 56×56 masks of a trained `attention56` on ImageNet are where the paper's pictures come from.

# %% [markdown]
# ## CBAM: a channel gate, then a spatial mask
# “attention就是对图像相应位置进行不同程度的加权,” (section 卷积神经网络中的Attention机制). CBAM (Woo et al. 2018)
# does both kinds of weighting in one block: an SE-like channel gate that pools each channel by its mean *and* its
# maximum through one shared MLP, then a spatial mask $M_s = \sigma(\mathrm{BN}(\mathrm{conv}_{7\times 7}([\mathrm{mean}_c F; \max_c F])))$
# of size $H \times W \times 1$ that multiplies every channel at each position. The library's module:

# %%
print(inspect.getsource(tfcnn.models._common.cbam))

# %% [markdown]
# The same three basic blocks as the SE network (`small_attention_resnet`), now gated by
# `resnet.attention_gate("cbam", L=L, reduction=4)`.
# Before training we keep the masks of the untrained network as a control, so that we can see what training
# changed.

# %%
cbam_net = small_attention_resnet("cbam", "small_cbam_resnet")
cbam_layers = [f"block{b}_cbam_spatial_sigmoid" for b in (1, 2, 3)]
print({name: cbam_net.get_layer(name).output_shape for name in cbam_layers})
masks_before = [m.numpy()[..., 0] for m in feature_extractor(cbam_net, cbam_layers)(x_test)]
cbam_acc = compile_and_fit(cbam_net)
masks_after = [m.numpy()[..., 0] for m in feature_extractor(cbam_net, cbam_layers)(x_test)]
assert cbam_acc > 0.7

# %% [markdown]
# **Check: the block does what the formula says.** The spatial mask has one value per position, in (0, 1), and
# `*_cbam_excite` is the channel-gated map times that mask at every channel.

# %%
gated, spatial, out = feature_extractor(
    cbam_net, ["block3_cbam_channel", "block3_cbam_spatial_sigmoid", "block3_cbam_excite"])(digit)
print("channel-gated", gated.shape, "| spatial mask", spatial.shape, "| output", out.shape)
np.testing.assert_allclose(out, gated * spatial, rtol=1e-5, atol=1e-6)
assert spatial.shape[-1] == 1 and float(tf.reduce_min(spatial)) > 0 and float(tf.reduce_max(spatial)) <= 1

# %% [markdown]
# The spatial mask of each block over four hold-out digits, after training (rows 1–4) and, as the control, in the
# untrained network (last row, the first digit). Each mask is upsampled to 32×32 (`viz.upsample`) and drawn over
# the digit; every panel shares one colour scale.

# %%
shown = 4
fig, axes = plt.subplots(shown + 1, 3, figsize=(7.5, 2.2 * (shown + 1)))
for row in range(shown + 1):
    i, masks, when = (row, masks_after, "trained") if row < shown else (0, masks_before, "untrained")
    for col, name in enumerate(cbam_layers):
        ax = axes[row, col]
        ax.imshow(x_test[i, ..., 0], cmap="gray")
        image = ax.imshow(viz.upsample(masks[col][i], SHAPE[:2]), cmap="jet", alpha=0.5, vmin=0, vmax=1)
        ax.set_title(f"{name.split('_')[0]} ({masks[col].shape[1]}x{masks[col].shape[2]}), {when}", fontsize=8)
        ax.axis("off")
fig.colorbar(image, ax=axes, label="spatial mask", shrink=0.6)
plt.show()

# %% [markdown]
# The same comparison over all 500 hold-out digits: the mean mask on the strokes (pixels brighter than 0.3, at the
# mask's resolution) and on the background, before and after training.

# %%
mask_stats = {}
print("| block | mask size | untrained: strokes | untrained: background | trained: strokes | trained: background |")
print("|---|---|---:|---:|---:|---:|")
for name, before, after in zip(cbam_layers, masks_before, masks_after):
    ink = tf.image.resize(x_test, before.shape[1:3]).numpy()[..., 0] > 0.3
    mask_stats[name] = [float(m[ink].mean()) for m in (before,)] + [float(before[~ink].mean())] + \
        [float(after[ink].mean()), float(after[~ink].mean())]
    b_on, b_off, a_on, a_off = mask_stats[name]
    print(f"| {name} | {before.shape[1]}x{before.shape[2]} | {b_on:.3f} | {b_off:.3f} | {a_on:.3f} | {a_off:.3f} |")
for name, (b_on, b_off, a_on, a_off) in mask_stats.items():
    side = "higher" if a_on > a_off else "lower"
    print(f"{name.split('_')[0]}: after training the mask is {side} on the strokes than on the background by "
          f"{abs(a_on - a_off):.3f} (untrained: {b_on - b_off:+.3f}); its spread over positions is "
          f"{float(masks_after[cbam_layers.index(name)].std()):.3f} (untrained: "
          f"{float(masks_before[cbam_layers.index(name)].std()):.3f})")

# %% [markdown]
# As with the residual attention mask above, nothing in the loss asks the mask to find the digit: it is learned
# for classification. The lines above say, block by block, which way the trained mask went and how much of the
# difference between strokes and background was already there in the untrained network, whose masks are the
# control for what training changed.

# %% [markdown]
# ## ECA: the channel gate without the bottleneck, and what each gate costs
# “上图是将特征图作用在通道上的一种加权的方法。” (section 卷积神经网络中的Attention机制). SE computes its channel
# weights with two fully connected layers through a bottleneck of $C/r$; ECA (Wang et al. 2020) replaces them by
# one 1-D convolution of $k$ weights across the pooled channels, $k = |\log_2(C)/2 + 1/2|_{odd}$:

# %%
print(inspect.getsource(tfcnn.models._common.eca))
print(inspect.getsource(tfcnn.models._common.eca_kernel_size))

# %% [markdown]
# Parameters of the gate alone, for the widths of ResNet-50's four stages (the output of each bottleneck):
# SE with $r = 16$ has $C \cdot C/r + C/r$ (reduce, with bias) $+ \; C/r \cdot C + C$ (expand, with bias)
# $= 2C^2/r + C/r + C$ parameters and $2C^2/r$ MACs (both layers run on the pooled 1×1 map); ECA has $k$ weights
# and $C \cdot k$ MACs. CBAM's channel MLP has SE's parameters, plus $7 \cdot 7 \cdot 2 = 98$ spatial weights and 4
# batch-norm values. Each formula is checked against `analysis.summarize` of the gate built by the library on a
# 7×7×C map (CBAM's spatial convolution runs at every one of the $7 \cdot 7$ positions).

# %%
from tfcnn.models._common import cbam, eca, eca_kernel_size, squeeze_excite

R, HW = 16, 7


def gate_summary(kind, c):
    inputs = keras.Input((HW, HW, c))
    if kind == "SE":
        out = squeeze_excite(inputs, L, squeeze_channels=c // R, name="gate")
    elif kind == "CBAM":
        out = cbam(inputs, L, squeeze_channels=c // R, name="gate")
    else:
        out = eca(inputs, L, kernel_size=eca_kernel_size(c), name="gate")
    return analysis.summarize(keras.Model(inputs, out))


cost = {}
print("| C | SE params | SE MACs | CBAM params | CBAM MACs | ECA k | ECA params | ECA MACs (C·k) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in (256, 512, 1024, 2048):
    k = eca_kernel_size(c)
    se_p, se_m = 2 * c * c // R + c // R + c, 2 * c * c // R
    cbam_p = se_p + 7 * 7 * 2 + 4
    cbam_m = 2 * c * (c // R) + (c // R) * c + HW * HW * 7 * 7 * 2  # the MLP's first layer sees 2 pooled vectors
    eca_p, eca_m = k, c * k
    s_se, s_cbam, s_eca = (gate_summary(kind, c) for kind in ("SE", "CBAM", "ECA"))
    assert (s_se.total_params, s_se.total_macs) == (se_p, se_m)
    assert (s_cbam.total_params, s_cbam.total_macs) == (cbam_p, cbam_m)
    assert (s_eca.total_params, s_eca.total_macs) == (eca_p, eca_m)
    cost[c] = (se_p, eca_p)
    print(f"| {c} | {se_p:,} | {se_m:,} | {cbam_p:,} | {cbam_m:,} | {k} | {eca_p} | {eca_m:,} |")
keras.backend.clear_session()
print(f"at C = 2048 SE's gate has {cost[2048][0] / cost[2048][1]:,.0f} times ECA's parameters")

# %% [markdown]
# Every column is the formula's figure and `analysis.summarize`'s count at once (the asserts): ECA's $k$ weights
# slide along the $C$ pooled channels, $C \cdot k$ MACs, against SE's $2C^2/r$.
#
# Whole networks: the three attention ResNet-50s against the plain one of the same layout
# (`resnet50(variant="paper")`: no convolution biases, as the three attention models, which also default to
# `variant="paper"`). Each
# adds one gate per bottleneck, 3, 4, 6 and 3 blocks at $C$ = 256, 512, 1024, 2048, so the extra parameters are
# the sums of the per-gate formulas. `eca_resnet50` uses the released kernel sizes $(3, 5, 5, 7)$ per stage
# (its card), not the adaptive rule's $(5, 5, 5, 7)$.

# %%
stage_blocks = dict(zip((256, 512, 1024, 2048), resnet_module.RESNET_STAGES[50][1]))
print("blocks per stage width:", stage_blocks)
released_k = tfcnn.get_config("eca_resnet50").options["eca_kernel_sizes"]
adaptive_k = tuple(eca_kernel_size(c) for c in stage_blocks)
print("ECA kernel sizes per stage: released", released_k, "| adaptive rule", adaptive_k)
assert released_k == (3, 5, 5, 7) and adaptive_k == (5, 5, 5, 7)
expected_extra = {
    "se_resnet50": sum(n * (2 * c * c // R + c // R + c) for c, n in stage_blocks.items()),
    "cbam_resnet50": sum(n * (2 * c * c // R + c // R + c + 7 * 7 * 2 + 4) for c, n in stage_blocks.items()),
    "eca_resnet50": sum(n * k for n, k in zip(stage_blocks.values(), released_k)),
}
counts = {}
for name in ("resnet50", "se_resnet50", "cbam_resnet50", "eca_resnet50"):
    model = tfcnn.create_model(name, variant="paper") if name == "resnet50" else tfcnn.create_model(name)
    s = analysis.summarize(model)
    counts[name] = (s.total_params, s.total_macs)
    del model
    keras.backend.clear_session()
base_p, base_m = counts["resnet50"]
print("| model | params | extra params | extra by formula | MACs | extra MACs |\n|---|---:|---:|---:|---:|---:|")
for name, (p, m) in counts.items():
    extra = expected_extra.get(name, 0)
    print(f"| {name} | {p:,} | {p - base_p:,} ({100 * (p - base_p) / base_p:.3f} %) | {extra:,} | "
          f"{m / 1e9:.4f} G | {100 * (m - base_m) / base_m:.3f} % |")
    assert p - base_p == extra, name

# %% [markdown]
# ## Exercises
# 1. Train the small network without a gate (`small_attention_resnet(None, "plain")`). Does the spread across
#    classes of the last block's features change? Does accuracy?
# 2. Replace `(1 + M) · T` by `M · T` (naive attention) with `L.multiply`. The paper says stacking such modules
#    degrades performance; why does the `1 +` help gradients (chapter 15)?
# 3. Draw the masks of an untrained network with `viz.plot_attention`. What does a mask look like before training?
