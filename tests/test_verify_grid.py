r"""verify's grid route (symcnn/verify/grid.py, issue 20), attacked from outside.

1. The oracle: at a point drawn by :class:`PointValues`, the gradients the grid route reads
   for every parameter equal the compiled model's (an independent derivation and code path),
   and its forward values equal the exact forward pass (``net.evaluate``).
2. Attack answers with their expected verdicts, each derived by hand: LeNet-5 (where the grid
   is the default route) and small networks forced onto the grid (``exact=False``), where the
   exact route is the referee.
3. The adversarial corpus on the grid: no false verdict.
4. What the grid got wrong once, kept as plain tests (symcnn's own printed formulas: test_verify_printed.py).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import symcnn
from symcnn.verify import verify
from symcnn.verify.grid import PointValues, _AnswerTables
from adversarial import cases
from conftest import DERIVATIONS
from test_verify import NETWORKS

RIGHT, WRONG, UNREADABLE = "correct", "wrong", "unreadable"

# A squared loss after every activation and both layer kinds: conv 2D on two channels,
# tanh, pooling, a sigmoid dense layer, a linear output of two units.
SQUARED = {"input": [2, 4, 4], "loss": "squared", "layers": [
    {"type": "conv", "filters": 2, "size": 3, "padding": 1, "activation": "tanh"},
    {"type": "maxpool", "size": 2},
    {"type": "dense", "units": 3, "activation": "sigmoid"},
    {"type": "dense", "units": 2}]}
# The same shape with tanh on the conv and a single output, for the small attack table.
SMALL = {"input": [4, 4], "loss": "squared", "layers": [
    {"type": "conv", "filters": 2, "size": 3, "padding": 1, "activation": "tanh"},
    {"type": "maxpool", "size": 2},
    {"type": "dense", "units": 3, "activation": "sigmoid"},
    {"type": "dense", "units": 1, "bias": False}]}


def network(name):
    if name in ("SQUARED", "SMALL"):
        return symcnn.Network(SQUARED if name == "SQUARED" else SMALL)
    if name in NETWORKS:
        spec = NETWORKS[name]
        return symcnn.load(spec) if not isinstance(spec, dict) else symcnn.Network(spec)
    return symcnn.load(DERIVATIONS / f"{name}.toml")


@pytest.fixture(scope="module")
def nets():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = network(name)
        return cache[name]
    return get


def verdict(net, answer, **kwargs):
    try:
        return verify(net, answer, **kwargs).verdict
    except symcnn.SymcnnError:
        return UNREADABLE


# -- 1. the oracle -----------------------------------------------------------------------------

def _inputs(net, point):
    """The point's inputs as the compiled model and ``net.evaluate`` take them (float64)."""
    shapes = net.spec.shapes()
    params = {name: point.arrays[name].astype(float) for name in shapes if name not in ("X", "y")}
    X = point.arrays["X"].astype(float).reshape((1, *shapes["X"]))
    if shapes["y"] == ():  # a one-hot class: the compiled model takes its 0-based label
        one_hot = point.arrays["y"].astype(float)
        return params, X, np.array([int(np.argmax(one_hot))]), one_hot
    y = point.arrays["y"].astype(float).reshape(shapes["y"])
    return params, X, y[None], y


@pytest.mark.parametrize("name, seed", [("pool_softmax", 1), ("digits_cnn", 2), ("SQUARED", 3)])
def test_grid_gradients_and_forward_values_equal_independent_ones(name, seed):
    """Every parameter's gradient as the grid route reads it (``dloss/d(wrt)`` at every written
    index, from the named gradients of :class:`PointValues`) against the compiled model's
    ``loss_and_grad``; every ``Z^l, A^l`` and the loss against the exact forward pass."""
    net = network(name)
    point = PointValues(net, np.random.default_rng(seed), None)
    tables = _AnswerTables(net, None, point)
    params, X, y_batch, y = _inputs(net, point)
    loss, grads = net.compile().loss_and_grad(params, X, y_batch)
    for wrt, expected in grads.items():
        written = tuple(n for n, kept in zip(net.shape(wrt), net.general.kept(wrt)) if kept)
        got = np.asarray(tables.derivative("L", wrt, list(np.indices(written) + 1)), dtype=float)
        got = got.reshape(expected.shape)
        assert np.abs(expected).max() > 1e-3, wrt  # not a vacuous comparison of zeros
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max(), err_msg=wrt)
    grid_loss = float(point.formulas(net.formula("L").expression, {}))
    assert grid_loss == pytest.approx(loss, rel=1e-10)

    exact = net.evaluate({**params, "X": X[0], "y": y})
    for tensor in [n for n in net.flow[1:] if n != "L"]:
        values = np.asarray(exact[tensor], dtype=float).reshape(point.arrays[tensor].shape)
        np.testing.assert_allclose(point.arrays[tensor].astype(float), values, rtol=1e-10, atol=1e-12, err_msg=tensor)
    assert float(exact["L"]) == pytest.approx(grid_loss, rel=1e-10)


