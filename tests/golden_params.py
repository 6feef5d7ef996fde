"""Golden parameter counts, one line each with its source.

Tests compare ``create_model(name, ...).count_params()`` with these numbers
exactly. Add a row only with a source a reader can check (paper table,
reference implementation, Keras Applications' ``count_params()``).
"""

# (name, overrides) -> (count, source)
GOLDEN_PARAMS = {
    ("lenet", ()): (61_706, "LeCun et al. 1998 layer sizes at 28x28x1 with SAME C1: 156+2,416+48,120+10,164+850"),
    ("alexnet", ()): (62_378_344, "Krizhevsky et al. 2012 layer sizes as one tower, 6x6x256 into fc6, biases"),
    ("alexnet", (("groups", 2),)): (60_965_224, "Krizhevsky et al. 2012 two-GPU layout = Caffe bvlc_alexnet count"),
    ("zfnet", ()): (62_357_608, "Zeiler & Fergus arXiv:1311.2901 Fig. 3 layer sizes, biases"),
    ("googlenet", ()): (6_998_552, "Szegedy et al. arXiv:1409.4842 Table 1 widths, kernels + biases, no aux"),
    ("inception_v3", ()): (23_851_784, "tf_keras.applications.InceptionV3(weights=None).count_params()"),
    ("attention56", ()): (31_883_432, "tfcnn's reading of Wang et al. arXiv:1704.06904 (paper: 31.9M; see attention.py)"),
    ("attention92", ()): (52_599_976, "tfcnn's reading of Wang et al. arXiv:1704.06904 (paper: 51.3M; see attention.py)"),
}
