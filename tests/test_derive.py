"""Derivation: the seed's chain rule exactly, textbook formulas symbolically, PyTorch numerically."""

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from sympy import Heaviside

import symcnn
import torch_oracle
from strategies import networks
from conftest import DERIVATIONS


def S(name):
    return sympy.Symbol(name, real=True)


def same(a, b):
    """Symbolic equality of two matrices, entry by entry."""
    return a.shape == b.shape and all(sympy.expand(x - y) == 0 for x, y in zip(a, b))


@pytest.fixture(scope="module")
def seed():
    return symcnn.load(DERIVATIONS / "seed_1d.toml")


# -- the seed's taste of backpropagation ---------------------------------------------------

def test_seed_dZ1_dW1_is_the_slides_matrix(seed):
    X = [S(f"X_{i}") for i in range(7)]
    slide = sympy.Matrix(3, 5, lambda k, i: X[i + k])  # column i: (X_{i-1}, X_i, X_{i+1})
    assert seed.jacobian("Z1", "W1") == slide
    assert slide[0, 0] == S("X_0") and slide[2, 4] == S("X_6")


def test_seed_chain_factors_and_product(seed):
    chain = seed.chain("W1")
    assert [(f.of, f.wrt, f.shape) for f in chain.factors] == [
        ("Z1", "W1", (3, 5)), ("A1", "Z1", (5, 5)), ("L", "A1", (5, 1))]
    assert chain.product.shape == (3, 1)
    step = sympy.diag(*[Heaviside(S(f"Z1_{i}"), 0) for i in range(1, 6)])
    assert chain.factors[1].matrix == step
    dloss_dA1 = sympy.Matrix([2 * (S("A2") - S("y")) * S(f"W2_{i}") for i in range(1, 6)])
    assert same(chain.factors[2].matrix, dloss_dA1)
    assert same(chain.product, seed.jacobian("Z1", "W1") * step * dloss_dA1)
    zero_padding = {S("X_0"): 0, S("X_6"): 0}
    assert same(seed.gradient("W1"), chain.product.xreplace(zero_padding))
    assert str(chain) == "dL/dW1 (3x1) = dZ1/dW1 (3x5) . dA1/dZ1 (5x5) . dL/dA1 (5x1)"


def test_full_chain_multiplies_to_the_same_product(seed):
    full = seed.chain("W1", full=True)
    assert [f.shape for f in full.factors] == [(3, 5), (5, 5), (5, 1), (1, 1), (1, 1)]
    assert same(full.product, seed.chain("W1").product)


def test_longer_spans_and_other_jacobians(seed):
    assert same(seed.jacobian("A2", "A1"), sympy.Matrix([S(f"W2_{i}") for i in range(1, 6)]))
    assert seed.jacobian("L", "y") == sympy.Matrix([[-2 * S("A2") + 2 * S("y")]])
    assert seed.jacobian("Z1", "X").shape == (5, 5)
    assert same(seed.jacobian("L", "W1"), seed.chain("W1").product)
    assert seed.jacobian("A1", "A1") == sympy.eye(5)


def test_jacobian_errors(seed):
    with pytest.raises(symcnn.TensorNameError, match=r"^jacobian\('Z1', 'A2'\): Z1 does not depend on A2, "
                                                     r"which enters the network later \(at A2\)$"):
        seed.jacobian("Z1", "A2")
    with pytest.raises(symcnn.TensorNameError, match=r"Z1 does not depend on W2, which enters the network "
                                                     r"later \(at Z2\)"):
        seed.jacobian("Z1", "W2")
    with pytest.raises(symcnn.TensorNameError, match="this network has no tensor 'W7'"):
        seed.gradient("W7")
    with pytest.raises(symcnn.TensorNameError, match="W1 is an input, it has no derivative"):
        seed.jacobian("W1", "X")


def test_gradient_needs_a_loss():
    net = symcnn.load(DERIVATIONS / "seed_conv_2d.toml")
    with pytest.raises(symcnn.TensorNameError, match="this network has no loss"):
        net.gradient("W1")


# -- textbook formulas ---------------------------------------------------------------------

CONV_CASES = [  # (input, size, stride, padding, filters)
    ([6], 3, 1, 1, 1), ([7], 3, 2, 1, 1), ([2, 6], 2, 2, 0, 2), ([5], 1, 1, 2, 1),
    ([5, 5], 3, 1, 1, 1), ([2, 4, 5], [2, 3], [2, 1], [1, 0], 2),
]


@pytest.mark.parametrize("shape, size, stride, padding, filters", CONV_CASES)
def test_conv_weight_gradient_is_the_textbook_correlation(shape, size, stride, padding, filters):
    """dL/dW_{f,c,k} = sum_i delta_{f,i} X_{c,(i-1)s+k-p} and dL/dW_{0,f} = sum_i delta_{f,i}."""
    net = symcnn.Network({"input": shape, "loss": "squared", "layers": [
        {"type": "conv", "filters": filters, "size": size, "stride": stride, "padding": padding,
         "activation": "tanh"}, {"type": "dense", "units": 2}]})
    layer = net.spec.layers[0]
    delta = np.array(list(net.gradient("Z1")), dtype=object).reshape(net.shape("Z1"))
    X = net.symbol_array("X", padded=True).copy()
    for s in net.padding_symbols("X"):
        X[X == s] = 0
    expected = np.empty(net.shape("W1"), dtype=object)
    for index in np.ndindex(*expected.shape):
        f, c, *k = index
        expected[index] = sum(
            delta[(f, *i)] * X[(c, *[a * s + b for a, s, b in zip(i, layer.stride, k)])]
            for i in np.ndindex(*delta.shape[1:]))
    assert same(net.gradient("W1"), sympy.Matrix(expected.reshape(-1)))
    bias = [sum(delta[f].reshape(-1)) for f in range(filters)]
    assert same(net.gradient("b1"), sympy.Matrix(bias))


