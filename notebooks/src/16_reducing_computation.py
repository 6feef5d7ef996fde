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
# - three more blocks as MAC formulas, each checked against the library's block and the registered model: the
#   channel shuffle (0 MACs, and why grouped 1×1 convolutions need it; ShuffleNet v2), the fire module
#   (SqueezeNet) and the ghost module (GhostNet);
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
# ## Channel shuffle: 0 MACs, and why grouped 1×1 convolutions need it
# A grouped convolution with $g$ groups costs $H_{out} W_{out} \cdot F_h F_w \cdot (C_{in}/g) \cdot C_{out}$ MACs,
# $1/g$ of the full one, because each output channel only reads the $C_{in}/g$ input channels of its own group.
# ShuffleNet (Zhang et al. 2018) makes even the 1×1 convolutions grouped, and that has a price: stack two grouped
# 1×1 layers and group $k$ of the output still depends only on group $k$ of the input. The *channel shuffle*
# (`L.channel_shuffle`: reshape to $g \times C/g$, transpose, flatten) interleaves the groups so that every group
# of the next layer reads from every group of the previous one. It moves numbers and multiplies none.
#
# A tiny example: six channels holding the values 0…5, shuffled with $g = 2$ and $g = 3$. Channel
# $j \cdot (C/g) + i$ moves to position $i \cdot g + j$:

# %%
from tfcnn.models import lightweight


def shuffled_order(c, groups):
    inputs = keras.Input((1, 1, c))
    model = keras.Model(inputs, L.channel_shuffle(inputs, groups, name="shuffle"))
    out = model(np.arange(c, dtype="float32").reshape(1, 1, 1, c)).numpy().ravel().astype(int).tolist()
    return out, analysis.summarize(model)


