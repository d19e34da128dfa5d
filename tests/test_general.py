"""General formulas: derived in index form, printed as the course writes them, and equal to the
entry-by-entry derivation at every index (shipped specs and random ones)."""

import itertools
import random

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings

import symcnn
from strategies import networks
from symcnn.derive.deltas import resolve
from symcnn.derive.general import softmax_output
from symcnn.indexed import InRange, bound, index, tensor
from symcnn.notation import parse_symbol
from conftest import DERIVATIONS


def pairs(net):
    """Every (of, wrt) that ``net.formula`` covers: forward rules, local Jacobians within a layer,
    and the loss gradient of every tensor and parameter."""
    out = [(rule.of, None) for rule in net.rules]
    for l, layer in enumerate(net.spec.layers, start=1):
        source = "X" if l == 1 else f"A{l - 1}"
        if layer.type == "maxpool":
            out.append((f"A{l}", source))
            continue
        out += [(f"Z{l}", f"W{l}"), (f"Z{l}", source), (f"A{l}", f"Z{l}")]
        if f"A{l}" != softmax_output(net):  # the course's softmax reads all of Z^L (a test below)
            out += [(f"A{l}", f"W{l}"), (f"A{l}", source)]
        if layer.bias:
            out += [(f"Z{l}", f"b{l}")]
    if net.spec.loss:
        out += [("L", name) for name in net.flow[:-1] + net.parameters + ["y"]]
    return out


def written(net, name):
    """The written indices of every entry of ``name``, in flattened order."""
    if name == "L":
        return [()]
    return [parse_symbol(s.name).index for s in net.symbol_array(name).flat]


def expected_matrix(net, of, wrt):
    output = softmax_output(net)
    if output is not None and (output in (of, wrt) or (of, wrt) == ("L", None)):  # not delta^L: the same in both
        return course_softmax(net, of, wrt)
    if wrt is None:
        return sympy.Matrix([net.expr(of)]).T if of != "L" else net.expr("L")
    return net.gradient(wrt) if of == "L" else net.jacobian(of, wrt)


def course_softmax(net, of, wrt):
    """The course's ``A^L = softmax(Z^L)``, ``loss = -sum_k y_k log A^L_k``, ``dloss/dA^L = -y/A^L``
    and ``dA^L/dZ^L = diag(A^L) - A^L (A^L)^T``, written from their definitions with the entries'
    symbols (the derivation's ``A^L`` symbols are its scores, ``Z^L``)."""
    output = softmax_output(net)
    scores = list(net.symbol_array("Z" + output[1:] if (of, wrt) == (output, None) else output).flat)
    total = sum(sympy.exp(a) for a in scores)
    s = [sympy.exp(a) / total for a in scores]
    if of == "L" and wrt is None:
        return sympy.Matrix([-sum(y * sympy.log(p) for y, p in zip(net.symbol_array("y").flat, s))])
    if wrt is None:
        return sympy.Matrix(s)
    if of == "L":
        return sympy.Matrix([-y / p for y, p in zip(net.symbol_array("y").flat, s)])
    return sympy.Matrix(len(s), len(s), lambda k, j: s[j] * (int(j == k) - s[k]))  # layout size(Z) x size(A)


def same(value, expected, rng=random.Random(1)) -> bool:
    """Equal symbolically, or (a softmax: ``LogSumExp`` stays unevaluated on symbols) at random
    exact points to 30 digits."""
    if value == expected or sympy.expand(value - expected) == 0:
        return True
    symbols = sorted((value - expected).free_symbols, key=str)
    for _ in range(3):
        point = {x: sympy.Rational(rng.randint(-40, 40), 10) for x in symbols}
        if abs(sympy.N((value - expected).xreplace(point), 30)) > 1e-25:
            return False
    return True


