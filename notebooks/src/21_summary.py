# %% [markdown]
# # 21 小结 / Summary
#
# **What you will learn**
# - the course in one page: what each chapter showed, and the notebook that shows it;
# - the handful of formulas behind every number in the course, each checked once more against `tfcnn.analysis`
#   and TensorFlow;
# - six years of ImageNet progress in one picture, from the papers' own figures.

# %% setup

# %% [markdown]
# ## The chapters
#
# | # | chapter | the point, in one line |
# |---|---|---|
# | 01 | [什么是卷积神经网络 / What a CNN is](01_what_is_a_cnn.ipynb) | a feature extractor (conv + pool) and a classifier, on NHWC tensors |
# | 02 | [重要组成单元 / Building blocks](02_building_blocks.ipynb) | convolution, activation, pooling, FC, loss |
# | 03 | [卷积中的重要参数 / Kernel, stride, padding](03_conv_parameters.ipynb) | output size, receptive field, local connectivity, weight sharing |
# | 04 | [卷积的定义和使用 / Three ways to define conv](04_defining_conv.ipynb) | raw `tf.nn`, slim, Keras compute the same; conv = im2col + matmul |
# | 05 | [池化 / Pooling](05_pooling.ipynb) | down-sampling without weights |
# | 06 | [激活函数 / Activations](06_activations.ipynb) | non-linearity, and gradients that vanish through sigmoids |
# | 07 | [BatchNorm](07_batchnorm.ipynb) | normalise each channel per batch; trains faster |
# | 08 | [全连接层 / Fully connected](08_fully_connected.ipynb) | where parameters pile up; 1×1 conv in place of FC |
# | 09 | [Dropout 与权重衰退 / Dropout and weight decay](09_dropout_weight_decay.ipynb) | two remedies for over-fitting |
# | 10 | [损失层 / Losses](10_losses.ipynb) | cross-entropy, L1, L2, smooth L1, and what L1 does to weights |
# | 11 | [LeNet](11_lenet.ipynb) | 61,706 parameters, most in the FC layers |
# | 12 | [AlexNet and ZFNet](12_alexnet_zfnet.ipynb) | LRN, two GPUs = `groups=2`, looking inside with deconvnets |
# | 13 | [VGG](13_vgg.ipynb) | 3×3 stacks; 89 % of the parameters in FC, 99 % of the MACs in conv |
# | 14 | [GoogLeNet and Inception](14_googlenet_inception.ipynb) | 1×1 reductions, factorised kernels, auxiliary losses |
# | 15 | [ResNet](15_resnet.ipynb) | `F(x) + x`: gradients that survive depth |
# | 16 | [减小计算量 / Reducing computation](16_reducing_computation.ipynb) | small kernels, stride 2, bottlenecks, depthwise separable |
# | 17 | [结构对比 / Comparing architectures](17_comparing_architectures.ipynb) | params vs MACs vs error |
# | 18 | [Attention](18_attention.ipynb) | SE gates over channels, residual-attention masks over positions |
# | 19 | [模型压缩 / Compression](19_compression.ipynb) | light by design, then fewer bits: TFLite float16/int8 |
# | 20 | [模型剪枝 / Pruning](20_pruning.ipynb) | zeros that gzip sees; 2:4 for hardware |

# %% [markdown]
# ## The formulas, one last check
# For a convolution with kernel `F`, stride `S`, padding `P`, `C_in` input and `K` output channels on an `N×N` map:
# - output size `(N + 2P − F) / S + 1`;
# - parameters `F·F·C_in·K + K`;
# - MACs `H_out·W_out·F·F·C_in·K`;
# - receptive field through a stack: `r ← r + (F − 1)·j`, `j ← j·S`.
#
# One small network exercises all four; the library's per-layer analysis and TensorFlow agree with the hand
# computation.

# %%
from tfcnn.layers import get_style

