# %% [markdown]
# # 13 VGG / VGG: depth from 3×3 convolutions
#
# **What you will learn**
# - VGG's recipe (Simonyan & Zisserman, 2014): only 3×3 convolutions (stride 1, SAME) and 2×2 max pools, five
#   blocks, then FC-4096, FC-4096 and the classifier; configurations A, B, D, E are VGG-11, 13, 16, 19;
# - why stacked 3×3 convolutions: two have the receptive field of one 5×5 and three of one 7×7, with fewer
#   parameters and more non-linearities (the notes: “通过多个小卷积核来替代一个大卷积核,不仅可以保证感受野的大小不变”);
# - where VGG-16's 138 million parameters live (the fully connected layers) and where its 15.5 billion MACs are spent
#   (the convolutions);
# - the network written as TF-Slim writes it (`slim.repeat` inside `slim.arg_scope`), and that it computes the same
#   function as the Keras-style build.

# %% setup

# %% [markdown]
# ## The network as a table
# The paper's Table 1 is one dictionary; each configuration is a list of `(number of 3×3 convs, filters)` per block.

# %%
from tfcnn.models import vgg as vgg_module

for letter, stages in vgg_module.VGG_STAGES.items():
    print(letter, stages)
print("then", vgg_module.VGG_FC, "and the classifier")

# %% [markdown]
# In the slim style the builder reads like the TF-Slim model zoo's `nets/vgg.py`:

# %%
print(inspect.getsource(vgg_module._vgg_slim))

# %% [markdown]
# ## Stacked 3×3 = one 5×5 or 7×7, for fewer parameters
# Each small stack is built with the layer façade at 56×56×256 (VGG-16's block 3) and measured by
# `analysis.summarize`: same receptive field, fewer parameters and MACs, and two or three ReLUs instead of one.

# %%
L = tfcnn.layers.get_style("keras")


def stack(kernels, size=56, channels=256):
    inputs = x = keras.Input((size, size, channels))
    for i, k in enumerate(kernels):
        x = L.conv_bn(x, channels, k, use_bn=False, name=f"c{i}")
    return analysis.summarize(keras.Model(inputs, x, name="+".join(f"{k}x{k}" for k in kernels)))


pairs = [((5,), (3, 3)), ((7,), (3, 3, 3))]
print("| stack | receptive field | params | MACs | ReLUs |\n|---|---:|---:|---:|---:|")
for big, small in pairs:
    s_big, s_small = stack(big), stack(small)
    for s, ks in ((s_big, big), (s_small, small)):
        print(f"| {s.model_name} | {s.receptive_field[0]} | {s.total_params:,} | {s.total_macs / 1e9:.2f} G | {len(ks)} |")
    assert s_big.receptive_field == s_small.receptive_field == (big[0], big[0])
    assert s_small.total_params < s_big.total_params
    # Without biases the ratio is exactly (number of 3x3 layers * 9) / k^2: 18/25 and 27/49.
    ratio = (s_small.total_params - len(small) * 256) / (s_big.total_params - 256)
    assert abs(ratio - len(small) * 9 / big[0] ** 2) < 1e-12
    print(f"| weights ratio | | {ratio:.3f} = {len(small) * 9}/{big[0] ** 2} | | |")

# %% [markdown]
# In VGG-16 itself the receptive field grows by 2 with every 3×3 convolution and doubles its step at every pool:

# %%
model = tfcnn.create_model("vgg16")
summary = analysis.summarize(model)
fields = [(row.name, row.receptive_field[0]) for row in summary.layers if row.name.endswith("_conv")]
print(", ".join(f"{n.replace('_conv', '')}: {rf}" for n, rf in fields))
assert [rf for _, rf in fields[:4]] == [3, 5, 10, 14]  # +2 each; after a pool (+1) each 3x3 adds 4
assert summary.receptive_field == (212, 212)

# %% [markdown]
# ## Where VGG-16's parameters and computation live
# Per block: parameters and MACs at 224×224×3.

# %%
blocks = {}
for row in summary.layers:
    block = row.name.split("_")[0] if row.name.startswith("block") else ("fc" if row.params else None)
    if block and (row.params or row.macs):
        p, m = blocks.get(block, (0, 0))
        blocks[block] = (p + row.params, m + row.macs)
print("| part | params | share of params | MACs | share of MACs |\n|---|---:|---:|---:|---:|")
for block, (p, m) in blocks.items():
    print(f"| {block} | {p:,} | {100 * p / summary.total_params:.1f} % | {m / 1e9:.2f} G | "
          f"{100 * m / summary.total_macs:.1f} % |")
print(f"| total | {summary.total_params:,} | | {summary.total_macs / 1e9:.2f} G | |")

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
names = list(blocks)
axes[0].bar(names, [blocks[b][0] / 1e6 for b in names], color="tab:blue")
axes[0].set_title("parameters (millions)")
axes[1].bar(names, [blocks[b][1] / 1e9 for b in names], color="tab:orange")
axes[1].set_title("multiply-accumulates (billions)")
for ax in axes:
    ax.tick_params(axis="x", labelsize=8)
plt.show()

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「全连接层」: 「通常而言,一个卷积网的参数量,大部分都是占据在全连接层的,比如VGG,80%的参数都是来自最后的FC层。」
# > (and again under ResNet: 「VGG的80%的参数集中在FC层」) — "in VGG, 80 % of the parameters come from the last FC
# > layers". The direction is right, the number is not: count VGG-16's parameters layer by layer.

