"""Fragments: every kind, self-contained (amsmath only), compiled in a bare document."""

import re
import shutil
import subprocess

import pytest

import symcnn
from symcnn.latex import FRAGMENT_KINDS, fragment
from symcnn.latex.matrices import grid_latex
from conftest import DERIVATIONS

BARE = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n%s\n\\end{document}\n"
REQUESTS = {
    "seed_1d.toml": ["jacobian:Z1,W1", "chain:W1", "chain:W1,full", "formula:L,W1", "formula:Z1", "gradient:W1",
                     "pattern:Z1,W1", "forward", "table:Z1", "worked:Z1"],
    "pool_softmax.toml": ["jacobian:A2,A1", "worked:Z1", "worked:A2", "table:L", "pattern:A2,A1", "table:A3",
                          "formula:L,A3", "jacobian:A3,Z3"],
    "lenet5.toml": ["jacobian:Z1,W1", "chain:W3,full", "formula:L,Z1", "pattern:Z3,W3"],
}


@pytest.fixture(scope="module")
def fragments():
    return {(spec, what): fragment(symcnn.load(DERIVATIONS / spec), what)
            for spec, requests in REQUESTS.items() for what in requests}


def test_every_kind_is_asked_for():
    assert {what.partition(":")[0] for requests in REQUESTS.values() for what in requests} == set(FRAGMENT_KINDS)


def test_fragments_use_no_macro_of_the_preamble(fragments):
    for (spec, what), text in fragments.items():
        assert not re.search(r"\\(bestfit|keepwith|newcommand|def|setcounter|usepackage)\b", text), (spec, what)


def test_fragments_are_what_they_say(fragments):
    jacobian = fragments["seed_1d.toml", "jacobian:Z1,W1"]
    assert r"\overset{Z^{1}_{1}}{\boxed{X_{0}}}" in jacobian and jacobian.count("&") == 3 * 4
    assert fragments["seed_1d.toml", "formula:L,W1"].startswith(
        r"\[ \frac{\partial \operatorname{loss}}{\partial W^{1}_{k}} = \sum_{i=1}^{5} X_{i+k-2} \delta^{1}_{i}")
    assert fragments["seed_1d.toml", "chain:W1,full"].count(r"\frac") == 1 + 5  # dZ1/dW1 . dA1/dZ1 . dZ2/dA1 . dA2/dZ2 . dloss/dA2
    assert r"= 1 \cdot 0 + 2 \cdot 1 + \left(-1\right) \cdot 0 = 2" in fragments["seed_1d.toml", "worked:Z1"]
    assert r"\max\left(\underline{1}, 0, 1, 0, 0, 0, 0, 0, 0\right) = 1" in fragments["pool_softmax.toml", "worked:A2"]
    # the course's A^3 = softmax(Z^3) (Z^3 = (3, 3, 0)): e^3 / (2 e^3 + 1) = 0.4879, 1 / (2 e^3 + 1) = 0.02429
    assert fragments["pool_softmax.toml", "table:A3"] == \
        "\\[ A^{3} = \\begin{bmatrix} 0.4879 \\\\ 0.4879 \\\\ 0.02429 \\end{bmatrix} \\]\n"
    assert r"= -\frac{y_{k}}{A^{3}_{k}}" in fragments["pool_softmax.toml", "formula:L,A3"]
    assert r"A^{3}_{1} \left(1 - A^{3}_{1}\right) & - A^{3}_{1} A^{3}_{2}" in fragments["pool_softmax.toml", "jacobian:A3,Z3"]
    # LeNet-5's dZ1/dW1 (150 x 4704): its first rows and columns from the general formula, dots, the last
    lenet = fragments["lenet5.toml", "jacobian:Z1,W1"]
    assert r"\cdots" in lenet and r"\boxed{X_{-1,-1}}" in lenet and r"W^{1}_{6,5,5}" in lenet


@pytest.mark.parametrize("what, message", [
    ("gradient:W1", "too large to write out entry by entry"), ("table:Z1", "has no [values]")])
def test_large_networks_say_which_fragment_instead(what, message):
    with pytest.raises(symcnn.SymcnnError, match=re.escape(message)):
        fragment(symcnn.load(DERIVATIONS / "lenet5.toml"), what)


needs_tex = pytest.mark.skipif(not shutil.which("pdflatex"), reason="TeX Live is not installed (make tex)")


@needs_tex
def test_fragments_compile_in_a_bare_amsmath_document(fragments, tmp_path):
    for number, ((spec, what), text) in enumerate(fragments.items()):
        tex = tmp_path / f"fragment{number}.tex"
        tex.write_text(BARE % text)
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{spec} {what}: " + next(
            (line for line in result.stdout.splitlines() if line.startswith("!")), "failed")


@needs_tex
def test_row_labels_stay_level_with_their_rows(tmp_path):
    """A tall first row (a fraction of fractions) must not push the labels off their rows."""
    tall = r"\dfrac{\dfrac{1}{2}}{\dfrac{3}{4}}"
    text = r"\[ " + grid_latex([[tall, "p"], ["q", "r"], ["s", "t"]], row_labels=["u", "v", "w"]) + r" \]"
    tex = tmp_path / "labels.tex"
    tex.write_text(BARE % text)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", tex.name], cwd=tmp_path, capture_output=True, check=True)
    boxes = subprocess.run(["pdftotext", "-bbox", str(tex.with_suffix(".pdf")), "-"], capture_output=True, text=True,
                           check=True).stdout
    bottom = {word: float(y) for y, word in re.findall(r'yMax="([^"]+)">([a-z])</word>', boxes)}
    for cell, label in (("p", "u"), ("r", "v"), ("t", "w")):
        assert abs(bottom[cell] - bottom[label]) < 0.5, (cell, label, bottom)
