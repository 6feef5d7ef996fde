# %% [markdown]
# # 03 卷积中的重要参数 / Kernel, stride, padding, receptive field, sharing
#
# **What you will learn**
# - how kernel size `F`, stride `S` and padding `P` fix the output size: `(N + 2P − F) / S + 1`;
# - why odd kernels and `P = (F − 1) / 2` keep the size ("same" padding);
# - local connectivity (局部连接) and weight sharing (权值共享): how they take a layer from 10¹² to 100 weights;
# - the receptive field (感受野): two 3×3 convolutions see as much as one 5×5, three see a 7×7.
#
# Every number from the notes is recomputed here with `tfcnn.analysis`, and the key ones are checked against
# what TensorFlow actually does.

# %% setup

# %% [markdown]
# ## Output size
# The notes' examples: a 32×32 input with 5×5 filters (no padding, stride 1) gives 28×28; AlexNet's first layer,
# 227×227 with 11×11 filters at stride 4, gives 55×55; a 7×7 input with a 3×3 filter gives 5×5 at stride 1 and 3×3
# at stride 2, while stride 3 does not fit evenly (`(7 − 3) / 3` is not an integer).

# %%
print(inspect.getsource(analysis.conv_output_size).split('"""')[0])
cases = [(32, 5, 1, "valid", 28), (227, 11, 4, "valid", 55), (7, 3, 1, "valid", 5), (7, 3, 2, "valid", 3),
         (32, 5, 1, 2, 32), (32, 3, 1, "same", 32), (32, 3, 2, "same", 16)]
print("| N | F | S | P | formula | tf.nn.conv2d |\n|---:|---:|---:|---|---:|---:|")
for n, f, s, p, expected in cases:
    out = analysis.conv_output_size(n, f, s, p)
    x = tf.zeros((1, n, n, 1))
    if isinstance(p, int):
        x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
    tf_out = tf.nn.conv2d(x, tf.zeros((f, f, 1, 1)), s, "SAME" if p == "same" else "VALID").shape[1]
    print(f"| {n} | {f} | {s} | {p} | {out} | {tf_out} |")
    assert out == expected == tf_out
print("stride 3 on 7x7 with 3x3: (7-3)/3 =", (7 - 3) / 3, "-> not an integer, the last column is dropped")

# %% [markdown]
# ## "Same" padding: `P = (F − 1) / 2`
# With stride 1, padding `(F − 1) / 2` zeros on each side keeps the size: 1 for 3×3, 2 for 5×5, 3 for 7×7.
# An even kernel has no centre, so it cannot keep the size with symmetric padding — one reason kernels are odd.

# %%
for f in (3, 5, 7):
    p = analysis.same_padding(f)
    assert analysis.conv_output_size(32, f, 1, p) == 32
    print(f"F={f}: P={p}, 32 -> {analysis.conv_output_size(32, f, 1, p)}")
try:
    analysis.same_padding(4)
except ValueError as err:
    print("even kernel:", err)

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > The notes' summary section 「pad」 repeats the padding list with the kernel size stuck at 3:
# > 「具体要pad多少呢?和卷积核的大小相关」 followed by `F=3 =》zero pad with 1`, `F=3 =》zero pad with 2`,
# > `F=3 =》zero pad with 3` (the first copy of the list, earlier in the notes, correctly says F=3, 5, 7).
# > With F = 3 only one of those paddings keeps the size:

# %%
sizes = {p: analysis.conv_output_size(32, 3, 1, p) for p in (1, 2, 3)}
tf_sizes = {p: tf.nn.conv2d(tf.pad(tf.zeros((1, 32, 32, 1)), [[0, 0], [p, p], [p, p], [0, 0]]),
                            tf.zeros((3, 3, 1, 1)), 1, "VALID").shape[1] for p in (1, 2, 3)}
print("F=3 on 32x32, stride 1: padding -> output size", sizes, "| tf.nn.conv2d:", tf_sizes)
assert sizes == tf_sizes == {1: 32, 2: 34, 3: 36}
assert [analysis.same_padding(f) for f in (3, 5, 7)] == [1, 2, 3]
print("✓ with F=3 only pad 1 keeps 32x32 (pad 2 gives 34, pad 3 gives 36); pads 1, 2, 3 belong to F = 3, 5, 7")

# %% [markdown]
# **Corrected.** The list is `F=3 → pad 1`, `F=5 → pad 2`, `F=7 → pad 3`, i.e. `P = (F − 1) / 2` at stride 1.

# %% [markdown]
# ## Stride and padding on a real digit
# The same 3×3 edge filter applied to a digit with different strides and paddings; each title gives the output
# size, which matches the formula.

# %%
from tfcnn.data import load_dataset, preprocess

