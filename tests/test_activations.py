"""One row per activation and per loss (symcnn.activations): every row complete, and every stage
(SymPy rule, exact evaluation, NumPy, numba, LaTeX, text, parser, spec words, mistakes) agreeing
with it and with an independent NumPy reference written here."""

import numpy as np
import pytest
import sympy

import symcnn
from symcnn.activations import ACTIVATIONS, LOSSES, activation_of
from symcnn.compile import loops
from symcnn.compile.engine import lambdify
from symcnn.exact import ExactFunction
from symcnn.latex import to_latex
from symcnn.latex.formulas import forward_latex
from symcnn.notation import TensorName
from symcnn.parse import parse_latex
from symcnn.spec import describe, parse_spec
from symcnn.text import TextPrinter
from symcnn.verify.mistakes import activation_dropped, derivative_at_output

# f and f' as a textbook writes them, in NumPy: a new row needs its reference here
REFERENCE = {
    "none": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
}
POINTS = np.array([-2.75, -1.3, -0.4, 0.35, 0.9, 2.2])  # away from the kink at 0
z = sympy.Symbol("z", real=True)


def network(activation: str, loss: str = "squared"):
    """The seed's network with another activation (and loss)."""
    return symcnn.Network(parse_spec({"input": [5], "loss": loss, "layers": [
        {"type": "conv", "size": 3, "padding": 1, "bias": False, "activation": activation},
        {"type": "dense", "units": 1 if loss == "squared" else 2, "bias": False}]}))


def test_every_row_is_complete_and_named_by_its_key():
    assert set(REFERENCE) == set(ACTIVATIONS)
    for name, row in ACTIVATIONS.items():
        assert row.name == name and row.words and row.rule and row.slope_in_output and row.numpy, name
        assert "{z}" in row.numpy and (row.slope_latex == "1" or "{z}" in row.slope_latex), name
        if name != "none":
            assert row.latex and row.text and row.letters and row.commands, name
            assert all(c.startswith("\\") for c in row.commands), name
    assert sorted(row.kernel for row in ACTIVATIONS.values()) == list(range(len(ACTIVATIONS)))
    for name, row in LOSSES.items():
        assert row.name == name and row.rule and row.latex and row.metric and callable(getattr(loops, row.kernel))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_sympy_rule_and_derivative_match_the_reference(name):
    row, (f, df) = ACTIVATIONS[name], REFERENCE[name]
    for x in POINTS:
        x_ = sympy.Float(x, 30)
        assert float(row.function(x_)) == pytest.approx(f(x), rel=1e-12, abs=1e-15), (name, x)
        assert float(row.slope(x_)) == pytest.approx(df(x), rel=1e-12, abs=1e-15), (name, x)
        assert float(row.slope_of_output(row.function(x_))) == pytest.approx(df(x), rel=1e-12, abs=1e-15), (name, x)
    assert row.slope(z) == sympy.diff(row.function(z), z)
    # verify takes exact answers only where the rule is rational at rational points
    value = row.function(sympy.Rational(-3, 7)) + row.function(sympy.Rational(5, 2))
    assert value.is_Rational == row.exact


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_exact_numpy_and_numba_evaluations_agree_with_the_rule(name):
    row, (f, df) = ACTIVATIONS[name], REFERENCE[name]
    exact = ExactFunction([row.function(z) + 0 * z, row.slope(z) + 0 * z])  # + 0 z: z is free in each
    for x in (sympy.Rational(-5, 3), sympy.Rational(7, 4)):
        assert exact({z: x}) == [row.function(x), row.slope(x)], name
    numpy_f, numpy_df = (lambdify([z], [e]) for e in (row.function(z), row.slope(z)))
    assert np.allclose(np.broadcast_to(numpy_f(POINTS)[0], POINTS.shape), f(POINTS), rtol=1e-13, atol=0)
    assert np.allclose(np.broadcast_to(numpy_df(POINTS)[0], POINTS.shape), df(POINTS), rtol=1e-13, atol=0)
    assert np.allclose(row.numpy_slope(POINTS), df(POINTS), rtol=1e-13, atol=0)  # the slides' matrix form
    kernel = row.kernel
    a = POINTS[None, :].copy()
    loops.bias_activate(a, np.zeros(1), kernel)
    slope = np.ones_like(a)
    loops.activation_grad(slope, a, kernel, np.empty(1))
    assert np.allclose(a[0], f(POINTS), rtol=1e-13, atol=1e-15) and np.allclose(slope[0], df(POINTS), rtol=1e-13)


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "none"])
def test_printers_write_the_rows_names(name):
    row = ACTIVATIONS[name]
    Z = sympy.Symbol("Z1_3", real=True)
    assert activation_of(row.function(z).func) is row
    assert TextPrinter().doprint(row.function(Z)) == f"{row.text}(Z1_3)"
    assert to_latex(row.function(Z)).startswith(row.latex)
    net = network(name)
    assert rf"A^{{1}} = {row.latex}\left(Z^{{1}}\right)" in [line for _, line, _ in forward_latex(net)]
    assert describe(net.spec.layers[0]).endswith(f", no bias, {row.words}")


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "none"])
def test_parser_reads_every_spelling_and_the_printers_latex_back(name):
    row, net = ACTIVATIONS[name], network(name)
    Z = sympy.Symbol("Z1_3", real=True)
    spellings = [*row.commands, *row.letters, *(rf"\operatorname{{{w}}}" for w in row.letters),
                 *(w.upper() for w in row.letters), "f"]
    for spelling in spellings:
        assert parse_latex(rf"{spelling}(Z^1_3)", net) == row.function(Z), spelling
        assert sympy.simplify(parse_latex(rf"{spelling}'(Z^1_3)", net) - row.slope(Z)) == 0, spelling
    assert parse_latex(to_latex(row.function(Z)), net) == row.function(Z)