def assert_equal_to_entries(net, sample=None, seed=0):
    """``formula(of, wrt).at(...)`` equals the entry-by-entry derivation at every index (or at
    ``sample`` random ones per pair)."""
    chooser = random.Random(seed)
    for of, wrt in pairs(net):
        formula = net.formula(of, wrt)
        matrix = expected_matrix(net, of, wrt)
        rows = list(enumerate(written(net, wrt))) if wrt else [(None, ())]
        cols = list(enumerate(written(net, of)))
        cells = list(itertools.product(rows, cols))
        if sample is not None and len(cells) > sample:
            cells = chooser.sample(cells, sample)
        for (r, wrt_index), (c, of_index) in cells:
            expected = matrix[r, c] if wrt else matrix[c]
            value = formula.at(*of_index, *wrt_index)
            assert same(value, expected), \
                f"{of}/{wrt} at {of_index}{wrt_index}: {value} != {expected}"


@pytest.mark.parametrize("spec", ["seed_1d", "seed_conv_1d", "seed_conv_2d", "seed_maxpool"])
def test_shipped_small_specs_at_every_index(spec):
    assert_equal_to_entries(symcnn.load(DERIVATIONS / f"{spec}.toml"))


def test_digits_network_at_sampled_indices():
    assert_equal_to_entries(symcnn.load(DERIVATIONS / "digits_cnn.toml"), sample=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_at_every_index(case):
    """Stride, padding, channels, filter banks, overlapping pools, both losses, all activations."""
    spec, seed = case
    assert_equal_to_entries(symcnn.Network(spec), sample=40, seed=seed)


RECTANGULAR = {"input": [2, 5, 6], "loss": "cross_entropy", "layers": [
    {"type": "conv", "filters": 2, "size": [2, 3], "stride": [2, 1], "padding": [1, 0], "activation": "tanh"},
    {"type": "maxpool", "size": 2, "stride": 1},
    {"type": "conv", "filters": 2, "size": 1, "activation": "sigmoid"},
    {"type": "dense", "units": 3, "activation": "relu"}]}


def test_rectangular_filters_overlapping_pools_and_every_activation():
    assert_equal_to_entries(symcnn.Network(RECTANGULAR), sample=30)


# -- the formulas as the course writes them ---------------------------------------------------

@pytest.fixture(scope="module")
def seed():
    return symcnn.load(DERIVATIONS / "seed_1d.toml")


def test_seed_formulas_read_like_the_notes(seed):
    assert seed.formula("Z1").latex(ranges=False) == r"Z^{1}_{i} = \sum_{k=1}^{3} W^{1}_{k} X_{i+k-2}"
    assert seed.formula("Z1", "W1").latex(ranges=False) == r"\frac{\partial Z^{1}_{i}}{\partial W^{1}_{k}} = X_{i+k-2}"
    assert seed.formula("L", "Z2").latex(ranges=False) == (
        r"\delta^{2} = \frac{\partial \operatorname{loss}}{\partial Z^{2}} = 2 \left(A^{2} - y\right)")
    assert seed.formula("L", "Z1").latex(ranges=False) == (
        r"\delta^{1}_{i} = \frac{\partial \operatorname{loss}}{\partial Z^{1}_{i}} = "
        r"\mathbf{1}\left[Z^{1}_{i} > 0\right] W^{2}_{i} \delta^{2}")
    assert seed.formula("L", "W1").latex(ranges=False) == (
        r"\frac{\partial \operatorname{loss}}{\partial W^{1}_{k}} = \sum_{i=1}^{5} X_{i+k-2} \delta^{1}_{i}")
    assert seed.formula("A1", "Z1").latex(ranges=False) == (
        r"\frac{\partial A^{1}_{i}}{\partial Z^{1}_{j}} = \mathbf{1}\left[Z^{1}_{i} > 0\right] \mathbf{1}\left[i = j\right]")


def test_ranges_and_zero_padding_are_said(seed):
    text = seed.formula("Z1", "W1").latex()
    assert r"i = 1, \dots, 5" in text and r"k = 1, \dots, 3" in text
    assert r"X = 0 \text{ outside its } 5 \text{ entries}\text{ (zero padding)}" in text
    assert str(seed.formula("L", "W1")) == (
        "dloss/dW1[k] = sum_{i=1..5} X[i+k-2] delta1[i]    (k = 1..3; X = 0 outside its 5 entries (zero padding))")


def test_backprop_through_a_conv_layer_is_the_flipped_filter_convolution(seed):
    assert seed.formula("L", "X").latex() == (
        r"\frac{\partial \operatorname{loss}}{\partial X_{i}} = \sum_{k=1}^{3} W^{1}_{k} \delta^{1}_{i-k+2}"
        r" \qquad i = 1, \dots, 5,\quad \delta^{1} = 0 \text{ outside its } 5 \text{ entries}")


def test_stride_two_index_arithmetic_is_simplified():
    net = symcnn.Network({"input": [7], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "stride": 2, "padding": 1, "bias": False}, {"type": "dense", "units": 1}]})
    assert net.formula("Z1", "W1").latex(ranges=False).endswith("= X_{2i+k-3}")
    # stride 2: the position j has coefficient 2, so the filter offset is the one resolved
    assert net.formula("L", "X").latex() == (
        r"\frac{\partial \operatorname{loss}}{\partial X_{i}} = \sum_{j=1}^{4} W^{1}_{i-2j+3} \delta^{1}_{j}"
        r" \qquad i = 1, \dots, 7,\quad W^{1} = 0 \text{ outside its } 3 \text{ entries}")