def test_dense_gradient_is_outer_product():
    """dL/dW_{i,j} = a_i delta_j for Z = W^T a + W_0."""
    net = symcnn.Network({"input": [3], "loss": "squared", "layers": [
        {"type": "dense", "units": 2, "activation": "sigmoid"}]})
    delta = net.gradient("Z1")
    expected = [S(f"X_{i}") * delta[j] for i in range(1, 4) for j in range(2)]
    assert same(net.gradient("W1"), sympy.Matrix(expected))
    sigmoid = symcnn.Sigmoid(S("Z1_1"))
    assert same(net.jacobian("A1", "Z1")[:1, :1], sympy.Matrix([[sigmoid * (1 - sigmoid)]]))


def test_softmax_cross_entropy_gradient_is_p_minus_one_hot():
    net = symcnn.Network({"input": [3], "loss": "cross_entropy", "layers": [
        {"type": "dense", "units": 3}]})
    z = [S(f"A1_{k}") for k in (1, 2, 3)]
    softmax = [sympy.exp(zk) / sum(sympy.exp(v) for v in z) for zk in z]
    as_logs = net.gradient("A1").replace(
        symcnn.LogSumExp, lambda *a: sympy.log(sum(sympy.exp(v) for v in a)))
    for k in range(3):
        assert sympy.simplify(as_logs[k] - (softmax[k] - S(f"y_{k + 1}"))) == 0
    logits, label = np.array([0.3, -1.2, 2.5]), 1
    numeric = [float(net.substitute(g, X=[0, 0, 0], W1=np.zeros((3, 3)), b1=logits, y=label))
               for g in net.gradient("A1")]
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(numeric, p - np.eye(3)[label], atol=1e-14)


def test_maxpool_routes_to_the_first_maximum():
    """With ties, the whole window gradient goes to the first maximal element (row-major)."""
    net = symcnn.Network({"input": [4, 4], "loss": "squared", "layers": [
        {"type": "maxpool", "size": 2}, {"type": "dense", "units": 1, "bias": False}]})
    image = np.array([[1, 3, 0, 0], [3, 2, 0, 0], [5, 5, 7, 1], [5, 4, 2, 7]])
    point = dict(X=image, W2=[[1], [2], [3], [4]], y=[0])
    gradient = np.array([net.substitute(g, point) for g in net.gradient("X")]).reshape(4, 4)
    values = net.evaluate(point)
    delta = np.array(list(values["A1"].flat)) @ np.array([1, 2, 3, 4]) * 2 * np.array([1, 2, 3, 4])
    expected = np.zeros((4, 4))
    for w, (r, c) in enumerate([(0, 0), (0, 2), (2, 0), (2, 2)]):
        window = image[r:r + 2, c:c + 2]
        first = np.argmax(window)  # numpy's argmax returns the first maximum, row-major
        expected[r + first // 2, c + first % 2] = delta[w]
    assert gradient.astype(float).tolist() == expected.tolist()


def test_relu_kink_is_zero_and_visible(seed):
    gradient = seed.gradient("W1")
    assert Heaviside(S("Z1_3"), 0) in gradient[0].atoms(Heaviside)
    point = dict(X=[1, 1, 1, 1, 1], W1=[1, -1, 0], W2=[1, 1, 1, 1, 1], y=[1])
    assert seed.evaluate(point)["Z1"].ravel()[2] == 0  # Z1_3 sits exactly on the kink
    values = [seed.substitute(g, point) for g in gradient]
    _, torch_grads = torch_oracle.loss_and_grads(seed.spec, {"W1": [[[1, -1, 0]]], "W2": [[1]] * 5},
                                                 [[1, 1, 1, 1, 1]], [[1]])
    assert np.array(values, dtype=float).tolist() == torch_grads["W1"].ravel().tolist()


def test_digits_sized_net_derives_all_gradients():
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    gradients = {p: net.gradient(p) for p in net.parameters}
    assert {p: g.shape for p, g in gradients.items()} == {
        "W1": (72, 1), "b1": (8, 1), "W3": (1280, 1), "b3": (10, 1)}


# -- PyTorch autograd on random networks ---------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_gradients_equal_pytorch_autograd(case):
    spec, seed_ = case
    rng = np.random.default_rng(seed_)
    net = symcnn.Network(spec)
    params = {name: rng.normal(size=shape) for name, shape in spec.parameter_shapes().items()}
    X = rng.normal(size=spec.input_shape)
    classes = int(np.prod(spec.output_shape))
    y = int(rng.integers(classes)) if spec.loss == "cross_entropy" else rng.normal(size=classes)
    point = {**params, "X": X, "y": y}
    loss, expected = torch_oracle.loss_and_grads(spec, params, X[None], [y])
    assert float(net.evaluate(point)["L"][()]) == pytest.approx(loss, rel=1e-12, abs=1e-12)
    for name in spec.parameter_shapes():
        derived = np.array([float(v) for v in net.substitute(net.gradient(name), point)])
        np.testing.assert_allclose(derived, expected[name].ravel(), rtol=1e-10, atol=1e-10,
                                   err_msg=f"{name} of {spec}")
