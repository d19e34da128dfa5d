"""LaTeX: the seed's slide notation, the course's forms, round trips through the parser."""

import random
import re
import shutil

import pytest
import sympy

import symcnn
from symcnn.latex import (build_pdf, formula_parts, forward_latex, gradient_column, jacobian_matrix, partial,
                          to_latex)
from symcnn.latex.layout import escape_text, estimated_width
from symcnn.latex.matrices import grid_latex
from symcnn.latex.pieces import factor_matrix
from symcnn.latex.worked import backward_values, number
from symcnn.parse import parse_latex
from symcnn.spec import describe, parse_spec
from conftest import DERIVATIONS


@pytest.fixture(scope="module")
def seed():
    return symcnn.load(DERIVATIONS / "seed_1d.toml")


def test_seed_dZ1_dW1_has_two_boxes_and_five_labels(seed):
    text = jacobian_matrix(seed, "Z1", "W1")
    matrix = text.split(r"\end{bmatrix}")[0]
    assert re.findall(r"\\boxed\{([^{}]*\{[^{}]*\})\}", matrix) == ["X_{0}", "X_{6}"]
    assert re.findall(r"\\overset\{(Z\^\{1\}_\{\d\})\}", matrix) == [f"Z^{{1}}_{{{i}}}" for i in range(1, 6)]
    labels = text.split(r"\end{bmatrix}")[1]
    assert re.findall(r"\}(W\^\{1\}_\{\d\}) (?:\\\\|\\end)", labels) == ["W^{1}_{1}", "W^{1}_{2}", "W^{1}_{3}"]


def test_row_labels_carry_their_rows_height():
    """Each label sits level with its row: its row's cells are in a \\vphantom beside it."""
    text = grid_latex([[r"\frac{1}{2}", "x"], ["y", "z"]], row_labels=["a", "b"])
    assert r"\vphantom{\frac{1}{2} x}a" in text and r"\vphantom{y z}b" in text


def test_wide_matrices_need_no_preamble_setting():
    """amsmath's bmatrix stops at 10 columns (MaxMatrixCols); wider ones are an array."""
    assert grid_latex([["1"] * 10]).startswith(r"\begin{bmatrix}")
    assert grid_latex([["1"] * 11]).startswith(r"\left[\begin{array}{ccccccccccc}")


def test_seed_forward_pass_reads_like_the_slide_with_one_name_for_the_loss(seed):
    equations = [equation for _, equation, _ in forward_latex(seed)]
    assert equations == [r"Z^{1}_{i} = \left(W^{1}\right)^\top X_{[i-1,i,i+1]}",
                         r"A^{1} = \operatorname{ReLU}\left(Z^{1}\right)",
                         r"A^{2} = \left(W^{2}\right)^\top A^{1}",
                         r"\operatorname{loss}\left(A^{2}, y\right) = \left(A^{2} - y\right)^{2}"]
    assert [note for _, _, note in forward_latex(seed)][0] == r"Z^{1}: 5 \times 1"
    assert not re.search(r"(?<![A-Za-z\\])L(?![a-z])", seed.latex().split(r"\begin{document}")[1])



@pytest.mark.parametrize("stride, padding, window", [(2, 0, "2i-1,2i,2i+1"), (3, 1, "3i-3,3i-2,3i-1"),
                                                     (1, 0, "i,i+1,i+2")])
def test_a_strided_window_is_written_simplified(stride, padding, window):
    net = symcnn.Network({"input": [9], "layers": [{"type": "conv", "size": 3, "stride": stride,
                                                    "padding": padding, "bias": False}]})
    assert forward_latex(net)[0][1] == rf"Z^{{1}}_{{i}} = \left(W^{{1}}\right)^\top X_{{[{window}]}}"