def test_parser_reads_f_of_a_layer_without_activation_as_the_identity():
    net = network("none")
    Z = sympy.Symbol("Z1_3", real=True)
    assert parse_latex(r"f(Z^1_3)", net) == Z and parse_latex(r"f'(Z^1_3)", net) == 1


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "none"])
def test_mistakes_name_the_rows_derivative(name):
    row, net = ACTIVATIONS[name], network(name)
    factors = [(TensorName("A1"), TensorName("Z1"), net.jacobian("A1", "Z1"))]
    (dropped, _), = activation_dropped(net, factors)
    assert row.slope_latex.format(z="Z^{1}_i") in dropped.name
    at_output = list(derivative_at_output(net, factors))
    # taking f' at A instead of Z is a mistake exactly where the two differ
    a = sympy.Symbol("a")
    assert bool(at_output) == (row.slope(a) != row.slope_of_output(a)) == bool(row.output_slope_words)
    if at_output:
        assert row.output_slope_words in at_output[0][0].feedback and row.latex in at_output[0][0].name


def _reference_loss(name, a, y):
    """Per-sample loss and dL/da, for ``a`` and one-hot or real ``y`` of shape (K, B)."""
    if name == "squared":
        return ((a - y) ** 2).sum(axis=0), 2 * (a - y)
    top = a.max(axis=0)
    lse = top + np.log(np.exp(a - top).sum(axis=0))
    return lse - (y * a).sum(axis=0), np.exp(a - lse) - y


@pytest.mark.parametrize("name", LOSSES)
def test_loss_rule_and_kernel_match_the_reference(name, rng):
    row = LOSSES[name]
    net = network("relu", name)
    classes = 1 if name == "squared" else 2
    assert net.spec.target_shape() == (() if row.labels else (classes,))
    a = rng.normal(size=(classes, 3))
    labels = np.arange(3) % classes
    y = np.eye(classes)[labels].T if row.labels else rng.normal(size=(classes, 3))
    losses, gradient = _reference_loss(name, a, y)
    # the SymPy rule, in the network's output and target symbols
    outputs, targets = list(net.symbols("A2")), list(net.symbols("y"))
    loss = net.expr("L")[0]
    for b in range(3):
        values = {**dict(zip(outputs, a[:, b])), **dict(zip(targets, y[:, b]))}
        assert float(loss.xreplace(values)) == pytest.approx(losses[b], rel=1e-12)
    # the numba kernel: targets are class labels or (B, K)
    delta = np.empty_like(a)
    total = getattr(loops, row.kernel)(a, labels if row.labels else np.ascontiguousarray(y.T), 1.0, delta)
    assert total == pytest.approx(losses.sum(), rel=1e-12) and np.allclose(delta, gradient, rtol=1e-12)
    line = forward_latex(net)[-1][1]
    # the course's A^L = softmax(Z^L): the loss reads its entries
    assert line.endswith((row.latex_single or row.latex).format(A="A^{2}", K=classes, probability="A^{2}_{k}"))

