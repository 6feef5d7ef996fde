# %% [markdown]
# # 11 LeNet / LeNet-5
#
# **What you will learn**
# - the layout of LeNet-5 (LeCun et al., 1998): C1 6@5×5 → S2 → C3 16@5×5 → S4 → F5 120 → F6 84 → 10, read from a
#   table in `tfcnn.models.lenet`;
# - where its 61,706 parameters are, layer by layer, recomputed by hand and by `tfcnn.analysis`;
# - how the classic flavour (tanh + average "sub-sampling") compares with today's default (ReLU + max pooling) when
#   both are trained on real MNIST digits;
# - what the first and second convolution layers learn (filters and feature maps);
# - LeNet from scratch: a NumPy LeNet (`tfcnn.scratch.lenet`) trained by hand with plain SGD next to Keras: the same
#   first 20 losses to 1e-6 from the same weights and batches, and ≥ 95 % on real digits. You write the dense
#   layer's backward pass.

# %% setup

# %% [markdown]
# ## The network as a table
# The builder reads the paper's Fig. 2 from two small tables; the same code builds all three layer styles.

# %%
from tfcnn.models import lenet as lenet_module

print("LENET_LAYERS =", lenet_module.LENET_LAYERS)
print("LENET_FC =", lenet_module.LENET_FC)
print(inspect.getsource(lenet_module._lenet))

# %% [markdown]
# ## Parameters, layer by layer
# A 5×5 convolution with `C_in` input and `K` output channels has `5·5·C_in·K + K` parameters; a fully connected
# layer `n_in·n_out + n_out`. At 28×28 the first convolution pads SAME, so C1 is 28×28 as for the paper's 32×32
# input, S4 is 5×5×16 = 400 features, and the totals are the paper's.

# %%
model = tfcnn.create_model("lenet")
summary = analysis.summarize(model)
by_hand = {
    "conv1_conv": analysis.conv_params(5, 1, 6),
    "conv2_conv": analysis.conv_params(5, 6, 16),
    "fc1": analysis.dense_params(5 * 5 * 16, 120),
    "fc2": analysis.dense_params(120, 84),
    "logits": analysis.dense_params(84, 10),
}
print("| layer | output | by hand | Keras | MACs |\n|---|---|---:|---:|---:|")
for name, expected in by_hand.items():
    row = summary.layer(name)
    print(f"| {name} | {row.output_shape} | {expected:,} | {row.params:,} | {row.macs:,} |")
    assert row.params == expected == model.get_layer(name).count_params()
assert summary.total_params == sum(by_hand.values()) == 61_706
print(f"total {summary.total_params:,} parameters, {summary.total_macs:,} MACs per image; "
      f"{100 * summary.fc_share:.0f} % of the parameters are in the fully connected layers")

# %% [markdown]
# The paper's C3 was *not* fully connected to S2: its Table I connects each of the 16 maps to only 3, 4 or 6 of
# the 6 input maps (60 of the 96 pairs), "to break the symmetry" and save weights: 60·25 + 16 = 1,516 parameters
# instead of 96·25 + 16 = 2,416. Modern re-implementations (and tfcnn) connect them all.

# %%
partial = 60 * 25 + 16
print(f"C3 with the paper's connection table: {partial:,}; fully connected C3: {summary.layer('conv2_conv').params:,}")
assert summary.layer("conv2_conv").params - partial == 36 * 25

# %% [markdown]
# ## Training on real MNIST: ReLU + max pooling vs tanh + average pooling
# The 10,000 real MNIST test digits bundled with tfcnn, split 8,000 / 2,000 (stratified, seeded) into training and
# hold-out sets by `load_dataset("mnist-t10k")`: no download, no folder outside the package. Quick mode trains on
# 3,000 images for 3 epochs.

# %%
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("mnist-t10k")
print(data.note, "| train", data.x_train.shape, "| test", data.x_test.shape)
n_train, epochs = (3000, 3) if QUICK else (len(data.x_train), 10)
shape = (28, 28, 1)
train_ds = make_pipeline(data.x_train[:n_train], data.y_train[:n_train], shape, batch_size=64, training=True)
test_ds = make_pipeline(data.x_test, data.y_test, shape, batch_size=256, training=False)

flavours = {"relu + max (tfcnn default)": {}, "tanh + avg (1998)": {"activation": "tanh", "pool": "avg"}}
results, histories, models = {}, {}, {}
for label, options in flavours.items():
    keras.utils.set_random_seed(0)
    m = tfcnn.create_model("lenet", **options)
    m.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    histories[label] = m.fit(train_ds, validation_data=test_ds, epochs=epochs, verbose=0).history
    results[label] = m.evaluate(test_ds, verbose=0)[1]
    models[label] = m
print("| LeNet-5 | parameters | hold-out accuracy |\n|---|---:|---:|")
for label, acc in results.items():
    print(f"| {label} | {models[label].count_params():,} | {acc:.4f} |")
