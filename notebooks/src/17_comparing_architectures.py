# %% [markdown]
# # 17 结构对比 / Comparing the architectures
#
# **What you will learn**
# - the zoo side by side: depth, parameters, multiply-accumulates (MACs) and the share of parameters in fully
#   connected layers, every number measured from the model tfcnn builds (`analysis.compare_architectures`);
# - the published ImageNet error of each, with its source and protocol — and why rows with different protocols
#   must not be compared to the decimal;
# - the trend of 2012–2020 in one picture, every registered model with a published ImageNet error, from AlexNet to
#   the attention ResNets, DenseNet and the small networks (MobileNet v3, EfficientNet, SqueezeNet, ShuffleNet v2,
#   GhostNet): more depth, fewer parameters, fewer MACs per point of error — and which networks form the Pareto front.

# %% setup

# %% [markdown]
# ## The table
# Every model is built at its paper's input size with random weights and measured by `analysis.summarize`; the
# errors are the ones on each model's card (top-1, ImageNet validation, single model; the papers' own, except
# SqueezeNet 1.1's, which is torchvision's released model). Quick mode compares one or two members of each family;
# the full run compares everything in the registry.

# %%
names = (["lenet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18", "resnet50", "se_resnet50",
          "cbam_resnet50", "eca_resnet50", "densenet121", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small",
          "mobilenet_v3_large", "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0", "ghostnet"]
         if QUICK else analysis.notes_order())
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
# Colour: the family (`tfcnn.get_config(name).family`). Left: parameters against MACs, both log scale, every model
# of the table. Right: published top-1 error against MACs (log scale), the models with an ImageNet figure; lower
# left is better, and the grey staircase joins the Pareto front (no other network has both fewer or equal MACs and
# a lower error). A filled marker on the right is a single-crop figure; a hollow one was measured another way
# (10 crops, a dense evaluation) or its card does not say how — the protocol is read from the card's text:

# %%
import re


def crops(protocol):
    """The card's evaluation protocol in one word, read from its first clause (before any parenthesis)."""
    p = protocol.lower().split("(")[0]
    if re.search(r"\b1 crop|\bsingle (centre |\d+x\d+ )?crop", p):
        return "1 crop"
    if "10-crop" in p or "10 crops" in p:
        return "10 crops"
    return "dense" if "dense" in p else "not stated"


imagenet = [row for row in rows if row["top1_error"] is not None]
family = {row["name"]: tfcnn.get_config(row["name"]).family for row in rows}
families = list(dict.fromkeys(family[row["name"]] for row in rows))
palette = list(plt.cm.tab10.colors) + ["navy", "lime", "black"]
colour = {f: palette[i] for i, f in enumerate(families)}
protocol = {row["name"]: crops(row["protocol"]) for row in imagenet}
front = [row["name"] for row in imagenet
         if not any(o["macs"] <= row["macs"] and o["top1_error"] < row["top1_error"] for o in imagenet if o is not row)]
front_rows = sorted((row for row in imagenet if row["name"] in front), key=lambda row: row["macs"])

fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
for row in rows:
    axes[0].scatter(row["params"] / 1e6, row["macs"] / 1e9, s=40, color=colour[family[row["name"]]],
                    edgecolors="k", linewidths=0.6, zorder=3)
for row in imagenet:
    single, c = protocol[row["name"]] == "1 crop", colour[family[row["name"]]]
    axes[1].scatter(row["macs"] / 1e9, row["top1_error"], s=44, color=c if single else "white",
                    edgecolors="k" if single else c, linewidths=0.6 if single else 1.8, zorder=3)
axes[1].step([row["macs"] / 1e9 for row in front_rows], [row["top1_error"] for row in front_rows], where="post",
             color="0.55", lw=1, zorder=1)
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("parameters (millions, log scale)")
axes[0].set_ylabel("MACs per image (billions, log scale)")
axes[1].set_xscale("log")
axes[1].set_xlabel("MACs per image (billions, log scale)")
axes[1].set_ylabel("published top-1 error (%)")
for ax in axes:
    ax.grid(alpha=0.3, which="both")
handles = [plt.Line2D([], [], ls="", marker="o", markersize=7, color=colour[f], markeredgecolor="k", label=f)
           for f in families]
handles += [plt.Line2D([], [], ls="", marker="o", markersize=7, color="k", markeredgecolor="k", label="1 crop"),
            plt.Line2D([], [], ls="", marker="o", markersize=7, color="white", markeredgecolor="0.4", mew=1.8,
                       label="other / not stated"),
            plt.Line2D([], [], color="0.55", label="Pareto front")]
axes[1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
               title="family | protocol (right)", title_fontsize=8)
