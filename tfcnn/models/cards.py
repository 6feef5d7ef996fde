"""Model cards: everything tfcnn knows about one registered model, in one frozen record.

A :class:`ModelCard` holds the architecture's defaults (input, classes,
options), the paper, the small input the contract tests build it at, its
Keras Applications counterpart, the error the paper publishes and the
parameter counts that independent sources give. A family file builds the
architecture part of each card next to its builder; the literal facts taken
from papers and reference implementations sit in :data:`FACTS` below, one
entry per model, and :func:`tfcnn.models.registry.register_model` puts them
into the card. A model without an entry here cannot be registered.

This module imports nothing from tfcnn: it is data and the types that hold it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
"""Where Keras Applications downloads its ImageNet files from."""


def _frozen(mapping) -> MappingProxyType:
    return MappingProxyType(dict(mapping or {}))


@dataclasses.dataclass(frozen=True)
class PublishedError:
    """A top-1 (and top-5) ImageNet error rate as the paper reports it.

    Attributes:
        top1: top-1 error in percent, or ``None`` where the paper gives none.
        top5: top-5 error in percent, or ``None``.
        protocol: how it was measured (data split, crops, scales, single model).
        source: paper, table, and the row cited.
    """

    top1: float | None
    top5: float | None
    protocol: str
    source: str


@dataclasses.dataclass(frozen=True)
class GoldenCount:
    """A parameter count from a source a reader can check, for the model built with ``overrides``.

    Attributes:
        params: ``count_params()`` expected (BN moving statistics included, as Keras counts).
        source: where the number comes from (paper table, torchvision, ``tf_keras.applications``).
        overrides: builder arguments, as ``((name, value), ...)``; ``()`` for the defaults.
    """

    params: int
    source: str
    overrides: tuple = ()


def renamed(mapping: Mapping[str, str]) -> Callable[[str], str]:
    """A name map that renames the layers in ``mapping`` and keeps every other name."""
    table = dict(mapping)
    return lambda layer_name: table.get(layer_name, layer_name)


@dataclasses.dataclass(frozen=True)
class KerasCounterpart:
    """How a tfcnn model corresponds to a ``tf_keras.applications`` builder.

    Attributes:
        builder: the attribute of ``tf_keras.applications`` (``'ResNet50'``).
        name_map: tfcnn layer name -> Keras layer name (``None``: no counterpart);
            or ``None`` when Keras names the layers by creation order
            (``conv2d_7``), and weighted layers pair up in graph order instead.
        imagenet_file: builder arguments -> Keras's ImageNet file name for that
            configuration (``None`` when Keras has none).
        folder: the folder under :data:`KERAS_WEIGHTS_URL` holding the files.
        keras_kwargs: builder arguments -> extra keyword arguments of the Keras
            builder (``alpha``...), beyond ``include_top``/``input_shape``/``classes``/``pooling``.
        base_url: where the folder is (EfficientNet's files sit elsewhere than the others').
    """

    builder: str
    name_map: Callable[[str], str | None] | None
    imagenet_file: Callable[[Mapping[str, Any]], str | None]
    folder: str
    keras_kwargs: Callable[[Mapping[str, Any]], dict] = lambda args: {}
    base_url: str = KERAS_WEIGHTS_URL

    def url(self, file_name: str) -> str:
        """The download address of ``file_name``."""
        return f"{self.base_url}{self.folder}/{file_name}" if self.folder else f"{self.base_url}{file_name}"

    def md5(self, file_name: str) -> str | None:
        """The MD5 that Keras Applications publishes for ``file_name`` (``None``: it publishes none)."""
        return KERAS_FILE_MD5.get(file_name)


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """One registered model: its defaults, paper, test input, Keras counterpart and published numbers.

    Attributes:
        name: registry key, lowercase snake case (``resnet50``).
        family: the file/family it belongs to (``resnet``).
        input_shape: the paper's input, ``(H, W, C)``.
        num_classes: the paper's class count.
        min_input_size: the smallest square input the down-sampling allows.
        reference: the paper (title and arXiv id or venue).
        options: architecture options and their defaults (``groups``, ``alpha``...).
        contract_input: the small input the contract tests build it at;
            default ``min_input_size`` square with the paper's channels.
        contract_options: options that make the contract build small (``alpha=0.25``).
        keras: the Keras Applications counterpart, or ``None``.
        published_error: the paper's ImageNet error (from :data:`FACTS`).
        golden_params: independently sourced parameter counts (from :data:`FACTS`).
    """

    name: str
    family: str
    input_shape: tuple[int, int, int]
    num_classes: int
    min_input_size: int
    reference: str
    options: Mapping = dataclasses.field(default_factory=dict)
    contract_input: tuple[int, int, int] | None = None
    contract_options: Mapping = dataclasses.field(default_factory=dict)
    keras: KerasCounterpart | None = None
    published_error: PublishedError | None = None
    golden_params: tuple[GoldenCount, ...] = ()

    def __post_init__(self):
        for field in ("options", "contract_options"):
            object.__setattr__(self, field, _frozen(getattr(self, field)))
        if self.contract_input is None:
            side = self.min_input_size
            object.__setattr__(self, "contract_input", (side, side, self.input_shape[2]))
        object.__setattr__(self, "golden_params", tuple(self.golden_params))


@dataclasses.dataclass(frozen=True)
class Facts:
    """What papers and reference implementations say about one model (merged into its card)."""

    published_error: PublishedError
    golden_params: tuple[GoldenCount, ...] = ()


# MD5 sums of Keras's ImageNet files, as tf_keras.applications passes them to
# ``get_file(file_hash=...)`` (resnet.py WEIGHTS_HASHES, vgg16.py, vgg19.py,
# inception_v3.py, densenet.py, mobilenet_v3.py). Keras publishes none for the MobileNet v1/v2 files, and
# SHA-256 sums (not kept here) for EfficientNet's.
KERAS_FILE_MD5 = {
    "resnet50_weights_tf_dim_ordering_tf_kernels.h5": "2cb95161c43110f7111970584f804107",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101_weights_tf_dim_ordering_tf_kernels.h5": "f1aeb4b969a6efcfb50fad2f0c20cfc5",
    "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5": "88cf7a10940856eca736dc7b7e228a21",
    "resnet152_weights_tf_dim_ordering_tf_kernels.h5": "100835be76be38e30d865e96f2aaae62",
    "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5": "ee4c566cf9a93f14d82f913c2dc6dd0c",
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": "64373286793e3c8b2b4e3219cbf3544b",
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5": "cbe5617147190e668d6c5d5026f83318",
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": "253f8cb515780f3b799900260a226db6",
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": "9a0d58056eeedaa3f26cb7ebd46da564",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": "bcbd6486424b2319ff4ef7d526e38f63",
    "densenet121_weights_tf_dim_ordering_tf_kernels.h5": "9d60b8095a5708f2dcce2bca79d332c7",
    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5": "30ee3e1110167f948a6b9946edeeb738",
    "densenet169_weights_tf_dim_ordering_tf_kernels.h5": "d699b8f76981ab1b30698df4c175e90b",
    "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5": "b8c4d4c20dd625c148057b9ff1c1176b",
    "densenet201_weights_tf_dim_ordering_tf_kernels.h5": "1ceb130c1ea1b78c3bf6114dbdfd8807",
    "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5": "c13680b51ded0fb44dff2d8f86ac8bb1",
    # mobilenet_v3.py WEIGHTS_HASHES: (with top, without top) per configuration
    "weights_mobilenet_v3_small_224_1.0_float.h5": "8768d4c2e7dee89b9d02b2d03d65d862",
    "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5": "d3e8ec802a04aa4fc771ee12a9a9b836",
    "weights_mobilenet_v3_small_224_0.75_float.h5": "cb65d4e5be93758266aa0a7f2c6708b7",
    "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5": "ebdb5cc8e0b497cd13a7c275d475c819",
    "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5": "99cd97fb2fcdad2bf028eb838de69e37",
    "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5": "cde8136e733e811080d9fcd8a252f7e4",
    "weights_mobilenet_v3_large_224_1.0_float.h5": "59e551e166be033d707958cf9e29a6a7",
    "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5": "07fb09a5933dd0c8eaafa16978110389",
    "weights_mobilenet_v3_large_224_0.75_float.h5": "765b44a33ad4005b3ac83185abf1d0eb",
    "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5": "40af19a13ebea4e2ee0c676887f69a2e",
    "weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5": "675e7b876c45c57e9e63e6d90a36599c",
    "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5": "ec5221f64a2f6d1ef965a614bdae7973",
}

_HE = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv:1512.03385)"
_HU = "Hu et al., Squeeze-and-Excitation Networks, CVPR 2018 (arXiv:1709.01507)"
_VGG = "Simonyan & Zisserman, Very Deep Convolutional Networks, ICLR 2015 (arXiv:1409.1556)"
_WOO = "Woo et al., CBAM: Convolutional Block Attention Module, ECCV 2018 (arXiv:1807.06521)"
_WANG_ECA = "Wang et al., ECA-Net: Efficient Channel Attention, CVPR 2020 (arXiv:1910.03151)"
_RAN = "Wang et al., Residual Attention Network for Image Classification, CVPR 2017 (arXiv:1704.06904)"
_VGG_PROTOCOL = ("ILSVRC-2012 val, single model, dense evaluation at a single scale Q=256, trained at S=256; "
                 "multi-crop + dense, multi-scale evaluation gives less (Table 5: 24.4 for D)")
_NO_BN = PublishedError(None, None, "batch norm is not in the VGG paper", _VGG)
_V3 = "Howard et al., Searching for MobileNetV3, ICCV 2019 (arXiv:1905.02244)"
_EFF = "Tan & Le, EfficientNet, ICML 2019 (arXiv:1905.11946v5), Table 2"
_EFF_PROTOCOL = "ILSVRC-2012 val, 1 model, 1 crop at {0}x{0}: {1} % top-1 / top-5 accuracy (AutoAugment training)"
_EFF_KERAS = ("tf_keras.applications.EfficientNet{}(weights=None).count_params() = {} minus its Normalization "
              "layer's 7 numbers (paper: {})")
_DN = "Huang et al., Densely Connected Convolutional Networks, CVPR 2017 (arXiv:1608.06993), Table 3"
_DN_PROTOCOL = "ILSVRC-2012 val, 1 model, single 224x224 crop (10-crop: {})"
_DN_KERAS = "tf_keras.applications.DenseNet{}(weights=None).count_params() (paper Table 3: {})"
_TV = "torchvision {} {:,} - {:,} conv biases (BN follows) + {:,} BN moving stats"


def _one(params: int, source: str, **overrides) -> tuple[GoldenCount, ...]:
    return (GoldenCount(params, source, tuple(sorted(overrides.items()))),)


#: Per model: the published single-model ImageNet (ILSVRC-2012 validation unless said) error in percent,
#: and golden parameter counts. Protocols differ (1 crop, 10 crops, dense): compare rows with the same
#: protocol only. Where a single-crop figure is published, it is the one given. The order is the notes'.
FACTS: dict[str, Facts] = {
    "lenet": Facts(
        PublishedError(None, None, "not evaluated on ImageNet (MNIST: 0.95 % test error in the paper)",
                       "LeCun et al., Proc. IEEE 1998"),
        _one(61_706, "LeCun et al. 1998 layer sizes at 28x28x1 with SAME C1: 156+2,416+48,120+10,164+850")),
    "alexnet": Facts(
        PublishedError(
            40.7, 18.2, "ILSVRC-2012 val, 1 CNN, 10 crops (4 corners + centre, and flips) averaged; the often-quoted "
            "37.5 / 17.0 is the ILSVRC-2010 *test* set (Table 1)",
            "Krizhevsky et al., ImageNet Classification with Deep CNNs, NIPS 2012, Table 2, row '1 CNN'"),
        _one(62_378_344, "Krizhevsky et al. 2012 layer sizes as one tower, 6x6x256 into fc6, biases")
        + _one(60_965_224, "Krizhevsky et al. 2012 two-GPU layout = Caffe bvlc_alexnet count", groups=2)),
    "zfnet": Facts(
        PublishedError(
            38.4, 16.5, "ILSVRC-2012 val, 1 convnet (Fig. 3 architecture); crop protocol not restated in the table",
            "Zeiler & Fergus, Visualizing and Understanding CNNs, ECCV 2014 (arXiv:1311.2901), Table 2"),
        _one(62_357_608, "Zeiler & Fergus arXiv:1311.2901 Fig. 3 layer sizes, biases")),
    "vgg11": Facts(PublishedError(29.6, 10.4, _VGG_PROTOCOL, f"{_VGG}, Table 3, config A"),
                   _one(132_863_336, "Simonyan & Zisserman config A = torchvision vgg11 (paper Table 2: 133M)")),
    "vgg13": Facts(PublishedError(28.7, 9.9, _VGG_PROTOCOL, f"{_VGG}, Table 3, config B"),
                   _one(133_047_848, "Simonyan & Zisserman config B = torchvision vgg13 (paper Table 2: 133M)")),
    "vgg16": Facts(PublishedError(27.0, 8.8, _VGG_PROTOCOL, f"{_VGG}, Table 3, config D"),
                   _one(138_357_544, "tf_keras.applications.VGG16(weights=None).count_params() = torchvision vgg16")),
    "vgg19": Facts(PublishedError(27.3, 9.0, _VGG_PROTOCOL, f"{_VGG}, Table 3, config E"),
                   _one(143_667_240, "tf_keras.applications.VGG19(weights=None).count_params() = torchvision vgg19")),
    "vgg11_bn": Facts(_NO_BN, _one(132_871_592, _TV.format("vgg11_bn", 132_868_840, 2_752, 5_504))),
    "vgg13_bn": Facts(_NO_BN, _one(133_056_680, _TV.format("vgg13_bn", 133_053_736, 2_944, 5_888))),
    "vgg16_bn": Facts(_NO_BN, _one(138_370_216, _TV.format("vgg16_bn", 138_365_992, 4_224, 8_448))),
    "vgg19_bn": Facts(_NO_BN, _one(143_683_752, _TV.format("vgg19_bn", 143_678_248, 5_504, 11_008))),
    "googlenet": Facts(
        PublishedError(
            None, 10.07, "the paper reports top-5 only: 10.07 % for 1 model, 1 crop (6.67 % for 7 models, 144 crops)",
            "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv:1409.4842), Table 3"),
        _one(6_998_552, "Szegedy et al. arXiv:1409.4842 Table 1 widths, kernels + biases, no aux")),
    "inception_v3": Facts(
        PublishedError(
            21.2, 5.6, "ILSVRC-2012 val, 1 model, 1 crop at 299x299 (12 crops: 19.47; 144 crops: 18.77, Table 4)",
            "Szegedy et al., Rethinking the Inception Architecture, CVPR 2016 (arXiv:1512.00567), Table 3, last row"),
        _one(23_851_784, "tf_keras.applications.InceptionV3(weights=None).count_params()")),
    "resnet18": Facts(
        PublishedError(27.88, None, "ILSVRC-2012 val, 10-crop testing, identity/zero-padding shortcuts (option A)",
                       f"{_HE}, Table 2"),
        _one(11_699_112, "torchvision resnet18 11,689,512 trainable + 9,600 BN moving stats")),
    "resnet34": Facts(
        PublishedError(24.52, 7.46, "ILSVRC-2012 val, 10-crop testing, projection shortcuts where dimensions grow "
                       "(option B)", f"{_HE}, Table 3, 'ResNet-34 B'"),
        _one(21_814_696, "torchvision resnet34 21,797,672 trainable + 17,024 BN moving stats")),
    "resnet50": Facts(
        PublishedError(24.7, 7.8, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop in the "
                       "ResNet paper: 22.85, Table 3)", f"{_HU}, Table 2, 'original' column"),
        _one(25_636_712, "tf_keras.applications.ResNet50(weights=None).count_params()")
        + _one(25_610_152, "torchvision resnet50 25,557,032 trainable + 53,120 BN moving stats", variant="paper")),
    "resnet101": Facts(
        PublishedError(23.6, 7.1, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop: 21.75, "
                       "ResNet paper Table 3)", f"{_HU}, Table 2, 'original' column"),
        _one(44_707_176, "tf_keras.applications.ResNet101(weights=None).count_params()")),
    "resnet152": Facts(
        PublishedError(23.0, 6.7, "ILSVRC-2012 val, 1 crop 224x224, He et al.'s released model (10-crop: 21.43, "
                       "ResNet paper Table 3)", f"{_HU}, Table 2, 'original' column"),
        _one(60_419_944, "tf_keras.applications.ResNet152(weights=None).count_params()")),
    "se_resnet50": Facts(
        PublishedError(23.29, 6.62, "ILSVRC-2012 val, 1 crop 224x224 (same protocol as the ResNet-50 row)",
                       f"{_HU}, Table 2, 'SENet' column"),
        _one(28_141_144, "timm seresnet50 28,088,024 trainable (Hu et al. arXiv:1709.01507: 28.1M) "
             "+ 53,120 BN stats")),
    "cbam_resnet50": Facts(
        PublishedError(22.66, 6.31, "ILSVRC-2012 val, 1 crop 224x224", f"{_WOO}, Table 4, 'ResNet50 + CBAM'"),
        _one(28_142_776, "Woo et al. arXiv:1807.06521 Table 4: 28.09M; = SE-ResNet-50's 28,088,024 trainable "
             "+ 16 x 100 for the spatial gates (7x7x2 kernel, BN gamma/beta) + 53,152 BN stats")),
    "eca_resnet50": Facts(
        PublishedError(22.52, 6.32, "ILSVRC-2012 val, 1 crop 224x224", f"{_WANG_ECA}, Table 2 (77.48 / 93.68 top-1/5)"),
        _one(25_610_232, "torchvision ResNet-50 25,557,032 trainable + 80 ECA weights (released k=3,5,5,7 per stage, "
             "BangguWu/ECANet) + 53,120 BN stats; the authors' 24.37M is also their plain ResNet-50's figure")),
    "attention56": Facts(
        PublishedError(21.76, 5.9, "ILSVRC-2012 val, 1 model, 1 crop", f"{_RAN}, Table 6"),
        _one(31_883_432, "tfcnn's reading of Wang et al. arXiv:1704.06904 (paper: 31.9M; see attention.py)")),
    "attention92": Facts(
        PublishedError(19.5, 4.8, "ILSVRC-2012 val, 1 model, 1 crop", f"{_RAN}, Table 6"),
        _one(52_599_976, "tfcnn's reading of Wang et al. arXiv:1704.06904 (paper: 51.3M; see attention.py)")),
    "densenet121": Facts(PublishedError(25.02, 7.71, _DN_PROTOCOL.format("23.61 / 6.66"), _DN),
                         _one(8_062_504, _DN_KERAS.format("121", "8.0M"))),
    "densenet169": Facts(PublishedError(23.80, 6.85, _DN_PROTOCOL.format("22.08 / 5.92"), _DN),
                         _one(14_307_880, _DN_KERAS.format("169", "14.1M"))),
    "densenet201": Facts(PublishedError(22.58, 6.34, _DN_PROTOCOL.format("21.46 / 5.54"), _DN),
                         _one(20_242_984, _DN_KERAS.format("201", "20.0M"))),
    "mobilenet_v1": Facts(
        PublishedError(29.4, None, "ILSVRC-2012 val, 1.0 MobileNet-224: 70.6 % top-1 accuracy",
                       "Howard et al., MobileNets, arXiv:1704.04861, Table 8"),
        _one(4_253_864, "tf_keras.applications.MobileNet(weights=None).count_params() (paper: 4.2M)")),
    "mobilenet_v2": Facts(
        PublishedError(28.0, None, "ILSVRC-2012 val, 1.0 width at 224: 72.0 % top-1 accuracy",
                       "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR 2018 "
                       "(arXiv:1801.04381), Table 4"),
        _one(3_538_984, "tf_keras.applications.MobileNetV2(weights=None).count_params() (paper: 3.4M)")),
    "efficientnet_b0": Facts(PublishedError(22.9, 6.7, _EFF_PROTOCOL.format(224, "77.1 / 93.3"), _EFF),
                             _one(5_330_564, _EFF_KERAS.format("B0", "5,330,571", "5.3M"))),
    "efficientnet_b1": Facts(PublishedError(20.9, 5.6, _EFF_PROTOCOL.format(240, "79.1 / 94.4"), _EFF),
                             _one(7_856_232, _EFF_KERAS.format("B1", "7,856,239", "7.8M"))),
    "efficientnet_b2": Facts(PublishedError(19.9, 5.1, _EFF_PROTOCOL.format(260, "80.1 / 94.9"), _EFF),
                             _one(9_177_562, _EFF_KERAS.format("B2", "9,177,569", "9.2M"))),
    "efficientnet_b3": Facts(PublishedError(18.4, 4.3, _EFF_PROTOCOL.format(300, "81.6 / 95.7"), _EFF),
                             _one(12_320_528, _EFF_KERAS.format("B3", "12,320,535", "12M"))),
    "mobilenet_v3_small": Facts(
        PublishedError(32.6, None, "ILSVRC-2012 val, 1.0 width at 224, float: 67.4 % top-1 accuracy "
                       "(minimalistic: 61.9 %)", f"{_V3}, Table 3"),
        _one(2_554_968, "tf_keras.applications.MobileNetV3Small(weights=None).count_params() (paper: 2.5M)")),
    "mobilenet_v3_large": Facts(
        PublishedError(24.8, None, "ILSVRC-2012 val, 1.0 width at 224, float: 75.2 % top-1 accuracy "
                       "(minimalistic: 72.3 %)", f"{_V3}, Table 3"),
        _one(5_507_432, "tf_keras.applications.MobileNetV3Large(weights=None).count_params() (paper: 5.4M)")),
    # Lightweight families without a Keras counterpart (issue 16)
    "squeezenet1_1": Facts(
        PublishedError(41.822, 19.376, "ILSVRC-2012 val, 1 crop 224 of 256, torchvision's released weights (the "
                       "paper reports v1.0 only: 42.5 / 19.7, Table 2; the official repo says v1.1 matches it)",
                       "torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1: acc@1 58.178, acc@5 80.624"),
        _one(1_235_496, "torchvision squeezenet1_1 num_params 1,235,496 (no BN, so no moving stats)")),
    "shufflenet_v2_x0_5": Facts(
        PublishedError(39.7, None, "ILSVRC-2012 val, single centre crop, 0.5x at 41 MFLOPs",
                       "Ma et al., ShuffleNet V2, ECCV 2018 (arXiv:1807.11164), Table 8"),
        _one(1_374_744, "torchvision shufflenet_v2_x0_5 num_params 1,366,792 (no conv biases) + 7,952 BN "
             "moving stats")),
    "shufflenet_v2_x1_0": Facts(
        PublishedError(30.6, None, "ILSVRC-2012 val, single centre crop, 1x at 146 MFLOPs",
                       "Ma et al., ShuffleNet V2, ECCV 2018 (arXiv:1807.11164), Table 8"),
        _one(2_294_784, "torchvision shufflenet_v2_x1_0 num_params 2,278,604 (no conv biases) + 16,180 BN "
             "moving stats")),
    "ghostnet": Facts(
        PublishedError(26.1, 8.6, "ILSVRC-2012 val, GhostNet 1.0x, 1 crop 224: 73.9 % top-1, 91.4 % top-5",
                       "Han et al., GhostNet: More Features from Cheap Operations, CVPR 2020 (arXiv:1911.11907), "
                       "Table 7"),
        _one(5_204_476, "huawei-noah ghostnet.py 1.0x = timm ghostnet_100 layer sizes counted: 5,182,508 "
             "trainable (paper Table 7, timm card: 5.2M) + 21,968 BN moving stats")),
}