# -- 2. attack answers -------------------------------------------------------------------------

W3 = r"\frac{\partial L}{\partial W^3_{f,c,a,b}} = \sum_{i=1}^{10} \sum_{j=1}^{10} "
W6 = r"\frac{\partial L}{\partial W^6_{i,j}} = A^5_i "
W1 = r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=1}^{28} \sum_{j=1}^{28} "
DA2 = r"\frac{\partial L}{\partial A^2_{c,i,j}} = \sum_{f=1}^{16} \sum_{a=1}^{5} \sum_{b=1}^{5} "
B7 = r"\frac{\partial L}{\partial W^7_{0,j}} = "
Z3 = r"Z^3_{f,i,j} = \sum_{c=1}^{6} \sum_{a=1}^{5} \sum_{b=1}^{5} W^3_{f,c,a,b} "

# (--wrt, answer, verdict): LeNet-5, checked on the grid by default; 2-4 s each
LENET_FAST = [
    ("W3", W3 + r"A^2_{c,i+a-1,j+b-1} \delta^3_{f,i,j}", RIGHT),
    ("W3", W3 + r"A^2_{c,i+a-2,j+b-1} \delta^3_{f,i,j}", WRONG),                     # index shifted
    ("b1", r"\frac{\partial L}{\partial W^1_{0,f}} = \sum_{i=1}^{28} \sum_{j=1}^{28} \delta^1_{f,i,j}", RIGHT),
    ("b7", B7 + r"\hat{y}_j - y_j", RIGHT),                                          # the prediction
    ("W6", W6 + r"\sum_{k=1}^{10} W^7_{j,k} \delta^7_k", WRONG),                     # relu' missing
    (None, Z3 + r"A^2_{c,i+a-1,j+b-1}", WRONG),                                      # bias missing
]
LENET_SLOW = [
    ("W3", W3 + r"A^2_{c,i+a-1,j+b-1} \frac{\partial L}{\partial Z^3_{f,i,j}}", RIGHT),
    ("W3", W3 + r"A^2_{c,i+a-1,j+b-1} \mathbb{1}[Z^3_{f,i,j}>0] \frac{\partial L}{\partial A^3_{f,i,j}}", RIGHT),
    ("W3", W3 + r"A^2_{c,i+a-1,j+b-1} \frac{\partial L}{\partial A^3_{f,i,j}}", WRONG),  # relu' missing
    ("W3", W3 + r"A^2_{c,j+a-1,i+b-1} \delta^3_{f,i,j}", WRONG),                     # rows and columns swapped
    ("W3", r"\frac{\partial L}{\partial W^3_{1,1,1,1}} = \sum_{i=1}^{10}\sum_{j=1}^{10} A^2_{1,i,j} \delta^3_{1,i,j}", RIGHT),
    ("W1", W1 + r"X_{i+a-3,j+b-3} \delta^1_{f,i,j}", RIGHT),
    ("W1", r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=3}^{26} \sum_{j=3}^{26} X_{i+a-3,j+b-3} \delta^1_{f,i,j}", WRONG),
    ("W1", W1 + r"X_{i+a-1,j+b-1} \delta^1_{f,i,j}", WRONG),                          # padding forgotten
    ("W1", W1 + r"X_{i+b-3,j+a-3} \delta^1_{f,i,j}", WRONG),                          # a and b swapped
    ("b1", r"\frac{\partial L}{\partial W^1_{0,f}} = \sum_{i=1}^{27} \sum_{j=1}^{28} \delta^1_{f,i,j}", WRONG),
    ("b1", r"\frac{\partial L}{\partial W^1_{0,f}} = \sum_{i=1}^{30} \sum_{j=0}^{28} \delta^1_{f,i,j}", WRONG),  # past delta^1's 28 x 28: sum-range
    ("A2", DA2 + r"W^3_{f,c,a,b} \delta^3_{f,i-a+1,j-b+1}", RIGHT),
    ("A2", DA2 + r"W^3_{f,c,a,b} \delta^3_{f,i+a-1,j+b-1}", WRONG),
    ("A4", r"\frac{\partial L}{\partial A^4_{c,p,q}} = \sum_{j=1}^{120} W^5_{25(c-1)+5(q-1)+p,j} \delta^5_j", WRONG),
    ("W6", W6 + r"\mathbb{1}[Z^6_j > 0] \sum_{k=1}^{10} W^7_{j,k} \delta^7_k", RIGHT),
    ("W6", W6 + r"\operatorname{ReLU}'(Z^6_j) \sum_{k} W^7_{j,k} (\hat y_k - y_k)", RIGHT),
    ("W6", W6 + r"\mathbb{1}[Z^6_j > 0] \sum_{k=1}^{10} W^7_{k,j} \delta^7_k", WRONG),  # W^7 transposed
    ("W6", r"\frac{\partial L}{\partial W^6_{i,j}} = A^6_i \delta^6_j", WRONG),        # the layer's own output
    ("W7", r"\frac{\partial L}{\partial W^7_{i,j}} = A^6_i (A^7_j - y_j)", RIGHT),      # A^7 = softmax(Z^7)
    ("W7", r"\frac{\partial L}{\partial W^7_{i,j}} = A^6_j (A^7_i - y_i)", WRONG),
    ("W7", r"\frac{\partial L}{\partial W^7_{i,j}} = \sum_{i=1}^{84} A^6_i \delta^7_j", WRONG),  # a sum shadows i
    ("b7", B7 + r"A^7_j - y_j", RIGHT),
    ("b7", B7 + r"\frac{e^{A^7_j}}{\sum_{m=1}^{10} e^{A^7_m}} - y_j", RIGHT),          # symcnn's logits
    ("b7", B7 + r"\sum_{m=1}^{10} \delta_{jm} A^7_m - y_j", RIGHT),
    ("b7", B7 + r"Z^7_j - y_j", WRONG),                                               # softmax missing
    ("b7", B7 + r"y_j - A^7_j", WRONG),
    ("b7", B7 + r"\frac{\partial L}{\partial A^7_j}", WRONG),
    ("b7", B7 + r"\frac{1}{0}", WRONG),
    ("b7", B7 + r"\frac{e^{A^7_j}}{\sum_{m=1}^{10} e^{A^7_m}} - A^7_j", UNREADABLE),  # both conventions
    ("b7", r"\frac{\partial L}{\partial W^7_0} = A^7 - y", RIGHT),                    # a whole vector
    ("A7", r"\frac{\partial L}{\partial A^7_k} = -\frac{y_k}{A^7_k}", RIGHT),
    ("A7", r"\frac{\partial L}{\partial A^7_k} = A^7_k - y_k", WRONG),                 # that is delta^7
    ("Z7", r"\delta^7_k = A^7_k - y_k", RIGHT),
    ("Z7", r"\delta^7_k = \delta^7_k", UNREADABLE),                                   # itself
    ("Z7", r"\delta^7_k = \delta^8_k", UNREADABLE),                                   # no such layer
    (None, Z3 + r"A^2_{c,i+a-2,j+b-2} + W^3_{0,f}", WRONG),
    (None, r"A^1_{f,i,j} = \max(0, Z^1_{f,i,j})", RIGHT),
    (None, r"A^1_{f,i,j} = Z^1_{f,i,j}", WRONG),
    (None, r"A^2_{c,i,j} = \max(A^1_{c,2i-1,2j-1}, A^1_{c,2i-1,2j}, A^1_{c,2i,2j-1}, A^1_{c,2i,2j})", RIGHT),
    (None, r"A^2_{c,i,j} = \max(A^1_{c,2i-1,2j-1}, A^1_{c,2i-1,2j}, A^1_{c,2i,2j-1}, A^1_{c,2i,2j+1})", WRONG),
    (None, r"A^2_{c,i,j} = \max(Z^1_{c,2i-1,2j-1}, Z^1_{c,2i-1,2j}, Z^1_{c,2i,2j-1}, Z^1_{c,2i,2j})", WRONG),
    (None, r"A^7_k = \frac{e^{Z^7_k}}{\sum_{m=1}^{10} e^{Z^7_m}}", RIGHT),
    (None, r"L = -\sum_{k=1}^{10} y_k \log A^7_k", RIGHT),
    (None, r"L = \sum_{k=1}^{10} y_k \log A^7_k", WRONG),
    (None, r"Z^7_j = \sum_{i=1}^{84} W^7_{i,j} A^6_i + W^7_{0,j}", RIGHT),
    (None, r"Z^7_j = \sum_{i=1}^{84} W^7_{j,i} A^6_i + W^7_{0,j}", WRONG),
]