def test_seed_chain_has_shapes_under_factors(seed):
    text = seed.latex()
    assert (r"\underset{3 \times 1}{\frac{\partial \operatorname{loss}}{\partial W^{1}}} = "
            r"\underset{3 \times 5}{\frac{\partial Z^{1}}{\partial W^{1}}} \cdot "
            r"\underset{5 \times 5}{\frac{\partial A^{1}}{\partial Z^{1}}} \cdot "
            r"\underset{5 \times 1}{\frac{\partial \operatorname{loss}}{\partial A^{1}}}") in text
    assert seed._repr_latex_().startswith("$$") and r"\partial W^{2}" in seed._repr_latex_()


def test_padding_is_mentioned_only_where_there_is_padding(seed):
    text = seed.latex()
    w1, w2 = text.split(r"\subsection*{Written out: $\partial \operatorname{loss} / \partial W^{")[1:3]
    assert "With the padding set to 0:" in w1 and "With the padding set to 0:" not in w2 and "The gradient:" in w2
    assert "Layer 1 written out, padding boxed:" in text
    unpadded = symcnn.load(DERIVATIONS / "seed_conv_1d.toml").latex()
    assert "Layer 1 written out:" in unpadded and "padding boxed" not in unpadded and "zero padded" not in unpadded


def test_the_full_chain_goes_through_pooling_and_the_dense_layer():
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    text = net.latex()
    full = re.search(r"In full, for the first parameter:\n\\\[ (.*?) \\\]", text, re.S).group(1)
    steps = [("L", "W1"), ("Z1", "W1"), ("A1", "Z1"), ("A2", "A1"), ("Z3", "A2"), ("A3", "Z3"), ("L", "A3")]
    at = [full.find(partial(of, wrt, flat=wrt == "A2")) for of, wrt in steps]
    assert -1 not in at and at == sorted(at), at
    assert r"\underset{512 \times 128}{\frac{\partial A^{2}}{\partial A^{1}}}" in full
    # the dense layer reads A^2 (8 x 4 x 4) flattened: its factor is by vec(A^2)
    assert r"\underset{128 \times 10}{\frac{\partial Z^{3}}{\partial \operatorname{vec}\left(A^{2}\right)}}" in full
    assert r"\paragraph{$\partial A^{2} / \partial A^{1}$: $512 \times 128$}" in text


def test_course_forms_softmax_sigma_and_tanh():
    """The course's softmax: A^L = softmax(Z^L), dloss/dA^L = -y / A^L, dA^L/dZ^L = diag(A^L) - A^L (A^L)^T,
    delta^L = A^L - y (the derivation's own A^L = Z^L never shows)."""
    net = symcnn.Network({"input": [3], "loss": "cross_entropy", "layers": [
        {"type": "dense", "units": 3, "activation": "sigmoid"}, {"type": "dense", "units": 2, "activation": "tanh"},
        {"type": "dense", "units": 2}]})
    assert net.formula("L", "Z3").latex(ranges=False) == \
        r"\delta^{3}_{j} = \frac{\partial \operatorname{loss}}{\partial Z^{3}_{j}} = A^{3}_{j} - y_{j}"
    assert net.formula("L", "A3").latex() == \
        r"\frac{\partial \operatorname{loss}}{\partial A^{3}_{k}} = -\frac{y_{k}}{A^{3}_{k}} \qquad k = 1, 2"
    assert net.formula("A3", "Z3").latex(ranges=False) == (r"\frac{\partial A^{3}_{j}}{\partial Z^{3}_{k}} = "
                                                           r"A^{3}_{j} \left(\mathbf{1}\left[j = k\right] - A^{3}_{k}\right)")
    assert r"\operatorname{diag}\left(A^{3}\right) - A^{3} \left(A^{3}\right)^\top" in net.formula("A3", "Z3").latex()
    assert net.formula("A3").latex(ranges=False).startswith(r"A^{3}_{j} = \operatorname{softmax}\left(Z^{3}\right)_{j}")
    assert net.formula("L").latex() == r"\operatorname{loss} = -\sum_{k=1}^{2} y_{k} \log A^{3}_{k}"
    assert [equation for _, equation, _ in forward_latex(net)][-3:] == [
        r"Z^{3} = \left(W^{3}\right)^\top A^{2} + W^{3}_{0}", r"A^{3} = \operatorname{softmax}\left(Z^{3}\right)",
        r"\operatorname{loss}\left(A^{3}, y\right) = -\sum_{k=1}^{2} y_{k} \log A^{3}_{k}"]
    assert net.formula("A1", "Z1").latex(ranges=False).endswith(
        r"\sigma\left(Z^{1}_{j}\right) \left(1 - \sigma\left(Z^{1}_{j}\right)\right)")
    assert r"1 - \tanh^{2}{\left(Z^{2}_{j} \right)}" in net.formula("A2", "Z2").latex(ranges=False)
    # entry by entry, as a document writes the factors out
    assert jacobian_matrix(net, "L", "A3") == \
        r"\begin{bmatrix} - \frac{y_{1}}{A^{3}_{1}} \\ - \frac{y_{2}}{A^{3}_{2}} \end{bmatrix}"
    softmax = jacobian_matrix(net, "A3", "Z3")
    assert r"A^{3}_{1} \left(1 - A^{3}_{1}\right)" in softmax and r"- A^{3}_{1} A^{3}_{2}" in softmax
    column = gradient_column(net, "b3")
    assert r"A^{3}_{1} - y_{1}" in column and "softmax" not in column and "logsumexp" not in column


