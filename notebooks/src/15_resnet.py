# %% [markdown]
# # 15 ResNet / Residual networks
#
# **What you will learn**
# - why simply stacking more layers stops working: gradients that explode or vanish on their way back through depth,
#   measured layer by layer;
# - the skip connection: a block learns a residual `F(x)` and outputs `F(x) + x` (the notes: “为什么ResNet的网络结构可以这么深呢?因为引入了跳连的结构。”), so the identity is the easy default and gradients have a short path;
# - the basic and bottleneck blocks of `tfcnn.models.resnet`, and ResNet-18/50 counted;
# - a plain and a residual 31-layer network trained side by side on real digits, with the numbers as they come out.

# %% setup

# %% [markdown]
# ## The blocks
# Basic block (ResNet-18/34): two 3×3 convolutions. Bottleneck (ResNet-50 and deeper): 1×1 down to a quarter of
# the width, 3×3, 1×1 back up. Either way the block ends with `add([shortcut, y])` and a ReLU; the shortcut is the
# identity unless the shape changes (then a strided 1×1 projection).

# %%
from tfcnn.models import resnet as resnet_module

print(inspect.getsource(resnet_module.basic_block))
print(inspect.getsource(resnet_module.bottleneck_block))
print("RESNET_STAGES =", resnet_module.RESNET_STAGES)

# %% [markdown]
# The name is the depth: the number of weighted layers on the longest path (`analysis.summarize(...).depth`).

# %%
print("| model | depth | params | MACs at 224 |\n|---|---:|---:|---:|")
for name in ("resnet18", "resnet50"):
    s = analysis.summarize(tfcnn.create_model(name))
    print(f"| {name} | {s.depth} | {s.total_params / 1e6:.1f} M | {s.total_macs / 1e9:.2f} G |")
    assert s.depth == int(name[6:])
keras.backend.clear_session()

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「ResNet」: 「ResNet在最后分类的时候,采用的不是FC,而是average pool。」 and, among ResNet's design points,
# > 「average pooling层代替FC层」 — "ResNet classifies with average pooling instead of an FC layer". It uses both:
# > global average pooling, *then* one fully connected layer. Read ResNet-50's head:

# %%
resnet50 = tfcnn.create_model("resnet50")
head = [(layer.name, type(layer).__name__, layer.count_params()) for layer in resnet50.layers[-2:]]
fc_params = resnet50.get_layer("logits").count_params()
print("last two layers:", head, "| output", resnet50.output_shape)
print(f"the FC layer: {fc_params:,} of {resnet50.count_params():,} parameters = "
      f"{100 * fc_params / resnet50.count_params():.1f} %")
assert [t for _, t, _ in head] == ["GlobalAveragePooling2D", "Dense"]
assert fc_params == 2048 * 1000 + 1000 and 0.07 < fc_params / resnet50.count_params() < 0.09
print("✓ ResNet-50 ends with global average pooling followed by one FC layer (2048 -> 1000), "
      f"{100 * fc_params / resnet50.count_params():.1f} % of its parameters")
keras.backend.clear_session()

# %% [markdown]
# **Corrected.** ResNet replaces VGG's *stack* of large FC layers (fc1 alone has 7·7·512·4096 weights) by global
# average pooling, which turns the 7×7×2048 map into a 2048-vector without parameters, followed by **one** FC layer
# of 2048 × 1000 weights + 1000 biases: about 2 M parameters, 8 % of ResNet-50's 25.6 M (in VGG-16 the FC layers
# are 89 %, chapter 13). The pooling does not classify; the FC layer still does — it is just small.

# %% [markdown]
# ## Gradients through depth
# Four 31-layer networks on 16×16 digits (a stem and 15 blocks of two 3×3 convolutions, 16 channels), identical
# except for batch norm and the skip connections. The residual ones use the library's `basic_block`; the plain ones
# the same two `conv_bn` layers without the `add`. For one batch at initialisation we measure the norm of the
# loss gradient for every convolution kernel, from the input (layer 1) to the output (layer 31).