@pytest.fixture(scope="module")
def lenet():
    return symcnn.load(DERIVATIONS / "lenet5.toml")


@pytest.mark.parametrize("wrt, answer, expected", LENET_FAST, ids=[c[1][:60] for c in LENET_FAST])
def test_lenet_attacks(lenet, wrt, answer, expected):
    assert verdict(lenet, answer, wrt=wrt) == expected


@pytest.mark.slow
@pytest.mark.parametrize("wrt, answer, expected", LENET_SLOW, ids=[c[1][:60] for c in LENET_SLOW])
def test_lenet_attacks_slow(lenet, wrt, answer, expected):
    assert verdict(lenet, answer, wrt=wrt) == expected


SW1 = r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=1}^{4}\sum_{j=1}^{4} X_{i+a-2,j+b-2} "
SZ3 = r"\frac{\partial L}{\partial Z^3_j} = 2(A^4 - y) W^4_j "
SB3 = r"\frac{\partial L}{\partial W^3_{0,j}} = "

# (network, answer, verdict) forced onto the grid; the exact route gives the same verdict
SMALL_CASES = [
    ("SMALL", SW1 + r"\delta^1_{f,i,j}", RIGHT),
    ("SMALL", SW1 + r"(1-\tanh^2(Z^1_{f,i,j})) \frac{\partial L}{\partial A^1_{f,i,j}}", RIGHT),
    ("SMALL", SW1 + r"\frac{\partial L}{\partial A^1_{f,i,j}}", WRONG),                # tanh' missing
    ("SMALL", SW1 + r"\delta^1_{f,j,i}", WRONG),                                        # i and j swapped
    ("SMALL", r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=2}^{3}\sum_{j=2}^{3} X_{i+a-2,j+b-2} \delta^1_{f,i,j}", WRONG),
    ("SMALL", r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{g=1}^{2}\sum_{m=1}^{4}\sum_{n=1}^{4} \frac{\partial L}{\partial Z^1_{g,m,n}} "
              r"\frac{\partial Z^1_{g,m,n}}{\partial W^1_{f,a,b}}", RIGHT),               # the chain rule in index form
    ("SMALL", r"\frac{\partial L}{\partial W^1_{0,f}} = \sum_{i=1}^{4}\sum_{j=1}^{4} \frac{\partial L}{\partial Z^1_{f,i,j}}", RIGHT),
    ("SMALL", SZ3 + r"A^3_j (1 - A^3_j)", RIGHT),
    ("SMALL", SZ3 + r"\sigma'(Z^3_j)", RIGHT),
    ("SMALL", SZ3 + r"\sigma'(A^3_j)", WRONG),                                          # sigma' at A
    ("SMALL", r"\frac{\partial L}{\partial Z^3_j} = (A^4 - y) W^4_j A^3_j (1 - A^3_j)", WRONG),  # factor 2
    ("SMALL", r"\frac{\partial L}{\partial A^2_{c,p,q}} = \sum_{j=1}^{3} W^3_{4(c-1)+2(p-1)+q,j} \delta^3_j", RIGHT),
    ("SMALL", r"\frac{\partial L}{\partial W^3_0} = 2(A^4-y) W^4 \odot A^3 \odot (1 - A^3)", RIGHT),
    ("SMALL", r"\frac{\partial L}{\partial W^4} = 2(A^4-y) (A^3)^T", WRONG),             # transposed
    ("SMALL", r"A^1_{f,i,j} = \frac{e^{Z^1_{f,i,j}} - e^{-Z^1_{f,i,j}}}{e^{Z^1_{f,i,j}} + e^{-Z^1_{f,i,j}}}", RIGHT),
    ("SMALL", r"A^3_j = \frac{1}{1 + e^{Z^3_j}}", WRONG),
    ("SMALL", r"L = (A^4 - y)^2 / 2", WRONG),
    ("pool_softmax", r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=1}^{5} \sum_{j=1}^{5} X_{i+a-2,j+b-2} \delta^1_{f,i,j}", RIGHT),
    ("pool_softmax", SB3 + r"A^3_j - y_j", RIGHT),
    ("pool_softmax", SB3 + r"A^3_j - y_j + \sum_{i=3}^{1} A^3_i", RIGHT),              # an empty sum
    ("pool_softmax", r"\frac{\partial L}{\partial W^3_0} = (A^3 - y)^T", WRONG),
    ("pool_softmax", r"\frac{\partial L}{\partial A^3_k} = -\frac{y_k}{A^3_k}", RIGHT),
    ("pool_softmax", r"L = -\sum_{k=1}^{3} y_k \log A^3_k", RIGHT),
    ("pool", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) \max(A^1_{2m-1}, A^1_{2m})", RIGHT),
    ("pool", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) \max(Z^1_{2m-1}, Z^1_{2m})", WRONG),
]


