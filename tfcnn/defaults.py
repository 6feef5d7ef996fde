"""Defaults shared by every layer style, chosen once because upstream disagrees.

| setting        | Keras          | TF-Slim        | PyTorch | tfcnn |
| -------------- | -------------- | -------------- | ------- | ----- |
| BN momentum    | 0.99           | 0.999 (decay)  | 0.9     | 0.9   |
| BN epsilon     | 1e-3           | 1e-3           | 1e-5    | 1e-3  |
| conv init      | glorot_uniform | xavier (same)  | kaiming | he_normal |
| weight decay   | none           | 0.0005 (VGG)   | none    | 0 (set per run) |

Momentum 0.9 rather than Keras's 0.99: on short runs with small data the
moving statistics of 0.99 lag far behind the weights (measured here: 0.16
validation accuracy against 0.91 training accuracy; 0.9 fixed it).
He-normal initialisation because every architecture here uses ReLU.
"""

from __future__ import annotations

BN_MOMENTUM: float = 0.9
BN_EPSILON: float = 1e-3
KERNEL_INITIALIZER: str = "he_normal"
DENSE_INITIALIZER: str = "glorot_uniform"
WEIGHT_DECAY: float = 0.0
"""L2 coefficient added to the loss per kernel (``lambda * sum(w**2)``)."""

ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "swish", "hard_sigmoid", "hard_swish", "linear")
"""Activations that all three styles implement identically (``None`` = linear)."""
