"""Classify image files with a ``.tflite`` model, as an edge device would.

    python -m tfcnn.predict saved_models/lenet/tflite/int8.tflite digit.png other.jpg
    python -m tfcnn.predict model.tflite cat.jpg --labels labels.txt --top 3

Each PNG/JPEG/BMP/GIF image is decoded, converted to the model's channel
count, fitted to its input size as the run was trained (``--resize`` recorded
in the run's ``config.json``: centre crop by default, pad or stretch) and
scaled to [0, 1] (:func:`tfcnn.data.preprocess`); an int8-input model gets the input quantized
with its scale and zero point, and int8 outputs are dequantized. Class names
come from ``--labels``, else ``labels.txt`` beside the file (written by
``tfcnn.compress``), else the run folder the file sits in (``RUN/tflite/``,
read through :mod:`tfcnn.runs`), else class indices. A file the default
delegate (XNNPACK) cannot run — the sparse encoding ``*_sparse.tflite`` —
runs with the built-in kernels instead, as ``tfcnn.compress`` verified it.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from tfcnn import runs
from tfcnn._cli import ArgumentParser, run_main
from tfcnn._compat import tf
from tfcnn.data import preprocess, resize_image
from tfcnn.errors import CompressError, PredictError, RunDirError
from tfcnn.litert import DEFAULT, NO_DELEGATES, interpreter, run

PROG = "python -m tfcnn.predict"


def load_image(path: str | os.PathLike, input_shape, *, resize: str = "crop") -> np.ndarray:
    """Decode an image file and preprocess it for a model input ``(H, W, C)``: float32 ``[1, H, W, C]``.

    ``resize`` fits an image of another aspect ratio as training did (``'crop'``, ``'pad'``, ``'stretch'``).

    Raises:
        PredictError: the file is missing or cannot be decoded as an image.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise PredictError(f"image file does not exist. Received: image={path!r}")
    try:
        raw = tf.io.read_file(path)
        image = tf.io.decode_image(raw, channels=0, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, ValueError):
        raise PredictError(f"cannot decode the image (PNG, JPEG, BMP or GIF expected). Received: image={path!r}") \
            from None
    if image.shape[-1] == 4:  # drop alpha: training images have none
        image = image[..., :3]
    if image.shape[-1] == 2:  # grey + alpha
        image = image[..., :1]
    h, w, c = (int(d) for d in input_shape)
    return preprocess(resize_image(image, (h, w), resize)[None], (h, w, c)).numpy()


def class_names(tflite_path: str, labels: str | None = None) -> list[str] | None:
    """The class names for a ``.tflite`` file (see the module docstring for where they come from)."""
    if labels:
        if not os.path.isfile(labels):
            raise PredictError(f"labels file does not exist. Received: --labels={labels!r}")
        with open(labels, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    here = os.path.dirname(os.path.abspath(tflite_path))
    beside = os.path.join(here, runs.LABELS)
    if os.path.isfile(beside):
        return class_names(tflite_path, beside)
    folder = _run_of(tflite_path)
    return folder.class_names if folder is not None else None


def _run_of(tflite_path: str):
    """The run folder a ``.tflite`` file sits in (``RUN/`` or ``RUN/tflite/``), or ``None``."""
    here = os.path.dirname(os.path.abspath(tflite_path))
    folder = os.path.dirname(here) if os.path.basename(here) == runs.TFLITE else here
    try:
        return runs.RunDir.open(folder)
    except RunDirError:
        return None


def predict(tflite_path: str, images: list[str], *, labels: str | None = None, top: int = 1) -> list[dict]:
    """Classify image files with a ``.tflite`` model using the LiteRT interpreter.

    Args:
        tflite_path: the model file.
        images: image file paths.
        labels: optional labels file, one class name per line.
        top: how many classes to return per image.

    Returns:
        One ``{"image", "top": [{"class", "label", "probability"}...]}`` per image.

    Raises:
        PredictError: bad model, image or labels file.

    Example:
        >>> predict("saved_models/lenet/tflite/int8.tflite", ["digit.png"])  # doctest: +SKIP
        [{'image': 'digit.png', 'top': [{'class': 7, 'label': '7', 'probability': 0.99}]}]
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise PredictError(f"--top must be a positive int. Received: --top={top!r}")
    it = _interpreter(tflite_path)
    input_shape = it.get_input_details()[0]["shape"][1:]
    names = class_names(tflite_path, labels)
    folder = _run_of(tflite_path)
    resize = folder.resize if folder is not None else "crop"
    batch = [load_image(p, input_shape, resize=resize) for p in images]  # decode all first: a bad image fails before any output
    results = []
    for path, x in zip(images, batch):
        logits = run(it, x)[0]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs)[:top]
        results.append({"image": path, "top": [
            {"class": int(c), "label": names[c] if names and c < len(names) else str(int(c)),
             "probability": float(probs[c])} for c in order]})
    return results


def _interpreter(tflite_path: str):
    """LiteRT with the default delegate, or with the built-in kernels where the delegate cannot run the file."""
    try:
        return interpreter(tflite_path, resolver=DEFAULT)
    except CompressError as first:
        try:
            return interpreter(tflite_path, resolver=NO_DELEGATES)
        except CompressError:
            raise PredictError(str(first)) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tfcnn.predict`` parser."""
    p = ArgumentParser(prog=PROG, description="Classify image files with a .tflite model (LiteRT).")
    p.add_argument("model", help="a .tflite file (e.g. saved_models/lenet/tflite/int8.tflite)")
    p.add_argument("images", nargs="+", help="PNG/JPEG/BMP/GIF image files")
    p.add_argument("--labels", default=None, help="labels file, one class name per line")
    p.add_argument("--top", type=int, default=1, help="classes shown per image (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""

    def _run(args):
        results = predict(args.model, args.images, labels=args.labels, top=args.top)
        if args.json:
            print(json.dumps(results, indent=2))
            return
        for r in results:
            shown = ", ".join(f"{t['label']} ({t['probability']:.3f})" for t in r["top"])
            print(f"{r['image']}: {shown}")

    return run_main(build_parser(), _run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