@pytest.mark.parametrize("name, answer, expected", SMALL_CASES, ids=[f"{c[0]}:{c[1][:50]}" for c in SMALL_CASES])
def test_small_networks_on_the_grid(nets, name, answer, expected):
    assert verdict(nets(name), answer, exact=False) == expected


# the exact route names the mistake of these by trying each mutation (4-13 s each): checked by hand
EXACT_SLOW = {SW1 + r"\frac{\partial L}{\partial A^1_{f,i,j}}", SW1 + r"\delta^1_{f,j,i}",
              r"\frac{\partial L}{\partial W^1_{f,a,b}} = \sum_{i=2}^{3}\sum_{j=2}^{3} X_{i+a-2,j+b-2} \delta^1_{f,i,j}",
              r"A^1_{f,i,j} = \frac{e^{Z^1_{f,i,j}} - e^{-Z^1_{f,i,j}}}{e^{Z^1_{f,i,j}} + e^{-Z^1_{f,i,j}}}"}
AGREED = [c for c in SMALL_CASES if c[1] not in EXACT_SLOW]


@pytest.mark.slow
@pytest.mark.parametrize("name, answer, expected", AGREED, ids=[f"{c[0]}:{c[1][:50]}" for c in AGREED])
def test_small_networks_exact_route_agrees(nets, name, answer, expected):
    assert verdict(nets(name), answer, exact=True) == expected


