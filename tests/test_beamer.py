"""Beamer slides: the seed's central slide, overlays, sections and an outline, a summary frame
per layer in the course's matrix form (checked in numbers against the derivation), the factor
frames in an appendix, nothing meant for the tool's user, scripts readable when projected.

The shipped decks are checked as they are in ``derivations/slides`` (test_documents keeps them
up to date); the seed's deck is compiled once here (twice through pdfLaTeX, for its outline).
"""

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pytest

import symcnn
from symcnn.latex.matrix_form import gradient_key, layer_rules
from symcnn.latex.pieces import chain_factor_matrices, entries
from conftest import DERIVATIONS

SLIDES = DERIVATIONS / "slides"
needs_beamer = pytest.mark.skipif(
    not shutil.which("pdflatex") or not shutil.which("pdftotext") or not shutil.which("kpsewhich")
    or subprocess.run(["kpsewhich", "beamer.cls", "pgf.sty"], capture_output=True, text=True).stdout.count("\n") != 2,
    reason="pdfLaTeX with Beamer (and pgf) is not installed (make tex)")


def deck(stem: str) -> str:
    return (SLIDES / f"{stem}.tex").read_text()


def frames(tex: str) -> list[str]:
    return re.findall(r"\\begin\{frame\}.*?\\end\{frame\}", tex, re.S)


def titled(tex: str, title: str) -> list[str]:
    return [f for f in frames(tex) if f.startswith(rf"\begin{{frame}}{{{title}")]


LOOKED_AT = ("seed_1d", "pool_softmax", "lenet5")  # the decks issue 18 asked to look at


def compiled(folder, stem: str, passes: int) -> dict:
    """A shipped deck compiled by pdfLaTeX ``passes`` times: its pages' text and its words' heights."""
    (folder / f"{stem}.tex").write_text(deck(stem))
    for _ in range(passes):
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"], cwd=folder,
                       capture_output=True, check=True)
    pdf = str(folder / f"{stem}.pdf")
    pages = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    boxes = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True, check=True).stdout
    heights = [float(y1) - float(y0) for y0, y1 in
               re.findall(r'<word xMin="[^"]+" yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)">', boxes)]
    return {"pages": [p for p in pages if p.strip()], "heights": heights}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    """The decks looked at, compiled, two at a time (the seed's twice, for its outline)."""
    folder = tmp_path_factory.mktemp("slides")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(LOOKED_AT, pool.map(lambda stem: compiled(folder, stem, 2 if stem == "seed_1d" else 1),
                                            LOOKED_AT)))


# -- 1. the seed's central slide -----------------------------------------------------------------

def seed_by_hand():
    """The seed's chain in numbers with NumPy, from the spec's values: the 3x5 matrix of
    padded inputs ``X_{i+k-2}``, ``diag(ReLU'(Z^1))``, ``dloss/dA^1 = W^2 2 (A^2 - y)``, and the product."""
    X = np.array([0, 1, 0, 2, 1, 0, 0], dtype=object)  # [values] X = [1, 0, 2, 1, 0], padded by X_0 = X_6 = 0
    X[1:6] = [1, 0, 2, 1, 0]
    W1, W2, y = [1, 2, -1], [1, -1, Fraction(1, 2), 0, 2], 5
    windows = np.array([[X[i + k] for i in range(5)] for k in range(3)], dtype=object)  # row k, column i
    Z1 = [sum(W1[k] * windows[k, i] for k in range(3)) for i in range(5)]
    A2 = sum(w * max(z, 0) for w, z in zip(W2, Z1))
    relu = np.diag([1 if z > 0 else 0 for z in Z1])
    upstream = np.array([[w * 2 * (A2 - y)] for w in W2], dtype=object)
    return windows, relu, upstream, windows.dot(relu).dot(upstream)


def bmatrix(rows) -> str:
    show = lambda v: rf"\frac{{{v.numerator}}}{{{v.denominator}}}" if isinstance(v, Fraction) and v.denominator > 1 \
        else str(int(v))
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(show(v) for v in row) for row in rows) + r" \end{bmatrix}"


