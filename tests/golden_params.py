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
    ("vgg11", ()): (132_863_336, "Simonyan & Zisserman arXiv:1409.1556 config A = torchvision vgg11 (paper Table 2: 133M)"),
    ("vgg13", ()): (133_047_848, "Simonyan & Zisserman config B = torchvision vgg13 (paper Table 2: 133M)"),
    ("vgg16", ()): (138_357_544, "tf_keras.applications.VGG16(weights=None).count_params() = torchvision vgg16"),
    ("vgg19", ()): (143_667_240, "tf_keras.applications.VGG19(weights=None).count_params() = torchvision vgg19"),
    ("vgg11_bn", ()): (132_871_592, "torchvision vgg11_bn 132,868,840 - 2,752 conv biases (BN follows) + 5,504 BN moving stats"),
    ("vgg13_bn", ()): (133_056_680, "torchvision vgg13_bn 133,053,736 - 2,944 conv biases + 5,888 BN moving stats"),
    ("vgg16_bn", ()): (138_370_216, "torchvision vgg16_bn 138,365,992 - 4,224 conv biases + 8,448 BN moving stats"),
    ("vgg19_bn", ()): (143_683_752, "torchvision vgg19_bn 143,678,248 - 5,504 conv biases + 11,008 BN moving stats"),
    ("resnet18", ()): (11_699_112, "torchvision resnet18 11,689,512 trainable + 9,600 BN moving stats"),
    ("resnet34", ()): (21_814_696, "torchvision resnet34 21,797,672 trainable + 17,024 BN moving stats"),
    ("resnet50", ()): (25_636_712, "tf_keras.applications.ResNet50(weights=None).count_params()"),
    ("resnet50", (("variant", "paper"),)): (25_610_152, "torchvision resnet50 25,557,032 trainable + 53,120 BN moving stats"),
    ("resnet101", ()): (44_707_176, "tf_keras.applications.ResNet101(weights=None).count_params()"),
    ("resnet152", ()): (60_419_944, "tf_keras.applications.ResNet152(weights=None).count_params()"),
    ("se_resnet50", ()): (28_141_144, "timm seresnet50 28,088,024 trainable (Hu et al. arXiv:1709.01507: 28.1M) + 53,120 BN stats"),
    ("mobilenet_v1", ()): (4_253_864, "tf_keras.applications.MobileNet(weights=None).count_params() (paper: 4.2M)"),
    ("mobilenet_v2", ()): (3_538_984, "tf_keras.applications.MobileNetV2(weights=None).count_params() (paper: 3.4M)"),
}
