"""Weight clustering with TFMOT: every kernel keeps only ``k`` distinct values, then fine-tunes.

Clustering (weight sharing) replaces each kernel's weights by the nearest of
``k`` centroids, so a file stores indices plus a small codebook and gzip
compresses it well. With ``preserve_sparsity=True`` the zeros of a pruned
model stay zeros (prune, then cluster).

Reference: S. Han, H. Mao, W. J. Dally, "Deep Compression: compressing deep
neural networks with pruning, trained quantization and Huffman coding",
arXiv:1510.00149.
"""

from __future__ import annotations

import numpy as np

from tfcnn._compat import keras
from tfcnn.compress._common import CompressError, compile_for_fine_tuning, kernel_of, tfmot


def check_clusters(number_of_clusters) -> int:
    """Validate a cluster count (an int >= 2).

    Raises:
        CompressError: not an int, or below 2.
    """
    try:
        k = int(number_of_clusters)
    except (TypeError, ValueError):
        k = None
    if k is None or isinstance(number_of_clusters, bool) or str(k) != str(number_of_clusters).strip() or k < 2:
        raise CompressError(f"the cluster count must be an int >= 2. Received: clusters={number_of_clusters!r}")
    return k


MAX_CLUSTERS = 256
"""int8 stores at most 256 distinct values per tensor: more clusters than that cannot shrink anything."""


def check_clusters_for(model, number_of_clusters: int) -> int:
    """Validate a cluster count against a model: at most :data:`MAX_CLUSTERS` and at most the weights of the
    smallest layer that will be clustered (k-means cannot make more centroids than it has points).

    Raises:
        CompressError: naming ``--cluster``, the limit and why.
    """
    k = check_clusters(number_of_clusters)
    sizes = {n: int(np.prod(kernel_of(model.get_layer(n)).shape)) for n in clusterable_layers(model)}
    if not sizes:
        raise CompressError(f"the model has no layer TFMOT can cluster. Received: --cluster={k}")
    smallest = min(sizes, key=sizes.get)
    limit = min(MAX_CLUSTERS, sizes[smallest])
    if k > limit:
        why = (f"int8 holds at most {MAX_CLUSTERS} distinct values" if limit == MAX_CLUSTERS else
               f"layer {smallest} has only {sizes[smallest]} weights")
        raise CompressError(f"--cluster must be at most {limit} ({why}). Received: --cluster={k}")
    return k


def clusterable_layers(model) -> list[str]:
    """Layers TFMOT can cluster that carry a kernel (Keras Conv2D/Dense; not the raw ``tf.nn`` layers)."""
    from tensorflow_model_optimization.python.core.clustering.keras import clustering_registry

    names = []
    for layer in model.layers:
        if kernel_of(layer) is not None and clustering_registry.ClusteringRegistry.supports(layer):
            names.append(layer.name)
    return names


def cluster_model(model, number_of_clusters, train_ds, *, epochs: int = 1, optimizer: str = "adam", lr: float = 1e-4,
            preserve_sparsity: bool = False, verbose: int = 0):
    """Cluster every supported kernel of a copy of ``model`` into ``number_of_clusters`` values and fine-tune.

    Args:
        model: a trained flat functional model (left unchanged).
        number_of_clusters: distinct values per kernel (>= 2).
        train_ds: batched ``tf.data.Dataset`` of (image, label).
        epochs: fine-tuning epochs.
        optimizer, lr: fine-tuning optimizer; clustering wants a small rate.
        preserve_sparsity: keep a pruned model's zeros.
        verbose: ``fit`` verbosity.

    Returns:
        ``(stripped, wrapped)``: the exported model and the one still wrapped
        (for cluster-preserving QAT, which needs the stripped one).

    Raises:
        CompressError: bad count, or no layer can be clustered.

    Example:
        >>> stripped, _ = cluster_model(model, 16, train_ds)  # doctest: +SKIP
    """
    k = check_clusters(number_of_clusters)
    names = set(clusterable_layers(model))
    if not names:
        raise CompressError("no layer of this model can be clustered (TFMOT clusters Keras Conv2D/Dense; build the "
                            f"model with style='keras' or 'slim'). Received: model={model.name!r}")
    ck = tfmot().clustering.keras
    params = {"number_of_clusters": k, "cluster_centroids_init": ck.CentroidInitialization.KMEANS_PLUS_PLUS}
    if preserve_sparsity:
        params["preserve_sparsity"] = True
    from tfcnn.compress.prune import clone

    base = clone(model)

    def wrap(layer):
        return ck.cluster_weights(layer, **params) if layer.name in names else layer

    wrapped = keras.models.clone_model(base, clone_function=wrap)
    compile_for_fine_tuning(wrapped, optimizer=optimizer, lr=lr)
    wrapped.fit(train_ds, epochs=epochs, verbose=verbose)
    return ck.strip_clustering(wrapped), wrapped


def distinct_values(model) -> dict[str, int]:
    """Number of distinct values in each layer's kernel (what clustering bounds)."""
    import numpy as np

    return {layer.name: int(np.unique(kernel_of(layer).numpy()).size)
            for layer in model.layers if kernel_of(layer) is not None}
