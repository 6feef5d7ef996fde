# %% [markdown]
# # 20 模型剪枝 / Pruning
#
# **What you will learn**
# - magnitude pruning: most weights of a trained network are small; set the smallest to zero, fine-tune so the rest
#   compensate, and little accuracy is lost (Zhu & Gupta's polynomial schedule, via TFMOT);
# - structured 2:4 pruning: two zeros in every four consecutive input channels, the pattern sparse hardware can use;
# - what pruning buys and what it does not: the `.tflite` file is the same size until it is compressed, and dense
#   kernels are not faster — measured with `tfcnn.compress` on real MNIST digits.

# %% setup

# %% [markdown]
# ## A trained model and its weights
# LeNet-5 trained on the MNIST hold-out split (quick mode: 3,000 images, 3 epochs). Its weights cluster around
# zero: a large share of them are tiny.

# %%
from pathlib import Path

from tfcnn import compress
from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("mnist-t10k")  # real MNIST digits bundled with tfcnn: 8,000 train / 2,000 test
SHAPE = (28, 28, 1)
n_train, epochs = (3000, 3) if QUICK else (len(data.x_train), 10)
train_ds = make_pipeline(data.x_train[:n_train], data.y_train[:n_train], SHAPE, batch_size=64, training=True)
x_test = preprocess(data.x_test, SHAPE).numpy()
keras.utils.set_random_seed(0)
model = tfcnn.create_model("lenet")
model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(train_ds, epochs=epochs, verbose=0)


def accuracy(m):
    return float(np.mean(np.argmax(m.predict(x_test, verbose=0), -1) == data.y_test))


dense_acc = accuracy(model)
fc1 = model.get_layer("fc1").kernel.numpy().ravel()
print(f"dense LeNet-5: hold-out accuracy {dense_acc:.4f}; fc1 has {fc1.size:,} weights, "
      f"{np.mean(np.abs(fc1) < 0.25 * np.abs(fc1).max()):.0%} of them below a quarter of the largest")

# %% [markdown]
# ## Magnitude pruning to 80 %, and 2:4
# `compress.prune_model` wraps the chosen layers in TFMOT's `prune_low_magnitude` (on a copy: the dense model stays
# dense), fine-tunes while the sparsity ramps up to its target over 70 % of the steps, and strips the wrappers.
# For 2:4 only layers whose input-channel count divides by 4 can hold the pattern, so LeNet's two convolutions
# (1 and 6 input channels) are left dense.

# %%
print(inspect.getsource(compress.apply_pruning).split('"""')[0])
prune_epochs = 5  # the library default; 2 epochs lost 5 points here
pruned = {}
for target in (0.8, "2:4"):
    keras.utils.set_random_seed(0)
    stripped, _ = compress.prune_model(model, target, train_ds, epochs=prune_epochs)
    pruned[str(target)] = stripped
sparsity = {name: compress.kernel_sparsity(m) for name, m in pruned.items()}
dense_sparsity = compress.kernel_sparsity(model)
print("| layer | kernel | params | dense | 80 % pruned | 2:4 |\n|---|---|---:|---:|---:|---:|")
for layer, info in dense_sparsity.items():
    print(f"| {layer} | {tuple(info['shape'])} | {info['params']:,} | {info['sparsity']:.1%} | "
          f"{sparsity['0.8'][layer]['sparsity']:.1%} | {sparsity['2:4'][layer]['sparsity']:.1%} |")

# %% [markdown]
# **Checks.** Every pruned layer holds its target: 80 % zeros, or exactly two zeros in every group of four input
# channels (`compress.check_m_by_n`); the dense model is untouched.

# %%
for layer, info in sparsity["0.8"].items():
    assert abs(info["sparsity"] - 0.8) < 0.01, (layer, info)
for layer in ("fc1", "fc2", "logits"):  # 400, 120 and 84 inputs: groups of 4 fit
    kernel = pruned["2:4"].get_layer(layer).kernel.numpy()
    assert compress.check_m_by_n(kernel, (2, 4)), layer
for layer in ("conv1_conv", "conv2_conv"):  # 1 and 6 input channels: no (complete) groups of 4, left dense
    assert sparsity["2:4"][layer]["sparsity"] == 0.0, layer
assert max(info["sparsity"] for info in dense_sparsity.values()) == 0.0

# %% [markdown]
# The weights of fc1 before and after: pruning removes the middle of the distribution.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 2.8), sharey=True)
for ax, (title, m) in zip(axes, (("dense", model), ("80 % pruned", pruned["0.8"]), ("2:4", pruned["2:4"]))):
    w = m.get_layer("fc1").kernel.numpy().ravel()
    ax.hist(w[w != 0], bins=80, color="tab:blue")
    ax.set_title(f"fc1, {title}: {np.mean(w == 0):.0%} zeros (not drawn)", fontsize=9)
    ax.set_xlabel("weight value")
    ax.set_yscale("log")
