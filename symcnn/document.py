"""A whole derivation as a LaTeX document, and its PDF built by a real TeX engine.

The document follows the seed's slides, at every size: the network and its sizes, the forward
pass as on the slides and as general formulas in index form, the backpropagation in index form
(``delta^l`` named and reused), then for each parameter the chain rule with each factor's shape
under it and its general gradient formula.  Where the factors fit the page at the slide's size,
they are written out as matrices too (padding boxed, ``dZ/dW``'s columns labelled with their
``Z_i``), with the gradient; past that the general formulas stand alone, and nothing is
derived entry by entry.  A small spec with ``[values]`` gets a worked example.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .derive import Derivation, GeneralDerivation
from .errors import SymcnnError
from .graph import Graph
from .spec import describe
from .latex import (DEFAULT_MAX_SIZE, chain_latex, entries_latex, formula_parts, forward_latex, jacobian_latex,
                    labels, matrix_latex, partial, shape_latex, tensor_latex, to_latex, values_latex)

MAX_TERMS = 6  # a sum in the document shows at most this many terms; the rest is elided

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,landscape,margin=1.6cm]{geometry}
\usepackage{amsmath,amssymb,graphicx,booktabs}
\pagestyle{empty}
\setlength{\parindent}{0pt}
\setcounter{MaxMatrixCols}{40}
% \fit{math}: display math shrunk to the line width only when it is wider than the line
\newsavebox{\fitbox}
\newcommand{\fit}[1]{\sbox{\fitbox}{$\displaystyle #1$}%
  \ifdim\wd\fitbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitbox}}\else\usebox{\fitbox}\fi}
"""


def document(graph: Graph, derivation: Derivation, general: GeneralDerivation,
             max_size: int = DEFAULT_MAX_SIZE) -> str:
    """The complete ``.tex`` source of ``graph``'s derivation."""
    title = graph.spec.title or Path(graph.spec.source).stem.replace("_", " ")
    parts = [PREAMBLE, r"\begin{document}", rf"\section*{{{_text(title)}}}",
             network_section(graph), forward_section(graph, general, max_size)]
    if graph.spec.loss is not None:
        parts.append(general_backprop_section(graph, general))
        parts += [backprop_section(graph, derivation, general, name, max_size) for name in graph.parameters]
    if graph.spec.values and _small(graph, max_size):
        parts.append(example_section(graph))
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


def network_section(graph: Graph) -> str:
    spec = graph.spec
    rows = [rf"input & $X$ & & ${shape_latex(spec.input_shape)}$ & \\"]
    counts = spec.parameter_counts()
    for l, layer in enumerate(spec.layers, start=1):
        details = describe(layer, lambda sizes: f"${shape_latex(sizes)}$")
        rows.append(rf"{l} & {layer.type} & {details} & ${shape_latex(layer.out_shape)}$ & {counts[l]} \\")
    loss = (spec.loss or "none").replace("_", " ")
    return "\n".join([
        r"\subsection*{The network}", r"\begin{tabular}{llllr}", r"\toprule",
        r"layer & type & & output (channels $\times$ size) & weights \\", r"\midrule", *rows,
        r"\midrule", rf"loss & {loss} & & & {graph.parameter_count()} \\", r"\bottomrule",
        r"\end{tabular}"])


def formulas_block(formulas) -> str:
    """General formulas one per line, each with its ranges and conventions in small type."""
    lines = []
    for formula in formulas:
        equation, notes = formula_parts(formula)
        lines.append(rf"\[ {equation} \]")
        if notes:
            lines.append(r"{\small\hfill $" + r",\quad ".join(notes) + r"$\par}")
    return "\n".join(lines)


def forward_section(graph: Graph, general: GeneralDerivation, max_size: int) -> str:
    """The forward pass as on the slides, beside it the first conv layer's entries written out
    (when they are few and short), then every layer's rule in index form."""
    lines = [rf"{equation} && {note}" for equation, note in forward_latex(graph)]
    forward = "\n".join([r"\begin{align*}", " \\\\\n".join(lines), r"\end{align*}"])
    rules = "For every size, in index form:\n" + formulas_block(general.formula(r.of) for r in graph.rules)
    first_conv = next((l for l, layer in enumerate(graph.spec.layers, 1) if layer.type == "conv"), None)
    if first_conv is None or np.prod(graph.shape(f"Z{first_conv}")) > max_size \
            or np.prod(graph.spec.layers[first_conv - 1].weight_shape) > MAX_TERMS:
        return "\n".join([r"\subsection*{Forward pass}", forward, rules])
    entries = entries_latex(graph, f"Z{first_conv}", limit=min(max_size, 6))
    padded = any(graph.spec.layers[first_conv - 1].padding)
    written = "\n".join(["Written out" + (", padding boxed:" if padded else ":"),
                         *[rf"\[ {e} \]" for e in entries]])
    return "\n".join([r"\subsection*{Forward pass}", r"\begin{minipage}[t]{0.55\linewidth}", forward,
                      r"\end{minipage}\hfill\begin{minipage}[t]{0.42\linewidth}", written,
                      r"\end{minipage}", "", rules])