viz.training_curves(histories["relu + max (tfcnn default)"], title="LeNet-5, ReLU + max pooling, MNIST")
plt.show()

# %% [markdown]
# ## Checks
# Both flavours have the same parameters (pooling has none, activations have none) and both learn: far above the
# 10 % of chance after a few epochs. (The paper reports 0.95 % test error after 20 epochs on 60,000 images;
# the full mode here trains on 8,000 images for 10 epochs.)

# %%
assert models["tanh + avg (1998)"].count_params() == models["relu + max (tfcnn default)"].count_params()
for label, acc in results.items():
    assert acc > 0.9, (label, acc)

# %% [markdown]
# > **笔记中的错误 / What the notes get wrong**
# >
# > Section 「激活函数」: 「一般在设计CNN的时候都是不会用到tanh和sigmoid的,sigmoid还CNN还会有用到,tanh基本是不会在CNN中出现的」
# > — "tanh basically never appears in a CNN". The first CNN these notes teach is a tanh network: LeNet-5 (LeCun
# > et al., 1998) squashes every convolution and every hidden FC layer with a scaled tanh. Count the activations
# > of the 1998 flavour trained above, and compare its accuracy with the ReLU flavour's:

# %%
tanh_model = models["tanh + avg (1998)"]
activations = {layer.name: layer.get_config()["activation"] for layer in tanh_model.layers
               if type(layer).__name__ == "Activation"}
print("activations of the 1998 LeNet-5:", activations)
gap = results["relu + max (tfcnn default)"] - results["tanh + avg (1998)"]
print(f"hold-out accuracy: tanh {results['tanh + avg (1998)']:.4f}, ReLU {results['relu + max (tfcnn default)']:.4f} "
      f"(ReLU ahead by {100 * gap:+.2f} points)")
assert list(activations.values()) == ["tanh"] * 4  # C1, C3, F5 (C5) and F6: every hidden layer
assert results["tanh + avg (1998)"] > 0.9
print("✓ LeNet-5, the notes' own first CNN, is a tanh network with four tanh layers, and it trains here to "
      f"{results['tanh + avg (1998)']:.1%}")

# %% [markdown]
# **Corrected.** tanh is not absent from CNNs: it is the activation of LeNet-5, the network that started them, and
# it trains well on MNIST here. What is true is narrower: since AlexNet (2012) the default for hidden layers is ReLU
# or one of its relatives, which does not saturate for positive inputs (chapter 06 measures both derivatives), so
# deep CNNs rarely use tanh in their hidden layers. The difference measured above between the two flavours also
# includes the pooling (average against max), so it is not the activation's alone.

# %% [markdown]
# ## What the layers learned
# C1's six 5×5 filters (grey = 0), then C1's and C3's feature maps for one hold-out digit: C1 responds to strokes
# and edges at every position, C3 (10×10 after S2 and a VALID 5×5) to combinations of them.

# %%
model = models["relu + max (tfcnn default)"]
digit = data.x_test[0]
viz.plot_filters(model, "conv1_conv")
plt.show()
viz.plot_feature_maps(model, "conv1_relu", digit, max_maps=6)
plt.show()
viz.plot_feature_maps(model, "conv2_relu", digit, max_maps=16)
plt.show()
assert viz.feature_maps(model, "conv2_relu", digit).shape == (10, 10, 16)

# %% [markdown]
# ## Where it errs
# The confusion matrix on the 2,000 hold-out digits (rows: true class).

# %%
x_test = preprocess(data.x_test, shape).numpy()
y_pred = np.argmax(model.predict(x_test, verbose=0), axis=-1)
counts = viz.confusion_counts(data.y_test, y_pred, 10)
assert counts.sum() == len(data.y_test) and np.trace(counts) / counts.sum() == np.mean(y_pred == data.y_test)
viz.confusion_matrix(counts, class_names=data.class_names, title="LeNet-5 on the MNIST hold-out")
plt.show()

# %% [markdown]
# ## From scratch: a NumPy LeNet trained by hand
# `tfcnn.scratch.lenet` chains the scratch layers into the same LeNet (same layer names and weight shapes as the
# zoo's), runs backward through all of them, and updates with plain SGD `w ← w − η·g`. The network is a table; the
# backward pass walks it in reverse:

# %%
from threadpoolctl import threadpool_limits

from tfcnn.scratch import dense as scratch_dense
from tfcnn.scratch import gradcheck
from tfcnn.scratch import lenet as scratch_lenet

print(scratch_lenet.LENET_LAYERS)
print(inspect.getsource(scratch_lenet.lenet_backward))

# %% [markdown]
# ### Exercise: the dense layer's backward pass
# F5, F6 and the logits are `y = x @ kernel + bias`. `cache["x"]` is the input `(N, D)`, `cache["params"]` the
# weights. Return `(dx, {"kernel": dkernel, "bias": dbias})`: `dx = dy @ kernelᵀ`, `dkernel = xᵀ @ dy`,
# `dbias = Σ_n dy`.

