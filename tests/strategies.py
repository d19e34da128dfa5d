"""Random small networks for property tests (hypothesis): conv 1D/2D, channels, filter banks,
stride, padding, bias, every activation, optional (possibly overlapping) pooling and a second
conv layer, a dense layer, both losses."""

from hypothesis import assume
from hypothesis import strategies as st

import symcnn


@st.composite
def networks(draw):
    """A valid spec and a seed for drawing its numbers."""
    dims = draw(st.sampled_from([1, 2]))
    channels = draw(st.integers(1, 2))
    spatial = [draw(st.integers(3, 6)) for _ in range(dims)]
    layers = [{"type": "conv", "filters": draw(st.integers(1, 3)), "size": draw(st.integers(1, 3)),
               "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, 2)), "bias": draw(st.booleans()),
               "activation": draw(st.sampled_from(["relu", "none", "sigmoid", "tanh"]))}]
    if draw(st.booleans()):  # stride < size gives overlapping windows
        layers.append({"type": "maxpool", "size": draw(st.integers(1, 3)), "stride": draw(st.integers(1, 2))})
    if draw(st.booleans()):
        layers.append({"type": "conv", "filters": 2, "size": draw(st.integers(1, 2)),
                       "padding": draw(st.integers(0, 1)), "activation": "relu"})
    layers.append({"type": "dense", "units": draw(st.integers(2, 3)), "bias": draw(st.booleans()),
                   "activation": draw(st.sampled_from(["none", "tanh", "sigmoid"]))})
    data = {"input": [channels, *spatial] if channels > 1 else spatial, "dims": dims,
            "loss": draw(st.sampled_from(["squared", "cross_entropy"])), "layers": layers}
    try:
        return symcnn.parse_spec(data), draw(st.integers(0, 2**32 - 1))
    except symcnn.SpecError:
        assume(False)
