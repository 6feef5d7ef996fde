"""Golden parameter counts, read from the model cards (``tfcnn.models.cards.FACTS``).

The numbers are literal data on each card, each with a source a reader can
check (paper table, reference implementation, Keras Applications'
``count_params()``); tests compare ``create_model(name, **overrides).count_params()``
with them exactly.
"""

import tfcnn

# (name, overrides) -> (count, source)
GOLDEN_PARAMS = {
    (name, count.overrides): (count.params, count.source)
    for name in tfcnn.list_models()
    for count in tfcnn.get_config(name).golden_params
}