L = get_style("keras")
inputs = x = keras.Input((32, 32, 3))
x = L.conv_bn(x, 16, 5, strides=1, padding="valid", use_bn=False, name="a")  # 32 -> 28
x = L.max_pool(x, 2, name="pool")  # 28 -> 14
x = L.conv_bn(x, 32, 3, strides=2, padding="same", use_bn=False, name="b")  # 14 -> 7
net = keras.Model(inputs, x, name="cheat_sheet")
s = analysis.summarize(net)
hand = {
    "a_conv": dict(size=(32 - 5) // 1 + 1, params=5 * 5 * 3 * 16 + 16, macs=28 * 28 * 5 * 5 * 3 * 16, rf=5),
    "pool": dict(size=14, params=0, macs=0, rf=5 + (2 - 1) * 1),
    "b_conv": dict(size=7, params=3 * 3 * 16 * 32 + 32, macs=7 * 7 * 3 * 3 * 16 * 32, rf=6 + (3 - 1) * 2),
}
print("| layer | output (hand / Keras) | params | MACs | receptive field |\n|---|---|---:|---:|---:|")
for name, h in hand.items():
    row = s.layer(name)
    print(f"| {name} | {h['size']} / {row.output_shape} | {row.params:,} | {row.macs:,} | {row.receptive_field[0]} |")
    assert row.output_shape[0] == h["size"] and row.params == h["params"] and row.macs == h["macs"]
    assert row.receptive_field == (h["rf"], h["rf"])
assert analysis.conv_output_size(14, 3, 2, "same") == 7 == net.output_shape[1]
assert analysis.profile_flops(net).matmul_like == 2 * s.total_macs

# %% [markdown]
# ## Six years of ImageNet
# Published single-model top-1 errors from `analysis.PUBLISHED_ERRORS` (the sources and protocols are listed in
# chapter 17; protocols differ by a point or two, the trend does not).

# %%
years = {"alexnet": 2012, "zfnet": 2013, "vgg16": 2014, "vgg19": 2014, "inception_v3": 2015, "resnet18": 2015,
         "resnet50": 2015, "resnet152": 2015, "attention92": 2017, "se_resnet50": 2017, "mobilenet_v1": 2017,
         "mobilenet_v2": 2018}
points = {name: analysis.PUBLISHED_ERRORS[name].top1 for name in years}
fig, ax = plt.subplots(figsize=(7, 3.4))
ax.scatter([years[n] for n in points], list(points.values()), color="tab:blue", zorder=3)
ax.set_xlabel("year")
ax.set_ylabel("published top-1 error (%)")
ax.grid(alpha=0.3)
assert not viz.labels_overlap(viz.annotate_points(ax, [years[n] for n in points], list(points.values()),
                                                  list(points)))
plt.show()
best = {y: min(e for n, e in points.items() if years[n] <= y) for y in sorted(set(years.values()))}
print("best single-model top-1 error so far, by year:", best)
assert best[2012] > best[2013] > best[2014] > best[2015] > best[2017]  # a new best each year it was sought
assert points["mobilenet_v2"] > best[2017]  # the 2018 entry is not the most accurate: it was built to be cheap
assert points["alexnet"] - best[2017] > 20
print("✓ the best error fell from one year to the next until 2017; MobileNet v2 (2018) trades accuracy for cost")

# %% [markdown]
# The best published error fell every year in which a more accurate network appeared, from AlexNet's 40.7 % in
# 2012 to the Residual Attention Network's 19.5 % in 2017. The 2018 point does not move the frontier: MobileNet v2
# aims at the other axis of chapter 17's plot, cost, with 28.0 % error at a twentieth of ResNet-50's MACs.

# %% [markdown]
# ## Where to go from here
# - Train any of the zoo from one command: `python -m tfcnn.train resnet18 --dataset digits`, and look at it with
#   `python -m tfcnn.viz saved_models/resnet18 IMAGE --kind gradcam`.
# - Compress what you trained: `python -m tfcnn.compress saved_models/resnet18 --prune 0.8 --qat`.
# - Compare: `python -m tfcnn.summary --compare resnet50 vgg16 mobilenet_v2 --markdown`.
#
# ## Exercises
# 1. Pick one architecture and write its row of the chapter-17 table by hand from its paper's table; then check
#    each number with `analysis.summarize`.
# 2. Which of chapter 16's four techniques does each network of chapter 17 use? Which uses none?
# 3. Train LeNet, prune it to 80 % and quantize it to int8 (chapters 11, 19, 20) in one script with the command
#    lines above. What is the smallest gzipped file that keeps 98 % accuracy on the MNIST hold-out?