@pytest.mark.slow
def test_the_table_of_test_verify_on_the_grid(nets):
    """Every verdict of test_verify.TABLE (83 answers on eight networks) holds on the grid."""
    from test_verify import TABLE
    judged = [(network, answer, expected, verdict(nets(network), answer, wrt=wrt, of=of, exact=False))
              for network, wrt, of, answer, expected, _ in TABLE]
    assert [j for j in judged if j[2] != j[3]] == []


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_lenet_on_the_command_line(tmp_path):
    lenet = DERIVATIONS / "lenet5.toml"
    for name, body, code in [("right", W3 + r"A^2_{c,i+a-1,j+b-1} \delta^3_{f,i,j}", 0),
                             ("wrong", W3 + r"A^2_{c,i+a-2,j+b-1} \delta^3_{f,i,j}", 1),
                             ("unbound", W3 + r"A^2_{c,i+a-1,j+b-1} \delta^3_{f,i,k}", 2)]:
        path = tmp_path / f"{name}.tex"
        path.write_text(body)
        done = run_cli("verify", lenet, path, "--wrt", "W3", "--format", "json")
        assert done.returncode == code, done.stderr
        if code == 2:
            assert done.stderr.startswith("symcnn: error: ") and len(done.stderr.strip().splitlines()) == 1
            assert f"{name}.tex: line 1" in done.stderr and "the index k" in done.stderr
            continue
        data = json.loads(done.stdout)
        assert data["verdict"] == ("correct" if code == 0 else "wrong") and done.stderr == ""
        assert any("random point" in note for note in data["notes"])
        if code == 1:
            first = data["steps"][0]["entries"][0]
            assert first["status"] == "wrong" and "A^{2}_{1,i-1,j}" in first["given"]


