# %% [markdown]
# # 14 GoogLeNet 与 Inception / GoogLeNet and Inception
#
# **What you will learn**
# - the Inception module (Szegedy et al., 2014): 1×1, 3×3, 5×5 convolutions and a 3×3 pool side by side,
#   concatenated along channels;
# - why the 1×1 "reductions" before the 3×3 and 5×5 branches (and after the pool) make it affordable — MACs with and
#   without them, measured;
# - factorised convolutions from Inception v3: a 5×5 as two 3×3, an n×n as 1×n then n×1;
# - GoogLeNet's auxiliary classifiers and their loss weight of 0.3 (“their loss is added to the total loss with a
#   discount weight of 0.3”), checked on a real training step.

# %% setup

# %% [markdown]
# ## The module
# One row of the paper's Table 1 — `(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)` — read by one function:

# %%
from tfcnn.models import googlenet as googlenet_module

print(inspect.getsource(googlenet_module.inception_module))
print("inception 3a:", googlenet_module.GOOGLENET_MODULES[0])

# %% [markdown]
# ## 1×1 reductions: MACs with and without
# Module 3a sees a 28×28×192 map. Without reductions its 3×3 and 5×5 filters would read all 192 channels, and the
# pooling branch would pass 192 channels on, so the next module's input would grow to 416 channels. The same module
# is built both ways with the layer façade and measured by `analysis.summarize`.

# %%
L = tfcnn.layers.get_style("keras")
widths = googlenet_module.GOOGLENET_MODULES[0][1:]


def module_3a(reduce: bool):
    inputs = keras.Input((28, 28, 192))
    if reduce:
        out = googlenet_module.inception_module(inputs, L, widths, name="inception_3a", use_bn=False)
    else:
        n1x1, _, n3x3, _, n5x5, _ = widths
        branches = [L.conv_bn(inputs, n1x1, 1, use_bn=False, name="b1"),
                    L.conv_bn(inputs, n3x3, 3, use_bn=False, name="b2"),
                    L.conv_bn(inputs, n5x5, 5, use_bn=False, name="b3"),
                    L.max_pool(inputs, 3, strides=1, padding="same", name="b4_pool")]
        out = L.concat(branches, name="out")
    return analysis.summarize(keras.Model(inputs, out, name="with 1x1 reductions" if reduce else "naive"))


naive, reduced = module_3a(False), module_3a(True)
print("| module 3a | output | params | MACs |\n|---|---|---:|---:|")
for s in (naive, reduced):
    print(f"| {s.model_name} | {s.layers[-1].output_shape} | {s.total_params:,} | {s.total_macs / 1e6:.0f} M |")
print(f"the reductions cut MACs by {naive.total_macs / reduced.total_macs:.1f}x and keep the output at 256 channels")
assert naive.total_macs > 2.3 * reduced.total_macs
assert naive.layers[-1].output_shape == (28, 28, 416) and reduced.layers[-1].output_shape == (28, 28, 256)

# %% [markdown]
# The 5×5 branch alone: 192 → 32 channels directly, or 192 → 16 (1×1) → 32 (5×5):

# %%
direct = 28 * 28 * 5 * 5 * 192 * 32
bottleneck = 28 * 28 * (192 * 16 + 5 * 5 * 16 * 32)
print(f"direct 5x5: {direct / 1e6:.0f} M MACs; 1x1 then 5x5: {bottleneck / 1e6:.0f} M MACs "
      f"({direct / bottleneck:.1f}x fewer)")
assert reduced.layer("inception_3a_branch3_conv").macs + reduced.layer("inception_3a_branch3_reduce_conv").macs \
    == bottleneck
assert naive.layer("b3_conv").macs == direct

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「GoogLeNet/Inception」, on why a 1×1 convolution reduces dimensions: 「也就是如果输入$28*28*192$经过一个$1*1*64$的卷积核后,尺寸会变成$28*28*3$。」 —
# > "a 28×28×192 input through a 1×1×64 kernel becomes 28×28×3". The number of output channels is the number of
# > filters, 64; nothing in the layer is 3.

# %%
one_by_one = keras.layers.Conv2D(64, 1)
out = one_by_one(tf.zeros((1, 28, 28, 192)))
print(f"input (28, 28, 192) -> 64 filters of 1x1x192 (kernel {tuple(one_by_one.kernel.shape)}) -> output "
      f"{tuple(out.shape[1:])}, {one_by_one.count_params():,} parameters")