axes[0].set_ylabel("count (log scale)")
plt.show()
fig, axes = plt.subplots(1, 2, figsize=(9, 2.6))
for ax, name in zip(axes, ("0.8", "2:4")):
    block = pruned[name].get_layer("fc1").kernel.numpy()[:32, :48] != 0
    ax.imshow(block, cmap="gray_r", interpolation="nearest", aspect="auto")
    ax.set_title(f"fc1 kernel[:32, :48], {name}: black = kept, white = zero", fontsize=9)
    ax.set_xlabel("output unit")
    ax.set_ylabel("input (groups of 4)")
plt.show()

# %% [markdown]
# ## Size and accuracy, as TFLite files
# Each model is converted to float32 and to int8 and measured in LiteRT on all hold-out digits.

# %%
import tempfile
import warnings

tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
out_dir = Path(tempfile.mkdtemp(prefix="tfcnn_ch20_"))
representative = preprocess(data.x_train[:200], SHAPE).numpy()
keras_pred = np.argmax(model.predict(x_test, verbose=0), -1)
variants = {}
for name, m in (("dense", model), ("pruned 80 %", pruned["0.8"]), ("pruned 2:4", pruned["2:4"])):
    for mode in ("float32", "int8"):
        path = out_dir / f"{name.replace(' ', '_').replace('%', 'pc').replace(':', 'of')}_{mode}.tflite"
        compress.write_tflite(path, lambda m=m, mode=mode: compress.to_tflite(m, mode, representative=representative))
        r = compress.evaluate(path, x_test, data.y_test, reference_pred=keras_pred, latency_images=50)
        variants[f"{name}, {mode}"] = r
print("| variant | bytes | gzip bytes | gzip vs dense float32 | accuracy | ms/image (1 thread) |")
print("|---|---:|---:|---:|---:|---:|")
ref = variants["dense, float32"]
for name, r in variants.items():
    print(f"| {name} | {r['size']:,} | {r['gzip_size']:,} | {r['gzip_size'] / ref['gzip_size']:.3f} | "
          f"{r['accuracy']:.4f} | {r['latency_ms_1_thread']:.3f} |")
viz.plot_compression([{"name": n, "size": r["gzip_size"], "accuracy": r["accuracy"]} for n, r in variants.items()],
                     size_unit="gzipped bytes", title="LeNet-5 on the MNIST hold-out: pruning x quantization")
plt.show()

# %% [markdown]
# **Checks — and the honest part.**
# - The raw float32 file of a pruned model is as large as the dense one: zeros are still stored as 32-bit floats.
#   Only compression (gzip here) turns zeros into savings: 80 % pruning and int8 together shrink the gzipped file
#   several-fold.
# - Accuracy stays within about two points of the dense model after five epochs of fine-tuning on 3,000 images
#   (quick mode; `docs/compression.md` measures −0.4 points on the full split with a fully trained LeNet).
# - Unstructured zeros do not make the dense kernels faster (the latency column); 2:4 is the structured pattern
#   that sparse tensor cores and kernels can skip, at the price of a fixed 50 %.

# %%
dense_f32, p80_f32 = variants["dense, float32"], variants["pruned 80 %, float32"]
assert abs(p80_f32["size"] - dense_f32["size"]) < 0.02 * dense_f32["size"]  # same raw size
assert p80_f32["gzip_size"] < 0.5 * dense_f32["gzip_size"]
assert variants["pruned 80 %, int8"]["gzip_size"] < 0.2 * dense_f32["gzip_size"]
for name, r in variants.items():
    assert r["accuracy"] > dense_acc - 0.025, (name, r["accuracy"])
print(f"80 % pruned + int8: {dense_f32['gzip_size'] / variants['pruned 80 %, int8']['gzip_size']:.1f}x smaller "
      f"gzipped, accuracy {variants['pruned 80 %, int8']['accuracy']:.4f} vs {dense_acc:.4f}")

# %% [markdown]
# ## Exercises
# 1. Prune only the fully connected layers (`layers="dense"`): they hold 96 % of LeNet's parameters. How does the
#    gzipped size compare with pruning everything?
# 2. Push the target to 0.95 and 0.98. Where does accuracy start to fall?
# 3. Convert the 80 % model with `to_tflite(..., sparse=True)` and run it with
#    `compress.interpreter(path, resolver="builtin_without_default_delegates")`. How big is the raw file now?
