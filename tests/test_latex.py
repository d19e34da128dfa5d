"""LaTeX: the seed's slide notation, round trips through the parser, real compilation."""

import random
import re
import shutil
import subprocess

import pytest
import sympy

import symcnn
from symcnn.document import build_pdf
from symcnn.latex import forward_latex, jacobian_latex, to_latex
from symcnn.parse import parse_latex
from conftest import DERIVATIONS

SPECS = sorted(DERIVATIONS.glob("*.toml"))


@pytest.fixture(scope="module")
def seed():
    return symcnn.load(DERIVATIONS / "seed_1d.toml")


def test_seed_dZ1_dW1_has_two_boxes_and_five_labels(seed):
    text = jacobian_latex(seed, seed.jacobian("Z1", "W1"), "Z1", "W1")
    assert re.findall(r"\\boxed\{([^{}]*\{[^{}]*\})\}", text) == ["X_{0}", "X_{6}"]
    assert re.findall(r"\\overset\{(Z\^\{1\}_\{\d\})\}", text) == [f"Z^{{1}}_{{{i}}}" for i in range(1, 6)]
    assert text.endswith(r"\begin{matrix} W^{1}_{1} \\ W^{1}_{2} \\ W^{1}_{3} \end{matrix}")


def test_seed_forward_pass_reads_like_the_slide(seed):
    equations = [equation for equation, _ in forward_latex(seed)]
    assert equations == [r"Z^{1}_{i} = \left(W^{1}\right)^\top X_{[i-1,i,i+1]}",
                         r"A^{1} = \operatorname{ReLU}\left(Z^{1}\right)",
                         r"A^{2} = \left(W^{2}\right)^\top A^{1}",
                         r"L\left(A^{2}, y\right) = \left(A^{2} - y\right)^{2}"]
    assert [note for _, note in forward_latex(seed)][0] == r"Z^{1}: 5 \times 1"


def test_seed_chain_has_shapes_under_factors(seed):
    text = seed.latex()
    assert (r"\underset{3 \times 1}{\frac{\partial \operatorname{loss}}{\partial W^{1}}} = "
            r"\underset{3 \times 5}{\frac{\partial Z^{1}}{\partial W^{1}}} \cdot "
            r"\underset{5 \times 5}{\frac{\partial A^{1}}{\partial Z^{1}}} \cdot "
            r"\underset{5 \times 1}{\frac{\partial \operatorname{loss}}{\partial A^{1}}}") in text
    assert seed._repr_latex_().startswith("$$") and r"\partial W^{2}" in seed._repr_latex_()


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


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_generated_documents_are_up_to_date(spec):
    tex = spec.with_suffix(".tex")
    assert tex.exists(), f"run `make derivations`: {tex.name} is missing"
    assert tex.read_text() == symcnn.load(spec).latex(), f"run `make derivations`: {tex.name} is stale"


needs_tex = pytest.mark.skipif(not shutil.which("pdflatex"), reason="TeX Live is not installed (make tex)")


@needs_tex
@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_generated_documents_compile(spec, tmp_path):
    tex = tmp_path / spec.with_suffix(".tex").name
    shutil.copy(spec.with_suffix(".tex"), tex)
    pdf = build_pdf(tex)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages > 0
    if spec.stem == "seed_1d":  # the slide's dZ1/dW1 and the gradient it gives stay on one page
        text = [subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout for page in range(1, pages + 1)]
        assert "Forward pass" in text[0]
        assert any("∂ loss /∂W 1" in page and "With the padding set to 0" in page for page in text)


@needs_tex
def test_latex_errors_are_reported_in_one_line(tmp_path):
    broken = tmp_path / "broken.tex"
    broken.write_text(r"\documentclass{article}\begin{document}$\frac{1}$\end{document}")
    with pytest.raises(symcnn.SymcnnError, match=r"broken.tex: LaTeX failed: "):
        build_pdf(broken)
