"""The symbolic network: names in the course's notation, local expressions, substitution."""

import dataclasses

import pytest
import sympy

import symcnn
from symcnn.functions import PoolMax, ReLU
from symcnn.notation import SymbolRef, gradient_name, named_gradient, parse_symbol, symbol_name
from conftest import DERIVATIONS


def S(name):
    return sympy.Symbol(name, real=True)


@pytest.fixture(scope="module")
def seed():
    return symcnn.load(DERIVATIONS / "seed_1d.toml")


def test_seed_forward_pass_exactly(seed):
    X = [S(f"X_{i}") for i in range(7)]
    W1 = [None] + [S(f"W1_{k}") for k in (1, 2, 3)]
    for i in range(1, 6):  # Z^1_i = (W^1)^T X_[i-1, i, i+1]
        assert seed.expr("Z1")[i - 1] == W1[1] * X[i - 1] + W1[2] * X[i] + W1[3] * X[i + 1]
    assert str(seed.expr("Z1")[1]) == "W1_1*X_1 + W1_2*X_2 + W1_3*X_3"
    assert list(seed.expr("A1")) == [ReLU(S(f"Z1_{i}")) for i in range(1, 6)]
    assert seed.expr("Z2")[0] == sum(S(f"W2_{i}") * S(f"A1_{i}") for i in range(1, 6))
    assert seed.expr("A2")[0] == S("Z2")
    assert seed.expr("L")[0] == (S("A2") - S("y")) ** 2


def test_symbols_and_padding(seed):
    assert list(seed.symbols("X")) == [S(f"X_{i}") for i in range(1, 6)]
    assert seed.padding_symbols() == [S("X_0"), S("X_6")]
    assert list(seed.symbols("W1")) == [S("W1_1"), S("W1_2"), S("W1_3")]
    assert list(seed.symbols("y")) == [S("y")]
    assert seed.shape("W2") == (5, 1) and seed.shape("Z1") == (1, 5) and seed.shape("L") == ()


def test_two_dimensional_multichannel_names():
    net = symcnn.Network({"input": [2, 3, 3], "layers": [
        {"type": "conv", "filters": 2, "size": 2, "padding": 1, "activation": "relu"}]})
    assert net.shape("W1") == (2, 2, 2, 2)
    assert [str(s) for s in net.symbols("W1")[:3]] == ["W1_1,1,1,1", "W1_1,1,1,2", "W1_1,1,2,1"]
    assert [str(s) for s in net.symbols("b1")] == ["W1_0,1", "W1_0,2"]
    assert str(net.symbols("X")[0]) == "X_1,1,1"
    assert str(net.padding_symbols("X")[0]) == "X_1,0,0"
    z = net.expr("Z1")[0]  # filter 1 at output (1, 1) sees padding but for X_{c,1,1}
    x = {s.name for s in z.free_symbols if s.name.startswith("X")}
    assert x == {"X_1,0,0", "X_1,0,1", "X_1,1,0", "X_1,1,1", "X_2,0,0", "X_2,0,1", "X_2,1,0", "X_2,1,1"}
    assert S("W1_0,1") in z.free_symbols


def test_maxpool_window_order_is_row_major():
    net = symcnn.Network({"input": [4, 4], "layers": [{"type": "maxpool", "size": 2}]})
    assert net.expr("A1")[1] == PoolMax(S("X_1,3"), S("X_1,4"), S("X_2,3"), S("X_2,4"))


def test_cross_entropy_loss_and_one_hot_target():
    net = symcnn.Network({"input": [2], "loss": "cross_entropy",
                          "layers": [{"type": "dense", "units": 3, "bias": False}]})
    values = net.evaluate(X=[1, 2], W1=[[1, 0, 0], [0, 1, 0]], y=1)
    logits = [1, 2, 0]
    expected = sympy.log(sum(sympy.exp(v) for v in logits)) - 2
    assert sympy.simplify(values["L"][()] - expected) == 0
    assert list(values["y"]) == [0, 1, 0]


def test_expand_writes_everything_in_inputs_and_weights(seed):
    loss = seed.expand(seed.expr("L"))[0]
    assert loss.free_symbols == set(seed.symbols("X")) | set(seed.symbols("W1")) | set(
        seed.symbols("W2")) | {S("y"), S("X_0"), S("X_6")}


def test_exact_evaluation(seed):
    values = seed.evaluate(X=[1, 2, 3, 4, 5], W1=["1/2", -1, 1], W2=[1, 1, 1, 1, 1], y=[3])
    z1 = [sympy.Rational(1, 2) * a - b + c for a, b, c in
          zip([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3, 4, 5, 0])]
    assert list(values["Z1"].flat) == z1
    a2 = sum(max(z, 0) for z in z1)
    assert values["L"][()] == (a2 - 3) ** 2


def test_substitute_uses_forward_values(seed):
    point = dict(X=[1, 2, 3, 4, 5], W1=[1, 0, -1], W2=[1, 2, 3, 4, 5], y=[0])
    assert seed.substitute(S("A2") + S("X_0"), point) == seed.evaluate(point)["A2"][0]


