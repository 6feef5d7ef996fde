# %% [markdown]
# # 17 结构对比 / Comparing the architectures
#
# **What you will learn**
# - the zoo side by side: depth, parameters, multiply-accumulates (MACs) and the share of parameters in fully
#   connected layers, every number measured from the model tfcnn builds (`analysis.compare_architectures`);
# - the published ImageNet error of each, with its source and protocol — and why rows with different protocols
#   must not be compared to the decimal;
# - the trend of 2012–2018 in one picture: more depth, fewer parameters, fewer MACs per point of error.

# %% setup

# %% [markdown]
# ## The table
# Every model is built at its paper's input size with random weights and measured by `analysis.summarize`; the
# errors are the papers' own (top-1, ImageNet validation, single model). Quick mode compares nine families' main
# members; the full run compares everything in the registry.

# %%
names = (["lenet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18", "resnet50", "mobilenet_v1",
          "mobilenet_v2"] if QUICK else tfcnn.list_models())
from IPython.display import Markdown, display

rows = analysis.compare_architectures(names)
display(Markdown(analysis.format_comparison(rows, markdown=True)))

# %% [markdown]
# ## Checks
# The counts are the ones the papers (and Keras Applications) give, and the table's shares follow from them.

# %%
by_name = {row["name"]: row for row in rows}
golden = {"lenet": 61_706, "alexnet": 62_378_344, "vgg16": 138_357_544, "googlenet": 6_998_552,
          "inception_v3": 23_851_784, "resnet50": 25_636_712, "mobilenet_v1": 4_253_864, "mobilenet_v2": 3_538_984}
for name, params in golden.items():
    assert by_name[name]["params"] == params, name
assert by_name["vgg16"]["fc_share"] > 0.89 and by_name["resnet50"]["fc_share"] < 0.1
assert by_name["resnet50"]["depth"] == 50 and by_name["vgg16"]["depth"] == 16 and by_name["googlenet"]["depth"] == 22
print("parameter counts as published; VGG-16 keeps", f"{100 * by_name['vgg16']['fc_share']:.0f} % of its",
      "parameters in FC layers, ResNet-50", f"{100 * by_name['resnet50']['fc_share']:.0f} %")

# %% [markdown]
# ## Parameters, MACs and error in one picture
# Left: parameters against MACs (both log scale), coloured by published top-1 error (grey: no ImageNet figure).
# Right: error against MACs — lower left is better.

# %%
imagenet = [row for row in rows if row["top1_error"] is not None]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
errors = [row["top1_error"] for row in imagenet]
points = axes[0].scatter([row["params"] / 1e6 for row in imagenet], [row["macs"] / 1e9 for row in imagenet],
                         c=errors, cmap="viridis_r", s=60, edgecolors="k", zorder=3)
others = [row for row in rows if row["top1_error"] is None]
axes[0].scatter([row["params"] / 1e6 for row in others], [row["macs"] / 1e9 for row in others], c="lightgray",
                s=60, edgecolors="k", zorder=3)
fig.colorbar(points, ax=axes[0], label="top-1 error (%)")
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("parameters (millions)")
axes[0].set_ylabel("MACs per image (billions)")
axes[1].scatter([row["macs"] / 1e9 for row in imagenet], errors, s=[max(row["params"] / 1e6, 2) * 3 for row in imagenet],
                alpha=0.6, edgecolors="k")
axes[1].set_xscale("log")
axes[1].set_xlabel("MACs per image (billions)")
axes[1].set_ylabel("published top-1 error (%)")
axes[1].set_title("marker area ~ parameters", fontsize=9)
for ax in axes:
    ax.grid(alpha=0.3, which="both")
plt.tight_layout()
# Labels last, once the axes are final: each takes the nearest place where it overprints no other.
labels = [viz.annotate_points(axes[0], [row["params"] / 1e6 for row in rows], [row["macs"] / 1e9 for row in rows],
                              [row["name"] for row in rows]),
          viz.annotate_points(axes[1], [row["macs"] / 1e9 for row in imagenet], errors,
                              [row["name"] for row in imagenet])]
assert not any(viz.labels_overlap(texts) for texts in labels)
plt.show()

# %% [markdown]
# ## What the picture says, as numbers
# - ResNet-50 has a lower published error than VGG-16 with a fifth of the parameters and a quarter of the MACs.
# - MobileNet v2 is within about one point of VGG-16's error at a fiftieth of the MACs.
# - The "Pareto front" — networks no other network beats on both MACs and error — is listed below.
#
# A caution the table's footnotes make precise: AlexNet's 40.7 % is a 10-crop figure, VGG's a dense evaluation over
# the whole image, most later ones a single centre crop. Crops lower the error by a point or two, so only large gaps are
# meaningful across protocols.

# %%
vgg, res, mb2 = by_name["vgg16"], by_name["resnet50"], by_name["mobilenet_v2"]
print(f"ResNet-50 vs VGG-16: params x{res['params'] / vgg['params']:.2f}, MACs x{res['macs'] / vgg['macs']:.2f}, "
      f"top-1 error {res['top1_error']} vs {vgg['top1_error']}")
print(f"MobileNet v2 vs VGG-16: MACs x{mb2['macs'] / vgg['macs']:.3f}, top-1 error {mb2['top1_error']} vs "
      f"{vgg['top1_error']}")
assert res["top1_error"] < vgg["top1_error"] and res["params"] < vgg["params"] / 5 and res["macs"] < vgg["macs"] / 4
assert mb2["macs"] < vgg["macs"] / 50 and mb2["top1_error"] - vgg["top1_error"] < 1.5

front = [row["name"] for row in imagenet
         if not any(o["macs"] <= row["macs"] and o["top1_error"] < row["top1_error"] for o in imagenet if o is not row)]
print("Pareto front (MACs vs top-1 error):", ", ".join(sorted(front, key=lambda n: by_name[n]["macs"])))
assert "vgg16" not in front and "alexnet" not in front

# %% [markdown]
# ## Exercises
# 1. Add the depth to the right-hand plot (colour). Is deeper always better at the same MACs?
# 2. `compare_architectures` builds at the paper's input size. Rebuild ResNet-50 and VGG-16 at 32×32 (CIFAR-10's
#    size) with `analysis.summarize(name, input_shape=(32, 32, 3))`: which count changes for which network, and why?
# 3. Read the `protocol` column for GoogLeNet: why does it have no top-1 error?
