"""Reading the course's notation: a table of good inputs (GOOD_PAIRS) and one of bad ones."""

import re

import pytest
import sympy
from sympy import Heaviside, Matrix

import symcnn
from symcnn.parse import parse_latex, read_answer
from symcnn.parse.tables import canonical_index, single_entry
from conftest import DERIVATIONS

NET = symcnn.load(DERIVATIONS / "seed_1d.toml")


def S(name):
    return sympy.Symbol(name, real=True)


W1_2, X_0, Z1_3, A2, y = S("W1_2"), S("X_0"), S("Z1_3"), S("A2"), S("y")
W2 = [S(f"W2_{i}") for i in range(1, 6)]
STEP = [Heaviside(S(f"Z1_{i}"), 0) for i in range(1, 6)]

GOOD_PAIRS = [
    (r"W^1_2", W1_2), (r"W_2^1", W1_2), (r"W^{(1)}_{2}", W1_2), (r"W^{[1]}_2", W1_2), (r"W_{2}^{(1)}", W1_2),
    (r"\mathbf{W}^1_2", W1_2), (r"W^{L-1}_2", W1_2),
    (r"X_0", X_0), (r"X_{0}", X_0), (r"\boxed{X_{0}}", X_0), (r"\overset{Z^1_1}{X_0}", X_0),
    (r"Z^1_3", Z1_3), (r"A^2", A2), (r"A^2_1", A2), (r"A^L", A2), (r"y", y), (r"A^0_1", S("X_1")), (r"\hat y", A2),
    # subscripts without braces are one token, as LaTeX reads them (the misreadings)
    (r"W^2_1X_0", W2[0] * X_0), (r"A^1_3X_3", S("A1_3") * S("X_3")), (r"W^2_1 X_0 + W^2_2X_1", W2[0] * X_0 + W2[1] * S("X_1")),
    (r"\left(A^{2} - y\right)^{2}", (A2 - y) ** 2), (r"\bigl(A^2 - y\bigr)", A2 - y), (r"\Bigl(A^2 - y\Bigr)", A2 - y),
    (r"2 (A^2 - y) \cdot W^2_1", 2 * (A2 - y) * W2[0]), (r"2 (A^2 - y) \times W^2_1", 2 * (A2 - y) * W2[0]),
    (r"\mathbf{1}\left[Z^{1}_{3} > 0\right]", Heaviside(Z1_3, 0)), (r"\mathbb{1}[Z^1_3 > 0]", Heaviside(Z1_3, 0)),
    (r"\mathbb{1}_{Z^1_3 > 0}", Heaviside(Z1_3, 0)), (r"\mathbb{1}\{Z^1_3 > 0\}", Heaviside(Z1_3, 0)),
    (r"\mathbb{1}_{\{Z^1_3 > 0\}}", Heaviside(Z1_3, 0)), (r"\mathbb{1}\left\{Z^1_3 > 0\right\}", Heaviside(Z1_3, 0)),
    (r"\mathbb 1(Z^1_3 > 0)", Heaviside(Z1_3, 0)), (r"\mathbf{1}[0 < Z^1_3]", Heaviside(Z1_3, 0)),
    (r"\mathbf{1}[Z^1_3 \geq 0]", Heaviside(Z1_3, 1)), (r"\text{step}(Z^1_3)", Heaviside(Z1_3, 0)),
    (r"\operatorname{ReLU}'(Z^1_3)", Heaviside(Z1_3, 0)), (r"\operatorname{ReLU}(Z^1_3)", symcnn.ReLU(Z1_3)),
    (r"ReLU(Z^1_3)", symcnn.ReLU(Z1_3)), (r"\sigma(Z^1_3)", symcnn.Sigmoid(Z1_3)),
    (r"\sigma'(Z^1_3)", symcnn.Sigmoid(Z1_3) * (1 - symcnn.Sigmoid(Z1_3))),
    (r"\tanh'(Z^1_3)", 1 - sympy.tanh(Z1_3) ** 2), (r"\operatorname{sech}^2(Z^1_3)", sympy.sech(Z1_3) ** 2),
    (r"\operatorname{sech}^{2}\left(Z^1_3\right)", sympy.sech(Z1_3) ** 2), (r"f'(Z^1_3)", Heaviside(Z1_3, 0)),
    (r"\max(Z^1_3, 0)", symcnn.PoolMax(Z1_3, 0)), (r"\log(y)", sympy.log(y)), (r"\ln y", sympy.log(y)),
    (r"e^{A^2}", sympy.exp(A2)), (r"\frac{1}{2} X_1", S("X_1") / 2), (r"\dfrac{A^2}{2}", A2 / 2), (r"0.5 X_1", S("X_1") / 2),
    (r"\begin{bmatrix} X_0 & X_1 \\ X_1 & X_2 \end{bmatrix}", Matrix([[X_0, S("X_1")], [S("X_1"), S("X_2")]])),
    (r"\begin{pmatrix} X_0 \\ X_1 \end{pmatrix}^\top", Matrix([[X_0, S("X_1")]])),
    (r"\begin{bmatrix} 1 & 2 \end{bmatrix}^{T}", Matrix([1, 2])), (r"(X_1, X_2, X_3)^T", Matrix([S("X_1"), S("X_2"), S("X_3")])),
    (r"[X_1, X_2]^\top", Matrix([S("X_1"), S("X_2")])), (r"(X_1, X_2)", Matrix([S("X_1"), S("X_2")])),
    (r"2(A^2 - y) W^2", Matrix([2 * (A2 - y) * w for w in W2])),
    (r"2(A^2 - y) W^2 \odot \mathbb{1}[Z^1 > 0]", Matrix([2 * (A2 - y) * w * s for w, s in zip(W2, STEP)])),
    (r"\operatorname{diag}(\mathbb{1}[Z^1 > 0])", sympy.diag(*STEP)), (r"\text{diag}(\mathbb{1}[Z^1 > 0])", sympy.diag(*STEP)),
    (r"\mathrm{diag}(\mathbb{1}[Z^1 > 0])", sympy.diag(*STEP)), (r"diag(\mathbb{1}[Z^1 > 0])", sympy.diag(*STEP)),
    (r"\operatorname{diag}(\mathbb{1}[Z^1_1 > 0], \mathbb{1}[Z^1_2 > 0], \mathbb{1}[Z^1_3 > 0], \mathbb{1}[Z^1_4 > 0], "
     r"\mathbb{1}[Z^1_5 > 0])", sympy.diag(*STEP)),
    (r"\begin{bmatrix} 1 & 0 \end{bmatrix} \cdot \begin{bmatrix} X_1 \\ X_2 \end{bmatrix}", Matrix([[S("X_1")]])),
    (r"\sum_{i=1}^{5} W^2_i \mathbb{1}[Z^1_i > 0]", sum(w * s for w, s in zip(W2, STEP))),
    (r"\sum_i W^2_i X_{i+1}", sum(w * S(f"X_{i + 2}") for i, w in enumerate(W2))),
    (r"\sum\limits_{i=1}^5 W^2_{i}", sum(W2)), (r"\sum^{3}_{k=1} W^1_k X_{2k-2}", sum(S(f"W1_{k}") * S(f"X_{2 * k - 2}") for k in (1, 2, 3))),
    (r"\sum_{i=1}^{5}\sum_{k=1}^{3} \mathbb{1}[i = k] W^2_i W^1_k", sum(S(f"W2_{k}") * S(f"W1_{k}") for k in (1, 2, 3))),
    (r"\sum_{i,k} \delta_{ik} W^2_i W^1_k", sum(S(f"W2_{k}") * S(f"W1_{k}") for k in (1, 2, 3))),
    (r"\sum_{i=1}^{6} X_{i-1}", sum(S(f"X_{i}") for i in range(0, 6))),
    (r"\sum_{i=1}^{6} X_{i+2}", S("X_3") + S("X_4") + S("X_5") + S("X_6")),  # X_7, X_8, X_9: outside, 0
    # sums inside the entries of a matrix product (issue 20): latex2sympy2 evaluates them, each term its own entry
    (r"2 \begin{bmatrix} \sum_{i=1}^{5} W^2_i \\ \sum_{i=1}^{3} i X_i \end{bmatrix}",
     Matrix([2 * sum(W2), 2 * (S("X_1") + 2 * S("X_2") + 3 * S("X_3"))])),
    (r"\begin{bmatrix} \sum_{i} W^2_i X_{i+1} \end{bmatrix} (A^2 - y)", Matrix([(A2 - y) * sum(w * S(f"X_{i + 2}") for i, w in enumerate(W2))])),
    # a tensor before parentheses is a product, not a call
    (r"W^2_1 (2) (A^2 - y)", 2 * W2[0] * (A2 - y)), (r"A^2 (y)", A2 * y),
]


