r"""symcnn's own printed general formulas, copied into an answer, are read back as right, and
wrong ones written in the same notation are not.

A student copies the notes: ``A^{2}_{c,i,j} = \max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}
\qquad c, i, j = 1, 2``.  Each formula the notes print (forward rules, named gradients, parameter
gradients, the chain rule's factors; the enumeration of :mod:`symcnn.latex.document`) goes through
``verify`` on both routes (exact and the grid) and must be right: its ranges, its notes (zero
padding, the argmax's tie rule, the vec order, the softmax's matrix form), the window's max and
argmax, ``\delta^l = \partial L/\partial Z^l = ..`` and ``\partial L/\partial vec(A^2)_i`` all read.
The table below is the other half: the same notation with one thing wrong, each derived by hand.
"""

import functools
import subprocess
import sys

import pytest

import symcnn
from symcnn.latex.content import factors
from symcnn.shown import named_gradients
from test_verify_grid import RIGHT, UNREADABLE, WRONG, network, verdict

SMALL_NETS = ["seed_1d", "seed_conv_1d", "seed_conv_2d", "seed_maxpool", "pool_softmax", "SMALL"]


def printed(net) -> list[tuple[str, str | None]]:
    """Every ``(of, wrt)`` whose general formula the notes print."""
    pairs = [(rule.of, None) for rule in net.rules]
    if net.spec.loss is not None:
        pairs += [("L", name) for name in [*named_gradients(net), *net.parameters]]
    return pairs + list(factors(net))


@pytest.fixture(scope="module")
def nets():
    return functools.lru_cache(maxsize=None)(network)


CASES = [(name, of, wrt) for name in SMALL_NETS for of, wrt in printed(network(name))]


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "grid"])
@pytest.mark.parametrize("name, of, wrt", CASES, ids=[f"{n}-{o}-{w}" for n, o, w in CASES])
def test_every_printed_formula_reads_back_as_right(nets, name, of, wrt, exact):
    net = nets(name)
    answer = net.formula(of, wrt).latex()
    report = verify_or_fail(net, answer, exact)
    assert report.verdict == RIGHT, answer


def verify_or_fail(net, answer, exact):
    try:
        return symcnn.verify.verify(net, answer, exact=exact)
    except symcnn.SymcnnError as error:
        pytest.fail(f"{answer}\n  refused: {error}")


def test_the_notations_of_the_printed_formulas_are_all_met():
    """The cases above reach every construct this file is about (a guard against a net list
    that no longer prints them)."""
    text = " ".join(network(n).formula(o, w).latex() for n, o, w in CASES)
    for construct in [r"\dots", r"\max_{1 \le a, b \le", r"\operatorname*{argmax}_{", r"\operatorname{vec}\left(A^{2}\right)_{i}} =",
                      r"\text{ outside its }", r"\text{: the first maximum", r"\text{that is }", r"\delta^{1}_{f,i,j} = \frac"]:
        assert construct in text, construct


P = r"\qquad c, i, j = 1, 2"  # the small net's pooled ranges
DA2 = r"\frac{\partial A^{2}_{c,i,j}}{\partial A^{1}_{f,m,n}} = "
DVEC = r"\frac{\partial L}{\partial \operatorname{vec}(A^{2})_{i}} = "
Z1 = r"Z^{1}_{f,i,j} = \sum_{a=1}^{3} \sum_{b=1}^{3} W^{1}_{f,a,b} X_{i+a-2,j+b-2} + W^{1}_{0,f}"

