# Reference solutions of the exercise cells of notebooks/06_activations.ipynb.
# Each block replaces the exercise cell of the same name (notebooks/_build.py --solutions, tests/test_notebooks.py).

# %% exercise sigmoid_backward
def my_sigmoid_backward(dy, cache):
    """dL/dx = dL/dy * sigmoid'(x), written with the stored output s."""
    s = cache["y"]
    return dy * s * (1 - s), {}