digit = preprocess(load_dataset("digits").x_test[:1], (28, 28, 1))
edge = tf.constant([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], tf.float32)[:, :, None, None]
fig, axes = plt.subplots(1, 5, figsize=(11, 2.4))
axes[0].imshow(digit[0, ..., 0], cmap="gray")
axes[0].set_title("input 28x28")
for ax, (s, p) in zip(axes[1:], [(1, "VALID"), (1, "SAME"), (2, "VALID"), (2, "SAME")]):
    out = tf.nn.conv2d(digit, edge, s, p)
    assert out.shape[1] == analysis.conv_output_size(28, 3, s, p.lower())
    ax.imshow(out[0, ..., 0], cmap="RdBu")
    ax.set_title(f"S={s} {p}: {out.shape[1]}x{out.shape[2]}")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Local connectivity and weight sharing: 10¹² → 10⁸ → 100
# The notes' example: a 1000×1000 image and a hidden layer of 10⁶ units.
# - **Fully connected**: every unit sees every pixel: 10⁶ × 10⁶ = 10¹² weights.
# - **Locally connected**: every unit sees only a 10×10 patch: 10⁶ × 100 = 10⁸ weights.
# - **Weight sharing**: all units use the *same* 10×10 patch weights: 100 weights (one filter).

# %%
full = analysis.dense_params(1000 * 1000, 10**6, use_bias=False)
local = analysis.locally_connected_params(10, 1, 1, (1000, 1000), use_bias=False)
shared = analysis.conv_params(10, 1, 1, use_bias=False)
print(f"| connectivity | weights |\n|---|---:|\n| full | {full:.0e} |\n| local 10x10 | {local:.0e} |"
      f"\n| local + shared | {shared} |")
assert (full, local, shared) == (10**12, 10**8, 100)

# %% [markdown]
# The notes' second example: a 32×32×3 input and 100 filters of 5×5. With sharing, each filter has
# 5·5·3 = 75 weights, so 7,500 weights and 100 biases. Without sharing, every one of the 28×28 output positions of
# every filter would own its weights: 5·5·3·28·28·100 = 5,880,000.

# %%
with_sharing = analysis.conv_params(5, 3, 100)
without = analysis.locally_connected_params(5, 3, 100, analysis.conv_output_size(32, 5), use_bias=False)
print(f"with sharing: {with_sharing:,} = 7,500 weights + 100 biases; without sharing: {without:,} weights")
assert with_sharing == 7_500 + 100
assert without == 5 * 5 * 3 * 28 * 28 * 100 == 5_880_000
layer = keras.layers.Conv2D(100, 5)
layer.build((None, 32, 32, 3))
assert layer.count_params() == with_sharing  # Keras agrees

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「卷积中的重要参数」, list 「卷积核」: 「常用卷积核:1\*1,3\*3,5\*5,7\*7 (一般不会超过7\*7)」 —
# > "common kernels are 1×1, 3×3, 5×5, 7×7 (generally never larger than 7×7)". Later the notes repeat it even
# > more strongly (「不可能比7更大」, "it cannot be larger than 7"), yet their own AlexNet section lists
# > 「图片经过多轮卷积,$11*11,5*5,3*3,3*3,3*3$」. Read the kernel sizes from the library's AlexNet:

# %%
alexnet = tfcnn.create_model("alexnet")
kernels = {ly.name: ly.kernel_size for ly in alexnet.layers if isinstance(ly, keras.layers.Conv2D)}
print(kernels)
assert kernels["conv1_conv"] == (11, 11) and max(k[0] for k in kernels.values()) > 7
print(f"✓ AlexNet's conv1 is {kernels['conv1_conv'][0]}x{kernels['conv1_conv'][1]} (stride 4): "
      "a kernel larger than 7x7 in one of the networks the notes teach")

# %% [markdown]
# **Corrected.** 3×3 and 1×1 are by far the most common kernels today and 7×7 is a common *maximum*, but it is a
# design habit, not a rule: AlexNet (2012) opens with 11×11 at stride 4, ZFNet replaced that by 7×7 at stride 2
# (chapter 12), and large kernels are back in recent designs (e.g. 7×7 depthwise in ConvNeXt, 31×31 in RepLKNet).
# The reason large kernels went out of fashion is the one the notes give a page later: a stack of 3×3 layers
# covers the same receptive field with fewer weights (see below).

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「卷积——权值共享与局部连接(局部感受野/局部感知)」: 「卷积运算作用在局部(这里的filter size应该被认为是卷积后的feature size的大小)」 —
# > "convolution acts locally (here the filter size should be taken as the size of the feature after convolution)".
# > The notes' own example above contradicts it: 5×5 filters on a 32×32×3 image give 28×28 feature maps.

# %%
conv = keras.layers.Conv2D(100, 5)
feature = conv(tf.zeros((1, 32, 32, 3)))
filter_hw, feature_hw = tuple(conv.kernel.shape[:2]), tuple(feature.shape[1:3])
print(f"filter (kernel) shape {tuple(conv.kernel.shape)}, feature map shape {tuple(feature.shape[1:])}")
assert filter_hw == (5, 5) and feature_hw == (28, 28) and filter_hw != feature_hw
print(f"✓ filter size {filter_hw} is not the feature size {feature_hw}: the output size is (N - F)/S + 1 = (32 - 5)/1 + 1")

