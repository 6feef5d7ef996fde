# Reference solutions of the exercise cells of notebooks/09_dropout_weight_decay.ipynb.
# Each block replaces the exercise cell of the same name (notebooks/_build.py --solutions, tests/test_notebooks.py).

# %% exercise dropout_forward
def my_dropout_forward(x, *, rate=0.5, training=True, rng=None, mask=None):
    """Inverted dropout: y = x * mask / (1 - rate) while training, y = x at inference."""
    if not training:
        return x, {"mask": None}
    if mask is None:
        mask = (np.random.default_rng(0) if rng is None else rng).random(x.shape) >= rate
    scaled = mask / (1 - rate)
    return x * scaled, {"mask": scaled}
