"""Shared by the compression tests: a LeNet briefly trained on the bundled digits, saved like tfcnn.train does."""

from __future__ import annotations

import json
import os

from tfcnn._compat import keras


def train_lenet(out_dir, *, epochs: int = 8, style: str = "keras", seed: int = 0) -> str:
    """Train LeNet on digits for a few epochs and write ``model.keras`` + ``metrics.json`` into ``out_dir``."""
    import tfcnn
    from tfcnn.data import load_dataset, make_pipeline

    keras.utils.set_random_seed(seed)
    data = load_dataset("digits", seed=seed)
    model = tfcnn.create_model("lenet", style=style, num_classes=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(make_pipeline(data.x_train, data.y_train, (28, 28, 1), batch_size=32, training=True, seed=seed),
              epochs=epochs, verbose=0)
    os.makedirs(out_dir, exist_ok=True)
    model.save(os.path.join(out_dir, "model.keras"))
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump({"model": "lenet", "dataset": "digits", "batch_size": 32, "optimizer": "adam", "lr": 1e-3}, f)
    return os.fspath(out_dir)