def test_the_seed_deck_has_the_seeds_central_slide_written_out_then_in_numbers():
    tex, net = deck("seed_1d"), symcnn.load(DERIVATIONS / "seed_1d.toml")
    [written] = titled(tex, r"$\partial \operatorname{loss} / \partial W^{1}$ written out")
    shapes = (r"\underset{3 \times 1}{\frac{\partial \operatorname{loss}}{\partial W^{1}}} = "
              r"\underset{3 \times 5}{\frac{\partial Z^{1}}{\partial W^{1}}} \cdot "
              r"\underset{5 \times 5}{\frac{\partial A^{1}}{\partial Z^{1}}} \cdot "
              r"\underset{5 \times 1}{\frac{\partial \operatorname{loss}}{\partial A^{1}}}")
    assert shapes in written
    assert r"\[ Z^{1}_{2} = W^{1}_{1} X_{1} + W^{1}_{2} X_{2} + W^{1}_{3} X_{3} \]" in written  # why column 2 is X_1..X_3
    first, relu, column = chain_factor_matrices(net, "W1")
    assert first.startswith(r"\begin{bmatrix} \overset{Z^{1}_{1}}{\boxed{X_{0}}} & \overset{Z^{1}_{2}}{X_{1}}")
    assert r"\boxed{X_{6}} \end{bmatrix}" in first and r"\mathbf{1}\left[Z^{1}_{3} > 0\right]" in relu
    assert r"2 W^{2}_{5} \left(A^{2} - y\right)" in column
    for k, (dot, factor) in enumerate(zip(["", r"\cdot ", r"\cdot "], [first, relu, column]), start=2):
        assert rf"\onslide<{k}->{{{dot}{factor}}}" in written

    [numbers] = titled(tex, r"$\partial \operatorname{loss} / \partial W^{1}$ in numbers")
    windows, relu, upstream, gradient = seed_by_hand()
    assert [list(r) for r in gradient] == [[2], [2], [Fraction(1, 2)]]
    assert rf"\onslide<2->{{{bmatrix(windows)}}}" in numbers
    assert rf"\onslide<3->{{\cdot {bmatrix(relu)}}}" in numbers
    assert rf"\onslide<4->{{\cdot {bmatrix(upstream)} \onslide<5->{{= {bmatrix(gradient)}}}}}" in numbers


def test_the_central_slide_through_a_softmax_is_in_the_courses_convention():
    """pool_softmax's only chain small enough is W^3_0's: dZ^3/dW^3_0 . dA^3/dZ^3 . dloss/dA^3 with the
    course's diag(A^3) - A^3 (A^3)^T and -y/A^3, written out and in numbers; the numbers are NumPy's
    softmax of the network's Z^3, and their product is the derivation's dloss/dW^3_0."""
    tex, net = deck("pool_softmax"), symcnn.load(DERIVATIONS / "pool_softmax.toml")
    [written] = titled(tex, r"$\partial \operatorname{loss} / \partial W^{3}_{0}$ written out")
    assert r"- A^{3}_{1} A^{3}_{2} & - A^{3}_{1} A^{3}_{3}" in written and r"- \frac{y_{1}}{A^{3}_{1}}" in written
    [numbers] = titled(tex, r"$\partial \operatorname{loss} / \partial W^{3}_{0}$ in numbers")
    values = net.evaluate()
    z = np.array([float(v) for v in np.asarray(values["A3"]).flat])  # symcnn's A^3 is Z^3, the scores
    y = np.array([float(v) for v in np.asarray(values["y"]).flat])
    a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    shown = [np.array([[float(x) for x in row.split("&")] for row in m.split(r"\\")])
             for m in re.findall(r"\\begin\{bmatrix\} (.*?) \\end\{bmatrix\}", numbers.split(r"\begin{aligned}")[0])]
    identity, jacobian, upstream, product = shown
    assert np.allclose(jacobian, np.diag(a) - np.outer(a, a), atol=5e-4)
    assert np.allclose(upstream[:, 0], -y / a, atol=5e-3)
    assert np.allclose(identity, np.eye(3)) and np.allclose(product[:, 0], a - y, atol=5e-4)


# -- 2. overlays, 3. sections and the outline --------------------------------------------------------

