"""Weight clustering: at most k distinct values per kernel, zeros kept when asked, bad counts refused."""

from __future__ import annotations

import pytest

import tfcnn
from tfcnn.compress import CompressError, kernel_sparsity
from tfcnn.compress.cluster import check_clusters, cluster_model, distinct_values
from tfcnn.compress.prune import prune_model
from tfcnn.data import load_dataset, make_pipeline


@pytest.fixture(scope="module")
def train_ds():
    data = load_dataset("digits")
    return make_pipeline(data.x_train[:128], data.y_train[:128], (28, 28, 1), batch_size=32, training=True)


def test_cluster_bounds_distinct_values_per_kernel(train_ds):
    model = tfcnn.create_model("lenet")
    stripped, _ = cluster_model(model, 16, train_ds, epochs=1)
    counts = distinct_values(stripped)
    assert set(counts) == {"conv1_conv", "conv2_conv", "fc1", "fc2", "logits"}
    assert all(n <= 16 for n in counts.values()), counts
    assert distinct_values(model)["fc1"] > 1000  # the original is untouched


def test_cluster_preserve_sparsity_keeps_pruned_zeros(train_ds):
    pruned, _ = prune_model(tfcnn.create_model("lenet"), 0.5, train_ds, layers="dense", epochs=1)
    clustered, _ = cluster_model(pruned, 8, train_ds, epochs=1, preserve_sparsity=True)
    for name in ("fc1", "fc2", "logits"):
        assert kernel_sparsity(clustered)[name]["sparsity"] >= 0.49, name
        assert distinct_values(clustered)[name] <= 8


@pytest.mark.parametrize("bad", [1, 0, -3, "abc", 2.5, True])
def test_cluster_count_below_two_is_rejected(bad):
    with pytest.raises(CompressError, match=r"Received: clusters="):
        check_clusters(bad)


def test_cluster_raw_style_model_is_refused_with_a_reason(train_ds):
    with pytest.raises(CompressError, match="style='keras'"):
        cluster_model(tfcnn.create_model("lenet", style="raw"), 4, train_ds)