@pytest.mark.parametrize("latex, expected", GOOD_PAIRS, ids=[p[0] for p in GOOD_PAIRS])
def test_good_pairs(latex, expected):
    parsed = parse_latex(latex, NET)
    if isinstance(expected, Matrix):
        assert isinstance(parsed, sympy.MatrixBase) and parsed.shape == expected.shape, latex
        assert sympy.expand(parsed - expected) == sympy.zeros(*expected.shape), latex
    else:
        assert sympy.expand(parsed - expected) == 0, latex


def test_math_delimiters_left_hand_sides_and_chains():
    for text in [r"$X_1$", r"$$X_1$$", r"\[X_1\]", r"\(X_1\)", r"\begin{equation} X_1 \end{equation}",
                 r"\begin{equation*}X_1\end{equation*}", "% a comment\n$X_1$", "Answer: $X_1$."]:
        assert parse_latex(text, NET) == S("X_1"), text
    for lhs in [r"\frac{\partial L}{\partial W^1}", r"\frac{dL}{dW^1}", r"\partial L/\partial W^1", r"\nabla_{W^1}\text{loss}",
                r"\frac{\partial \mathcal{L}}{\partial W^{(1)}}", r"\frac{\mathrm{d} L}{\mathrm{d} W^1}", r"\nabla_{W^1} L"]:
        (equation,), _ = read_answer(NET, lhs + " = X_1")
        assert (equation.lhs.of.kind, equation.lhs.wrt.tensor, equation.lhs.wrt.indices) == ("loss", "W1", None), lhs
    equations, _ = read_answer(NET, r"\begin{align*} \delta^2 &= 2(A^2 - y) \\ \frac{\partial L}{\partial W^2_j} "
                                    r"&= \delta^2 A^1_j \\ &= 2(A^2 - y) A^1_j \end{align*}")
    assert [len(e.steps) for e in equations] == [1, 2]
    assert equations[1].lhs.free == {"j": sympy.Symbol("j", integer=True)}


