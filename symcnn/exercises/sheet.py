r"""A question or a solution as a short list of blocks, printed as a LaTeX document or as HTML.

A block is prose (with inline ``$...$`` math), display math, or a heading.  The same blocks
become ``question.tex`` / ``solution.tex`` (compiled by pdflatex) and the HTML of a
PrairieLearn question (MathJax reads the same ``$...$`` and ``$$...$$``).  The math inside
comes from the notation printer (:mod:`symcnn.latex`); only numbers are written out here.
"""

from __future__ import annotations

import html as html_escape
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy
from sympy import Rational, latex

from ..latex import build_pdf, matrix_latex, to_latex

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\pagestyle{empty}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.7em}
\setcounter{MaxMatrixCols}{40}
"""


@dataclass(frozen=True)
class Block:
    kind: str  # "text" (prose, inline $...$ math), "math" (display) or "heading"
    body: str


def text(body: str) -> Block:
    return Block("text", body)


def math(body: str) -> Block:
    return Block("math", body)


def heading(body: str) -> Block:
    return Block("heading", body)


def latex_document(title: str, blocks) -> str:
    """A complete ``.tex`` file: the title, then the blocks in order."""
    parts = [PREAMBLE, r"\begin{document}", rf"\section*{{{title}}}"]
    for block in blocks:
        if block.kind == "math":
            parts.append(rf"\[ {block.body} \]")
        elif block.kind == "heading":
            parts.append(rf"\subsection*{{{block.body}}}")
        else:
            parts.append(block.body)
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


def html(blocks) -> str:
    """The blocks as HTML for PrairieLearn (math left for MathJax, every character escaped)."""
    parts = []
    for block in blocks:
        body = html_escape.escape(block.body, quote=False)
        if block.kind == "math":
            parts.append(f"<p>$${body}$$</p>")
        elif block.kind == "heading":
            parts.append(f"<p><strong>{body}</strong></p>")
        else:
            parts.append(f"<p>{body}</p>")
    return "\n".join(parts)


def number(value, factor: bool = False) -> str:
    """An exact number as written by hand: ``3``, ``-2`` (``(-2)`` as a ``factor``), ``\\frac{1}{2}``."""
    value = Rational(value)
    written = latex(value)
    return f"\\left({written}\\right)" if factor and value < 0 else written


def products(pairs) -> str:
    """``w_1 x_1 + w_2 x_2 + ...`` with the numbers written out: ``(-1) \\cdot 0 + 1 \\cdot 2``."""
    return " + ".join(rf"{number(w, True)} \cdot {number(x, True)}" for w, x in pairs)


def write(folder: Path, name: str, title: str, blocks, pdf: bool) -> list[Path]:
    """``folder/name.tex`` (and its PDF): the files written."""
    tex = folder / f"{name}.tex"
    tex.write_text(latex_document(title, blocks), encoding="utf-8")
    if pdf:
        build_pdf(tex)
        return [tex, tex.with_suffix(".pdf")]
    return [tex]


def expressions_latex(matrix, row_labels=None, max_size: int = 10 ** 6) -> str:
    """A SymPy matrix as a ``bmatrix`` in the course's notation (rows labelled if asked)."""
    return matrix_latex(matrix.shape, lambda r, c: to_latex(matrix[r, c]), row_labels, None, max_size)


def values_latex(array) -> str:
    """A numeric tensor ``(C, *spatial)`` as one ``bmatrix`` per channel, a row for 1D data (as
    the exercises ask for it)."""
    array = np.asarray(array, dtype=object)
    maps = array.reshape(-1, *array.shape[-2:]) if array.ndim >= 2 else array.reshape(1, 1, -1)
    return r" \quad ".join(expressions_latex(sympy.Matrix(m.tolist()), max_size=32) for m in maps)


def entry_labels(net, name: str) -> list[str]:
    """The entries of a tensor, ``Z^{1}_{1}, ..., Z^{1}_{5}``, labelling a column's rows."""
    return [to_latex(s) for s in net.symbol_array(name).flat]