for groups in (2, 3):
    order, s = shuffled_order(6, groups)
    by_hand = [0] * 6
    for j in range(groups):
        for i in range(6 // groups):
            by_hand[i * groups + j] = j * (6 // groups) + i
    print(f"g = {groups}: channels 0..5 come out in the order {order}; params {s.total_params}, MACs {s.total_macs}")
    assert order == by_hand and s.total_macs == 0 and s.total_params == 0

# %% [markdown]
# Which input channels each output channel depends on, after two grouped 1×1 convolutions ($C = 8$, $g = 2$),
# with and without a shuffle between them (a 1 where the Jacobian entry is non-zero), and the MACs of one grouped
# 1×1 layer on a 28×28×256 map, $28 \cdot 28 \cdot (256/g) \cdot 256$:

# %%
def two_grouped_1x1(c, groups, shuffle):
    inputs = keras.Input((1, 1, c))
    x = L.conv_bn(inputs, c, 1, groups=groups, activation=None, use_bn=False, use_bias=False, name="g1")
    if shuffle:
        x = L.channel_shuffle(x, groups, name="shuffle")
    x = L.conv_bn(x, c, 1, groups=groups, activation=None, use_bn=False, use_bias=False, name="g2")
    return keras.Model(inputs, x)


keras.utils.set_random_seed(SEED)
reach = {}
for shuffle in (False, True):
    model = two_grouped_1x1(8, 2, shuffle)
    x_in = tf.random.stateless_normal((1, 1, 1, 8), seed=(SEED, 2))
    with tf.GradientTape() as tape:
        tape.watch(x_in)
        y_out = model(x_in)
    jac = tape.jacobian(y_out, x_in).numpy().reshape(8, 8)  # [output channel, input channel]
    reach[shuffle] = (np.abs(jac) > 1e-7).astype(int)
    print(f"{'with' if shuffle else 'without'} shuffle: output channel x input channel\n{reach[shuffle]}")
assert reach[False][:4, 4:].sum() == 0 and reach[False][4:, :4].sum() == 0  # two separate halves
assert reach[True].all()  # every output reads every input

for groups in (1, 2, 4, 8):
    s = measure("grouped", lambda x, g=groups: L.conv_bn(x, C, 1, groups=g, use_bn=False, use_bias=False,
                                                        name="conv"))[0]
    assert s.total_macs == SIZE * SIZE * (C // groups) * C
    print(f"grouped 1x1, g = {groups}: {s.total_macs / 1e6:5.1f} M MACs = 28·28·{C // groups}·{C}")

# %% [markdown]
# ShuffleNet v2 (Ma et al. 2018) keeps the shuffle but drops the grouped 1×1 convolutions: a unit splits its $C$
# channels in two, leaves one half alone, runs the other half ($c = C/2$) through 1×1, depthwise 3×3 and 1×1, and
# shuffles the concatenation so that the next unit's split mixes both. A stride-1 unit costs
# $H W \cdot (c \cdot c + 9 c + c \cdot c) = H W (2c^2 + 9c)$ MACs, checked on the library's `shuffle_unit` and on
# every stride-1 unit of the registered `shufflenet_v2_x1_0`, whose shuffle layers count 0:

# %%
print(inspect.getsource(lightweight.shuffle_unit))
unit, _ = measure("unit", lambda x: lightweight.shuffle_unit(x, L, C, strides=1, name="unit"))
half = C // 2
assert unit.total_macs == SIZE * SIZE * (2 * half * half + 9 * half)
print(f"one stride-1 unit on 28x28x{C}: {unit.total_macs / 1e6:.1f} M MACs = 28·28·(2·{half}² + 9·{half}); "
      f"a 3x3 convolution {C} -> {C}: {one.total_macs / unit.total_macs:.0f}x more")

shufflenet = analysis.summarize(tfcnn.create_model("shufflenet_v2_x1_0"))
rows_by_name = {row.name: row for row in shufflenet.layers}
units = sorted({row.name[: -len("_split_left")] for row in shufflenet.layers if row.name.endswith("_split_left")})
for u in units:
    h, w, c_out = rows_by_name[f"{u}_concat"].output_shape
    unit_macs = sum(row.macs for row in shufflenet.layers if row.name.startswith(u + "_"))
    assert unit_macs == h * w * (2 * (c_out // 2) ** 2 + 9 * (c_out // 2)), u
shuffle_macs = sum(row.macs for row in shufflenet.layers if "_shuffle" in row.name)
assert shuffle_macs == 0
print(f"shufflenet_v2_x1_0: {len(units)} stride-1 units match H·W·(2c² + 9c); its "
      f"{sum(row.name.endswith('_shuffle') for row in shufflenet.layers)} shuffles cost {shuffle_macs} MACs; "
      f"total {shufflenet.total_macs / 1e6:.0f} M MACs")
keras.backend.clear_session()

# %% [markdown]
# ## The fire module (SqueezeNet)
# “\(1*1\)卷积核可以帮助减少channel的数量。” (section 从卷积的角度思考,如何减小网络中的计算量). SqueezeNet (Iandola et al.
# 2016) builds its whole body from that sentence. A *fire module* squeezes $C_{in}$ channels to $s$ with a 1×1
# convolution, then expands with $e_1$ 1×1 and $e_3$ 3×3 filters side by side and concatenates them
# ($e_1 + e_3$ channels out). Its cost is
# $H W \cdot (C_{in} \cdot s + s \cdot e_1 + 9 \cdot s \cdot e_3)$ MACs, against $H W \cdot 9 \cdot C_{in} (e_1 + e_3)$
# for one 3×3 convolution with the same input and output. The library's module, then every fire module of the
# registered `squeezenet1_1` checked against the formula:

# %%
print(inspect.getsource(lightweight.fire_module))


def fire_macs(h, w, c_in, s, e1, e3):
    return h * w * (c_in * s + s * e1 + 9 * s * e3)


squeezenet = analysis.summarize(tfcnn.create_model("squeezenet1_1"))
rows_by_name = {row.name: row for row in squeezenet.layers}
print("| module | input | s, e1, e3 | MACs (formula) | MACs (summarize) | a 3x3 conv instead | ratio |")
print("|---|---|---|---:|---:|---:|---:|")
fire_total = 0
for n in range(2, 10):
    c_in = rows_by_name[rows_by_name[f"fire{n}_squeeze_conv"].inbound[0]].output_shape[-1]
    h, w, s_ch = rows_by_name[f"fire{n}_squeeze_conv"].output_shape
    e1, e3 = (rows_by_name[f"fire{n}_expand{k}_conv"].output_shape[-1] for k in ("1x1", "3x3"))
    by_hand = fire_macs(h, w, c_in, s_ch, e1, e3)
    measured = sum(row.macs for row in squeezenet.layers if row.name.startswith(f"fire{n}_"))
    assert measured == by_hand, n
    plain3x3 = h * w * 9 * c_in * (e1 + e3)
    fire_total += measured
    print(f"| fire{n} | {h}x{w}x{c_in} | {s_ch}, {e1}, {e3} | {by_hand:,} | {measured:,} | {plain3x3:,} | "
          f"{plain3x3 / by_hand:.1f}x |")
print(f"squeezenet1_1: {squeezenet.total_macs / 1e6:.0f} M MACs, {squeezenet.total_params:,} parameters; "
      f"the fire modules: {100 * fire_total / squeezenet.total_macs:.0f} % of the MACs")
keras.backend.clear_session()

# %% [markdown]
# ## The ghost module (GhostNet)
# “我们在设计卷积的时候,要压缩网络的时候,就可以从上面的点来进行考虑。” (section 从卷积的角度思考,如何减小网络中的计算量).
# GhostNet (Han et al. 2020) observes that many feature maps of a layer look like cheap transformations of others.
# A *ghost module* producing $n$ channels computes only $m = n/s$ of them with a 1×1 convolution ($s = 2$ in the
# paper) and makes the other $(s-1) m$ "ghosts" with a depthwise 3×3 convolution of those $m$. Its cost is
# $H W \cdot (C_{in} \cdot m + 9 \cdot (s - 1) m)$ MACs instead of $H W \cdot C_{in} \cdot n$ for the 1×1
# convolution it replaces, a saving of $s \cdot C_{in} / (C_{in} + 9 (s - 1))$, which tends to $s$ when
# $C_{in} \gg 9$. The library's module, measured on the 28×28×256 map, then every ghost module of the registered
# `ghostnet`:

# %%
print(inspect.getsource(lightweight.ghost_module))
S = lightweight.GHOST_RATIO
ghost, _ = measure("ghost", lambda x: lightweight.ghost_module(x, L, C, name="ghost"))
pointwise, _ = measure("pw", lambda x: L.conv_bn(x, C, 1, use_bn=False, use_bias=False, name="pw"))
m = C // S
assert ghost.total_macs == SIZE * SIZE * (C * m + 9 * (S - 1) * m)
assert pointwise.total_macs == SIZE * SIZE * C * C
saving = pointwise.total_macs / ghost.total_macs
assert abs(saving - S * C / (C + 9 * (S - 1))) < 1e-12
print(f"ghost module 256 -> 256 on 28x28: {ghost.total_macs / 1e6:.2f} M MACs; the 1x1 convolution: "
      f"{pointwise.total_macs / 1e6:.2f} M; saving {saving:.3f}x = 2·256 / (256 + 9)")

ghostnet = analysis.summarize(tfcnn.create_model("ghostnet"))
rows_by_name = {row.name: row for row in ghostnet.layers}
modules = [row.name[: -len("_primary_conv")] for row in ghostnet.layers if row.name.endswith("_primary_conv")]
ghost_total = 0
for g in modules:
    primary = rows_by_name[f"{g}_primary_conv"]
    c_in = rows_by_name[primary.inbound[0]].output_shape[-1]
    h, w, m_g = primary.output_shape
    by_hand = h * w * (c_in * m_g + 9 * (S - 1) * m_g)
    measured = primary.macs + rows_by_name[f"{g}_cheap_conv"].macs
    assert measured == by_hand, g
    ghost_total += measured
print(f"ghostnet: all {len(modules)} ghost modules match H·W·(C_in·m + 9·m); they are "
      f"{100 * ghost_total / ghostnet.total_macs:.0f} % of its {ghostnet.total_macs / 1e6:.0f} M MACs")
keras.backend.clear_session()

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
# | channel split and shuffle | ShuffleNet v2 | 16, 17 |
# | squeeze with 1×1, expand with 1×1 and 3×3 (fire module) | SqueezeNet 1.1 | 16, 17 |
# | half the channels by a cheap depthwise 3×3 (ghost module) | GhostNet | 16, 17 |
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