BAD_STRINGS = [
    (r"\foo{x}", r"line 1, column 1: cannot read '\foo'; this network has X_{1}..X_{5} (padding X_{0}, X_{6})"),
    (r"W^1_7", r"W^{1} has no entry 7 (its indices run 1..3)"),
    (r"X_9", r"X has no entry 9"),
    (r"W_3", r"W needs its layer as a superscript"),
    (r"W^3_1", r"this network has no W^{3}"),
    (r"Z^{1}_{2} + * 3", r"cannot read this"),
    (r"\text{softplus}(Z^1_1)", r"cannot read '\text'"),
    (r"\mathbf{1}[Z^1_1]", r"an indicator needs one comparison"),
    (r"\operatorname{ReLU}(Z^1_1", r"an unbalanced '('"),
    (r"Z^1_{i}", r"the index i is neither a number, nor an index of the left-hand side, nor the index of a \sum"),
    (r"X_12", r"'12' after '_' or '^' is ambiguous"),
    (r"A^1_jk", r"'jk' after '_' or '^' is ambiguous"),
    (r"W^2_1 + \cdots + W^2_5", r"'\cdots' cannot be read"),
    (r"W^2 + W^1", r"columns of different sizes (3x1, 5x1)"),
    (r"b_1", r"cannot read 'b'"),
    (r"Z^1_1 > 0", r"cannot read '>'"),
    (r"\sum_j X_{j+1}", r"the range of the sum over j cannot be read from its terms"),
    (r"2 \begin{bmatrix} \sum_j 3 \end{bmatrix}", r"the range of a \sum cannot be read from its terms"),
    (r"\frac{\partial L}{\partial W^1} \frac{\partial L}{\partial W^1}", r"sizes do not fit"),
    ("X_1 \u03c9", "cannot read the character"),
]


