# Reference solutions of the exercise cells of notebooks/04_defining_conv.ipynb.
# Each block replaces the exercise cell of the same name (notebooks/_build.py --solutions, tests/test_notebooks.py).

# %% exercise conv_forward
def my_conv_forward(x, params, *, stride=1, padding="valid"):
    """Naive convolution, padding 'valid': loop over output rows, columns and filters."""
    kernel, bias = params["kernel"], params["bias"]
    kh, kw, _, filters = kernel.shape
    h_out, w_out = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], h_out, w_out, filters))
    for i in range(h_out):
        for j in range(w_out):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for o in range(filters):
                y[:, i, j, o] = np.sum(patch * kernel[..., o], axis=(1, 2, 3)) + bias[o]
    return y, {"x": x, "params": params, "stride": stride}


# %% exercise conv_backward
def my_conv_backward(dy, cache):
    """Backward of a 'valid' naive convolution: the same three loops, with += into dx and dkernel."""
    x, kernel, (s, _) = cache["xp"], cache["params"]["kernel"], cache["geo"]["stride"]
    kh, kw, _, filters = kernel.shape
    dx, dkernel = np.zeros_like(x), np.zeros_like(kernel)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
            for o in range(filters):
                weight = dy[:, i, j, o][:, None, None, None]
                dkernel[..., o] += np.sum(x[:, rows, cols, :] * weight, axis=0)
                dx[:, rows, cols, :] += kernel[..., o] * weight
    return dx, {"kernel": dkernel, "bias": dy.sum(axis=(0, 1, 2))}