assert tuple(out.shape[1:]) == (28, 28, 64) and one_by_one.count_params() == 192 * 64 + 64
assert reduced.layer("inception_3a_branch2_reduce_conv").output_shape[-1] == widths[1]  # module 3a's own 1x1
print("✓ a 1x1 convolution with 64 filters turns 28x28x192 into 28x28x64, not 28x28x3")

# %% [markdown]
# **Corrected.** Each 1×1 filter is a 1×1×192 kernel that takes a weighted sum over the 192 input channels at
# every position — the notes' own explanation, 「卷积核的channel是多少,那么最后的结果是把每个channel进行相加」 — so it
# gives one channel; 64 such filters give **28×28×64**. The spatial size is unchanged and the channels go from 192 to
# 64, which is the "dimension reduction" (module 3a does it with 96 and 16 filters before its 3×3 and 5×5 branches).

# %% [markdown]
# ## The whole GoogLeNet
# 22 weighted layers deep, 7 million parameters: a twentieth of VGG-16's, at a tenth of its MACs (VGG-16: 138 M
# parameters, 15.5 G MACs, see chapter 13).

# %%
net = analysis.summarize(tfcnn.create_model("googlenet"))
print(f"GoogLeNet: depth {net.depth}, {net.total_params:,} parameters, {net.total_macs / 1e9:.2f} G MACs, "
      f"FC share {100 * net.fc_share:.0f} %")
assert net.depth == 22 and net.total_params == 6_998_552
assert net.total_macs < 15.47e9 / 9

# %% [markdown]
# ## Factorised convolutions (Inception v3)
# Szegedy et al. (2015) go further: a 5×5 becomes two 3×3 (−28 % weights), a 3×3 becomes 1×3 then 3×1 (−33 %),
# a 7×7 becomes 1×7 then 7×1 (−71 %). Same receptive field, measured:

# %%
def stack(kernels, channels=64, size=17):
    inputs = x = keras.Input((size, size, channels))
    for i, k in enumerate(kernels):
        x = L.conv_bn(x, channels, k, use_bn=False, use_bias=False, name=f"c{i}")
    return analysis.summarize(keras.Model(inputs, x, name=" + ".join(f"{a}x{b}" for a, b in kernels)))


cases = [([(5, 5)], [(3, 3), (3, 3)]), ([(3, 3)], [(1, 3), (3, 1)]), ([(7, 7)], [(1, 7), (7, 1)])]
print("| convolution | factorised | receptive field | weights | factorised weights | saving |")
print("|---|---|---:|---:|---:|---:|")
for full, factorised in cases:
    a, b = stack(full), stack(factorised)
    assert a.receptive_field == b.receptive_field
    print(f"| {a.model_name} | {b.model_name} | {a.receptive_field[0]} | {a.total_params:,} | {b.total_params:,} | "
          f"{100 * (1 - b.total_params / a.total_params):.0f} % |")
    expected = sum(kh * kw for kh, kw in factorised) / sum(kh * kw for kh, kw in full)
    assert abs(b.total_params / a.total_params - expected) < 1e-12

# %% [markdown]
# In Inception v3 the 17×17 modules use the 1×7 / 7×1 pairs. The kernels of module `mixed4`'s second branch:

# %%
from tfcnn.models import inception as inception_module

print("mixed4 branches:", inception_module.INCEPTION_V3_MODULES[4])
v3 = tfcnn.create_model("inception_v3")
kernels = [(layer.name, tuple(layer.kernel.shape[:2])) for layer in v3.layers
           if layer.name.startswith("mixed4_branch2") and layer.name.endswith("_conv")]
print(kernels)
assert [k for _, k in kernels] == [(1, 1), (1, 7), (7, 1)]
v3_summary = analysis.summarize(v3)
print(f"Inception v3 at 299x299: {v3_summary.total_params:,} parameters, {v3_summary.total_macs / 1e9:.2f} G MACs, "
      f"depth {v3_summary.depth}")
assert v3_summary.total_params == 23_851_784
keras.backend.clear_session()