plt.tight_layout()
# Labels last, once the axes are final: each takes the nearest place where it overprints no other.
labels = [viz.annotate_points(axes[0], [row["params"] / 1e6 for row in rows], [row["macs"] / 1e9 for row in rows],
                              [row["name"] for row in rows], fontsize=6.5),
          viz.annotate_points(axes[1], [row["macs"] / 1e9 for row in imagenet], [row["top1_error"] for row in imagenet],
                              [row["name"] for row in imagenet], fontsize=6.5)]
assert not any(viz.labels_overlap(texts) for texts in labels)
plt.show()

# %% [markdown]
# ## What the picture says, as numbers
# - ResNet-50 has a lower published error than VGG-16 with a fifth of the parameters and a quarter of the MACs.
# - MobileNet v2 is within about one point of VGG-16's error at a fiftieth of the MACs.
# - The "Pareto front" — networks no other network beats on both MACs and error — is listed below, each with the
#   protocol its card gives.
#
# A caution the table's footnotes make precise: the figures were not all measured the same way. The protocol
# groups, as read from the cards, are printed below: AlexNet's 40.7 % and ResNet-18/34's are 10-crop figures,
# VGG's a dense evaluation over the whole image, most later ones a single centre crop, and some cards do not say.
# Several cards also give a 10-crop or multi-crop figure beside the single-crop one (DenseNet's, Inception v3's,
# ResNet-50's), and those are lower (printed below); so only large gaps are meaningful across protocols. The
# EfficientNet rows differ in two more ways their cards state: larger inputs for B1–B3 (the table's Input column)
# and AutoAugment training. The last line compares the table's short Protocol column with these groups; where they
# differ, the footnote — the card's own words — is the one to read.

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
print("Pareto front (MACs vs top-1 error), cheapest first:")
for row in front_rows:
    print(f"  {row['name']}: {row['macs'] / 1e9:.3f} G MACs, {row['top1_error']} % — {row['protocol']}")
assert "vgg16" not in front and "alexnet" not in front

groups = {}
for name, kind in protocol.items():
    groups.setdefault(kind, []).append(name)
print("\nprotocol of the published top-1 error, by group:")
for kind, members in groups.items():
    print(f"  {kind} ({len(members)}): {', '.join(members)}")
assert protocol["alexnet"] == protocol["resnet18"] == "10 crops" and protocol["vgg16"] == "dense"
for name in ("densenet121", "inception_v3", "resnet50"):  # the card also gives a multi-crop figure, a lower one
    multi = float(re.search(r"crops?[^:(]*: (\d+\.\d+)", by_name[name]["protocol"].split("(", 1)[1]).group(1))
    print(f"{name}: 1 crop {by_name[name]['top1_error']} %, more crops {multi} %")
    assert multi < by_name[name]["top1_error"]
effnet = [row for row in rows if row["name"].startswith("efficientnet")]
assert all("AutoAugment" in row["protocol"] for row in effnet)
print("EfficientNet inputs:", {row["name"]: "x".join(map(str, row["input_shape"])) for row in effnet})

# Every registered model with a published top-1 error is in the full run's table and picture.
with_error = {n for n in tfcnn.list_models() if tfcnn.get_config(n).published_error.top1 is not None}
assert set(by_name) <= set(tfcnn.list_models())
if not QUICK:
    assert with_error == {row["name"] for row in imagenet}
print(f"\n{len(imagenet)} of the {len(with_error)} registered models with a published top-1 error are plotted")

# The table's Protocol column is a one-word summary made by the library; where it says otherwise than the groups
# above, the footnote (the card's full text) is the reference.
short = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[-1].rstrip(" |").split(" [")[0]
         for line in analysis.format_comparison(rows, markdown=True).splitlines()[2:] if line.startswith("| ")}
as_group = {"1-crop": "1 crop", "10-crop": "10 crops", "dense, 1 scale": "dense", "as reported": "not stated"}
differ = {n: (short[n], k) for n, k in protocol.items() if as_group.get(short[n], short[n]) != k}
print("table column vs card text:", ", ".join(f"{n}: '{a}' vs '{b}'" for n, (a, b) in differ.items()) or "agree")

# %% [markdown]
# ## Exercises
# 1. Add the depth to the right-hand plot (colour). Is deeper always better at the same MACs?
# 2. `compare_architectures` builds at the paper's input size. Rebuild ResNet-50 and VGG-16 at 32×32 (CIFAR-10's
#    size) with `analysis.summarize(name, input_shape=(32, 32, 3))`: which count changes for which network, and why?
# 3. Read the `protocol` column for GoogLeNet: why does it have no top-1 error?