# -- 3. the adversarial corpus -----------------------------------------------------------------

@pytest.mark.slow
def test_no_false_verdict_on_adversarial_answers_on_the_grid(nets):
    """As test_verify_adversarial.py, every answer forced onto the grid: a wrong answer may be
    refused, never accepted; a right one is accepted; an unreadable one refused."""
    false = []
    for network, wrt, of, answer, expected in cases():
        judged = {RIGHT: "right", WRONG: "wrong", UNREADABLE: "unreadable"}[
            verdict(nets(network), answer, wrt=wrt, of=of, exact=False)]
        if judged != expected and not (expected == "wrong" and judged == "unreadable"):
            false.append((network, answer, expected, judged))
    assert not false, false


# -- 4. findings, fixed and kept as tests -----------------------------------------------------------------------------------

def test_a_tiny_constant_is_a_wrong_answer(nets):
    answer = SB3 + r"A^3_j - y_j + 10^{-14}"
    assert verdict(nets("pool_softmax"), answer, exact=True) == WRONG
    assert verdict(nets("pool_softmax"), answer, exact=False) == WRONG


@pytest.mark.parametrize("exact", [False, True])
def test_the_size_1_channel_index_written_on_the_left(nets, exact):
    answer = r"\frac{\partial L}{\partial W^1_{f,1,a,b}} = \sum_{i=1}^{5} \sum_{j=1}^{5} X_{i+a-2,j+b-2} \delta^1_{f,i,j}"
    try:
        assert verify(nets("pool_softmax"), answer, exact=exact).correct
    except symcnn.SymcnnError as error:  # or a clear refusal that names the place
        assert "line 1, column" in str(error) and "Error:" not in str(error), str(error)


@pytest.mark.slow
def test_a_whole_matrix_answer_on_lenet_in_the_command_lines_time(lenet):
    report = verify(lenet, r"\frac{\partial L}{\partial W^6} = A^5 (\delta^6)^T", time_limit=20)
    assert report.correct


def test_grid_counterexamples_are_points_of_the_network(nets):
    """Each wrong entry's counterexample, fed back to ``net.evaluate``, gives the values the
    report states (to the 4 digits the point is shown with)."""
    net = nets("pool_softmax")
    report = verify(net, SB3 + r"Z^3_j - y_j", exact=False)
    assert report.verdict == WRONG
    for j, entry in enumerate(report.steps[0].entries):
        found = entry.counterexample
        values = net.evaluate({name: np.asarray(v, dtype=float) if name != "y" else int(v)
                               for name, v in found.point.items()})
        one_hot = np.eye(3)[int(found.point["y"])]
        given = float(values["Z3"][j]) - one_hot[j]
        assert float(found.given) == pytest.approx(given, rel=1e-2, abs=1e-2), (j, found.point["y"])


@pytest.mark.slow
def test_lenets_largest_local_jacobian_in_index_form(lenet):
    report = verify(lenet, r"\frac{\partial Z^3_{f,i,j}}{\partial W^3_{g,c,a,b}} = \delta_{fg} A^2_{c,i+a-1,j+b-1}",
                    time_limit=10)
    assert report.correct


def test_an_answer_of_many_entries_on_a_small_net_is_checked_on_the_grid(nets):
    """The digits net is small (exact by default), but its dA^1/dZ^1 has 512 x 512 entries: past
    MANY the answer goes to the grid (28 s exact, under 1 s there); a single entry stays exact."""
    net = nets("digits_cnn")
    whole = r"\frac{\partial A^1_{f,i,j}}{\partial Z^1_{g,m,n}} = \mathbb{1}[Z^1_{f,i,j} > 0] \delta_{fg} \delta_{im} \delta_{jn}"
    report = verify(net, whole)
    assert report.correct and any("random point" in note for note in report.notes)
    assert verify(net, whole.replace("> 0", "< 0")).verdict == WRONG
    assert verify(net, whole.replace(r"\delta_{jn}", "")).verdict == WRONG
    one = r"\frac{\partial A^1_{1,2,3}}{\partial Z^1_{1,2,3}} = \mathbb{1}[Z^1_{1,2,3} > 0]"
    report = verify(net, one)
    assert report.correct and not any("random point" in note for note in report.notes)
