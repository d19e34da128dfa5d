"""Reading the course's notation back from LaTeX: a table of good inputs and one of bad ones."""

import pytest
import sympy
from sympy import Heaviside, Matrix

import symcnn
from symcnn.parse import parse_answer, parse_latex
from conftest import DERIVATIONS

NET = symcnn.load(DERIVATIONS / "seed_1d.toml")


def S(name):
    return sympy.Symbol(name, real=True)


W1_2, X_0, Z1_3, A2, y = S("W1_2"), S("X_0"), S("Z1_3"), S("A2"), S("y")

GOOD_PAIRS = [
    (r"W^1_2", W1_2), (r"W_2^1", W1_2), (r"W^{(1)}_{2}", W1_2), (r"W^{1}_{2}", W1_2), (r"W_{2}^{(1)}", W1_2),
    (r"X_0", X_0), (r"X_{0}", X_0), (r"\boxed{X_{0}}", X_0), (r"\overset{Z^1_1}{X_0}", X_0),
    (r"Z^1_3", Z1_3), (r"A^2", A2), (r"y", y), (r"A^0_1", S("X_1")),
    (r"\left(A^{2} - y\right)^{2}", (A2 - y) ** 2),
    (r"2 (A^2 - y) \cdot W^2_1", 2 * (A2 - y) * S("W2_1")),
    (r"\mathbf{1}\left[Z^{1}_{3} > 0\right]", Heaviside(Z1_3, 0)),
    (r"\mathbb{1}[Z^1_3 > 0]", Heaviside(Z1_3, 0)),
    (r"\mathbb{1}_{Z^1_3 > 0}", Heaviside(Z1_3, 0)),
    (r"\mathbf{1}[0 < Z^1_3]", Heaviside(Z1_3, 0)),
    (r"\mathbf{1}[Z^1_3 \geq 0]", Heaviside(Z1_3, 1)),
    (r"\text{step}(Z^1_3)", Heaviside(Z1_3, 0)),
    (r"\operatorname{step}\left(Z^1_3\right)", Heaviside(Z1_3, 0)),
    (r"\operatorname{ReLU}'(Z^1_3)", Heaviside(Z1_3, 0)),
    (r"\operatorname{ReLU}(Z^1_3)", symcnn.ReLU(Z1_3)),
    (r"\mathrm{ReLU}(Z^1_3)", symcnn.ReLU(Z1_3)),
    (r"ReLU(Z^1_3)", symcnn.ReLU(Z1_3)),
    (r"\sigma(Z^1_3)", symcnn.Sigmoid(Z1_3)),
    (r"\max(Z^1_3, 0)", symcnn.PoolMax(Z1_3, 0)),
    (r"\log(y)", sympy.log(y)), (r"\ln y", sympy.log(y)), (r"e^{A^2}", sympy.exp(A2)),
    (r"\frac{1}{2} X_1", S("X_1") / 2),
    (r"\dfrac{A^2}{2}", A2 / 2),
    (r"\begin{bmatrix} X_0 & X_1 \\ X_1 & X_2 \end{bmatrix}", Matrix([[X_0, S("X_1")], [S("X_1"), S("X_2")]])),
    (r"\begin{pmatrix} X_0 \\ X_1 \end{pmatrix}^\top", Matrix([[X_0, S("X_1")]])),
    (r"\begin{bmatrix} 1 & 2 \end{bmatrix}^{T}", Matrix([1, 2])),
    (r"2(A^2 - y) W^2", Matrix([2 * (A2 - y) * S(f"W2_{i}") for i in range(1, 6)])),
    (r"\begin{bmatrix} 1 & 0 \end{bmatrix} \cdot \begin{bmatrix} X_1 \\ X_2 \end{bmatrix}", Matrix([[S("X_1")]])),
]


@pytest.mark.parametrize("latex, expected", GOOD_PAIRS, ids=[p[0] for p in GOOD_PAIRS])
def test_good_pairs(latex, expected):
    parsed = parse_latex(latex, NET)
    assert type(parsed) is type(expected) or isinstance(parsed, sympy.Expr), latex
    assert sympy.expand(parsed - expected) == (0 * expected if isinstance(expected, Matrix) else 0), latex


def test_math_delimiters_and_left_hand_side():
    for text in [r"$X_1$", r"$$X_1$$", r"\[X_1\]", r"\begin{equation} X_1 \end{equation}",
                 r"\begin{equation*}X_1\end{equation*}", "% a comment\n$X_1$"]:
        assert parse_answer(text, NET).value == S("X_1"), text
    answer = parse_answer(r"\frac{\partial L}{\partial W^1_2} = \frac{\partial Z}{\partial W} = X_1", NET)
    assert answer.value == S("X_1") and answer.lhs == r"\frac{\partial L}{\partial W^1_2}"


BAD_STRINGS = [
    (r"\foo{x}", r"cannot read \foo at column 1: symcnn reads the course's notation"),
    (r"W^1_7", r"W^1_7: W1 has no entry 7 (its 3 entries run W1_1 .. W1_3)"),
    (r"W_3", r"W_3: W needs its layer as a superscript, e.g. W^{1}_{2}"),
    (r"W^3_1", r"W^3_1: this network has no W3"),
    (r"Z^{1}_{2} + * 3", r"cannot read the LaTeX 'Z^{1}_{2} + * 3' (I expected something else here)"),
    (r"\text{softplus}(Z^1_1)", r"unknown function '\text{softplus}'; known: ReLU, step"),
    (r"\mathbf{1}[Z^1_1]", r"an indicator needs one comparison such as [Z^1_1 > 0], got [Z^1_1]"),
    (r"\operatorname{ReLU}(Z^1_1", r"unbalanced '(' in '(Z^1_1'"),
    (r"X^2_1", r"X^2_1: X has no layer"),
    (r"Z^1_{i}", r"Z^1_{i}: indices must be numbers, got 'i'"),
    (r"\sigma", r"cannot read \sigma at column 1"),
    (r"\begin{bmatrix} W^2 & 1 \end{bmatrix}", r"a whole tensor (e.g. W^2) inside a matrix"),
    (r"W^2 + W^1", r"tensors of different sizes (3, 5) multiplied entry by entry"),
]


@pytest.mark.parametrize("latex, message", BAD_STRINGS, ids=[b[0] for b in BAD_STRINGS])
def test_bad_strings_get_one_clear_line(latex, message):
    with pytest.raises(symcnn.LatexError) as error:
        parse_latex(latex, NET)
    assert str(error.value).startswith("<latex>: " + message), str(error.value)
    assert "\n" not in str(error.value)


def test_bias_notation():
    net = symcnn.Network({"input": [4], "layers": [{"type": "conv", "filters": 2, "size": 3}]})
    for text in (r"W_0^1", r"W^1_0", r"W^{(1)}_{0}"):
        assert parse_latex(text, net) == sympy.Matrix([S("W1_0,1"), S("W1_0,2")]), text
    assert parse_latex(r"W^1_{0,2}", net) == S("W1_0,2")
    assert parse_latex(r"W^1_{2,3}", net) == S("W1_2,3")  # filter 2, offset 3 (one channel: no index)
