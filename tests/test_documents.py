"""Documents and slides: up to date, compiled by pdfLaTeX, readable at normal size.

Every shipped document (``derivations/*.tex``) and slide deck (``derivations/slides/*.tex``)
is compiled once, in a module-scoped fixture, and its log and PDF are read: no Overfull \\hbox
over 10 pt, no Overfull \\vbox, no word under 3 pt high (``pdftotext -bbox``), no heading alone
at the bottom of a page.  So are the cases that used to fail: ``--max-size 60`` ("Extra
alignment tab") and a title with ``^`` and a Unicode symbol.
"""

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import symcnn
from symcnn.cli import main
from conftest import DERIVATIONS

SPECS = sorted(DERIVATIONS.glob("*.toml"))
SLIDES = DERIVATIONS / "slides"
needs_tex = pytest.mark.skipif(not shutil.which("pdflatex") or not shutil.which("pdftotext"),
                               reason="TeX Live is not installed (make tex)")
needs_beamer = pytest.mark.skipif(not shutil.which("kpsewhich") or not subprocess.run(
    ["kpsewhich", "beamer.cls", "pgf.sty"], capture_output=True, text=True).stdout.count("\n") == 2,
    reason="Beamer (with pgf) is not installed (make tex)")


@pytest.fixture(scope="module")
def generated():
    """Each spec's document and slides, generated once: ``{(stem, kind): text}``."""
    result = {}
    for spec in SPECS:
        net = symcnn.load(spec)
        result[spec.stem, "document"] = net.latex()
        result[spec.stem, "slides"] = net.slides()
    return result


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_shipped_documents_and_slides_are_up_to_date(spec, generated):
    for kind, tex in (("document", spec.with_suffix(".tex")), ("slides", SLIDES / f"{spec.stem}.tex")):
        assert tex.exists(), f"run `make derivations`: {tex} is missing"
        assert tex.read_text() == generated[spec.stem, kind], f"run `make derivations`: {tex} is stale"


def compile_tex(tex: Path) -> dict:
    """pdfLaTeX once on ``tex`` (in its folder): the log's problems and the PDF's words."""
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                            cwd=tex.parent, capture_output=True, text=True)
    log = tex.with_suffix(".log").read_text(errors="replace")
    pdf = tex.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.exists(), f"{tex.name}: " + next(
        (line for line in log.splitlines() if line.startswith("!")), "pdflatex failed")
    wide = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", log)]
    tall = re.findall(r"Overfull \\vbox \(([\d.]+)pt too high\)", log)
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    heights = [float(y1) - float(y0) for y0, y1 in
               re.findall(r'<word xMin="[^"]+" yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)">', boxes)]
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    return {"wide": wide, "tall": tall, "heights": heights, "pages": [p for p in pages if p.strip()]}


def compiled_all(sources: list[tuple[str, str]], folder: Path) -> dict:
    """Write and compile ``(name, text)`` pairs, two at a time: ``{name: compile_tex(...)}``."""
    paths = []
    for name, text in sources:
        path = folder / f"{name}.tex"
        path.write_text(text)
        paths.append(path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([name for name, _ in sources], pool.map(compile_tex, paths)))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shipped")
    sources = [(spec.stem, spec.with_suffix(".tex").read_text()) for spec in SPECS]
    sources += [(f"{spec.stem}-slides", (SLIDES / f"{spec.stem}.tex").read_text()) for spec in SPECS]
    return compiled_all(sources, folder)


def readable(name: str, result: dict):
    too_wide = [w for w in result["wide"] if w > 10]
    assert not too_wide, f"{name}: Overfull \\hbox of {too_wide} pt"
    assert not result["tall"], f"{name}: Overfull \\vbox of {result['tall']} pt"
    small = [h for h in result["heights"] if h < 3]
    assert result["heights"] and not small, f"{name}: {len(small)} of {len(result['heights'])} words under 3 pt"


HEADINGS = re.compile(r"^(The network|Forward pass|Worked example|Backpropagation, for every size|The chain rule, "
                      r"with shapes|The factors of the chain rule|Backpropagation in numbers|Written out:.*|"
                      r"Layer \d+: .*|The loss|From the loss back.*)$")


@needs_tex
@needs_beamer
@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_shipped_documents_and_slides_compile_and_read_at_normal_size(spec, shipped):
    for name in (spec.stem, f"{spec.stem}-slides"):
        readable(name, shipped[name])
    for number, page in enumerate(shipped[spec.stem]["pages"][:-1], start=1):
        last = [line.strip() for line in page.splitlines() if line.strip()][-1]
        assert not HEADINGS.match(last), f"{spec.stem}: the heading {last!r} is alone at the bottom of page {number}"