# %% exercise dense_backward
def my_dense_backward(dy, cache):
    """Backward of y = x @ kernel + bias: three products (or sums) of dy."""
    # TODO: x, kernel = cache["x"], cache["params"]["kernel"]; return dy @ kernel.T, {"kernel": ..., "bias": ...}
    raise NotImplementedError


# %% [markdown]
# The grader checks your gradients against finite differences, for `dx`, `dkernel` and `dbias`.

# %%
rng = np.random.default_rng(0)
x_fc, p_fc = rng.normal(size=(6, 12)), {"kernel": rng.normal(size=(12, 5)), "bias": rng.normal(size=5)}
dense_backward = gradcheck.grade("dense_backward", my_dense_backward, scratch_dense.dense_backward,
                                 lambda f: gradcheck.check_layer(scratch_dense.dense_forward, f, x_fc, p_fc))

# %% [markdown]
# ### NumPy and Keras, side by side
# The same initial weights (copied layer by layer into `tfcnn.create_model("lenet")` built in float64), the same
# 20 mini-batches of 32, plain SGD (η = 0.05) on both sides: the losses agree to about 1e-8 (summation order), inside
# 1e-6.
# (Small NumPy matrices run faster on one BLAS thread, hence `threadpool_limits`.)

# %%
x_np = data.x_train.astype("float64") / 255.0
y_np = data.y_train.astype("int64")
params = scratch_lenet.init_lenet(seed=0)
keras.backend.set_floatx("float64")
keras_lenet = tfcnn.create_model("lenet")
keras.backend.set_floatx("float32")
for name, weights in scratch_lenet.keras_weights(params).items():
    keras_lenet.get_layer(name).set_weights(weights)
keras_lenet.compile(keras.optimizers.SGD(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
batches = scratch_lenet.batch_indices(len(x_np), 32, seed=0)[:20]
keras_losses = np.array([float(keras_lenet.train_on_batch(x_np[i], y_np[i])) for i in batches])
with threadpool_limits(1, user_api="blas"):
    numpy_losses = np.array(scratch_lenet.train(params, x_np, y_np, batches, lr=0.05))
rel = np.abs(numpy_losses - keras_losses) / keras_losses
print("| step | NumPy loss | Keras loss | relative difference |\n|---:|---:|---:|---:|")
for step in (0, 1, 5, 10, 19):
    print(f"| {step + 1} | {numpy_losses[step]:.10f} | {keras_losses[step]:.10f} | {rel[step]:.1e} |")
assert rel.max() < 1e-6 and numpy_losses[-1] < numpy_losses[0]
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, 21), keras_losses, "o-", label="tf_keras (GradientTape + SGD)")
ax.plot(range(1, 21), numpy_losses, "x--", label="NumPy (hand-written backward)")
ax.set_xlabel("SGD step")
ax.set_ylabel("cross-entropy")
ax.legend()
plt.show()

# %% [markdown]
# ### Training the NumPy LeNet
# Plain SGD, η = 0.1, mini-batches of 16 over the 8,000 training digits: one epoch in quick mode, three in full.

# %%
params = scratch_lenet.init_lenet(seed=0)
numpy_epochs = 1 if QUICK else 3
with threadpool_limits(1, user_api="blas"):
    history = scratch_lenet.train(params, x_np, y_np,
                                  scratch_lenet.batch_indices(len(x_np), 16, epochs=numpy_epochs, seed=0), lr=0.1)
    numpy_accuracy = float(np.mean(scratch_lenet.predict(params, data.x_test.astype("float64") / 255.0)
                                   == data.y_test))
print(f"| LeNet-5 | optimiser | epochs | hold-out accuracy |\n|---|---|---:|---:|\n"
      f"| NumPy, by hand | SGD η=0.1 | {numpy_epochs} | {numpy_accuracy:.4f} |\n"
      f"| tf_keras (above) | Adam | {epochs} | {results['relu + max (tfcnn default)']:.4f} |")
assert numpy_accuracy >= 0.95, numpy_accuracy

# %% [markdown]
# ## Exercises
# 1. Build `tfcnn.create_model("lenet", input_shape=(32, 32, 1))`. Which layers change their parameter count, and
#    why only those?
# 2. Train with `dropout_rate=0.5` and all 8,000 training images. Does the gap between training and hold-out
#    accuracy shrink?
# 3. Use `viz.deconv_reconstruction(model, digit, "conv2_conv")` to see which pixels drive the most active C3 unit.
#    How large is the non-zero region, and does it match `analysis.summarize(model).layer("conv2_conv")
#    .receptive_field`?
# 4. Add weight decay to the NumPy training (`scratch_lenet.train(..., weight_decay=5e-4)`) and to the Keras twin
#    (`kernel_regularizer=L2(2.5e-4)` on every layer). Do the 20 losses still agree?
