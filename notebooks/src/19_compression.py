# %% [markdown]
# # 19 模型压缩 / Model compression: lightweight networks, quantization, TFLite
#
# **What you will learn**
# - the first road to a small model is to *design* it small: MobileNet's parameters and MACs against VGG-16's and
#   ResNet-50's;
# - the second is to store and compute it in fewer bits: post-training quantization to float16 and int8, and what
#   int8 means (`real = scale · (q − zero_point)`);
# - how `tfcnn.compress` converts a trained model to TFLite files, checks that each runs in LiteRT, and measures
#   size, accuracy and agreement with the float model on real MNIST digits;
# - what a microcontroller pays for LeNet and MobileNet v2: flash and a *measured* tensor arena in RAM, from
#   `tfcnn.deploy`, and which compression step bought what.
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
# LeNet-5 trained on 8,000 real MNIST digits bundled with tfcnn (quick mode: 3,000 images, 3 epochs). Images are preprocessed outside
# the model, as TFMOT and TFLite want it.

# %%
from pathlib import Path

from tfcnn.data import load_dataset, make_pipeline, preprocess

data = load_dataset("mnist-t10k")  # 10,000 real MNIST test digits bundled with tfcnn: seeded 8,000/2,000 split
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
# `real = scale · (q − zero_point)`. Rounding to the nearest step loses at most half a step, `scale / 2`, for a
# value inside the range. The int8-I/O model's input scale is worth a look: calibrated on images whose pixels are
# `k / 255`, it comes out as exactly one grey level, so real pixels land *on* the grid and survive the round trip
# unchanged (up to float32 rounding, ~6e-8). Values between grey levels (a resized or augmented image) do not:

# %%
it = compress.interpreter(out_dir / "int8_io.tflite")
detail = it.get_input_details()[0]
scale, zero_point = detail["quantization"]


def round_trip(x):
    q = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)
    return scale * (q.astype(np.float32) - zero_point)


off_grid = np.random.default_rng(SEED).uniform(0.0, 1.0, size=10_000).astype(np.float32)
err_pixels = np.abs(round_trip(x_test[:100]) - x_test[:100]).max()
err_between = np.abs(round_trip(off_grid) - off_grid)
print(f"input scale {scale:.6f} (= 1/{1 / scale:.1f}), zero point {zero_point}")
print(f"real pixels (k/255):   max error {err_pixels:.2e}")
print(f"values between levels: max error {err_between.max():.6f}, mean {err_between.mean():.6f} "
      f"(half a step = {scale / 2:.6f}; uniform rounding error averages a quarter step = {scale / 4:.6f})")
assert detail["dtype"] == np.int8
assert err_pixels < 1e-6  # on the grid: nothing lost
assert scale / 2 * 0.98 < err_between.max() <= scale / 2 + 1e-6  # off the grid: up to half a step, and it gets there
assert abs(err_between.mean() - scale / 4) < scale / 40
print("✓ int8 input loses nothing on the grid of grey levels and at most half a step between them")
kernels = [t for t in it.get_tensor_details() if t["dtype"] == np.int8 and len(t["shape"]) == 4
           and len(t["quantization_parameters"]["scales"]) > 1]
for t in kernels:
    print(f"int8 kernel {tuple(int(d) for d in t['shape'])}: {len(t['quantization_parameters']['scales'])} scales "
          "(one per output channel)")
assert {len(t["quantization_parameters"]["scales"]) for t in kernels} == {6, 16}  # conv1 and conv2 filters

# %% [markdown]
# ## On a microcontroller: flash, RAM, and which step bought what
# A microcontroller has no file system: the model is a `const` C array in **flash**, and every tensor lives in one
# *tensor arena* in **RAM**, sized at compile time. TensorFlow Lite for Microcontrollers (TFLM) leaves that size to
# experiment; `tfcnn.deploy` measures it. It runs the model in TFLM itself (the `tflite-micro` host interpreter,
# reference kernels, recording allocator) on the test digits, bisects the smallest arena TFLM allocates and runs in,
# writes `model_data.cc` (the file as a 16-byte aligned array) and `op_resolver.h` (exactly the model's ops), and
# checks TFLM's int8 outputs against LiteRT's. `deploy.footprint` measures any variant the same way, so the
# compression steps can be compared on what a device pays (details: `docs/deploy.md`).

