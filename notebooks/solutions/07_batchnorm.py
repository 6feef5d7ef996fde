# Reference solutions of the exercise cells of notebooks/07_batchnorm.ipynb.
# Each block replaces the exercise cell of the same name (notebooks/_build.py --solutions, tests/test_notebooks.py).

# %% exercise batchnorm_backward
def my_batchnorm_backward(dy, cache):
    """Training-mode batch norm backward in three lines."""
    axes, xhat, gamma = cache["axes"], cache["xhat"], cache["params"]["gamma"]
    dgamma, dbeta = np.sum(dy * xhat, axis=axes), np.sum(dy, axis=axes)
    dx = gamma * cache["inv_std"] * (dy - dy.mean(axis=axes) - xhat * np.mean(dy * xhat, axis=axes))
    return dx, {"gamma": dgamma, "beta": dbeta}
