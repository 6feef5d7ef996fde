# %% [markdown]
# # 16 从卷积的角度减小计算量 / Reducing computation
#
# **What you will learn**
# - how many multiply-accumulates (MACs) a convolution costs: `H_out · W_out · F_h · F_w · C_in · C_out`;
# - four ways the architectures of chapters 12–15 and 19 cut that cost, each measured with
#   `tfcnn.analysis.summarize` on the same feature map:
#   1. small kernels stacked (VGG, Inception v3): 3×3 + 3×3 instead of 5×5;
#   2. stride 2 instead of a stride-1 convolution followed by pooling;
#   3. 1×1 bottlenecks (GoogLeNet, ResNet-50): squeeze the channels before the expensive 3×3;
#   4. depthwise separable convolutions (MobileNet): a 3×3 per channel, then a 1×1 to mix channels — and grouped
#      convolutions (AlexNet) between the two;
# - that the analytic counts agree with TensorFlow's own profiler.

# %% setup

# %% [markdown]
# ## The cost of one convolution
# Every output value is a dot product of length `F_h·F_w·C_in`, and there are `H_out·W_out·C_out` of them.
# `analysis.summarize` applies that per layer; TensorFlow's profiler (`analysis.profile_flops`) counts 2 FLOPs per
# MAC for convolutions and matrix products, so the two must agree exactly.

# %%
from tfcnn.layers import get_style

L = get_style("keras")
SIZE, C = 28, 256  # a 28x28x256 feature map, as in the middle of VGG/ResNet


def measure(name, build, size=SIZE, channels=C):
    inputs = keras.Input((size, size, channels))
    model = keras.Model(inputs, build(inputs), name=name)
    return analysis.summarize(model), model


one, one_model = measure("3x3", lambda x: L.conv_bn(x, C, 3, use_bn=False, use_bias=False, name="conv"))
by_formula = SIZE * SIZE * 3 * 3 * C * C
profile = analysis.profile_flops(one_model)
print(f"formula {by_formula:,} MACs | summarize {one.total_macs:,} | profiler {profile.matmul_like:,} FLOPs / 2 = "
      f"{profile.matmul_like // 2:,}")
assert one.total_macs == by_formula == profile.matmul_like // 2

# %% [markdown]
# ## Four techniques on one 28×28×256 map
# Each variant maps 28×28×256 to 256 channels (the strided ones to 14×14×256). The table lists parameters, MACs,
# the receptive field of the output, and the MACs relative to the baseline it replaces.

# %%
def conv(x, filters, k, name, strides=1, groups=1, activation="relu"):
    return L.conv_bn(x, filters, k, strides=strides, groups=groups, activation=activation, use_bn=False,
                     use_bias=False, name=name)


