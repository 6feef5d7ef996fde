"""``python -m tfcnn.viz MODEL_DIR IMAGE --kind ...``: draw what a trained run sees (a command line, above the library)."""

from __future__ import annotations

import argparse
import os

import numpy as np

from tfcnn._cli import ArgumentParser, run_main
from tfcnn.errors import UsageError
from tfcnn.runs import RunDir, load_model
from tfcnn.viz._common import _layer, conv_layer_names, save_figure
from tfcnn.viz.explain import last_conv_layer_name, plot_deconv, plot_gradcam
from tfcnn.viz.plots import plot_feature_maps, plot_filters

PROG = "python -m tfcnn.viz"
KINDS = ("feature_maps", "filters", "gradcam", "deconv")


def load_image(path: str) -> np.ndarray:
    """An image file (PNG, JPEG...) or a ``.npy`` array as uint8 ``[H, W, C]``.

    Raises:
        UsageError: the file is missing or cannot be read as an image.
    """
    if not os.path.isfile(path):
        raise UsageError(f"image file not found. Received: image={path!r}")
    try:
        if path.endswith(".npy"):
            arr = np.load(path)
        else:
            from PIL import Image

            with Image.open(path) as img:
                arr = np.asarray(img.convert("L" if img.mode in ("L", "1", "I", "I;16") else "RGB"))
    except Exception as err:  # noqa: BLE001  (PIL raises many types; the user needs one line)
        raise UsageError(f"cannot read the image ({type(err).__name__}). Received: image={path!r}") from None
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise UsageError(f"image must be [H, W] or [H, W, C]. Received: image shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return arr


def load_model_dir(model_dir: str):
    """The model of a run folder (``RunDir.open``), or a model file given directly; pruned, QAT or clustered too.

    Raises:
        RunDirError: the folder is not a finished run, or the file is missing or unreadable.
    """
    if os.path.isfile(model_dir):
        return load_model(model_dir)
    return RunDir.open(model_dir, argname="MODEL_DIR").load_model()


def _class_names(args):
    try:
        return RunDir.open(args.model_dir).class_names if os.path.isdir(args.model_dir) else None
    except UsageError:
        return None


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tfcnn.viz`` parser."""
    p = ArgumentParser(prog=PROG, description="Draw what a trained tfcnn model sees.")
    p.add_argument("model_dir", metavar="MODEL_DIR", help="folder written by python -m tfcnn.train (has model.keras)")
    p.add_argument("image", metavar="IMAGE", nargs="?", default=None,
                   help="image file (PNG/JPEG/.npy); not needed for --kind filters")
    p.add_argument("--layer", default=None, help="layer name (default: first conv layer; gradcam: the last spatial layer)")
    p.add_argument("--kind", choices=KINDS, default="feature_maps", help="which picture (default feature_maps)")
    p.add_argument("--unit", type=int, default=None, help="deconv: the channel to reconstruct (default: top 6)")
    p.add_argument("--class-index", type=int, default=None, help="gradcam: the class to explain (default: predicted)")
    p.add_argument("--out", default=None, help="PNG path (default: MODEL_DIR/<kind>_<layer>.png)")
    return p


def run(args: argparse.Namespace) -> str:
    """Draw the requested picture; returns the PNG path.

    Raises:
        UsageError, RunDirError: bad input, naming the argument.
    """
    model = load_model_dir(args.model_dir)
    layer = args.layer
    if layer is not None:
        _layer(model, layer)
    elif args.kind == "gradcam":
        layer = last_conv_layer_name(model)
    else:
        convs = conv_layer_names(model)
        if not convs:
            raise UsageError(f"the model has no conv layer; pass --layer. Received: --layer={layer!r}")
        layer = convs[0]
    if args.kind == "filters":
        fig = plot_filters(model, layer)
    else:
        if args.image is None:
            raise UsageError(f"--kind {args.kind} needs an IMAGE. Received: IMAGE=None")
        image = load_image(args.image)
        if args.kind == "feature_maps":
            fig = plot_feature_maps(model, layer, image)
        elif args.kind == "gradcam":
            fig = plot_gradcam(model, image, layer, class_index=args.class_index, class_names=_class_names(args))
        else:
            fig = plot_deconv(model, image, layer, units=None if args.unit is None else [args.unit])
    out = args.out or os.path.join(args.model_dir if os.path.isdir(args.model_dir) else ".", f"{args.kind}_{layer}.png")
    return save_figure(fig, out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the PNG path; returns the exit code (2 for bad input)."""
    return run_main(build_parser(), lambda args: print(run(args)), argv)
