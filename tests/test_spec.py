"""Spec files: shapes, defaults, and a clear one-line error for each kind of bad input."""

import pytest

import symcnn
from symcnn.spec import Sequential, parse_spec, read_spec
from conftest import DERIVATIONS


def test_seed_spec_shapes():
    spec = read_spec(DERIVATIONS / "seed_1d.toml")
    assert spec.input_shape == (1, 5) and spec.dims == 1 and spec.loss == "squared"
    conv, dense = spec.layers
    assert (conv.size, conv.stride, conv.padding, conv.bias) == ((3,), (1,), (1,), False)
    assert conv.out_shape == (1, 5) and dense.in_shape == (1, 5) and dense.out_shape == (1,)
    assert spec.parameter_shapes() == {"W1": (1, 1, 3), "W2": (5, 1)}


def test_defaults_and_shape_arithmetic():
    spec = parse_spec({"input": [3, 9, 7], "layers": [
        {"type": "conv", "filters": 4, "size": [3, 2], "stride": 2, "padding": [1, 0]},
        {"type": "maxpool", "size": 2},
        {"type": "dense", "units": 3, "activation": "tanh"}]})
    conv, pool, dense = spec.layers
    assert spec.dims == 2 and conv.bias and conv.activation == "none"
    assert conv.out_shape == (4, (9 + 2 - 3) // 2 + 1, (7 - 2) // 2 + 1) == (4, 5, 3)
    assert pool.stride == (2, 2) and pool.out_shape == (4, 2, 1)
    assert dense.weight_shape == (8, 3) and spec.loss is None
    assert spec.parameter_shapes() == {"W1": (4, 3, 3, 2), "b1": (4,), "W3": (8, 3), "b3": (3,)}


def test_one_dimensional_channels():
    spec = parse_spec({"input": [2, 6], "dims": 1, "layers": [{"type": "conv", "size": 3}]})
    assert spec.input_shape == (2, 6) and spec.layers[0].weight_shape == (1, 2, 3)


BAD_SPECS = [
    ({"input": [5], "layers": [{"type": "convolution", "size": 3}]},
     "<python>: layer 1 (convolution): type: unknown layer type 'convolution'; expected one of "
     "conv, maxpool, dense (did you mean 'conv'?)"),
    ({"input": [5], "layers": [{"type": "conv"}]},
     "<python>: layer 1 (conv): size: missing key"),
    ({"layers": [{"type": "conv", "size": 3}]},
     "<python>: input: missing key (the input shape, e.g. input = [5])"),
    ({"input": [5], "layers": [{"type": "dense"}]},
     "<python>: layer 1 (dense): units: missing key"),
    ({"input": [4], "layers": [{"type": "conv", "size": 7, "padding": 1}]},
     "<python>: layer 1 (conv): size: filter 7 is larger than the padded input 6"),
    ({"input": [4, 4], "layers": [{"type": "conv", "size": 5}]},
     "<python>: layer 1 (conv): size: filter 5x5 is larger than the input 4x4"),
    ({"input": [5], "layers": [{"type": "conv", "size": 3, "stride": 1.5}]},
     "<python>: layer 1 (conv): stride: must be a positive integer, got 1.5"),
    ({"input": [5], "layers": [{"type": "maxpool", "size": 2, "stride": 0}]},
     "<python>: layer 1 (maxpool): stride: must be a positive integer, got 0"),
    ({"input": [5], "layers": [{"type": "conv", "size": 3, "filter": 2}]},
     "<python>: layer 1 (conv): filter: unknown key (did you mean 'filters'?)"),
    ({"input": [5], "layers": [{"type": "conv", "size": 3, "activation": "Relu"}]},
     "<python>: layer 1 (conv): activation: unknown activation 'Relu'; expected one of "
     "none, relu, sigmoid, tanh (did you mean 'relu'?)"),
    ({"input": [5], "loss": "mse", "layers": [{"type": "dense", "units": 1}]},
     "<python>: loss: unknown loss 'mse'; expected one of squared, cross_entropy"),
    ({"input": [5], "loss": "cross_entropy", "layers": [{"type": "dense", "units": 1}]},
     "<python>: loss: cross_entropy needs at least 2 outputs (classes), the last layer has 1"),
    ({"input": [5], "layers": [{"type": "dense", "units": 2}, {"type": "conv", "size": 1}]},
     "<python>: layer 2 (conv): a conv layer needs a spatial input, but it follows a dense layer"),
    ({"input": [2, 5, 5], "dims": 1, "layers": [{"type": "dense", "units": 2}]},
     "<python>: input: [2, 5, 5] does not fit dims = 1: expected [n] or [channels, n]"),
    ({"input": [5], "layers": []},
     "<python>: layers: missing or empty: a network needs at least one [[layers]] table"),
    ({"input": [5], "layers": [{"type": "conv", "size": [3, 3]}]},
     "<python>: layer 1 (conv): size: must be an integer or a list of 1, got [3, 3]"),
    ({"input": [5], "layers": [{"type": "conv", "size": 3, "bias": 1}]},
     "<python>: layer 1 (conv): bias: must be true or false, got 1"),
    ({"input": [3], "layers": [{"type": "conv", "size": 3}], "values": {"W1": [1, 2]}},
     "<python>: values.W1: shape (2,) does not fit W1's shape (1, 1, 3)"),
    ({"input": [3], "layers": [{"type": "conv", "size": 3}], "values": {"W2": [1, 2, 3]}},
     "<python>: values.W2: no such tensor takes values; expected one of X, W1, b1 (did you mean 'W1'?)"),
    ({"input": [3], "layers": [{"type": "conv", "size": 3}], "values": {"W1": [1, "a", 3]}},
     "<python>: values.W1: entries must be numbers (or fractions such as \"1/3\"), got 'a'"),
    ({"input": [3], "lyers": []},
     "<python>: lyers: unknown key (did you mean 'layers'?)"),
]


@pytest.mark.parametrize("data, message", BAD_SPECS, ids=[m.split(": ", 1)[1][:40] for _, m in BAD_SPECS])
def test_bad_spec_is_one_clear_line(data, message):
    with pytest.raises(symcnn.SpecError) as error:
        parse_spec(data)
    assert str(error.value) == message
    assert "\n" not in str(error.value)


def test_dense_layer_after_the_loss():
    builder = Sequential(input=[5]).dense(units=3).loss("squared")
    with pytest.raises(symcnn.SpecError, match=r"^<python>: layer 2 \(dense\): added after the loss "
                                                r"'squared'; the loss must come last$"):
        builder.dense(units=1)


def test_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("input = [5\n")
    with pytest.raises(symcnn.SpecError, match=rf"^{broken}: not valid TOML: "):
        read_spec(broken)
    with pytest.raises(symcnn.SpecError, match=r"nothere.toml: cannot read the spec file"):
        read_spec(tmp_path / "nothere.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('input = [5]\n[[layers]]\ntype = "conv"\nsize = 3\nstride = 1.5\n')
    with pytest.raises(symcnn.SpecError) as error:
        symcnn.load(bad)
    assert str(error.value) == f"{bad}: layer 1 (conv): stride: must be a positive integer, got 1.5"


def test_values_accept_fractions_and_squeezed_shapes():
    spec = parse_spec({"input": [3], "layers": [{"type": "conv", "size": 3}],
                       "values": {"X": [1, 2, 3], "W1": ["1/3", 2, 0.5], "b1": [0]}})
    assert spec.values["W1"].shape == (1, 1, 3)
    assert str(spec.values["W1"][0, 0, 0]) == "1/3"


@pytest.mark.parametrize("values, message", [
    ({"X": [1, 2, 3], "W1": [1, 1, 1]},
     "<python>: values: missing b1 (shape (1,)); a worked example needs X, every parameter, or no [values] at all"),
    ({"X": [1, float("nan"), 3], "W1": [1, 1, 1], "b1": [0]},
     "<python>: values.X: entries must be finite numbers, got nan"),
    ({"X": [1, 2, 3], "W1": [1, float("-inf"), 1], "b1": [0]},
     "<python>: values.W1: entries must be finite numbers, got -inf"),
    (3, "<python>: values: must be a table of arrays ([values] with X = [...], W1 = [...], ...), got 3"),
])
def test_values_are_all_or_nothing_and_finite(values, message):
    with pytest.raises(symcnn.SpecError) as error:
        parse_spec({"input": [3], "layers": [{"type": "conv", "size": 3}], "values": values})
    assert str(error.value) == message


def test_a_spec_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'title = "Caf\xe9"\ninput = [5]\n')
    with pytest.raises(symcnn.SpecError) as error:
        read_spec(path)
    assert str(error.value) == f"{path}: line 1: not UTF-8 text (byte 0xe9); TOML files are UTF-8"