# (answer on the SMALL net, expected verdict, what a refusal must name); derived by hand
TABLE = [
    # the window's max: its offset, its size, its letters
    (r"A^{2}_{c,i,j} = \max_{1 \le a, b \le 2} A^{1}_{c,2i+a-1,2j+b-2}" + P, WRONG, None),
    (r"A^{2}_{c,i,j} = \max_{1 \le a, b \le 3} A^{1}_{c,2i+a-2,2j+b-2}" + P, WRONG, None),
    (r"A^{2}_{c,i,j} = \max_{1 \le a \le 2} A^{1}_{c,2i+a-2,2j}", WRONG, None),
    (r"A^{2}_{c,i,j} = \max_{a, b = 1, 2} A^{1}_{c,2i+a-2,2j+b-2}", RIGHT, None),
    (r"A^{2}_{c,i,j} = \max_{a, b \in \{1, 2\}} \left(A^{1}_{c,2i+a-2,2j+b-2}\right)", RIGHT, None),
    (r"A^{2}_{c,i,j} = \max_{1 \le a, b \le 2} A^{1}", UNREADABLE, "one entry at each position"),
    # the argmax indicator: its position, its spellings, the channel's Kronecker delta left out
    (DA2 + r"\mathbf{1}\left[\left(m-2i+1, n-2j+2\right) = \operatorname*{argmax}_{1 \le a, b \le 2} "
           r"A^{1}_{c,2i+a-2,2j+b-2}\right] \mathbf{1}\left[c = f\right]", WRONG, None),
    (DA2 + r"\mathbb{1}[(m-2i+2, n-2j+2) = \arg\max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}] \delta_{cf}", RIGHT, None),
    (DA2 + r"\mathbb{1}[\operatorname{argmax}_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2} = (m-2i+2, n-2j+2)] \delta_{cf}",
     RIGHT, None),
    (DA2 + r"\mathbb{1}[(m-2i+2, n-2j+2) = \arg\max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}]", WRONG, None),
    (DA2 + r"\mathbb{1}\Bigl[\bigl((m-2i+2), n-(2j-2)\bigr) = \arg\max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}\Bigr] "
           r"\delta_{cf}", RIGHT, None),
    (DA2 + r"\mathbb{1}[m-2i+2 = \arg\max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}] \delta_{cf}", UNREADABLE,
     "the window has 2 indices; the position compared with its argmax has 1"),
    # the notes: another vec order, another tie rule
    (r"Z^{3}_{j} = \sum_{i=1}^{8} W^{3}_{i,j} \operatorname{vec}\left(A^{2}\right)_{i} + W^{3}_{0,j} \qquad j = 1, \dots, 3,"
     r"\quad \operatorname{vec}\left(A^{2}\right)_{c+2(p-1)+4(q-1)} = A^{2}_{c,p,q}", UNREADABLE,
     "this vec note puts entry (1,1,2) of the tensor at 5; the network's vec (row-major) puts it at 2"),
    (r"A^{2}_{c,i,j} = \max_{1 \le a, b \le 2} A^{1}_{c,2i+a-2,2j+b-2}" + P +
     r",\quad \operatorname*{argmax}\text{: the last maximum on a tie}", UNREADABLE, "the first maximum (row-major)"),
    # the derivative by a vec entry: its value, its stated range
    (DVEC + r"\sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{j}", RIGHT, None),
    (DVEC + r"\sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{1}", WRONG, None),
    (DVEC + r"\sum_{j=1}^{3} W^{3}_{j,i} \delta^{3}_{j}", WRONG, None),  # W^3 is 8 x 3: W^3_{j,i} past i = 3 reads as 0
    (DVEC + r"\sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{j}, \quad i = 1, \dots, 7", WRONG, None),
    (r"\frac{\partial L}{\partial \mathrm{vec}\bigl(A^{2}\bigr)_{i}} = \sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{j}", RIGHT, None),
    (r"\frac{\partial L}{\partial \operatorname{vec}((A^{2}))_{i}} = \sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{j}", UNREADABLE,
     r"\partial \operatorname{vec}(A^2)_i"),
    (r"\frac{\partial L}{\partial \operatorname{vec}(A^{2})_{i} x} = \sum_{j=1}^{3} W^{3}_{i,j} \delta^{3}_{j}", UNREADABLE,
     r"\partial \operatorname{vec}(A^2)_i"),
    # a left-hand side named twice: only the same quantity is a second name
    (r"\delta^{3}_{j} = \frac{\partial L}{\partial Z^{3}_{j}} = \sigma(Z^{3}_{j}) (1 - \sigma(Z^{3}_{j})) W^{4}_{j} \delta^{4}",
     RIGHT, None),
    (r"\delta^{3}_{j} = \frac{\partial L}{\partial Z^{4}} = \sigma(Z^{3}_{j}) (1 - \sigma(Z^{3}_{j})) W^{4}_{j} \delta^{4}",
     WRONG, None),
    # several ranges in one clause, in the ways students separate them
    (Z1 + r", \quad f = 1, 2, i, j = 1, \dots, 4", RIGHT, None),
    (Z1 + r" \text{ for } f = 1, 2 \text{ and } 1 \le i, j \le 4", RIGHT, None),
    (Z1 + r" \qquad f = 1, 2,\quad i, j = 1, \dots, 3", WRONG, None),
    (Z1 + r" \qquad f = 1, 2,\quad i = 1, \dots, 4,\quad i = 1, 2", UNREADABLE, "a second range for i"),
]


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "grid"])
@pytest.mark.parametrize("answer, expected, named", TABLE, ids=[c[0][:70] for c in TABLE])
def test_the_printed_notation_with_a_mistake(nets, answer, expected, named, exact):
    net = nets("SMALL")
    try:
        found = symcnn.verify.verify(net, answer, exact=exact).verdict
    except symcnn.SymcnnError as error:
        found = UNREADABLE
        assert named is None or named in str(error), str(error)
        assert "line 1, column" in str(error)
    assert found == expected