def test_softmax_cross_entropy_and_the_activations_course_forms():
    net = symcnn.Network({"input": [3], "loss": "cross_entropy", "layers": [
        {"type": "dense", "units": 3, "activation": "sigmoid"}, {"type": "dense", "units": 2, "activation": "tanh"},
        {"type": "dense", "units": 2}]})
    # no activation: the course's A^3 = softmax(Z^3), so dloss/dA^3_k = -y_k / A^3_k (symcnn.latex.softmax)
    assert net.formula("L", "A3").latex(ranges=False).endswith(r"= -\frac{y_{k}}{A^{3}_{k}}")
    sigmoid = net.formula("A1", "Z1").latex(ranges=False)
    assert sigmoid.endswith(r"\sigma\left(Z^{1}_{j}\right) \left(1 - \sigma\left(Z^{1}_{j}\right)\right)")
    assert r"1 - \tanh^{2}{\left(Z^{2}_{j} \right)}" in net.formula("A2", "Z2").latex(ranges=False)


def test_text_says_what_latex_says_of_the_course_softmax():
    """``str(formula)`` in the course's convention too: the softmax's entries are ``A^L``, except
    in the forward rule that defines it."""
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    assert str(net.formula("L", "A3")) == "dloss/dA3[k] = -y[k]/A3[k]    (k = 1..3)"
    assert str(net.formula("L", "Z3")) == "delta3[j] = dloss/dZ3[j] = A3[j] - y[j]    (j = 1..3)"
    assert str(net.formula("A3", "Z3")) == "dA3[j]/dZ3[k] = A3[j] ([j = k] - A3[k])    (j, k = 1..3)"
    assert str(net.formula("A3")) == "A3[j] = softmax(Z3)[j]    (j = 1..3)"
    assert str(net.formula("L")) == "loss = -sum_{k=1..3} y[k] log(A3[k])"


def test_pooling_routes_to_the_first_maximum_of_its_window():
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    text = net.formula("L", "Z1").latex(ranges=False)
    assert r"\operatorname*{argmax}_{1 \le a, b \le 2} A^{1}_{f,2m+a-2,2n+b-2}" in text
    assert text.endswith(r"\frac{\partial \operatorname{loss}}{\partial A^{2}_{f,m,n}}")
    flattened = net.formula("L", "A2").latex()
    # its own i is vec(A^2)'s position: the ordering names the entry with other letters
    assert r"\operatorname{vec}\left(A^{2}\right)_{16(c-1)+4(p-1)+q} = A^{2}_{c,p,q}" in flattened


