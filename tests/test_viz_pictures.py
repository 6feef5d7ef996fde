"""Pictures say what they show: Grad-CAM names its class and probability, the input keeps its aspect ratio,
the compression plot stays readable with twenty variants."""

from __future__ import annotations

import numpy as np
import pytest

from tfcnn import viz
from tfcnn._compat import keras


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def test_gradcam_title_names_the_class_its_probability_and_the_prediction(tiny):
    image = np.random.default_rng(0).integers(0, 255, (20, 40, 1), dtype=np.uint8)  # wide, not square
    batch = viz._common._as_batch(tiny, image)
    logits = tiny(batch).numpy()[0]
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    other = int(np.argmin(probs))
    fig = viz.plot_gradcam(tiny, image, "conv", class_index=other, class_names=["cat", "dog", "owl"])
    title = fig.axes[2].get_title()
    assert f"'{['cat', 'dog', 'owl'][other]}' (p={probs[other]:.2f})" in title
    top = int(np.argmax(probs))
    assert f"predicted '{['cat', 'dog', 'owl'][top]}' (p={probs[top]:.2f})" in title
    shown = fig.axes[0].get_images()[0].get_array()
    assert shown.shape[:2] == (20, 40)  # the input as it was, not the square model input
    assert fig.axes[2].get_images()[1].get_array().shape[:2] == (20, 40)  # the overlay matches it


def test_gradcam_of_the_predicted_class_says_nothing_more(tiny):
    fig = viz.plot_gradcam(tiny, np.zeros((16, 16, 1), np.uint8), "conv")
    assert "predicted" not in fig.axes[2].get_title()


def test_compression_plot_with_21_variants_has_a_legend_families_by_colour_formats_by_marker():
    names = ["float32", "dynamic_range", "float16", "int8", "int8_per_tensor", "int8_io", "qat_int8"]
    for tag in ("pruned80", "pruned2of4"):
        names += [f"{tag}_float32", f"{tag}_int8", f"{tag}_int8_per_tensor", f"{tag}_int8_sparse", f"{tag}_pqat_int8"]
    names += ["clustered16_int8", "clustered16_cqat_int8", "pruned80_clustered16_int8"]
    names.append("pruned80_clustered16_pcqat_int8")
    assert len(names) == 21
    rng = np.random.default_rng(0)
    variants = [{"name": n, "size": float(rng.integers(10_000, 300_000)), "accuracy": 0.97 + 0.02 * rng.random()}
                for n in names]
    fig = viz.plot_compression(variants, size_unit="KB")
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == names  # every point named once, nothing overprinted
    assert not ax.texts
    colours = {}
    for coll, name in zip(ax.collections, names):
        colours.setdefault(viz.variant_family(name)[0], set()).add(tuple(coll.get_facecolor()[0]))
    assert all(len(c) == 1 for c in colours.values())  # one colour per family
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)  # families told apart
    assert viz.variant_family("pruned80_int8_sparse") == ("pruned80", "int8 sparse")
    assert viz.variant_family("int8") == ("post-training", "int8")
    assert viz.variant_family("pruned80_clustered16_pcqat_int8") == ("pruned80_clustered16_pcqat", "int8")


def test_point_labels_never_overlap_even_in_a_cluster():
    import matplotlib.pyplot as plt

    from tfcnn import viz

    rng = np.random.default_rng(0)
    xs, ys = rng.normal(0, 0.02, 12), rng.normal(0, 0.02, 12)  # twelve points on top of each other
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(xs, ys)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    naive = [ax.annotate(f"model_{i}", (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7)
             for i, (x, y) in enumerate(zip(xs, ys))]
    assert viz.labels_overlap(naive)  # the control: one fixed offset overprints the names
    for t in naive:
        t.remove()
    texts = viz.annotate_points(ax, xs, ys, [f"model_{i}" for i in range(12)])
    assert [t.get_text() for t in texts] == [f"model_{i}" for i in range(12)]
    assert not viz.labels_overlap(texts)
    plt.close(fig)
