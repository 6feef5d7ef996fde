"""Golden parameter counts, one line each with its source.

Tests compare ``create_model(name, ...).count_params()`` with these numbers
exactly. Add a row only with a source a reader can check (paper table,
reference implementation, Keras Applications' ``count_params()``).
"""

# (name, overrides) -> (count, source)
GOLDEN_PARAMS = {
    ("lenet", ()): (61_706, "LeCun et al. 1998 layer sizes at 28x28x1 with SAME C1: 156+2,416+48,120+10,164+850"),
}