def test_the_course_softmax_factors_come_from_the_derivation():
    """dloss/dA^L and dA^L/dZ^L entry by entry are the general formulas' entries with the course's
    A^L_k (no hand-written entries): -y_k / A^L_k and diag(A^L) - A^L (A^L)^T from their definitions;
    the cross entropy and the division print as the course writes them."""
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    a = sympy.Matrix([sympy.Symbol(f"A3_{k}", real=True) for k in (1, 2, 3)])
    y = sympy.Matrix([sympy.Symbol(f"y_{k}", real=True) for k in (1, 2, 3)])
    assert factor_matrix(net, "L", "A3") == sympy.Matrix([-y[k] / a[k] for k in range(3)])
    assert (factor_matrix(net, "A3", "Z3") - (sympy.diag(*a) - a * a.T)).expand() == sympy.zeros(3, 3)
    assert formula_parts(net.formula("L"))[0] == r"\operatorname{loss} = -\sum_{k=1}^{3} y_{k} \log A^{3}_{k}"
    assert formula_parts(net.formula("L", "A3"))[0] == \
        r"\frac{\partial \operatorname{loss}}{\partial A^{3}_{k}} = -\frac{y_{k}}{A^{3}_{k}}"
    assert formula_parts(net.formula("A3"))[0] == (r"A^{3}_{j} = \operatorname{softmax}\left(Z^{3}\right)_{j} = "
                                                  r"\frac{e^{Z^{3}_{j}}}{\sum_{k=1}^{3} e^{Z^{3}_{k}}}")
    # a logarithm of anything but one entry keeps its parentheses
    assert to_latex(sympy.log(a[0] + 1)) == r"\log{\left(A^{3}_{1} + 1 \right)}"


