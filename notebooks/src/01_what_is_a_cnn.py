# %% [markdown]
# # 01 什么是卷积神经网络 / What a CNN is
#
# **What you will learn**
# - how images enter a CNN: a 4-D tensor in **NHWC** order (batch, height, width, channels);
# - the shape of a CNN: convolution and pooling stages that turn pixels into feature maps, then a classifier;
# - that the vector just before the classifier *is* the feature the network has learned
#   (the notes: “特征提取通常是在输出结果前的一层,FC层,经过这个FC层,卷积特征就会变成一个向量”);
# - how to build, train and look inside LeNet-5 with `tfcnn` in a few lines.

# %% setup

# %% [markdown]
# ## The data: real handwritten digits as an NHWC tensor
# `tfcnn.data.load_dataset("digits")` returns the 1,797 scikit-learn digits (8×8, grey), always available offline.
# Images are `uint8` arrays of shape `[N, H, W, C]`: TensorFlow's default layout is channels-last (NHWC).

# %%
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("digits")
print("train:", data.x_train.shape, data.x_train.dtype, "| test:", data.x_test.shape, "| classes:", data.num_classes)
n, h, w, c = data.x_train.shape
assert (h, w, c) == (8, 8, 1), "NHWC: height, width, then channels"

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for ax, k in zip(axes, range(10)):
    idx = int(np.flatnonzero(data.y_train == k)[0])
    ax.imshow(data.x_train[idx, ..., 0], cmap="gray_r")
    ax.set_title(str(k))
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The network: LeNet-5 from the registry
# `tfcnn.create_model` builds any registered architecture as a flat Keras model. LeNet-5 expects 28×28×1, so the
# digits are resized by the same `preprocess` the training pipeline uses. Watch the shapes: the spatial size shrinks
# (28 → 14 → 10 → 5) while the number of channels grows (1 → 6 → 16), then the feature map is flattened into a
# vector and classified.

# %%
print(tfcnn.list_models("le*"))
model = tfcnn.create_model("lenet", num_classes=10)
print(f"{'layer':<14}{'output shape':<22}{'params':>8}")
for layer in model.layers:
    print(f"{layer.name:<14}{str(layer.output_shape):<22}{layer.count_params():>8,}")
assert model.count_params() == 61_706  # the paper's LeNet-5 at 28x28, 10 classes
assert model.get_layer("pool2").output_shape == (None, 5, 5, 16)

# %% [markdown]
# ## A short training run
# A few epochs on the 1,437 training digits (quick mode: 2 epochs).

# %%
epochs = 2 if QUICK else 10
shape = model.input_shape[1:]
train_ds = make_pipeline(data.x_train, data.y_train, shape, batch_size=32, training=True)
test_ds = make_pipeline(data.x_test, data.y_test, shape, batch_size=128, training=False)
model.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
history = model.fit(train_ds, validation_data=test_ds, epochs=epochs, verbose=0)
test_loss, test_acc = model.evaluate(test_ds, verbose=0)
print(f"test accuracy after {epochs} epochs: {test_acc:.3f} (chance: 0.100)")
viz.training_curves(history.history, title="LeNet-5 on digits")
plt.show()

# %% [markdown]
# ## Inside the network: feature maps and the feature vector
# Any layer's output can be read with `tfcnn.models._common.feature_extractor`; `viz.plot_feature_maps` draws them.

# %%
x_test = preprocess(data.x_test, shape).numpy()
viz.plot_feature_maps(model, "conv1_relu", x_test[0])
plt.show()

# %% [markdown]
# The 84-number output of `fc2` is the learned feature vector. The claim “a CNN is a feature extractor plus a
# classifier” can be checked: a plain nearest-class-mean classifier on these 84 features, with no further training,
# should beat the same classifier on the raw 784 pixels.

# %%
from tfcnn.models._common import feature_extractor

features = feature_extractor(model, "fc2_relu")
x_train = preprocess(data.x_train, shape).numpy()
f_train, f_test = features.predict(x_train, verbose=0), features.predict(x_test, verbose=0)
print("feature vectors:", f_train.shape)
assert f_train.shape == (len(x_train), 84)


def nearest_mean_accuracy(a_train, a_test):
    means = np.stack([a_train[data.y_train == k].mean(axis=0) for k in range(10)])
    dists = ((a_test[:, None, :] - means[None]) ** 2).sum(-1)
    return float((dists.argmin(1) == data.y_test).mean())


acc_pixels = nearest_mean_accuracy(x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1))
acc_features = nearest_mean_accuracy(f_train, f_test)
print(f"| input to a nearest-mean classifier | accuracy |\n|---|---|\n| raw pixels (784) | {acc_pixels:.3f} |"
      f"\n| LeNet fc2 features (84) | {acc_features:.3f} |\n| LeNet's own classifier | {test_acc:.3f} |")
assert test_acc > 0.5, "trained LeNet must beat chance (0.1) by far"
assert acc_features > acc_pixels, "learned features separate the classes better than pixels"

# %%
y_pred = model.predict(x_test, verbose=0).argmax(1)
viz.confusion_matrix(viz.confusion_counts(data.y_test, y_pred, 10), class_names=data.class_names)
plt.show()

# %% [markdown]
# ## Exercises
# 1. Print `model.input_shape` and rebuild LeNet with `input_shape=(32, 32, 1)` (the paper's size). Which layer
#    shapes change, and why does the parameter count of `fc1` change?
# 2. Replace `"fc2_relu"` by `"pool2"` in the feature experiment. Is the flattened S4 map a better or worse feature?
# 3. Build LeNet in the other two styles (`style="raw"`, `style="slim"`) and check that `count_params()` agrees.
