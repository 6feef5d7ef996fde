# %% [markdown]
# # 19 模型压缩 / Model compression: lightweight networks, quantization, TFLite
#
# **What you will learn**
# - the first road to a small model is to *design* it small: MobileNet's parameters and MACs against VGG-16's and
#   ResNet-50's;
# - the second is to store and compute it in fewer bits: post-training quantization to float16 and int8, and what
#   int8 means (`real = scale · (q − zero_point)`);
# - how `tfcnn.compress` converts a trained model to TFLite files, checks that each runs in LiteRT, and measures
#   size, accuracy and agreement with the float model on real MNIST digits.
#
# Pruning, the third road, is chapter 20. The command-line version of everything here is
# `python -m tfcnn.compress MODEL_DIR` (see `docs/compression.md`).

# %% setup

# %% [markdown]
# ## Lightweight by design
# MobileNet v1 replaces every 3×3 convolution by a depthwise 3×3 and a pointwise 1×1 (chapter 16); v2 adds inverted
# residuals with linear bottlenecks. Measured at 224×224:

# %%
rows = {row["name"]: row for row in analysis.compare_architectures(["vgg16", "resnet50", "mobilenet_v1",
                                                                    "mobilenet_v2"])}
print("| model | params | MACs | float32 weights | published top-1 error |\n|---|---:|---:|---:|---:|")
for name, row in rows.items():
    print(f"| {name} | {row['params'] / 1e6:.2f} M | {row['macs'] / 1e9:.2f} G | {4 * row['params'] / 2**20:.0f} MiB | "
          f"{row['top1_error']} % |")
mb2, vgg, res = rows["mobilenet_v2"], rows["vgg16"], rows["resnet50"]
assert mb2["params"] < res["params"] / 7 and mb2["macs"] < vgg["macs"] / 50 and mb2["macs"] < res["macs"] / 12
print(f"MobileNet v2: {vgg['params'] / mb2['params']:.0f}x fewer parameters and {vgg['macs'] / mb2['macs']:.0f}x "
      f"fewer MACs than VGG-16, {res['macs'] / mb2['macs']:.0f}x fewer MACs than ResNet-50")

# %% [markdown]
# ## A model to compress
# LeNet-5 trained on the MNIST hold-out split (quick mode: 3,000 images, 3 epochs). Images are preprocessed outside
# the model, as TFMOT and TFLite want it.

# %%
from pathlib import Path

from tfcnn.data import load_dataset, make_pipeline, preprocess

MNIST = Path("../../shared/datasets/mnist-test")  # notebooks run in notebooks/
data = load_dataset(f"idx:{MNIST}", holdout=0.2) if MNIST.is_dir() else load_dataset("digits")
SHAPE = (28, 28, 1)
n_train, epochs = (3000, 3) if QUICK else (len(data.x_train), 10)
keras.utils.set_random_seed(0)
model = tfcnn.create_model("lenet")
model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(make_pipeline(data.x_train[:n_train], data.y_train[:n_train], SHAPE, batch_size=64, training=True),
          epochs=epochs, verbose=0)
x_test = preprocess(data.x_test, SHAPE).numpy()
keras_pred = np.argmax(model.predict(x_test, verbose=0), -1)
keras_acc = float(np.mean(keras_pred == data.y_test))
print(f"Keras float32 model: {model.count_params():,} parameters, hold-out accuracy {keras_acc:.4f} "
      f"({len(x_test)} images)")

# %% [markdown]
# ## Post-training quantization to TFLite
# `tfcnn.compress.to_tflite` wraps the TFLite converter; `write_tflite` writes a file atomically only after it loads
# in LiteRT; `tfcnn.compress.evaluate` runs the whole hold-out set through the LiteRT interpreter one image at a
# time, as a device would.
# - **float32**: the plain conversion, the baseline;
# - **dynamic range**: int8 weights, float activations (no data needed);
# - **float16**: float16 weights;
# - **int8**: weights *and* activations in int8, calibrated on 200 training images; float input and output;
# - **int8 I/O**: also int8 input and output, for microcontrollers.

# %%
import tempfile
import warnings

from tfcnn import compress