def general_backprop_section(graph: Graph, general: GeneralDerivation) -> str:
    """``delta^l = dloss/dZ^l`` (and ``dloss/dA^l`` of a pooling output) from the loss back to
    the first layer, each in terms of the next; then every parameter's gradient."""
    flow = graph.flow
    named = [name for name in reversed(flow[1:-1]) if general.named(name) or name == flow[-2]]
    gradients = [general.formula("L", name) for name in named]
    parameters = [general.formula("L", name) for name in graph.parameters]
    return "\n".join([r"\subsection*{Backpropagation, for every size}",
                      formulas_block(gradients), "The gradient of every parameter:", formulas_block(parameters)])


def backprop_section(graph: Graph, derivation: Derivation, general: GeneralDerivation, name: str,
                     max_size: int) -> str:
    """The chain rule of one parameter with shapes; where its factors fit the page, each factor
    written out (as on the seed's slide) and the gradient with the padding set to 0."""
    steps = derivation.chain_steps(name)
    head = [rf"\subsection*{{Backpropagation: $\partial {tensor_latex('L')} / \partial {tensor_latex(name)}$}}",
            rf"\[ {chain_latex(graph, name, steps)} \]"]
    if not (_small(graph, max_size) and _fits(graph, [name, *[n for step in steps for n in step]], max_size)):
        sizes = ", ".join(rf"${partial(of, by)}$" for of, by in steps)
        return "\n".join(head + [f"The factors ({sizes}) are too large to write out at this size "
                                  "(\\texttt{symcnn derive --max-size N} writes larger ones); "
                                  "the general formula above gives every entry."])
    chain = derivation.chain(name)
    factors = r" \cdot ".join(jacobian_latex(graph, f.matrix, f.of, f.wrt, max_size) for f in chain.factors)
    gradient = derivation.loss_gradient(name).to_matrix()
    column = matrix_latex(gradient, row_labels=labels(graph, name), max_size=max_size, max_terms=MAX_TERMS)
    padded = bool(graph.padding_symbols())
    return "\n".join(head + [
        rf"\[ \fit{{{partial('L', name)} = {factors}}} \]",
        "With the padding set to 0:" if padded else "The gradient:",
        rf"\[ \fit{{{partial('L', name)} = {column}}} \]"])


def example_section(graph: Graph) -> str:
    """The spec's values pushed through the network, side by side as on the slides: the
    (padded) input and the weights on one line, then each layer's output."""
    values = graph.evaluate()
    given, computed = [], []
    for name, array in values.items():
        if name == "L":
            computed.append(rf"\operatorname{{loss}} = {to_latex(array[()])}")
            continue
        if name == "X" and graph.padding_symbols("X"):
            padded = graph.substitute(graph.symbol_array("X", padded=True))
            given.append(rf"X \text{{ zero padded}} = {values_latex(padded)}")
        (given if name in graph.spec.shapes() else computed).append(rf"{tensor_latex(name)} = {values_latex(array)}")
    rows = [r" \qquad ".join(line) for line in (given, computed) if line]
    return "\n".join([r"\subsection*{Worked example}", *[rf"\[ \fit{{{row}}} \]" for row in rows]])


def _fits(graph: Graph, names, max_size: int) -> bool:
    """Whether every tensor among ``names`` is small enough to write out entry by entry."""
    return all(name == "L" or np.prod(graph.shape(name)) <= max_size for name in names)


def _small(graph: Graph, max_size: int) -> bool:
    """A network small enough to be derived entry by entry in no time (every tensor at most
    ``max_size^2`` entries)."""
    return all(np.prod(shape) <= max_size ** 2 for shape in graph.shapes.values())


def _text(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def build_pdf(tex_path: str | Path) -> Path:
    """Compile a ``.tex`` file beside itself with latexmk (or pdflatex) and return the PDF.

    Raises :class:`~symcnn.errors.SymcnnError` with TeX's first error line when it fails,
    or when no TeX engine is installed.
    """
    tex_path = Path(tex_path).resolve()
    if shutil.which("latexmk"):
        command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet",
                   f"-outdir={tex_path.parent}", tex_path.name]
    elif shutil.which("pdflatex"):
        command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex_path.name]
    else:
        raise SymcnnError("no TeX engine found (latexmk or pdflatex): install TeX Live, e.g. `make tex`")
    result = subprocess.run(command, cwd=tex_path.parent, capture_output=True, text=True)
    pdf = tex_path.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        log = tex_path.with_suffix(".log")
        text = log.read_text(errors="replace") if log.exists() else result.stdout
        first = next((line for line in text.splitlines() if line.startswith("!")), "see the log")
        raise SymcnnError(f"{tex_path}: LaTeX failed: {first.lstrip('! ')} (log: {log})")
    for suffix in (".aux", ".fls", ".fdb_latexmk", ".log"):
        tex_path.with_suffix(suffix).unlink(missing_ok=True)
    return pdf