# %%
from tfcnn import deploy

print(inspect.signature(deploy.deploy))
n_check = 200 if QUICK else len(x_test)  # images for the TFLM/LiteRT cross-check
STEPS = ("float32", "int8", "int8_io")
footprints = {"lenet": {m: deploy.footprint(out_dir / f"{m}.tflite", x_test[:1]) for m in STEPS}}
reports = {"lenet": deploy.deploy(out_dir / "int8_io.tflite", out_dir / "mcu_lenet", name="lenet",
                                  images=x_test[:n_check], flash="1M", ram="256K", model=model)}
print((out_dir / "mcu_lenet" / "op_resolver.h").read_text())

# %% [markdown]
# MobileNet v2 at α = 0.35 on 32×32 digits, the width the compression benchmark uses. It is trained only briefly
# here: flash and arena depend on the architecture, not on how long it trained (`docs/deploy.md` has the figures
# for a fully trained one).

# %%
SHAPE_MB = (32, 32, 1)
keras.utils.set_random_seed(0)
mbv2 = tfcnn.create_model("mobilenet_v2", alpha=0.35, input_shape=SHAPE_MB, num_classes=10)
mbv2.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
             metrics=["accuracy"])
n_mb, mb_epochs = (1000, 1) if QUICK else (len(data.x_train), 3)
mbv2.fit(make_pipeline(data.x_train[:n_mb], data.y_train[:n_mb], SHAPE_MB, batch_size=64, training=True),
         epochs=mb_epochs, verbose=0)
x_test_mb = preprocess(data.x_test, SHAPE_MB).numpy()
rep_mb = preprocess(data.x_train[:200], SHAPE_MB).numpy()
footprints["mobilenet_v2"] = {}
for mode in STEPS:
    path = out_dir / f"mbv2_{mode}.tflite"
    compress.write_tflite(path, lambda mode=mode: compress.to_tflite(mbv2, mode, representative=rep_mb))
    footprints["mobilenet_v2"][mode] = deploy.footprint(path, x_test_mb[:1])
reports["mobilenet_v2"] = deploy.deploy(out_dir / "mbv2_int8_io.tflite", out_dir / "mcu_mbv2", name="mbv2",
                                        images=x_test_mb[:n_check], flash="1M", ram="256K", model=mbv2, alpha=0.35)

print("| model | step | flash | arena (smallest TFLM runs in) | of which persistent | flash ÷ float32 | "
      "arena ÷ float32 |\n|---|---|---:|---:|---:|---:|---:|")
for name, steps in footprints.items():
    base = steps["float32"]
    for mode, f in steps.items():
        print(f"| {name} | {mode} | {f['flash'] / 1024:,.1f} KiB | {f['minimum'] / 1024:,.1f} KiB | "
              f"{f['persistent'] / 1024:,.1f} KiB | {f['flash'] / base['flash']:.2f} | "
              f"{f['minimum'] / base['minimum']:.2f} |")
print("\n| model (int8 I/O) | flash | recommended arena | TFLM vs LiteRT reference kernels: top-1, identical "
      "outputs | TFLM vs LiteRT XNNPACK: top-1 | 1 MB flash, 256 KB RAM |\n|---|---:|---:|---:|---:|---|")
for name, r in reports.items():
    c, b = r["cross_check"], r["budget"]
    print(f"| {name} | {r['model_bytes'] / 1024:,.1f} KiB | {r['arena']['recommended'] / 1024:,.1f} KiB | "
          f"{c['top1_agreement']:.2%}, {c['identical_outputs']:.2%} of {c['images']:,} | "
          f"{c['xnnpack']['top1_agreement']:.2%} | {'fits' if b['fits'] else 'does not fit'} |")