def test_chain_rules_are_built_factor_by_factor():
    for stem in ("seed_1d", "pool_softmax", "lenet5"):
        [chains, *_] = titled(deck(stem), "The chain rule, with shapes")
        # lhs = dZ/dW (overlay 2) . dA/dZ (3) . dloss/dA (4), the k-th factors of every parameter together
        assert re.search(r"= \\onslide<2->\{\\underset\{[^}]*\}\{\\frac\{\\partial Z\^\{1\}\}"
                         r"\{\\partial W\^\{1\}\}\}\} "
                         r"\\onslide<3->\{\\cdot \\underset\{[^}]*\}\{\\frac\{\\partial A\^\{1\}\}", chains), stem
        assert r"\onslide<4->{\cdot \underset" in chains, stem


@needs_beamer
def test_overlays_make_pages_and_the_outline_lists_the_sections(pdfs):
    tex = deck("seed_1d")
    main, appendix = (re.findall(r"\\section\{([^}]*)\}", part) for part in tex.split(r"\appendix"))
    assert main == ["The network and its forward pass", "Worked example", "Backpropagation", "Backpropagation in numbers"]
    assert appendix == ["General formulas", "The factors, one by one"]
    assert r"\begin{frame}{Outline}\tableofcontents\end{frame}" in tex
    pages = pdfs["seed_1d"]["pages"]
    outline = pages[1]
    assert "Outline" in outline and all(name in outline for name in main)
    # a page per frame and one more for every overlay past the first
    overlays = [max(map(int, re.findall(r"\\onslide<(\d+)->", f)), default=1) for f in frames(tex)]
    assert sum(n > 1 for n in overlays) >= 3 and len(pages) == sum(overlays) > len(frames(tex))
    # the written-out chain on four pages: the shapes alone, then one factor more on each
    built = [p for p in pages if "∂W 1 written out" in p]
    padding = [("X 6" in page.replace("X6", "X 6")) for page in built]
    assert len(built) == 4 and padding == [False, True, True, True]


# -- 4. a summary frame per layer in the course's matrix form ------------------------------------------

NETWORKS = {
    "strided 1D, tanh and sigmoid, pooling": {
        "input": [2, 7], "dims": 1, "loss": "squared", "layers": [
            {"type": "conv", "filters": 3, "size": 3, "stride": 2, "padding": 1, "activation": "tanh"},
            {"type": "conv", "filters": 2, "size": 2, "padding": 1, "activation": "sigmoid"},
            {"type": "maxpool", "size": 2}, {"type": "dense", "units": 2}]},
    "2D conv into conv, dense into dense, softmax": {
        "input": [1, 4, 4], "loss": "cross_entropy", "layers": [
            {"type": "conv", "filters": 2, "size": 2, "activation": "relu"},
            {"type": "conv", "filters": 2, "size": 3, "padding": 1, "activation": "relu"},
            {"type": "dense", "units": 3, "activation": "relu"}, {"type": "dense", "units": 2}]},
    "padding wider than the filter": {
        "input": [6], "loss": "squared", "layers": [
            {"type": "conv", "size": 2, "padding": 1, "activation": "relu"},
            {"type": "conv", "filters": 2, "size": 2, "padding": 2, "activation": "tanh"},
            {"type": "dense", "units": 1}]},
}


def networks():
    return [pytest.param(symcnn.load(DERIVATIONS / "seed_1d.toml"), id="seed"),
            pytest.param(symcnn.load(DERIVATIONS / "pool_softmax.toml"), id="pool_softmax"),
            *[pytest.param(symcnn.Network(spec), id=name) for name, spec in NETWORKS.items()]]


def backward_from_the_rules(net, values, rng) -> list[str]:
    """The backward pass run from the printed rules alone (each layer's rules in NumPy, from
    the loss back, each from the gradients the rules before it gave), checked rule by rule
    against the entry-by-entry derivation at ``values`` and the general formulas at three
    entries; the tensors whose gradients the rules stated."""
    known = {name: np.array(array, dtype=float) for name, array in net.evaluate(values).items()}
    substitutions = net.substitutions(values)
    stated = []
    for l in range(len(net.spec.layers), 0, -1):
        for rule in layer_rules(net, l)[0]:
            known[gradient_key(rule.wrt)] = rule.value(known)
            derived = np.array(list(net.gradient(rule.wrt).xreplace(substitutions)), dtype=float)
            assert np.allclose(known[gradient_key(rule.wrt)].ravel(), derived), (l, rule.latex)
            formula = net.formula("L", rule.wrt)
            for position in rng.choice(derived.size, min(3, derived.size), replace=False):
                (index, _), = entries(net, rule.wrt, [position])
                at = float(formula.at(*index).xreplace(substitutions))
                assert np.isclose(at, known[gradient_key(rule.wrt)].flat[position]), (l, rule.latex, index)
            stated.append(rule.wrt)
    return stated


