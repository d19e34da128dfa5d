"""Every number the seed's slides work out, recomputed by symcnn.

The expected tables are copied from the slides (the oracle); the values under test are
computed by substitution into symcnn's symbolic layers.
"""

import numpy as np

import symcnn
from conftest import DERIVATIONS


def values_of(net, name, **values):
    return np.array(net.evaluate(values or None)[name], dtype=object)


def test_1d_example_first_window_is_the_slides_product():
    net = symcnn.load(DERIVATIONS / "seed_conv_1d.toml")
    x, w = net.spec.values["X"].ravel(), net.spec.values["W1"].ravel()
    assert list(x[:3]) == [0, 0, 1] and list(w) == [-1, 1, -1]
    without_bias = net.evaluate(b1=[0])["Z1"].ravel()
    assert without_bias[0] == 0 * -1 + 0 * 1 + 1 * -1 == -1


def test_1d_example_bias_plus_one_then_relu():
    net = symcnn.load(DERIVATIONS / "seed_conv_1d.toml")
    values = net.evaluate()
    x, w = net.spec.values["X"].ravel(), net.spec.values["W1"].ravel()
    by_hand = [sum(w[k] * x[i + k] for k in range(3)) + 1 for i in range(len(x) - 2)]
    assert list(values["Z1"].ravel()) == by_hand
    assert list(values["A1"].ravel()) == [max(v, 0) for v in by_hand]
    assert values["Z1"].ravel()[0] == 0  # the slide's -1, moved by the bias +1


def test_weight_counts_of_the_slides():
    conv = symcnn.Sequential(input=[5]).conv(size=3, bias=True).spec()
    assert conv.parameter_counts() == {1: 4}
    dense = symcnn.Sequential(input=[10]).dense(units=10).spec()
    assert dense.parameter_counts() == {1: 10 * 11} == {1: 110}
    assert symcnn.load(DERIVATIONS / "seed_1d.toml").parameter_count() == 3 + 5


SLIDE_2D_CONVOLUTION = [
    [0, -4, 0, -3, -1],
    [-2, -7, -2, -4, 1],
    [-2, -5, -2, -5, -2],
    [-2, -7, -2, -5, 0],
    [0, -4, 0, -4, 0],
]
SLIDE_2D_RELU = [
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
]


def test_2d_example_convolution_and_relu():
    net = symcnn.load(DERIVATIONS / "seed_conv_2d.toml")
    assert net.symbol_array("X", padded=True).shape == (1, 7, 7)
    values = net.evaluate()
    assert values["Z1"].reshape(5, 5).tolist() == SLIDE_2D_CONVOLUTION
    assert values["A1"].reshape(5, 5).tolist() == SLIDE_2D_RELU


def test_2d_example_padded_image_is_the_slides_7x7():
    net = symcnn.load(DERIVATIONS / "seed_conv_2d.toml")
    padded = net.substitute(net.symbol_array("X", padded=True))[0]
    image = net.spec.values["X"][0]
    expected = np.zeros((7, 7), dtype=int)
    expected[1:6, 1:6] = image
    assert padded.tolist() == expected.tolist()
    assert len(net.padding_symbols("X")) == 7 * 7 - 5 * 5


SLIDE_POOL_STRIDE_1 = [
    [0, 0, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 0, 0],
    [1, 1, 0, 0],
]
SLIDE_POOL_STRIDE_3 = [
    [0, 1],
    [1, 0],
]


def test_max_pooling_size_3_stride_1():
    net = symcnn.load(DERIVATIONS / "seed_maxpool.toml")
    assert net.spec.layers[0].stride == (1, 1)
    assert net.evaluate()["A1"].reshape(4, 4).tolist() == SLIDE_POOL_STRIDE_1


def test_max_pooling_size_3_stride_3():
    image = symcnn.load(DERIVATIONS / "seed_maxpool.toml").spec.values["X"]
    net = symcnn.Network(symcnn.Sequential(input=[6, 6]).maxpool(size=3, stride=3))
    assert net.evaluate(X=image)["A1"].reshape(2, 2).tolist() == SLIDE_POOL_STRIDE_3
    assert net.parameters == []  # no weights in max pooling