# %% [markdown]
# **What each step bought.**
# - **int8** (weights and activations): weights shrink 4×, so flash drops to about a quarter for LeNet, whose file
#   is nearly all weights, and to about 40 % for the thin MobileNet, where per-channel scales and the graph itself
#   weigh more. Activations shrink 4× too, so the non-persistent part of the arena falls; the persistent part
#   (tensor structs, per-channel multipliers and shifts for each int8 convolution) does not, and for MobileNet's 150
#   tensors it is most of the arena. The float32 MobileNet (1.6 MB) would not fit a 1 MB part at all; int8 does.
# - **int8 I/O**: drops the float input and output and their QUANTIZE/DEQUANTIZE ops: a few hundred bytes. It
#   matters for the firmware, which now feeds int8 pixels straight from the sensor.
# - **pruning** (chapter 20) buys nothing here: flash holds the raw array, and zeros take as many bytes as any other
#   weight. Only structured pruning (fewer channels) or a narrower `alpha` makes the array and the arena smaller.
#
# **The cross-check.** TFLM's int8 outputs match LiteRT's *reference* kernels: both implement the same integer
# arithmetic (the fully connected layer's requantization occasionally rounds one step apart), so the device computes
# what the PC computed. LiteRT's default XNNPACK kernels round some
# requantizations differently (±1 in a fraction of a 1×1 convolution's outputs); LeNet's two convolutions barely
# notice, but MobileNet's 17 blocks accumulate it, and this briefly trained MobileNet has many digits whose top two
# logits are close: the table shows how many of them change class. The accuracy `tfcnn.compress` reports with
# XNNPACK is therefore an estimate of the device's, not the device's own figure; the reference-kernel check is.

# %%
for name, steps in footprints.items():
    assert steps["int8"]["flash"] < 0.4 * steps["float32"]["flash"], name
    assert steps["int8"]["minimum"] < steps["float32"]["minimum"], name
    assert steps["int8_io"]["flash"] < steps["int8"]["flash"], name
    assert steps["int8"]["non_persistent"] < steps["float32"]["non_persistent"] / 3, name
for name, r in reports.items():
    assert r["cross_check"]["top1_agreement"] >= 0.995 and r["cross_check"]["max_abs_diff_int8"] <= 2, name
    assert r["cross_check"]["xnnpack"]["top1_agreement"] >= 0.9, name
    assert r["arena"]["verified"] and r["arena"]["minimum"] >= r["arena"]["total"], name
    assert r["budget"]["fits"], name
assert footprints["mobilenet_v2"]["float32"]["flash"] > 2**20 > reports["mobilenet_v2"]["model_bytes"]

# %% [markdown]
# A smaller part: 384 KB of flash. MobileNet v2 no longer fits, and `deploy` says what would, scaled from the
# measured numbers with the analyser's counting rules (a convolution's weights grow with `c_in · c_out`, so a width
# `w` keeps about `w²` of them):

# %%
small = deploy.deploy(out_dir / "mbv2_int8_io.tflite", out_dir / "mcu_mbv2_small", name="mbv2",
                      images=x_test_mb[:50], flash="384K", ram="256K", model=mbv2, alpha=0.35)
print(f"flash {small['model_bytes'] / 1024:,.1f} KiB against 384 KiB: fits = {small['budget']['fits']}")
for row in small["budget"]["suggestions"]:
    print(f"- {row['change']}: flash about {row['estimated_flash'] / 1024:,.1f} KiB")
assert small["budget"]["flash_fits"] is False
assert any(row.get("width") and row["estimated_flash"] <= 384 * 1024 for row in small["budget"]["suggestions"])

# %% [markdown]
# ## Exercises
# 1. Build `mobilenet_v1` with `alpha=0.5` and `alpha=0.25`: how do parameters and MACs scale with `alpha`?
# 2. Quantization-aware training: `compress.qat(model, train_ds, epochs=1)`, then `to_tflite(..., "qat")`. Does
#    it beat post-training int8 here? (On a model this small, probably not; QAT matters when int8 PTQ loses accuracy.)
# 3. Compare `latency_ms_1_thread` across the variants in `results`. Is int8 faster than float32 on this CPU?
#    (`docs/compression.md` explains why the answer depends on the delegate.)
# 4. Build `mobilenet_v2` with `alpha` set to the value `deploy` suggested for 384 KB, convert it to int8 I/O and run
#    `deploy.deploy` on it: how close was the estimate?