@pytest.mark.parametrize("net", networks())
def test_the_matrix_form_agrees_with_the_derivation_at_random_numbers(net, rng):
    shapes = net.spec.shapes()
    values = {name: rng.uniform(-1, 1, shape).round(3) for name, shape in shapes.items() if name != "y"}
    values["y"] = 1 if net.spec.loss == "cross_entropy" else rng.uniform(-1, 1, shapes["y"]).round(3)
    stated = backward_from_the_rules(net, values, rng)
    assert set(net.parameters) <= set(stated)
    assert {f"Z{l}" for l, layer in enumerate(net.spec.layers, 1) if layer.type != "maxpool"} <= set(stated)


def test_pooling_routes_a_tie_to_the_first_maximum(rng):
    """pool_softmax with a zero image and negative biases: A^1 = 0, every window a tie; the
    routing rule sends each gradient to the window's first entry, as the derivation does."""
    net = network("pool_softmax")
    values = {"X": np.zeros((1, 5, 5)), "W1": rng.uniform(-1, 1, (2, 1, 3, 3)), "b1": [-0.5, -0.25],
              "W3": rng.uniform(-1, 1, (8, 3)), "b3": rng.uniform(-1, 1, 3), "y": 2}
    assert "A1" in backward_from_the_rules(net, values, rng)


D = r"\frac{\partial \operatorname{loss}}"  # dloss/d...
COURSE_FORMS = [  # (network, layer, rule, its LaTeX)
    ("seed_1d", 2, 0, rf"\delta^{{2}} = {D}{{\partial Z^{{2}}}} = 2\left(A^{{2}} - y\right)"),
    ("seed_1d", 2, 1, rf"{D}{{\partial W^{{2}}}} = A^{{1}} \left(\delta^{{2}}\right)^\top"),
    ("seed_1d", 1, 0, rf"\delta^{{1}} = {D}{{\partial Z^{{1}}}} = \operatorname{{ReLU}}'\left(Z^{{1}}\right) \odot "
                   r"W^{2} \delta^{2}"),
    ("seed_1d", 1, 1, rf"{D}{{\partial W^{{1}}}} = \operatorname{{pad}}_{{1}}\left(X\right) \star \delta^{{1}}"),
    ("pool_softmax", 3, 0, rf"\delta^{{3}} = {D}{{\partial Z^{{3}}}} = A^{{3}} - y"),
    ("pool_softmax", 3, 1, rf"{D}{{\partial W^{{3}}}} = \operatorname{{vec}}\left(A^{{2}}\right) "
                           r"\left(\delta^{3}\right)^\top"),
    ("pool_softmax", 3, 2, rf"{D}{{\partial W^{{3}}_{{0}}}} = \delta^{{3}}"),
    ("pool_softmax", 2, 0, rf"\operatorname{{vec}}\left({D}{{\partial A^{{2}}}}\right) = W^{{3}} \delta^{{3}}"),
    ("pool_softmax", 2, 1, rf"{D}{{\partial A^{{1}}_{{c,i,j}}}} = \sum_{{\substack{{\text{{windows }} (m,n) "
                           r"\text{ whose first} \\ \text{maximum is } A^{1}_{c,i,j}}} "
                           rf"{D}{{\partial A^{{2}}_{{c,m,n}}}}"),
    ("pool_softmax", 1, 2, rf"{D}{{\partial W^{{1}}_{{0,f}}}} = \sum_{{i,j}} \delta^{{1}}_{{f,i,j}}"),
    ("2D conv into conv, dense into dense, softmax", 1, 0,
     rf"{D}{{\partial A^{{1}}_{{c}}}} = \sum_{{f=1}}^{{2}} \operatorname{{pad}}_{{1}}"
     r"\left(\delta^{2}_{f}\right) \star \operatorname{flip}\left(W^{2}_{f,c}\right)"),
    ("2D conv into conv, dense into dense, softmax", 3, 0,
     rf"\delta^{{3}} = {D}{{\partial Z^{{3}}}} = \operatorname{{ReLU}}'\left(Z^{{3}}\right) \odot "
     r"W^{4} \delta^{4}"),
    ("2D conv into conv, dense into dense, softmax", 4, 0, rf"\delta^{{4}} = {D}{{\partial Z^{{4}}}} = A^{{4}} - y"),
    ("padding wider than the filter", 1, 0,
     rf"{D}{{\partial A^{{1}}}} = \operatorname{{crop}}_{{1}}\left(\sum_{{f=1}}^{{2}} \delta^{{2}}_{{f}} \star "
     r"\operatorname{flip}\left(W^{2}_{f}\right)\right)"),
    ("strided 1D, tanh and sigmoid, pooling", 1, 2,
     rf"{D}{{\partial W^{{1}}_{{f,c}}}} = \operatorname{{pad}}_{{1}}\left(X_{{c}}\right) \star "
     r"\operatorname{dilate}_{2}\left(\delta^{1}_{f}\right)"),
]