# %%
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("digits")
L = tfcnn.layers.get_style("keras")
BLOCKS, WIDTH, SIZE = 15, 16, 16


def build(residual: bool, use_bn: bool = True):
    inputs = x = keras.Input((SIZE, SIZE, 1))
    x = L.conv_bn(x, WIDTH, 3, use_bn=use_bn, name="stem")
    for b in range(1, BLOCKS + 1):
        if residual:
            x = resnet_module.basic_block(x, L, WIDTH, strides=1, conv_bias=not use_bn, bn_epsilon=1e-5,
                                          attend=None, weight_decay=None, name=f"block{b}")
        else:
            x = L.conv_bn(x, WIDTH, 3, use_bn=use_bn, name=f"block{b}_1")
            x = L.conv_bn(x, WIDTH, 3, use_bn=use_bn, name=f"block{b}_2")
    x = L.global_pool(x, name="avg_pool")
    name = ("residual" if residual else "plain") + ("_bn" if use_bn else "_no_bn")
    return keras.Model(inputs, L.dense(x, 10, name="logits"), name=name)


loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
x = preprocess(data.x_train[:128], (SIZE, SIZE, 1))
y = data.y_train[:128]
grad_norms, last_std = {}, {}
for residual in (False, True):
    for use_bn in (False, True):
        keras.utils.set_random_seed(0)
        m = build(residual, use_bn)
        with tf.GradientTape() as tape:
            features = keras.Model(m.inputs, m.get_layer("avg_pool").input)(x, training=True)
            loss = loss_fn(y, m.get_layer("logits")(m.get_layer("avg_pool")(features)))
        kernels = [v for v in m.trainable_variables if v.name.endswith("kernel:0") and len(v.shape) == 4]
        grad_norms[m.name] = np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])
        last_std[m.name] = float(tf.math.reduce_std(features))

fig, ax = plt.subplots(figsize=(6.5, 3.2))
for name, norms in grad_norms.items():
    ax.semilogy(range(1, len(norms) + 1), norms, marker=".", label=name)
ax.set_xlabel("conv layer (1 = next to the input)")
ax.set_ylabel("‖∂loss/∂kernel‖")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()
print("| network | grad layer 1 | grad layer 31 | ratio first/last | std of the last feature map |")
print("|---|---:|---:|---:|---:|")
for name, norms in grad_norms.items():
    print(f"| {name} | {norms[0]:.2e} | {norms[-1]:.2e} | {norms[0] / norms[-1]:.1f} | {last_std[name]:.3g} |")

# %% [markdown]
# **Check.** What the numbers show (and the asserts hold):
# - *plain_no_bn*: the forward signal dies away — after 31 Glorot-initialised ReLU layers the last feature map is
#   tiny compared with the residual network's, so every gradient is small (vanishing);
# - *plain_bn*: the signal is renormalised at every layer, but the gradient grows on its way back to the input
#   (exploding): the first layer's gradient is many times the last one's;
# - *residual*: gradients stay within a small factor from end to end, with or without BN.

# %%
plain, plain_bn, res, res_bn = (grad_norms[n] for n in grad_norms)
stds = list(last_std.values())
assert stds[0] < 0.1 * stds[2]  # plain, no BN: the signal vanishes; residual, no BN: it does not
assert plain_bn[0] / plain_bn[-1] > 5  # plain + BN: exploding towards the input
for norms in (res, res_bn):
    assert 0.25 < norms[0] / norms[-1] < 4  # residual: well conditioned
assert res.mean() > 5 * plain.mean()

# %% [markdown]
# ## Training a plain and a residual 31-layer network
# The same two networks with BN (the paper's Fig. 1 comparison is also between BN networks), the same data, seed,
# optimiser and epochs. Quick mode: 3 epochs on the 1,437 training digits.