@needs_tex
def test_the_seed_slide_stays_as_good_as_it_is(shipped):
    """The seed's backpropagation slide in the document, on one page: the chain with dZ1/dW1
    written out with labelled columns and boxed padding, the gradient with the padding set to 0."""
    text = (DERIVATIONS / "seed_1d.tex").read_text()
    assert r"\overset{Z^{1}_{1}}{\boxed{X_{0}}}" in text and r"\boxed{X_{6}}" in text
    pages = shipped["seed_1d"]["pages"]
    slide = [page for page in pages if "Written out: ∂ loss /∂W 1" in page]
    assert len(slide) == 1, "the seed's dloss/dW1 slide is missing or split"
    assert "With the padding set to 0:" in slide[0] and "Z51" in slide[0], "the slide does not fit one page"


@needs_tex
def test_what_used_to_break_latex_now_compiles(tmp_path):
    """``--max-size 60`` (Extra alignment tab), the 5x5 input with 2 filters, max pooling 3
    stride 2 and cross entropy (Dimension too large), a title with ^ and a Unicode symbol."""
    pool = symcnn.load(DERIVATIONS / "pool_softmax.toml")
    titled = (DERIVATIONS / "seed_1d.toml").read_text().replace(
        'title = "CNNs: a taste of backpropagation"', 'title = "σ(Z)^2 → a taste & 100% of $5_"')
    spec = tmp_path / "titled.toml"
    spec.write_text(titled)
    results = compiled_all([("pool60", pool.latex(max_size=60)), ("seed60", symcnn.load(DERIVATIONS / "seed_1d.toml")
                                                                  .latex(max_size=60)),
                            ("titled", symcnn.load(spec).latex())], tmp_path)
    for name, result in results.items():
        readable(name, result)
    assert "σ(Z)ˆ2 → a taste & 100% of $5" in results["titled"]["pages"][0].replace("^", "ˆ")  # \_ is a rule