def test_softmax_numbers_are_the_course_formulas_in_numpy():
    """The worked numbers of pool_softmax against numpy: A^3 = softmax(Z^3), dloss/dA^3 = -y / A^3,
    dA^3/dZ^3 = diag(A^3) - A^3 (A^3)^T, and their product delta^3 = A^3 - y."""
    import numpy as np
    from symcnn.latex.worked import factor_numbers
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    z = np.array(net.evaluate()["Z3"], dtype=float).ravel()
    a, y = np.exp(z) / np.exp(z).sum(), np.array([0.0, 1.0, 0.0])
    gradients = backward_values(net)
    as_float = lambda m: np.array(m, dtype=float)
    assert np.allclose(as_float(gradients["A3"]), -y / a)
    assert np.allclose(as_float(gradients["Z3"]), a - y)
    jacobian = as_float(factor_numbers(net, "A3", "Z3"))
    assert np.allclose(jacobian, np.diag(a) - np.outer(a, a))
    assert np.allclose(jacobian @ as_float(factor_numbers(net, "L", "A3")).ravel(), a - y)
    text = net.latex()
    shown = re.search(r"A\^\{3\} = \\operatorname\{softmax\}\\left\(Z\^\{3\}\\right\) \\approx "
                      r"\\begin\{bmatrix\} (\S+) \\\\ (\S+) \\\\ (\S+) \\end\{bmatrix\}", text).groups()
    assert np.allclose([float(v) for v in shown], a, rtol=5e-4)
    derivative = re.search(r"\\frac\{\\partial \\operatorname\{loss\}\}\{\\partial A\^\{3\}\} \\approx "
                           r"\\begin\{bmatrix\} (\S+) \\\\ (\S+) \\\\ (\S+) \\end\{bmatrix\}", text).groups()
    assert np.allclose([float(v) for v in derivative], -y / a, rtol=5e-4)
    assert r"\frac{\partial \operatorname{loss}}{\partial A^{3}_{k}} = \operatorname{softmax}" not in text


def test_long_sums_are_elided_term_by_term():
    a, b, c, d = sympy.symbols("A1_1 A1_2 W2_1 W2_2", real=True)
    assert to_latex(a * c + b * d + a * b, max_terms=2) == r"A^{1}_{1} A^{1}_{2} + \cdots + A^{1}_{2} W^{2}_{2}"


def test_numbers_are_exact_or_four_digits():
    assert number(sympy.Rational(1, 4)) == r"\frac{1}{4}"
    assert number(sympy.Float(0.1)) == "0.1"
    assert number(sympy.log(1 + sympy.E + sympy.E ** 2) - 2) == "0.4076"
    assert number(sympy.Float(2.0)) == "2"


def test_the_cross_entropy_is_a_number():
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    text = net.latex()
    loss = re.search(r"\\operatorname\{loss\} = -\\log A\^\{3\}_\{2\} \\approx (\S+)", text).group(1)
    value = net.evaluate()["L"][()]
    assert abs(float(loss) - float(value)) < 5e-4 * abs(float(value)) and len(loss) <= 7
    assert not re.search(r"\d\.\d{6,}", text), "no long decimals"


def test_worked_vectors_are_columns_and_the_table_says_5_by_1(seed):
    text = seed.latex()
    assert r"$5 \times 1$" in text and r"1 \times 5" not in text
    assert r"X \text{ zero padded} = \begin{bmatrix} \mathbf{0} \\ \mathbf{1} \\ \mathbf{0} \\ 2 \\ 1 \\ 0 \\ 0 \end{bmatrix}" in text


def test_worked_numbers_are_the_seed_network_by_hand(seed):
    """X = (1, 0, 2, 1, 0), W1 = (1, 2, -1), W2 = (1, -1, 1/2, 0, 2), y = 5, by hand:
    Z1 = (2, -1, 3, 4, 1), A2 = 11/2, loss 1/4, delta2 = 1, delta1 = (1, 0, 1/2, 0, 2),
    dloss/dW1_k = sum_i X_{i+k-2} delta1_i = (0 + 0 + 0 + 0 + 1 * 2, 1 + 0 + 1 + 0 + 0, 0 + 0 + 1/2 + 0 + 0)
    = (2, 2, 1/2) (X_0 = X_6 = 0), dloss/dW2 = A1 delta2 = (2, 0, 3, 4, 1)."""
    values = seed.evaluate()
    assert list(values["Z1"].ravel()) == [2, -1, 3, 4, 1] and values["L"][()] == sympy.Rational(1, 4)
    gradients = backward_values(seed)
    assert list(gradients["Z1"].ravel()) == [1, 0, sympy.Rational(1, 2), 0, 2]
    assert list(gradients["W1"].ravel()) == [2, 2, sympy.Rational(1, 2)]
    assert list(gradients["W2"].ravel()) == [2, 0, 3, 4, 1]
    text = seed.latex()
    assert r"Z^{1}_{1} = W^{1}_{1} \boxed{X_{0}} + W^{1}_{2} X_{1} + W^{1}_{3} X_{2} = 1 \cdot 0 + 2 \cdot 1 + \left(-1\right) \cdot 0 = 2" in text
    assert r"\frac{\partial \operatorname{loss}}{\partial W^{1}} = \begin{bmatrix} 2 \\ 2 \\ \frac{1}{2} \end{bmatrix}" in text