variants = {
    # 1. small kernels
    "5x5": lambda x: conv(x, C, 5, "c5"),
    "3x3 + 3x3": lambda x: conv(conv(x, C, 3, "a"), C, 3, "b"),
    # 2. stride 2 vs pooling
    "3x3 then 2x2 max pool": lambda x: L.max_pool(conv(x, C, 3, "c"), 2, name="pool"),
    "3x3 stride 2": lambda x: conv(x, C, 3, "c", strides=2),
    # 3. bottleneck (ResNet-50's 1x1 -> 3x3 -> 1x1 with a 4x squeeze)
    "3x3 (plain)": lambda x: conv(x, C, 3, "c"),
    "1x1 -> 3x3 -> 1x1 (C/4 inside)": lambda x: conv(conv(conv(x, C // 4, 1, "r"), C // 4, 3, "c"), C, 1, "e"),
    # 4. grouped and depthwise separable
    "3x3 grouped, 2 groups (AlexNet)": lambda x: conv(x, C, 3, "c", groups=2),
    "3x3 depthwise + 1x1 pointwise": lambda x: L.conv_bn(
        L.depthwise_conv_bn(x, 3, use_bn=False, name="dw"), C, 1, use_bn=False, use_bias=False, name="pw"),
}
baseline_of = {"5x5": None, "3x3 + 3x3": "5x5", "3x3 then 2x2 max pool": None,
               "3x3 stride 2": "3x3 then 2x2 max pool", "3x3 (plain)": None,
               "1x1 -> 3x3 -> 1x1 (C/4 inside)": "3x3 (plain)", "3x3 grouped, 2 groups (AlexNet)": "3x3 (plain)",
               "3x3 depthwise + 1x1 pointwise": "3x3 (plain)"}
results = {name: measure(name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
                         .replace(">", "").replace("/", ""), build)[0]
           for name, build in variants.items()}
print("| variant | output | params | MACs | receptive field | MACs vs baseline |\n|---|---|---:|---:|---:|---:|")
for name, s in results.items():
    base = baseline_of[name]
    rel = f"{s.total_macs / results[base].total_macs:.3f} x {base}" if base else "baseline"
    print(f"| {name} | {s.layers[-1].output_shape} | {s.total_params:,} | {s.total_macs / 1e6:.0f} M | "
          f"{s.receptive_field[0]} | {rel} |")

# %% [markdown]
# ## Checks: each saving is the one the formula predicts
# - stacked 3×3: `2·9 / 25 = 0.72` of the 5×5's MACs, same 5×5 receptive field;
# - stride 2: the convolution is evaluated at a quarter of the positions — 4× fewer MACs than convolving at full
#   resolution and then pooling, to the same output size (the price: each output sees 3×3 pixels instead of 4×4,
#   and three of every four positions are never looked at);
# - bottleneck: `(C·C/4 + 9·(C/4)² + C/4·C) / (9·C²) = (1/4 + 9/16 + 1/4) / 9 ≈ 0.118`;
# - `g` groups: `1/g`;
# - depthwise separable: `(9·C + C·C) / (9·C·C) = 1/C + 1/9` (MobileNet's “8 to 9 times less computation”).

# %%
r = {name: s.total_macs for name, s in results.items()}
assert abs(r["3x3 + 3x3"] / r["5x5"] - 18 / 25) < 1e-12
assert results["3x3 + 3x3"].receptive_field == results["5x5"].receptive_field == (5, 5)
assert r["3x3 then 2x2 max pool"] == 4 * r["3x3 stride 2"]
assert results["3x3 stride 2"].layers[-1].output_shape == results["3x3 then 2x2 max pool"].layers[-1].output_shape
assert abs(r["1x1 -> 3x3 -> 1x1 (C/4 inside)"] / r["3x3 (plain)"] - (1 / 4 + 9 / 16 + 1 / 4) / 9) < 1e-12
assert r["3x3 grouped, 2 groups (AlexNet)"] * 2 == r["3x3 (plain)"]
ratio = r["3x3 depthwise + 1x1 pointwise"] / r["3x3 (plain)"]
assert abs(ratio - (1 / C + 1 / 9)) < 1e-12
print(f"depthwise separable: {ratio:.4f} of the MACs = 1/{C} + 1/9, i.e. {1 / ratio:.1f}x fewer")

# %% [markdown]
# The saving of a depthwise separable convolution grows with the number of channels, towards 9× for a 3×3 kernel:

# %%
channels = [8, 16, 32, 64, 128, 256, 512, 1024]
measured = []
for c in channels:
    full, _ = measure("full", lambda x, c=c: conv(x, c, 3, "c"), size=14, channels=c)
    sep, _ = measure("sep", lambda x, c=c: L.conv_bn(L.depthwise_conv_bn(x, 3, use_bn=False, name="dw"), c, 1,
                                                     use_bn=False, use_bias=False, name="pw"), size=14, channels=c)
    measured.append(full.total_macs / sep.total_macs)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
axes[0].semilogx(channels, measured, "o-", base=2, label="measured (summarize)")
axes[0].semilogx(channels, [1 / (1 / c + 1 / 9) for c in channels], "k--", base=2, label="1 / (1/C + 1/9)")
axes[0].axhline(9, color="gray", lw=0.8)
axes[0].set_xlabel("channels C")
axes[0].set_ylabel("MACs saved (x)")
axes[0].legend(fontsize=8)
names = list(results)
axes[1].barh(names, [r[n] / 1e6 for n in names], color=["tab:gray" if baseline_of[n] is None else "tab:green"
                                                         for n in names])
axes[1].set_xlabel("MACs (millions) on 28x28x256")
axes[1].tick_params(axis="y", labelsize=7)
axes[1].invert_yaxis()
plt.tight_layout()
plt.show()
np.testing.assert_allclose(measured, [1 / (1 / c + 1 / 9) for c in channels], rtol=1e-12)

# %% [markdown]
# ## In the architectures
# The techniques, where they appear in the zoo (MACs per 224×224 image; the comparison of whole networks is
# chapter 17):
#
# | technique | network | chapter |
# |---|---|---|
# | small kernels (3×3 stacks, 1×n + n×1) | VGG, Inception v3 | 13, 14 |
# | stride-2 convolution instead of pooling | ResNet (down-sampling blocks), MobileNet | 15, 19 |
# | 1×1 bottleneck | GoogLeNet, ResNet-50 | 14, 15 |
# | grouped / depthwise separable | AlexNet (2 groups), MobileNet | 12, 19 |
#
# MobileNet v1 is a stack of depthwise separable blocks; its 1×1 pointwise layers do almost all the work:

# %%
mobilenet = analysis.summarize(tfcnn.create_model("mobilenet_v1"))
dw = sum(row.macs for row in mobilenet.layers if row.name.endswith("_dw_conv"))
pw = sum(row.macs for row in mobilenet.layers if row.name.endswith("_pw_conv"))
print(f"MobileNet v1: {mobilenet.total_macs / 1e6:.0f} M MACs; depthwise {100 * dw / mobilenet.total_macs:.1f} %, "
      f"pointwise {100 * pw / mobilenet.total_macs:.1f} %")
assert pw > 0.9 * mobilenet.total_macs and dw < 0.05 * mobilenet.total_macs

# %% [markdown]
# ## Where large kernels and factorisations belong
# Two pieces of advice in the notes are arithmetic at heart. On large kernels: “对于\(5*5\)和\(7*7\)这样的大卷积核…最多只会使用再输入层,因为原始图片输入channel为3”
# (section 卷积神经网络结构对比). On factorising $n \times n$ into $1 \times n$ and $n \times 1$ (Inception v3):
# “实验表明,对于卷积的这种拆分,最好是在网络的中间使用,不要再输入的开始就进行这样的卷积拆分。”
# (section 常见的卷积神经网络结构). A convolution costs $H_{out} W_{out} \cdot F^2 \cdot C_{in} C_{out}$ MACs, so the same
# kernel is cheap where $C_{in} = 3$ and expensive where $C_{in}$ is in the hundreds. ResNet's 7×7 stem against the same
# 7×7 applied to 64 channels, and Inception v3's 7×7 factorisation at the input and at its 17×17×192 stage:

# %%
def conv_macs(size, kernel, c_in, c_out):
    """MACs of a stride-1 SAME convolution on a size x size map (kernel = (kh, kw)), measured by summarize."""
    return measure("c", lambda x: L.conv_bn(x, c_out, kernel, use_bn=False, use_bias=False, name="conv"),
                   size=size, channels=c_in)[0].total_macs


stem = conv_macs(112, 7, 3, 64)  # ResNet's stem, counted at its 112x112 output
deep = conv_macs(112, 7, 64, 64)  # the same kernel if the input had 64 channels
print(f"7x7, 3 -> 64 channels at 112x112:  {stem / 1e6:8.1f} M MACs")
print(f"7x7, 64 -> 64 channels at 112x112: {deep / 1e6:8.1f} M MACs ({deep / stem:.1f}x: the channels, not the kernel)")
assert deep * 3 == stem * 64

rows = []
for where, size, c in (("at the input (224x224x3 -> 64)", 224, 3), ("in the middle (17x17x192 -> 192)", 17, 192)):
    c_out = 64 if c == 3 else 192
    full, split = conv_macs(size, 7, c, c_out), conv_macs(size, (1, 7), c, c_out) + conv_macs(size, (7, 1), c_out, c_out)
    rows.append((where, full, split))
    print(f"7x7 {where}: {full / 1e6:7.1f} M MACs; 1x7 + 7x1: {split / 1e6:7.1f} M ({split / full:.2f}x)")
(_, in_full, in_split), (_, mid_full, mid_split) = rows
assert mid_split / mid_full == 14 / 49  # in the middle, C_in = C_out: the textbook 2n / n^2 saving
assert in_split > in_full  # at the input the 7x1 sees 64 channels instead of 3: the "saving" costs more
print("✓ large kernels are cheap only where C_in = 3; factorising pays where channels are many")

# %% [markdown]
# The MACs explain half of each sentence. A 7×7 kernel on 3 input channels costs $64 / 3 \approx 21$ times less than
# on 64, which is why the notes allow large kernels only in the first layer. Factorising in the middle saves the
# textbook $2n / n^2 = 14/49$; at the input it *adds* MACs here, because the second half of the pair runs on the
# 64 channels the first one produced (a pair whose middle keeps 3 channels would be cheaper, but would squeeze the
# first layer through 3 channels). The other half of the notes' sentence — that factorising early also hurts
# accuracy — is the Inception v3 paper's experimental finding (Szegedy et al. 2016, sec. 3.2) and is not measured
# here.

# %% [markdown]
# ## Exercises
# 1. A 7×7 convolution vs three 3×3 vs a 1×7 + 7×1 pair: add them to `variants` and compare MACs and receptive fields.
# 2. Fewer MACs is not always faster: time `one_model` and the depthwise separable model with `model.predict` on
#    a batch of 32. Why can the depthwise layer be memory-bound?
# 3. In the bottleneck, what squeeze factor makes the block cost as much as a single 3×3?
