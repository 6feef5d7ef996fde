"""``weights=``: Keras Applications .h5 files, 'imagenet' from the Keras cache or a clear offline error, tfcnn files."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from zoo_checks import build_keras_reference, randomize_bn, rel_diff

import tfcnn
from tfcnn.models import _pretrained

# The cheapest Keras Applications model whose ImageNet file name depends on options: MobileNetV2 0.35 at 96x96.
KW = {"input_shape": (96, 96, 3), "alpha": 0.35, "include_top": False, "pooling": "avg"}
IMAGENET_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"


@pytest.fixture(scope="module")
def keras_h5(tmp_path_factory):
    """A Keras Applications weights file, written as ``keras.applications.MobileNetV2(...).save_weights`` does."""
    ref = build_keras_reference("mobilenet_v2", **KW)
    randomize_bn(ref)
    path = tmp_path_factory.mktemp("keras") / IMAGENET_FILE
    ref.save_weights(str(path))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 96, 96, 3)).astype("float32")
    return path, x, ref(x).numpy()


@pytest.mark.parametrize("style", ["keras", "raw"])
def test_keras_h5_path_loads_by_name_map(keras_h5, style):
    path, x, expected = keras_h5
    model = tfcnn.create_model("mobilenet_v2", weights=str(path), style=style, **KW)
    assert rel_diff(expected, model(x).numpy()) <= 1e-4


def test_imagenet_uses_the_keras_cache(keras_h5, monkeypatch, tmp_path):
    path, x, expected = keras_h5
    (tmp_path / IMAGENET_FILE).write_bytes(path.read_bytes())
    monkeypatch.setattr(_pretrained, "keras_cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(_pretrained, "network_reachable", lambda *a, **k: pytest.fail("must not probe the network"))
    model = tfcnn.create_model("mobilenet_v2", weights="imagenet", **KW)
    assert rel_diff(expected, model(x).numpy()) <= 1e-4


def test_imagenet_offline_without_cache_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(_pretrained, "keras_cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(_pretrained, "network_reachable", lambda *a, **k: False)
    monkeypatch.setattr(tfcnn.keras.utils, "get_file", lambda *a, **k: pytest.fail("must not try to download"))
    with pytest.raises(_pretrained.PretrainedWeightsUnavailable, match="weights='imagenet'") as err:
        tfcnn.create_model("mobilenet_v2", weights="imagenet", **KW)
    assert IMAGENET_FILE in str(err.value) and isinstance(err.value, ValueError)


def test_network_probe_is_false_for_a_closed_port():
    with socket.socket() as s:  # find a free port, then close it: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _pretrained.network_reachable("127.0.0.1", port, timeout=0.5) is False


@pytest.mark.parametrize("name,kwargs,match", [
    ("resnet18", {}, "no ImageNet weights"),
    ("resnet50", {"variant": "paper", "input_shape": (32, 32, 3)}, "Keras has no ImageNet weights"),
    ("mobilenet_v1", {"alpha": 0.3, "input_shape": (32, 32, 3)}, "Keras has no ImageNet weights"),
    ("vgg16", {"num_classes": 10, "input_shape": (32, 32, 3)}, "num_classes"),
])
def test_imagenet_refuses_configurations_keras_has_no_file_for(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tfcnn.create_model(name, weights="imagenet", **kwargs)


def test_tfcnn_saved_h5_loads_across_styles(tmp_path):
    kw = {"input_shape": (32, 32, 3), "alpha": 0.35, "num_classes": 10}
    src = tfcnn.create_model("mobilenet_v2", **kw)
    randomize_bn(src)
    src.save_weights(str(tmp_path / "mine.h5"))
    dst = tfcnn.create_model("mobilenet_v2", style="slim", weights=str(tmp_path / "mine.h5"), **kw)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    assert rel_diff(src(x).numpy(), dst(x).numpy()) <= 1e-4


def test_wrong_keras_file_is_refused_naming_weights(keras_h5):
    path, _, _ = keras_h5
    with pytest.raises(ValueError, match="weights="):  # a 0.35 file does not fit alpha=0.5
        tfcnn.create_model("mobilenet_v2", weights=str(path), **{**KW, "alpha": 0.5})


def test_a_cached_file_with_the_wrong_hash_is_refused_in_one_line(monkeypatch, tmp_path):
    name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    (tmp_path / name).write_bytes(b"not Keras's file")
    monkeypatch.setattr(_pretrained, "keras_cache_dirs", lambda: [tmp_path])
    with pytest.raises(_pretrained.PretrainedWeightsUnavailable, match="6d6bbae143d832006294945121d1f1fc") as err:
        tfcnn.create_model("vgg16", weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert "\n" not in str(err.value) and str(err.value).endswith("Received: weights='imagenet'")


def test_tfcnn_offline_answers_false_without_probing(monkeypatch):
    monkeypatch.setenv("TFCNN_OFFLINE", "1")
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("must not open a socket"))
    assert _pretrained.network_reachable() is False


def test_the_error_types_are_the_packages_and_still_value_errors():
    from tfcnn.errors import ModelError, PretrainedWeightsUnavailable

    assert _pretrained.PretrainedWeightsUnavailable is PretrainedWeightsUnavailable
    assert issubclass(PretrainedWeightsUnavailable, ModelError) and issubclass(ModelError, ValueError)