def network(name: str):
    """A network of :data:`NETWORKS`, or a shipped spec's."""
    return symcnn.Network(NETWORKS[name]) if name in NETWORKS else symcnn.load(DERIVATIONS / f"{name}.toml")


@pytest.mark.parametrize("name, l, k, latex", COURSE_FORMS)
def test_the_matrix_form_is_the_courses(name, l, k, latex):
    assert layer_rules(network(name), l)[0][k].latex == latex


def test_the_notes_say_what_the_operators_mean():
    notes = layer_rules(network("pool_softmax"), 3)[1]
    assert notes == [r"A^{3} = \operatorname{softmax}\left(Z^{3}\right)"]
    assert layer_rules(network("seed_1d"), 1)[1] == [r"\operatorname{ReLU}'(z) = \mathbf{1}\left[z > 0\right]",
                                                  r"\star:\ \text{the layers' convolution (cross-correlation)}",
                                                  r"\operatorname{pad}_{q}:\ q \text{ zeros on each side}"]
    assert layer_rules(network("padding wider than the filter"), 1)[1][0] == \
        r"k - 1 - p = -1 \text{ (a full convolution, cropped)}"


def test_each_layer_has_its_summary_frame_in_the_main_part():
    for stem in ("seed_1d", "pool_softmax", "lenet5"):
        tex, net = deck(stem), symcnn.load(DERIVATIONS / f"{stem}.toml")
        main = tex.split(r"\appendix")[0]
        for l in range(1, len(net.spec.layers) + 1):
            summary = [f for f in frames(main) if rf"{{Layer {l} backwards: " in f]
            assert summary and all(rule.latex in "".join(summary) for rule in layer_rules(net, l)[0]), (stem, l)


# -- 5. factor frames in the appendix; LeNet-5's main part ---------------------------------------

def test_factor_frames_are_in_the_appendix_and_lenets_main_part_is_short():
    for stem in ("seed_1d", "pool_softmax", "lenet5"):
        main, appendix = deck(stem).split(r"\appendix")
        factor = re.compile(r"\\begin\{frame\}\{\$\\partial [^$]*\$: \$\d+ \\times \d+\$\}")
        assert not factor.search(main) and factor.search(appendix), stem
        assert r"and the gradients, in index form" in appendix, stem
    assert len(frames(deck("lenet5").split(r"\appendix")[0])) <= 25


# -- 6. nothing for the tool's user; readable when projected ------------------------------------------

@pytest.mark.parametrize("stem", sorted(p.stem for p in SLIDES.glob("*.tex")))
def test_no_text_for_the_tools_user_on_slides(stem):
    tex = deck(stem).split(r"\begin{document}")[1]
    for text in ("symcnn derive", "--max-size", "too long for this frame", "at normal size"):
        assert text not in tex, (stem, text)


@needs_beamer
@pytest.mark.parametrize("stem", LOOKED_AT)
def test_no_word_on_slides_is_under_7_pt(pdfs, stem):
    """Column labels (``\\overset``), shapes under factors and every index, frame numbers too:
    pdftotext's word boxes are 0.885 of the font size in Computer Modern Sans."""
    heights = pdfs[stem]["heights"]
    small = [h for h in heights if h < 0.885 * 7 - 0.01]
    assert heights and not small, small