tf.get_logger().setLevel("ERROR")  # the converter logs every temporary SavedModel it writes
warnings.filterwarnings("ignore", message="Statistics for quantized inputs")

print(inspect.getsource(compress.to_tflite).split('"""')[0])
out_dir = Path(tempfile.mkdtemp(prefix="tfcnn_ch19_"))
representative = preprocess(data.x_train[:200], SHAPE).numpy()
results = {}
for mode in ("float32", "dynamic_range", "float16", "int8", "int8_io"):
    path = out_dir / f"{mode}.tflite"
    compress.write_tflite(path, lambda mode=mode: compress.to_tflite(model, mode, representative=representative))
    results[mode] = compress.evaluate(path, x_test, data.y_test, reference_pred=keras_pred, latency_images=50)
base = results["float32"]
print("| variant | input | bytes | x float32 | gzip bytes | accuracy | agrees with Keras |")
print("|---|---|---:|---:|---:|---:|---:|")
for mode, r in results.items():
    print(f"| {mode} | {r['input_dtype']} | {r['size']:,} | {r['size'] / base['size']:.3f} | {r['gzip_size']:,} | "
          f"{r['accuracy']:.4f} | {r['agreement']:.4f} |")

# %% [markdown]
# **Checks.** float16 halves the file and int8 quarters it (weights are most of a small model's file), while the
# accuracy moves by less than half a point and the predictions agree with the Keras model on nearly every digit.

# %%
assert abs(results["float32"]["accuracy"] - keras_acc) < 1e-3  # the conversion itself changes nothing
assert 0.45 < results["float16"]["size"] / base["size"] < 0.55
for mode in ("dynamic_range", "int8", "int8_io"):
    assert results[mode]["size"] < 0.3 * base["size"], mode
for mode, r in results.items():
    assert abs(r["accuracy"] - keras_acc) < 0.005 and r["agreement"] > 0.98, mode

viz.plot_compression([{"name": m, "size": r["size"], "accuracy": r["accuracy"]} for m, r in results.items()],
                     title="LeNet-5 on the MNIST hold-out: TFLite variants")
plt.show()

# %% [markdown]
# ## What int8 means
# An int8 tensor stores `q ∈ [−128, 127]` and one `(scale, zero_point)` per tensor (per channel for weights):
# `real = scale · (q − zero_point)`. The int8-I/O model's input, quantized and back, is within half a step of the
# original pixels:

# %%
it = compress.interpreter(out_dir / "int8_io.tflite")
detail = it.get_input_details()[0]
scale, zero_point = detail["quantization"]
q = np.clip(np.round(x_test[:100] / scale + zero_point), -128, 127).astype(np.int8)
back = scale * (q.astype(np.float32) - zero_point)
print(f"input scale {scale:.6f} (= 1/{1 / scale:.1f}), zero point {zero_point}; "
      f"max |x - dequantize(quantize(x))| = {np.abs(back - x_test[:100]).max():.6f}")
assert detail["dtype"] == np.int8
assert np.abs(back - x_test[:100]).max() <= scale / 2 + 1e-6
kernels = [t for t in it.get_tensor_details() if t["dtype"] == np.int8 and len(t["shape"]) == 4
           and len(t["quantization_parameters"]["scales"]) > 1]
for t in kernels:
    print(f"int8 kernel {tuple(int(d) for d in t['shape'])}: {len(t['quantization_parameters']['scales'])} scales "
          "(one per output channel)")
assert {len(t["quantization_parameters"]["scales"]) for t in kernels} == {6, 16}  # conv1 and conv2 filters

# %% [markdown]
# ## Exercises
# 1. Build `mobilenet_v1` with `alpha=0.5` and `alpha=0.25`: how do parameters and MACs scale with `alpha`?
# 2. Quantization-aware training: `compress.qat(model, train_ds, epochs=1)`, then `to_tflite(..., "qat")`. Does
#    it beat post-training int8 here? (On a model this small, probably not; QAT matters when int8 PTQ loses accuracy.)
# 3. Compare `latency_ms_1_thread` across the variants in `results`. Is int8 faster than float32 on this CPU?
#    (`docs/compression.md` explains why the answer depends on the delegate.)