# %% [markdown]
# **Corrected.** The filter size `F×F` is the size of the *local region of the input* that one output value
# depends on (its receptive field in the layer's input), not the size of the output. The output (feature map) size
# is `(N + 2P − F) / S + 1`: the filter size fixes the weights' shape `(F, F, C_in, C_out)` and, with stride and
# padding, how much the map shrinks — a larger filter gives a *smaller* feature map.

# %% [markdown]
# ## Receptive field: two 3×3 = one 5×5, three 3×3 = one 7×7
# `analysis.receptive_field` follows `r ← r + (F − 1)·j`, `j ← j·S` through a stack. The claim can also be
# *measured*: back-propagate from one unit of the last layer to the input (`viz.deconv_reconstruction`) and count
# the pixels that receive a signal.

# %%
print("two 3x3:", analysis.receptive_field([(3, 1)] * 2), "| three 3x3:", analysis.receptive_field([(3, 1)] * 3),
      "| conv3-pool2-conv3:", analysis.receptive_field([(3, 1), (2, 2), (3, 1)]))
assert analysis.receptive_field([(3, 1)] * 2) == (5, 1)
assert analysis.receptive_field([(3, 1)] * 3) == (7, 1)

from tfcnn.layers import get_style

L = get_style("keras")
measured = {}
for depth in (1, 2, 3):
    inputs = x = keras.Input((15, 15, 1))
    for i in range(depth):
        x = L.conv_bn(x, 4, 3, padding="valid", use_bn=False, activation="linear", name=f"c{i}")
    stack = keras.Model(inputs, x)
    rec = viz.deconv_reconstruction(stack, np.ones((15, 15, 1), np.float32), f"c{depth - 1}_conv", unit=0,
                                    position=(2, 2))
    rows, cols = np.nonzero(np.abs(rec[..., 0]) > 0)
    measured[depth] = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    print(f"{depth} x 3x3: formula {analysis.receptive_field([(3, 1)] * depth)[0]}, measured {measured[depth]}")
    assert measured[depth] == (2 * depth + 1,) * 2

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「卷积中的重要参数」: `「卷积核的大小就对应感受野的区域大小,比如\(3*3\)d的卷积核,其感受野的大小就是\(5*5\)。」` —
# > "the kernel size corresponds to the receptive field, e.g. a 3×3 kernel has a 5×5 receptive field". The first
# > half is right; the example is not. One 3×3 layer sees 3×3; it takes *two* stacked 3×3 layers to see 5×5 —
# > as the notes' own next paragraph (two 3×3 convolutions equivalent to one 5×5) says.

# %%
one, two = analysis.receptive_field([(3, 1)]), analysis.receptive_field([(3, 1)] * 2)
print(f"one 3x3: formula {one[0]}x{one[0]}, measured {int(measured[1][0])}x{int(measured[1][1])} | two 3x3: "
      f"formula {two[0]}x{two[0]}, measured {int(measured[2][0])}x{int(measured[2][1])}")
assert one == (3, 1) and measured[1] == (3, 3) and two == (5, 1) and measured[2] == (5, 5)
print("✓ a single 3x3 kernel has a 3x3 receptive field; 5x5 needs two stacked 3x3 layers")

# %% [markdown]
# **Corrected.** A single `F×F` convolution has an `F×F` receptive field (on its own input). Stacking `n` layers
# of 3×3 at stride 1 gives `2n + 1`: 5×5 for two, 7×7 for three; strides and pooling below a layer multiply how
# much each extra layer adds (`r ← r + (F − 1)·j`).

# %% [markdown]
# Why stack small kernels? Same receptive field, fewer parameters and more non-linearities. For `C` channels in
# and out: three 3×3 layers cost 27·C² weights, one 7×7 layer 49·C² (the VGG argument).

# %%
c = 64
three = 3 * analysis.conv_params(3, c, c, use_bias=False)
one = analysis.conv_params(7, c, c, use_bias=False)
print(f"C={c}: three 3x3 = {three:,} weights, one 7x7 = {one:,} weights, ratio {three / one:.2f} = 27/49")
assert three * 49 == one * 27

# %% [markdown]
# ## Exercises
# 1. What output size does a 224×224 input give after a 7×7 convolution with stride 2 and padding 3 (ResNet's
#    first layer)? Check with `analysis.conv_output_size`.
# 2. Compute the receptive field of LeNet's `conv2` (conv5 → pool2 → conv5) and measure it with
#    `viz.deconv_reconstruction` on `tfcnn.create_model("lenet")`.
# 3. How many weights would AlexNet's first layer (96 filters of 11×11×3 on 227×227) have without weight sharing?