def test_the_softmax_matrix_form_is_checked_too(nets):
    """``\\text{that is } ..`` is one more equation: a wrong matrix form makes the answer wrong
    even when the entry formula before it is right."""
    net = nets("pool_softmax")
    entry = r"\frac{\partial A^{3}_{j}}{\partial Z^{3}_{k}} = A^{3}_{j} (\mathbf{1}[j = k] - A^{3}_{k}), \quad j, k = 1, \dots, 3"
    assert verdict(net, entry + r",\quad \text{that is } \operatorname{diag}(A^{3}) - A^{3} (A^{3})^\top") == RIGHT
    assert verdict(net, entry + r",\quad \text{that is } \operatorname{diag}(A^{3}) + A^{3} (A^{3})^\top") == WRONG


@pytest.mark.parametrize("answer, expected", [
    (r"\frac{\partial A^3}{\partial Z^3} = \operatorname{diag}(A^3) - A^3 (A^3)^T", RIGHT),
    (r"\frac{\partial A^3}{\partial Z^3} = -A^3 (A^3)^T + \operatorname{diag}(A^3)", RIGHT),
    (r"\frac{\partial A^3}{\partial Z^3} = \operatorname{diag}(A^3) - 2 A^3 (A^3)^T", WRONG),
    (r"\frac{\partial A^3}{\partial Z^3} = \operatorname{diag}(A^3) - A^3 (A^3)^T - A^3 (A^3)^T", WRONG),
])
def test_a_matrix_minus_a_matrix_product(nets, answer, expected):
    """latex2sympy2 cannot negate a matrix product; the reader writes ``+ (-1) \\cdot`` for it."""
    assert verdict(nets("pool_softmax"), answer) == expected


def test_a_printed_fragment_verifies_from_the_command_line(tmp_path):
    """``symcnn derive --fragment formula:L,Z1`` pasted as an answer: exit 0."""
    from conftest import DERIVATIONS
    spec, out = DERIVATIONS / "pool_softmax.toml", tmp_path / "dZ1.tex"
    subprocess.run([sys.executable, "-m", "symcnn", "derive", str(spec), "--fragment", "formula:L,Z1", "-o", str(out)],
                   check=True, capture_output=True)
    assert r"\operatorname*{argmax}" in out.read_text()
    run = subprocess.run([sys.executable, "-m", "symcnn", "verify", str(spec), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "verdict: correct" in run.stdout


@pytest.mark.slow
def test_every_printed_formula_of_the_digits_net_reads_back_on_its_default_route(nets):
    """The digits CNN (8 filters on 8 x 8, pooling, softmax over 10), where the notes' formulas
    are longer and the default route is chosen by size: all right."""
    net = nets("digits_cnn")
    refused = {}
    for of, wrt in printed(net):
        answer = net.formula(of, wrt).latex()
        try:
            found = symcnn.verify.verify(net, answer, time_limit=60).verdict
        except symcnn.SymcnnError as error:
            found = str(error)
        if found != RIGHT:
            refused[of, wrt] = found
    assert not refused