def test_backward_numbers_agree_with_the_compiled_gradients():
    """The document's exact numbers against the array kernels (an independent path)."""
    import numpy as np
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    exact = backward_values(net)
    values = net.spec.values
    model = net.compile()
    params = {name: np.asarray(values[name], dtype=float).reshape(model.init_params(0)[name].shape)
              for name in net.parameters}
    X = np.asarray(values["X"], dtype=float)[None]
    _, grads = model.loss_and_grad(params, X, np.array([1]))
    for name in net.parameters:
        assert np.allclose(np.asarray(exact[name], dtype=float).ravel(), grads[name].ravel(), atol=1e-12), name


def test_layer_wording_is_singular_and_plural():
    spec = parse_spec({"input": [5], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "padding": 1, "bias": False, "activation": "relu"},
        {"type": "conv", "filters": 2, "size": 3}, {"type": "dense", "units": 1, "bias": False},
        {"type": "dense", "units": 3, "activation": "tanh"}]})
    assert [describe(layer) for layer in spec.layers] == [
        "1 filter of size 3, stride 1, padding 1, no bias, ReLU",
        "2 filters of size 3, stride 1, padding 0, bias, no activation",
        "1 unit, no bias, no activation", "3 units, bias, tanh"]
    summary = symcnn.Network(spec).summary()
    assert "(s)" not in summary and "1 weight," not in summary and "weights in total" in summary


@pytest.mark.parametrize("title, expected", [
    ("x^2 & 50% of $5_a #{b}~\\", r"x\textasciicircum{}2 \& 50\% of \$5\_a \#\{b\}\textasciitilde{}\textbackslash{}"),
    ("σ(Z) → ŷ, Δ", r"$\sigma$(Z) $\to$ ?, $\Delta$"), ("Café – naïve", "Café – naïve")])
def test_titles_are_escaped_for_latex(title, expected):
    assert escape_text(title) == expected


def test_estimated_widths_are_on_the_wide_side():
    assert estimated_width(r"\frac{\partial Z^{1}_{i}}{\partial W^{1}_{k}} = X_{i+k-2}") > 60
    assert estimated_width(r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}") < estimated_width(
        r"\begin{bmatrix} 1 & 2 & 3 & 4 \end{bmatrix}")


def same(a, b):
    return sympy.expand(a - b) == 0


def round_trips(net, expressions):
    for expression in expressions:
        text = to_latex(expression)
        assert same(parse_latex(text, net), expression), text


def test_round_trip_seed_everything(seed):
    entries = [e for name in seed.flow[1:] for e in seed.expr(name)]
    for name in seed.parameters:
        for factor in seed.chain(name, full=True).factors:
            entries += list(factor.matrix)
        entries += list(seed.gradient(name))
    entries += list(seed.jacobian("Z1", "W1"))
    round_trips(seed, entries)


@pytest.mark.parametrize("spec", ["digits_cnn.toml", "seed_conv_2d.toml", "seed_maxpool.toml"])
def test_round_trip_samples_of_larger_networks(spec):
    net = symcnn.load(DERIVATIONS / spec)
    entries = [e for name in net.flow[1:] for e in net.expr(name)]
    if net.spec.loss:
        flow = net.flow
        entries += [e for i in range(len(flow) - 1)
                    for e in net.derivation.local_jacobian(flow[i + 1], flow[i]).entries.values()]
        entries += [e for name in net.parameters for e in net.derivation.loss_gradient(name).entries.values()
                    if sympy.count_ops(e) < 400]
    round_trips(net, random.Random(1).sample(entries, min(150, len(entries))))