@pytest.mark.parametrize("latex, message", BAD_STRINGS, ids=[b[0] for b in BAD_STRINGS])
def test_bad_strings_get_one_clear_line(latex, message):
    with pytest.raises(symcnn.SymcnnError) as error:
        parse_latex(latex, NET)
    assert str(error.value).startswith("<latex>: line 1, column "), str(error.value)
    assert message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_bias_notation():
    net = symcnn.Network({"input": [4], "layers": [{"type": "conv", "filters": 2, "size": 3}]})
    for text in (r"W_0^1", r"W^1_0", r"W^{(1)}_{0}"):
        assert parse_latex(text, net) == sympy.Matrix([S("W1_0,1"), S("W1_0,2")]), text
    assert parse_latex(r"W^1_{0,2}", net) == S("W1_0,2")
    assert parse_latex(r"W^1_{2,3}", net) == S("W1_2,3")  # filter 2, offset 3 (one channel: no index)


def test_import_symcnn_does_not_load_the_latex_parser():
    import subprocess
    import sys
    code = "import sys, symcnn; print(any('antlr' in m or 'latex2sympy' in m for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


RANGES = [  # a range stated after the formula (issue 20): cut off the line, read by letter
    (r"\frac{\partial L}{\partial W^1_k} = X_{k}, \quad k = 1, 2, 3", {"k": (1, 2, 3)}),
    (r"\frac{\partial L}{\partial W^1_k} = X_{k} \qquad k = 1, \ldots, 3", {"k": (1, 2, 3)}),
    (r"\frac{\partial L}{\partial W^2_j} = X_{j},\ j = 1, 3, \dots, 5", {"j": (1, 3, 5)}),
    (r"\frac{\partial L}{\partial W^1_k} = X_{k} \quad \text{for } k \in \{1, 2, 3\}", {"k": (1, 2, 3)}),
    (r"\frac{\partial L}{\partial W^1_k} = X_{k}, \quad 1 \leq k \leq 3", {"k": (1, 2, 3)}),
    (r"\frac{\partial L}{\partial W^1_k} = \max(X_k, X_{k+1}), \quad \forall k = 1, 2", {"k": (1, 2)}),
    (r"\frac{\partial L}{\partial W^1_k} = \max(X_k, X_1) W^1_{k} \sum_{i=1}^{5} W^2_{i}", {}),  # commas inside: no range
]


@pytest.mark.parametrize("latex, ranges", RANGES, ids=[r[0][-30:] for r in RANGES])
def test_a_range_after_the_formula(latex, ranges):
    (equation,), _ = read_answer(NET, latex)
    assert equation.ranges == ranges
    assert len(equation.steps) == 1  # the range's '=' does not start another step


SINGLE = [(r"\delta^2", 2 * (A2 - y)), (r"\delta^2_1", 2 * (A2 - y)), (r"\frac{\partial L}{\partial A^2_1}", 2 * (A2 - y)),
          (r"\frac{\partial L}{\partial Z^2_1}", 2 * (A2 - y)), (r"\frac{\partial A^2_1}{\partial W^2_3}", S("A1_3")),
          (r"\hat y_1", A2), (r"y_1", y), (r"A^2_1 - y_1", A2 - y)]


@pytest.mark.parametrize("latex, expected", SINGLE, ids=[s[0] for s in SINGLE])
def test_a_single_entry_is_written_without_index_or_with_index_1(latex, expected):
    assert sympy.expand(parse_latex(latex, NET) - expected) == 0


def test_the_single_entry_rule_is_stated_once():
    assert single_entry(NET, "A2") == single_entry(NET, "y") == ((), (1,))
    assert single_entry(NET, "L") == single_entry(NET, None) == ((),)
    assert single_entry(NET, "W2") == single_entry(NET, "A1") == ()
    assert canonical_index(NET, "A2", (1,)) == canonical_index(NET, "L", ()) == ()
    assert canonical_index(NET, "W2", (3,)) == (3,)
    for latex, message in [(r"A^2_2", "A^{2} has 0 indices, written with 1"),
                           (r"\delta^2_2", r"\partial Z^{2}} has 0 indices, written with 1"),
                           (r"\frac{\partial A^2_2}{\partial W^2_3}", r"A2 has 0 indices")]:
        with pytest.raises(symcnn.SymcnnError, match=re.escape(message)):
            parse_latex(latex, NET)
