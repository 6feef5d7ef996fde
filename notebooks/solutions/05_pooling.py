# Reference solutions of the exercise cells of notebooks/05_pooling.ipynb.
# Each block replaces the exercise cell of the same name (notebooks/_build.py --solutions, tests/test_notebooks.py).

# %% exercise max_pool_backward
def my_max_pool_backward(dy, cache):
    """Send dy[n, i, j, c] to the arg-max of window (i, j); every other input gets 0."""
    geo, argmax = cache["geo"], cache["argmax"]
    (sh, sw), kw, ((top, _), (left, _)) = geo["stride"], geo["kernel"][1], geo["pads"]
    dx = np.zeros(geo["x_shape"])
    n_out, h_out, w_out, channels = dy.shape
    for n in range(n_out):
        for i in range(h_out):
            for j in range(w_out):
                for c in range(channels):
                    a, b = divmod(argmax[n, i, j, c], kw)
                    dx[n, i * sh + a - top, j * sw + b - left, c] += dy[n, i, j, c]
    return dx, {}