def test_equations_round_trip(seed):
    for line in [r"Z^{1}_{2} = W^{1}_{1} X_{1} + W^{1}_{2} X_{2} + W^{1}_{3} X_{3}"]:
        assert seed.verify(line).correct


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="TeX Live is not installed (make tex)")
def test_latex_errors_are_reported_in_one_line(tmp_path):
    broken = tmp_path / "broken.tex"
    broken.write_text(r"\documentclass{article}\begin{document}$\frac{1}$\end{document}")
    with pytest.raises(symcnn.SymcnnError, match=r"broken.tex: LaTeX failed: "):
        build_pdf(broken)


def test_a_pooling_output_of_one_entry_has_no_free_index():
    """Axes of size 1 are left out of an entry's name, so their position is 1 in the window."""
    net = symcnn.Network({"input": [4, 4], "layers": [{"type": "conv", "filters": 2, "size": 3, "padding": 1},
                                                       {"type": "maxpool", "size": 4}]})
    assert forward_latex(net)[2][1] == r"A^{2}_{c} = \max_{1 \le a \le 4,\ 1 \le b \le 4} A^{1}_{c,a,b}"
    single = symcnn.Network({"input": [3], "layers": [{"type": "conv", "size": 3, "bias": False}]})
    assert forward_latex(single)[0][1] == r"Z^{1}_{1} = \left(W^{1}\right)^\top X_{[1,2,3]}"
    wide = symcnn.Network({"input": [4, 6], "layers": [{"type": "maxpool", "size": [4, 2]}]})
    assert forward_latex(wide)[0][1] == r"A^{1}_{j} = \max_{1 \le a \le 4,\ 1 \le b \le 2} X_{a,2j+b-2}"


def test_a_dense_layer_reads_its_input_as_vec_where_it_is_flattened(seed):
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    assert forward_latex(net)[3][1] == \
        r"Z^{3} = \left(W^{3}\right)^\top \operatorname{vec}\left(A^{2}\right) + W^{3}_{0}"
    text = net.latex()
    assert r"{\frac{\partial \operatorname{loss}}{\partial \operatorname{vec}\left(A^{2}\right)}} = " \
           r"\underset{8 \times 3}{\frac{\partial Z^{3}}{\partial \operatorname{vec}\left(A^{2}\right)}}" in text
    assert r"\paragraph{$\partial Z^{3} / \partial \operatorname{vec}\left(A^{2}\right)$: $8 \times 3$}" in text
    assert r"\frac{\partial Z^{3}}{\partial A^{2}}" not in text and r"\top A^{2}" not in text
    # a vector (the seed's 5 x 1 A^1) is read as it is
    assert forward_latex(seed)[2][1] == r"A^{2} = \left(W^{2}\right)^\top A^{1}"
    assert r"\operatorname{vec}" not in seed.latex()


def test_one_letter_one_range_on_a_line():
    """The vec ordering note never reuses a letter of the formula beside it (i = 1..8 and vec(A^2)_{..i..})."""
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    assert net.formula("L", "A2").latex().endswith(
        r"i = 1, \dots, 8,\quad \operatorname{vec}\left(A^{2}\right)_{4(c-1)+2(p-1)+q} = A^{2}_{c,p,q}")
    checked = 0
    for spec in ("pool_softmax.toml", "digits_cnn.toml", "lenet5.toml"):
        net = symcnn.load(DERIVATIONS / spec)
        for of, wrt in [*((rule.of, None) for rule in net.rules), *((f, w) for f in net.flow[1:]
                                                                    for w in [*net.flow[:-1], *net.parameters])]:
            try:
                equation, notes = formula_parts(net.formula(of, wrt))
            except symcnn.SymcnnError:
                continue  # no such derivative
            for note in notes:
                flat = re.fullmatch(r".*= A\^\{\d\}_\{([a-z,]+)\}", note)
                if flat:
                    letters = set(flat.group(1).split(","))
                    others = " ".join([equation, *[n for n in notes if n != note]])
                    used = set(re.findall(r"(?<![a-zA-Z\\])([a-z])(?![a-zA-Z])", others))
                    assert not letters & used, (spec, of, wrt, letters & used)
                    checked += 1
    assert checked >= 12, checked  # dZ/dvec(A), dZ/dW, dloss/dvec(A), dloss/dW of each network's dense layer


