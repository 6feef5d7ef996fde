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
# **Check.** The fully connected layers hold about 90 % of the parameters (fc1 alone, 7·7·512·4096 + 4096, is
# 74 %), yet they do less than 1 % of the multiply-accumulates; the convolutions are where the time goes.

# %%
fc1 = summary.layer("fc1").params
assert fc1 == analysis.dense_params(7 * 7 * 512, 4096) == 102_764_544
assert summary.total_params == 138_357_544 and summary.fc_share > 0.89
assert blocks["fc"][1] / summary.total_macs < 0.01
print(f"fc1: {100 * fc1 / summary.total_params:.1f} % of the parameters; all FC: {100 * summary.fc_share:.1f} %")

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