# %% [markdown]
# ## Auxiliary classifiers, weighted 0.3
# With `aux_logits=True` GoogLeNet gets two extra heads, after modules 4a and 4d; they add gradient signal to the
# middle of the network during training and are thrown away at inference. `aux_loss_weights` gives Keras the paper's
# weights, so the training loss is `L_main + 0.3·L_aux1 + 0.3·L_aux2`. One short run on real digits (96×96, the
# smallest size the auxiliary 5×5/3 pooling allows is 65) checks that equation on the numbers Keras reports.

# %%
from tfcnn.data import load_dataset, make_pipeline

data = load_dataset("digits")
keras.utils.set_random_seed(0)
aux_model = tfcnn.create_model("googlenet", aux_logits=True, input_shape=(96, 96, 1), num_classes=10)
weights = googlenet_module.aux_loss_weights(aux_model)
print("outputs:", aux_model.output_names, "| loss weights:", weights)
assert weights == {"logits": 1.0, "aux1_logits": 0.3, "aux2_logits": 0.3}
n = 128 if QUICK else 512
train_ds = make_pipeline(data.x_train[:n], data.y_train[:n], (96, 96, 1), batch_size=32, training=True,
                         num_outputs=3)
aux_model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  loss_weights=weights)
history = aux_model.fit(train_ds, epochs=1 if QUICK else 3, verbose=0).history
total, main, aux1, aux2 = aux_model.evaluate(train_ds, verbose=0)
print(f"loss {total:.4f} = main {main:.4f} + 0.3 x aux1 {aux1:.4f} + 0.3 x aux2 {aux2:.4f} "
      f"= {main + 0.3 * (aux1 + aux2):.4f}")
assert abs(total - (main + 0.3 * (aux1 + aux2))) < 1e-3 * max(1.0, total)

inference = googlenet_module.without_aux(aux_model)
print(f"inference model: outputs {inference.output_names}, {inference.count_params():,} parameters "
      f"(training model {aux_model.count_params():,})")
x = next(iter(train_ds))[0][:4]
np.testing.assert_allclose(inference(x), aux_model(x)[0], atol=1e-5)  # same weights, same main logits

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「GoogLeNet/Inception」: 「GoogLeNet为了保证网络变深之后能够收敛的更好,利用了2个loss来进行训练。」 and, in
# > the list of features, 「两个LOSS层,降低过拟合风险」 — "GoogLeNet is trained with two losses". The model above is
# > trained on three: the main classifier and two auxiliary ones. Count them:

# %%
heads = [name for name in aux_model.output_names]
print("training outputs:", heads, "| loss terms:", {k: v for k, v in weights.items()})
print(f"reported losses: total {total:.4f}, main {main:.4f}, aux1 {aux1:.4f}, aux2 {aux2:.4f}")
assert len(heads) == len(weights) == 3 and sorted(weights.values()) == [0.3, 0.3, 1.0]
assert len(inference.output_names) == 1
print("✓ GoogLeNet trains on three losses (main + two auxiliary heads, after 4a and 4d, weighted 0.3); "
      "the deployed network has one output")

# %% [markdown]
# **Corrected.** GoogLeNet has **one main classifier and two auxiliary classifiers** (on modules 4a and 4d), so the
# training loss is $L = L_{main} + 0.3\,L_{aux1} + 0.3\,L_{aux2}$: three terms, of which two are the extra ones the
# notes probably mean. The paper's reasons are to push more gradient into the middle of the network and to
# regularise it; the auxiliary heads are discarded at inference. (Inception v3 keeps a single auxiliary head and
# finds it acts mainly as a regulariser.)

# %% [markdown]
# Where each loss stands after this short run (the auxiliary heads start from the same chance level):

# %%
fig, ax = plt.subplots(figsize=(4.5, 2.8))
ax.bar(["main", "aux1 (after 4a)", "aux2 (after 4d)"], [main, aux1, aux2], color=["tab:blue", "tab:gray", "tab:gray"])
ax.axhline(np.log(10), color="k", ls="--", lw=1, label="chance: ln 10")
ax.set_ylabel("cross-entropy")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Exercises
# 1. How many MACs do the pool projections save in module 4e (input 14×14×528)? Use `module_3a` as a template.
# 2. Factorise a 5×5 into 1×5 then 5×1. Is that cheaper than two 3×3? Which has more non-linearities?
# 3. Train GoogLeNet on the digits with `aux_logits=True` and with `False` for a few epochs each. Does the
#    auxiliary loss help a network this shallow in data?