def test_max_pooling_states_the_tie_rule_and_marks_the_first_maximum():
    """pool_softmax's first window holds two 1s (A^1_{1,1,1} and A^1_{1,1,3}): the first is underlined,
    and backpropagation routes the gradient there (numpy's argmax also takes the first)."""
    import numpy as np
    net = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    tie = r"\operatorname*{argmax}\text{: the first maximum (row-major) on a tie}"
    assert net.formula("A2", "A1").latex().endswith(tie)
    assert r"\text{: the first maximum (row-major) on a tie}" in net.formula("L", "Z1").latex()
    text = net.latex()
    assert r"= \max\left(\underline{1}, 0, 1, 0, 0, 0, 0, 0, 0\right) = 1" in text
    assert "on a tie, max pooling takes (and backpropagation routes the gradient to) the first maximum" in text
    pooling = text[text.index(r"\paragraph{Layer 2: max pooling}"):text.index(r"\paragraph{Layer 3: dense}")]
    table = re.search(r"A\^\{1\} = (\\begin\{bmatrix\}.*?\\end\{bmatrix\})", pooling).group(1)
    assert table.count(r"\underline{") == 1
    assert table.startswith(r"\begin{bmatrix} \underline{\mathbf{1}} & \mathbf{0} & \mathbf{1}")
    window = np.array(net.evaluate()["A1"], dtype=float)[0, :3, :3]
    assert np.unravel_index(np.argmax(window), window.shape) == (0, 0)
    delta = np.array(backward_values(net)["A1"], dtype=float)[0]
    assert delta[0, 0] != 0 and delta[0, 2] == 0


def test_a_huge_factor_is_counted_on_columns_spread_over_it():
    """Past the budget (a 512 x 512 input's dA1/dZ1 has 2.7e11 entries) only evenly spread
    columns are counted: the same columns agree with the full count of the digits net's pooling."""
    from symcnn.derive.pattern import counts
    formula = symcnn.load(DERIVATIONS / "digits_cnn.toml").formula("A2", "A1")  # 512 x 128, a 2 x 2 window a column
    assert counts(formula) == (4 * 128, 4, 128)
    assert counts(formula, budget=8 * 512 * 10) == (4 * 10, 4, 10)


def test_worked_numbers_are_certain_digits_even_through_cancellation():
    """``approximate`` (the worked numbers' evaluation, node by node at doubling precision)
    agrees to 15 digits with the same number written without cancellation, also where 260
    digits cancel (1 - tanh^2(300), which SymPy's ``N`` gives as 0); 0 stays 0."""
    from symcnn.latex.worked import approximate
    x = sympy.Integer(300)
    cases = [(1 - sympy.tanh(x) ** 2, 4 * sympy.exp(-2 * x) / (1 + sympy.exp(-2 * x)) ** 2),
             (1 - 1 / (1 + sympy.exp(-x)), sympy.exp(-x) / (1 + sympy.exp(-x))),
             (sympy.sqrt(2) - sympy.Rational(7, 5), sympy.Rational(1, 25) / (sympy.sqrt(2) + sympy.Rational(7, 5)))]
    for value, without_cancellation in cases:
        expected = sympy.N(without_cancellation, 30)
        assert abs(approximate(value) - expected) <= abs(expected) * 1e-14, value
    assert float(approximate(sympy.tanh(3) - sympy.tanh(3))) == 0