@pytest.mark.parametrize("values, message", [
    (dict(X=[1, 2, 3], W1=[1, 2, 3], W2=[1] * 5, y=[0]),
     "values: X has shape (3,), expected (1, 5)"),
    (dict(X=[1] * 5, W2=[1] * 5, y=[0]), r"values: missing W1 (shape (1, 1, 3))"),
    (dict(X=[1] * 5, W1=[1] * 3, W2=[1] * 5, y=[0], W3=[1]),
     "values: 'W3' is not an input of this network; the inputs are X, W1, W2, y"),
])
def test_bad_values(seed, values, message):
    bare = symcnn.Network(dataclasses.replace(seed.spec, values={}))  # nothing filled in from the spec's [values]
    with pytest.raises(symcnn.SymcnnError) as error:
        bare.evaluate(values)
    assert str(error.value) == message


def test_unknown_tensor_names(seed):
    with pytest.raises(symcnn.TensorNameError, match=r"^this network has no tensor 'Z3'; it has X, Z1, A1, "
                                                     r"Z2, A2, W1, W2, y, L$"):
        seed.expr("Z3")
    with pytest.raises(symcnn.TensorNameError, match=r"^'weights' is not a tensor name"):
        seed.symbols("weights")


@pytest.mark.parametrize("tensor, index, name", [
    ("X", (0,), "X_0"), ("W1", (2,), "W1_2"), ("b1", (), "W1_0"), ("b2", (3,), "W2_0,3"),
    ("A2", (), "A2"), ("Z1", (2, -1), "Z1_2,-1"), ("y", (1,), "y_1")])
def test_names_round_trip(tensor, index, name):
    assert symbol_name(tensor, index) == name
    assert parse_symbol(name) == SymbolRef(tensor, index)


@pytest.mark.parametrize("name, of, kind, layer", [("delta3", "Z3", "Z", 3), ("dA4", "A4", "A", 4),
                                                   ("delta12", "Z12", "Z", 12)])
def test_named_gradient_names_round_trip(name, of, kind, layer):
    assert named_gradient(name) == of
    assert (named_gradient(name).kind, named_gradient(name).layer) == (kind, layer)
    assert gradient_name(of) == name


@pytest.mark.parametrize("name", ["delta", "dA", "delta0", "dA03", "deltaX", "A3", "Z3", "vec(A2)", "W1", "dZ3"])
def test_other_names_are_not_named_gradients(name):
    assert named_gradient(name) is None


@pytest.mark.parametrize("tensor", ["W1", "b1", "X", "L"])
def test_only_z_and_a_have_named_gradients(tensor):
    with pytest.raises(symcnn.TensorNameError, match=rf"^'{tensor}' has no named gradient"):
        gradient_name(tensor)


@pytest.mark.parametrize("spec", ["seed_1d", "seed_conv_2d", "digits_cnn"])
def test_the_compiled_forward_pass_is_exact_substitution(spec):
    """``evaluate`` runs each tensor's expressions as printed code (symcnn.exact): at rational
    points the values equal ``xreplace`` exactly, at 60-digit floats too."""
    import numpy as np
    from symcnn.verify.compare import _floats, _rationals
    net = symcnn.load(DERIVATIONS / f"{spec}.toml")
    rng = np.random.default_rng(1)
    for numeric in (False, True):
        values = {n: _rationals(rng, s) for n, s in net.spec.shapes().items() if s != ()}
        if net.spec.shapes().get("y") == ():
            values["y"] = 1
        if numeric:
            values = {n: _floats(v) if n != "y" else v for n, v in values.items()}
        known = net.evaluate(values)
        substitutions = net._substitutions({n: known[n] for n in ("X", *net.parameters, "y") if n in known})
        for name in net.flow[1:]:
            expected = [e.xreplace(substitutions) for e in net.expr_array(name).flat]
            assert list(known[name].flat) == expected, name
            if name != "L":
                substitutions.update(zip(net.symbol_array(name).flat, known[name].flat))


def test_symbols_never_build_the_expressions(monkeypatch):
    """Looking up symbols (as reading an answer does) makes only the tensors asked for, and no
    expression: LeNet-5's entry-by-entry expressions take tens of seconds."""
    from symcnn.parse import read_answer

    def no_expressions(*_):
        raise AssertionError("the entry-by-entry expressions were built")

    monkeypatch.setattr("symcnn.graph.Instantiation", no_expressions)
    net = symcnn.load(DERIVATIONS / "lenet5.toml")
    assert net.symbols("W3")[-1] == S("W3_16,6,5,5") and len(net.symbols("W3")) == 2400
    assert net.symbol_array("X", padded=True)[0, 0, 0] == S("X_-1,-1")
    assert len(net.padding_symbols()) == 32 * 32 - 28 * 28  # conv 1 pads X by 2; conv 3 pads nothing
    equations, reader = read_answer(net, r"\frac{\partial L}{\partial W^3_{f,c,a,b}} = \sum_{i=1}^{10}"
                                         r"\sum_{j=1}^{10} A^2_{c,i+a-1,j+b-1} \delta^3_{f,i,j}")
    assert equations[0].lhs.wrt.tensor == "W3"
    assert reader.tables.lookup("A2", (6, 15, 15)) is None and reader.tables.lookup("A2", (6, 14, 14)) == S("A2_6,14,14")
    assert set(net._symbol_arrays) <= {"X", "A1", "A2", "A3", "W3", "Z3", "L", "y"}  # made on demand
    with pytest.raises(AssertionError, match="expressions were built"):
        net.expr("Z1")