# %%
epochs = 3 if QUICK else 10
train_ds = make_pipeline(data.x_train, data.y_train, (SIZE, SIZE, 1), batch_size=64, training=True)
test_ds = make_pipeline(data.x_test, data.y_test, (SIZE, SIZE, 1), batch_size=256, training=False)
histories, final = {}, {}
for residual in (False, True):
    keras.utils.set_random_seed(0)
    m = build(residual, use_bn=True)
    m.compile(keras.optimizers.Adam(1e-3), loss_fn, metrics=["accuracy"])
    histories[m.name] = m.fit(train_ds, validation_data=test_ds, epochs=epochs, verbose=0).history
    final[m.name] = (histories[m.name]["loss"][-1], m.evaluate(test_ds, verbose=0)[1], m.count_params())

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for name, h in histories.items():
    axes[0].plot(range(1, epochs + 1), h["loss"], marker="o", label=name)
    axes[1].plot(range(1, epochs + 1), h["val_accuracy"], marker="o", label=name)
axes[0].set_title("training loss")
axes[1].set_title("test accuracy")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
plt.show()
print("| network | params | final training loss | test accuracy |\n|---|---:|---:|---:|")
for name, (loss, acc, params) in final.items():
    print(f"| {name} | {params:,} | {loss:.3f} | {acc:.3f} |")

# %% [markdown]
# **Check.** Same parameters (the identity shortcut has none), and the residual network fits the training data
# better — the degradation problem of He et al.: the deeper plain network is harder to *optimise*, not over-fitted.

# %%
(plain_loss, plain_acc, plain_params), (res_loss, res_acc, res_params) = final.values()
assert plain_params == res_params
assert res_loss < plain_loss
print(f"residual / plain training loss: {res_loss / plain_loss:.2f}; test accuracy {res_acc:.3f} vs {plain_acc:.3f}")

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「ResNet」: 「ResNet引入跳连结构来防止梯度消失问题,可以进一步加大网络的深度。」 and 「跳连结构解决网络梯度消失问题」 —
# > "the skip connection prevents / solves the vanishing-gradient problem". That is not the problem He et al. set
# > out to solve, and this chapter's own measurements show why: with batch norm the plain network's gradients do not
# > vanish at all — yet it still trains worse than the residual one.

# %%
print(f"plain + BN at initialisation: gradient of layer 1 {plain_bn[0]:.2e}, of layer 31 {plain_bn[-1]:.2e} "
      f"(ratio {plain_bn[0] / plain_bn[-1]:.1f}: no vanishing)")
print(f"after training: plain + BN loss {plain_loss:.3f}, residual + BN loss {res_loss:.3f}")
assert plain_bn[0] > plain_bn[-1]  # the gradient reaching the first layer is not small: nothing vanishes
assert res_loss < plain_loss  # and still the plain network optimises worse: degradation
print("✓ with BN the plain 31-layer network's gradients do not vanish (layer 1 gets "
      f"{plain_bn[0] / plain_bn[-1]:.0f}x layer 31's), yet it fits the training data worse than the residual one")

# %% [markdown]
# **Corrected.** He et al. (2015) say vanishing/exploding gradients "have been largely addressed by normalized
# initialization and intermediate normalization layers"; what remains is the **degradation problem**: a deeper
# plain network reaches a *higher training error* than a shallower one, although it could copy the shallower one
# and set its extra layers to the identity. The skip connection makes that identity the default
# ($H(x) = F(x) + x$ with $F = 0$), so extra layers cannot easily make things worse — the notes' own 「即使没有$f(x)$,那么$H(x)$也有x作为保底」.
# The shortcut also gives the gradient a direct path ($\partial H/\partial x = \partial F/\partial x + I$),
# which helps without BN (the *no_bn* rows above); but "solves vanishing gradients" is BN's and good
# initialisation's achievement as much as ResNet's.

# %% [markdown]
# ## Exercises
# 1. Make both networks shallower (`BLOCKS = 3`). Does the plain network catch up?
# 2. Initialise the last BN of every residual branch with `gamma = 0` (each block starts as the identity, "zero-γ"
#    in Goyal et al.). Measure the gradient ratio again.
# 3. Swap `basic_block` for `bottleneck_block` with `filters=4` (16 output channels). How do parameters and
#    accuracy change?