def test_derive_writes_slides_and_fragments(tmp_path, capsys):
    spec = str(DERIVATIONS / "seed_1d.toml")
    assert main(["derive", spec, "--beamer", "-o", str(tmp_path / "slides.tex")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'slides.tex'}\n"
    assert (tmp_path / "slides.tex").read_text().startswith(r"\documentclass[aspectratio=169,11pt]{beamer}")
    assert main(["derive", spec, "--fragment", "jacobian:Z1,W1"]) == 0
    assert capsys.readouterr().out.startswith(r"\[ \frac{\partial Z^{1}}{\partial W^{1}} = \begin{bmatrix}")


@pytest.mark.parametrize("arguments, message", [
    (["--fragment", "matrix:Z1,W1"], "fragment 'matrix:Z1,W1': unknown kind 'matrix'; kinds: jacobian, chain"),
    (["--fragment", "jacobian:Z1"], "fragment 'jacobian:Z1': jacobian takes two names after ':', e.g. jacobian:Z1,W1"),
    (["--fragment", "jacobian:Z9,W1"], "this network has no tensor 'Z9'"),
    (["--fragment", "chain:W1", "--pdf", "-o", "x.tex"], "derive: --fragment is a piece to paste into your own notes; "
                                                        "it cannot be combined with --pdf"),
    (["--beamer", "--pdf"], "derive: --pdf needs -o OUT.tex")])
def test_derive_rejects_bad_requests_in_one_line(arguments, message, capsys):
    assert main(["derive", str(DERIVATIONS / "seed_1d.toml"), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("symcnn: error: ") and message in error and error.count("\n") == 1, error


def test_no_text_for_the_tool_user_in_students_documents(generated, tmp_path, capsys):
    """How to ask for more of a factor is said on stderr, to the one deriving, not in the .tex."""
    for (stem, kind), text in generated.items():
        body = text.split(r"\begin{document}")[1]
        assert "symcnn" not in body and "--max-size" not in body, (stem, kind)
        if kind == "document":
            assert "for this frame" not in body, stem
    assert main(["derive", str(DERIVATIONS / "digits_cnn.toml"), "-o", str(tmp_path / "digits.tex")]) == 0
    streams = capsys.readouterr()
    assert streams.out == f"wrote {tmp_path / 'digits.tex'}\n"
    assert streams.err == ("symcnn: 6 chain-rule factors are larger than --max-size 12 and shown by first rows and "
                           "columns; symcnn derive --max-size N writes up to N where they fit\n")
    assert main(["derive", str(DERIVATIONS / "seed_1d.toml"), "--beamer", "-o", str(tmp_path / "seed.tex")]) == 0
    assert capsys.readouterr().err == ""  # everything written out


def test_drawings_only_where_structure_teaches(generated):
    """A convolution's band and a pooling's routing are drawn; a dense, diagonal or bias Jacobian is said
    in words (no black rectangle, no strip a few points high)."""
    drawn = lambda text: re.findall(r"Which entries of \$(.*?)\$ can be nonzero", text)
    assert drawn(generated["pool_softmax", "document"]) == [r"\partial Z^{1} / \partial W^{1}",  # 18 x 50: all of it
                                                            r"\partial A^{2} / \partial A^{1}"]
    # a weight Jacobian's first rows and columns would be a black block (one filter meets every output)
    assert drawn(generated["digits_cnn", "document"]) == [r"\partial A^{2} / \partial A^{1}"]
    assert drawn(generated["lenet5", "document"]) == [
        r"\partial A^{2} / \partial A^{1}", r"\partial Z^{3} / \partial A^{2}", r"\partial A^{4} / \partial A^{3}"]
    for stem in ("pool_softmax", "digits_cnn", "lenet5"):  # the slides' appendix draws what the notes draw
        assert set(drawn(generated[stem, "slides"])) <= set(drawn(generated[stem, "document"])), stem
    assert drawn(generated["lenet5", "slides"])
    digits = generated["digits_cnn", "document"]
    assert (r"$\partial Z^{3} / \partial \operatorname{vec}\left(A^{2}\right)$ is $128 \times 10$ and dense: every "
            r"entry can be nonzero") in digits
    assert r"$\partial A^{1} / \partial Z^{1}$ is $512 \times 512$ and diagonal" in digits


def test_a_single_column_has_no_label_inside_its_bracket_and_the_total_is_labelled():
    from symcnn.latex import jacobian_matrix
    from symcnn.latex.content import network_rows
    seed = symcnn.load(DERIVATIONS / "seed_1d.toml")
    column = jacobian_matrix(seed, "Z2", "W2")  # 5 x 1, its rows labelled W^2_1 ... W^2_5
    assert r"\overset" not in column and column.count("W^{2}_{") == 5
    assert r"\overset{Z^{1}_{1}}" in jacobian_matrix(seed, "Z1", "W1")
    # pool_softmax: W1 2 x 1 x 3 x 3 and b1 2, W3 8 x 3 and b3 3
    assert network_rows(symcnn.load(DERIVATIONS / "pool_softmax.toml"))[-2:] == [
        ("loss", "cross entropy", "", "", ""), ("", "", "", "in total", f"{18 + 2 + 24 + 3}")]


def test_gradients_in_numbers_say_how_their_shape_and_the_chain_s_column_agree(generated):
    text = generated["pool_softmax", "document"]
    numbers = text[text.index(r"\subsection*{Backpropagation in numbers}"):]
    assert ("It is in its tensor's shape; the chain rule's $24 \\times 1$ column lists the same entries in "
            "row-major order (channel, row, column).") in numbers
    assert "Each gradient is in its tensor's shape" in numbers
    assert "chain rule's $18 \\times 1$ column" in numbers  # W^1: 2 x 1 x 3 x 3
    assert "chain rule's $3 \\times 1$" not in numbers  # b^3 is a column already


def test_no_corner_shows_only_padding(generated):
    """LeNet-5's dZ1/dW1 (padding 2): its first 10 columns (Z^1_{1,1,1..10}) meet only padding in its first
    rows, so its corner starts at Z^1_{1,3,3}, the first output whose 5 x 5 window is inside the image."""
    from symcnn.latex.pieces import interior_column
    lenet = generated["lenet5", "document"]
    assert (r"Its first rows, its columns from $Z^{1}_{1,3,3}$ on (the first hold only zero padding), "
            r"and the last:") in lenet
    assert r"\left[\begin{array}{cccccccccccc} \cdots & \overset{Z^{1}_{1,3,3}}{X_{1,1}} & " in lenet
    net = symcnn.load(DERIVATIONS / "lenet5.toml")
    assert interior_column(net, "Z1", "W1", 12) == 2 * 28 + 2 and interior_column(net, "Z1", "b1", 12) == 0
    assert interior_column(net, "Z3", "W3", 12) == 0  # no padding


@needs_tex
@needs_beamer
def test_column_labels_on_slides_are_at_least_7_pt(tmp_path):
    """The seed's dZ1/dW1 on a frame: with the slides' label size the labels' indices are 7 pt fonts (pdftotext's
    boxes are 0.885 of the font size), in script style they are 6 pt."""
    from symcnn.latex import jacobian_matrix
    from symcnn.latex.layout import SLIDE_LABELS
    seed = symcnn.load(DERIVATIONS / "seed_1d.toml")
    frame = ("\\documentclass[aspectratio=169,11pt]{beamer}\n\\usepackage{amsmath}\n\\begin{document}\n"
             "\\begin{frame}\\[ %s \\]\\end{frame}\n\\end{document}\n")
    sizes = {}
    for name, size in (("slide", SLIDE_LABELS), ("paper", None)):
        tex = tmp_path / f"{name}.tex"
        tex.write_text(frame % jacobian_matrix(seed, "Z1", "W1", label_size=size))
        subprocess.run(["pdflatex", "-interaction=nonstopmode", tex.name], cwd=tmp_path, capture_output=True,
                       check=True)
        boxes = subprocess.run(["pdftotext", "-bbox", str(tex.with_suffix(".pdf")), "-"], capture_output=True,
                               text=True, check=True).stdout
        sizes[name] = min(float(y1) - float(y0) for y0, y1 in re.findall(
            r'<word xMin="[^"]+" yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)">[^<]', boxes)) / 0.885
    assert sizes["slide"] >= 6.95 and sizes["paper"] < 6.5, sizes