# %%
fc1 = summary.layer("fc1").params
fc_params = sum(row.params for row in summary.layers if row.name.startswith("fc") or row.name == "logits")
print(f"VGG-16: {summary.total_params:,} parameters, of which FC (fc1, fc2, logits) {fc_params:,} = "
      f"{100 * fc_params / summary.total_params:.1f} %; fc1 alone {100 * fc1 / summary.total_params:.1f} %")
print(f"the FC layers' share of the multiply-accumulates: {100 * blocks['fc'][1] / summary.total_macs:.2f} %")
assert fc1 == analysis.dense_params(7 * 7 * 512, 4096) == 102_764_544
assert summary.total_params == 138_357_544 and fc_params == 123_642_856
assert abs(summary.fc_share - fc_params / summary.total_params) < 1e-9 and summary.fc_share > 0.89
assert blocks["fc"][1] / summary.total_macs < 0.01
print(f"✓ VGG-16's FC layers hold {100 * summary.fc_share:.1f} % of its parameters, not 80 % "
      "(and do under 1 % of its computation)")

# %% [markdown]
# **Corrected.** In VGG-16 the three fully connected layers hold **89.4 %** of the 138.4 M parameters — fc1 alone,
# 7·7·512·4096 + 4096 weights, is 74.3 % — yet they do less than 1 % of the multiply-accumulates; the convolutions
# are where the time goes. The other configurations share the same 123.6 M FC parameters, so the share runs from
# about 93 % (VGG-11) to 86 % (VGG-19): none of them is 80 %.

# %% [markdown]
# ## The four configurations
# Adding convolutions costs few parameters (3×3 kernels are cheap) but many MACs (they run at full resolution).

# %%
configs = ["vgg11", "vgg16"] if QUICK else ["vgg11", "vgg13", "vgg16", "vgg19"]
rows = {name: (summary if name == "vgg16" else analysis.summarize(tfcnn.create_model(name))) for name in configs}
print("| model | depth | params | MACs |\n|---|---:|---:|---:|")
for name, s in rows.items():
    print(f"| {name} | {s.depth} | {s.total_params / 1e6:.1f} M | {s.total_macs / 1e9:.1f} G |")
    assert s.depth == int(name[3:])  # weighted layers on the longest path: the name is the depth
keras.backend.clear_session()

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「VGG」, VGG's features: 「每次池化后Feature Map宽高降低一半,通道数量增加一倍」 and
# > 「每次经过一个pooling层,channel的数量会乘2,保证提取的数量。」 — "after every pooling the width and height halve
# > and the number of channels doubles". The first half holds; the channels stop doubling at 512. Read the widths
# > from the model:

# %%
widths = [(row.name, row.output_shape) for row in summary.layers if row.name.endswith("_pool")]
print(" -> ".join(f"{n}: {h}x{w}x{c}" for n, (h, w, c) in widths))
after_pool = [stages[1] for stages in vgg_module.VGG_STAGES["D"]]  # each block's filters, set after the pool before it
print("filters per block (each after a pool):", after_pool, "| ratio block to block:",
      [b / a for a, b in zip(after_pool, after_pool[1:])])
assert [shape[0] for _, shape in widths] == [112, 56, 28, 14, 7]  # the spatial size halves at every pool
assert after_pool == [64, 128, 256, 512, 512] and after_pool[4] == after_pool[3]
assert all(stages[-1][1] == 512 for stages in vgg_module.VGG_STAGES.values())
print("✓ width and height halve at all five pools, but channels double only three times: "
      "64 -> 128 -> 256 -> 512 -> 512, in all four configurations")

# %% [markdown]
# **Corrected.** VGG halves the feature map at every 2×2 pool and doubles the channels after the first three
# pools, then keeps 512: block 5 has as many channels as block 4. The paper caps the width at 512 because a
# further doubling would have cost another 4× parameters in blocks 5 and fc1 (7·7·1024·4096 alone would be
# 205 M). What the notes' general rule — 「每次下采样过后,channel的数量也会相应的增加」 — gets right is the habit of
# widening as you shrink, not an exact doubling at each step.

# %% [markdown]
# ## Slim style and Keras style compute the same function
# The slim build (`repeat` + `arg_scope`) and the façade build give the same layer names and weight shapes, so
# weights copy across by name and the logits agree. Checked on VGG-11 at 32×32 with 10 classes on real digits.

# %%
from tfcnn.data import load_dataset, preprocess
from tfcnn.models._common import copy_weights

small = {s: tfcnn.create_model("vgg11", style=s, input_shape=(32, 32, 1), num_classes=10) for s in ("keras", "slim")}
copied = copy_weights(small["keras"], small["slim"])
images = preprocess(load_dataset("digits").x_test[:16], (32, 32, 1))
diff = float(tf.reduce_max(tf.abs(small["keras"](images) - small["slim"](images))))
print(f"{copied} layers copied; max |keras - slim| logits difference = {diff:.1e}")
assert [w.shape for w in small["keras"].weights] == [w.shape for w in small["slim"].weights]
assert diff < 1e-4

# %% [markdown]
# ## Exercises
# 1. Replace VGG-16's `flatten` + fc1 by global average pooling (`include_top=False, pooling="avg"` plus a `Dense`).
#    How many parameters are left? (Chapter 08 does this with a 1×1 convolution.)
# 2. Train `vgg11_bn` at 32×32 on the digits for a few epochs, then `vgg11` without BN with the same settings.
#    Which one learns? (The paper trained configuration A first and initialised the deeper ones from it.)
# 3. VGG-16's largest receptive field (pool5) is 212 pixels, less than its 224×224 input. Which pixels can the
#    corner unit of pool5 not see? Check with `viz.deconv_reconstruction`.
