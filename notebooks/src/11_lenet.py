# %% [markdown]
# # 11 LeNet / LeNet-5
#
# **What you will learn**
# - the layout of LeNet-5 (LeCun et al., 1998): C1 6@5×5 → S2 → C3 16@5×5 → S4 → F5 120 → F6 84 → 10, read from a
#   table in `tfcnn.models.lenet`;
# - where its 61,706 parameters are, layer by layer, recomputed by hand and by `tfcnn.analysis`;
# - how the classic flavour (tanh + average "sub-sampling") compares with today's default (ReLU + max pooling) when
#   both are trained on real MNIST digits;
# - what the first and second convolution layers learn (filters and feature maps).

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
# The 10,000 MNIST test images (IDX files in the repository's sibling folder `shared/datasets/mnist-test`) split
# 80/20 into training and hold-out sets by `load_dataset(..., holdout=0.2)`. Quick mode trains on 3,000 images for
# 3 epochs. (Where that folder is missing, the scikit-learn digits stand in.)

# %%
from pathlib import Path

from tfcnn.data import load_dataset, make_pipeline, preprocess

MNIST = Path("../../shared/datasets/mnist-test")  # notebooks run in notebooks/
data = load_dataset(f"idx:{MNIST}", holdout=0.2) if MNIST.is_dir() else load_dataset("digits")
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
# ## Exercises
# 1. Build `tfcnn.create_model("lenet", input_shape=(32, 32, 1))`. Which layers change their parameter count, and
#    why only those?
# 2. Train with `dropout_rate=0.5` and all 8,000 training images. Does the gap between training and hold-out
#    accuracy shrink?
# 3. Use `viz.deconv_reconstruction(model, digit, "conv2_conv")` to see which pixels drive the most active C3 unit.
#    How large is the non-zero region, and does it match `analysis.summarize(model).layer("conv2_conv")
#    .receptive_field`?