def test_at_takes_the_written_indices(seed):
    assert seed.formula("Z1", "W1").at(1, 1) == sympy.Symbol("X_0", real=True)  # padding kept in a Jacobian
    assert seed.formula("Z1", "W1").at(3, 2) == seed.jacobian("Z1", "W1")[1, 2]
    assert seed.formula("L", "W1").at(1) == seed.gradient("W1")[0]           # padding is 0 in a gradient
    with pytest.raises(symcnn.ShapeError, match=r"expected 2 integer indices, of Z1 \(1 index\) and W1 \(1 index\)"):
        seed.formula("Z1", "W1").at(1)
    with pytest.raises(symcnn.ShapeError, match="index 6 of Z1 is out of range 1..5"):
        seed.formula("Z1", "W1").at(6, 1)


def test_formula_errors_name_what_exists(seed):
    with pytest.raises(symcnn.TensorNameError, match="X is an input"):
        seed.formula("X")
    with pytest.raises(symcnn.TensorNameError, match=r"Z2 does not read X directly.*formula\('L', 'X'\)"):
        seed.formula("Z2", "X")
    with pytest.raises(symcnn.TensorNameError, match="this network has no tensor 'W9'"):
        seed.formula("L", "W9")


# -- the derivation step itself: Kronecker deltas resolved over ranges ----------------------

def test_a_delta_under_a_sum_becomes_a_substitution_and_a_range():
    k, m, i = bound("k"), index("m"), index("i")
    X = tensor("X")
    total = sympy.Sum(sympy.KroneckerDelta(k, m) * X[i + k - 2], (k, 1, 3))
    assert resolve(total, {m: (1, 3), i: (1, 5)}) == X[i + m - 2]                   # the range always holds
    assert resolve(total, {m: (1, 9), i: (1, 5)}) == InRange(m, 1, 3) * X[i + m - 2]
    assert resolve(total, {m: (4, 9), i: (1, 5)}) == 0                             # never holds


def test_the_outermost_sum_is_resolved_first_and_only_with_coefficient_one():
    i, k, m = bound("i"), bound("k"), index("m")
    W, D = tensor("W"), tensor("D")
    for stride, kept in ((1, k), (2, i)):
        total = sympy.Sum(sympy.Sum(sympy.KroneckerDelta(stride * (i - 1) + k - 1, m) * W[k] * D[i], (k, 1, 3)),
                          (i, 1, 5))
        result = resolve(total, {m: (1, 5)})
        assert isinstance(result, sympy.Sum) and result.limits[0][0] == kept, (stride, result)
        assert not result.has(sympy.KroneckerDelta)


def test_large_inputs_never_build_the_entries(tmp_path):
    spec = tmp_path / "big.toml"
    spec.write_text('input = [1, 512, 512]\nloss = "cross_entropy"\n[[layers]]\ntype = "conv"\nfilters = 2\n'
                    'size = 3\npadding = 1\nactivation = "relu"\n[[layers]]\ntype = "maxpool"\nsize = 2\n'
                    '[[layers]]\ntype = "dense"\nunits = 10\n')
    net = symcnn.load(spec)
    text = net.latex()
    model = net.compile()
    assert "_exprs" not in net.__dict__  # nothing was derived entry by entry
    assert r"\sum_{i=1}^{512} \sum_{j=1}^{512} X_{i+a-2,j+b-2} \delta^{1}_{f,i,j}" in text
    X = np.random.default_rng(0).normal(size=(1, 512, 512))
    loss, grads = model.loss_and_grad(model.init_params(0), X, np.array([3]))
    assert np.isfinite(loss) and grads["W1"].shape == (2, 1, 3, 3)
