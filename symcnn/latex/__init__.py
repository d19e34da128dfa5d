"""LaTeX in the course's notation: the printer, the pieces of a derivation, documents and slides.

- :mod:`~symcnn.latex.printer`: :class:`NotationPrinter` (SymPy's LaTeX printer in the slides'
  notation) and :func:`to_latex`; :mod:`symcnn.parse` reads the same notation back;
- :mod:`~symcnn.latex.formulas`: the forward pass as on the slides, general formulas, chain rules
  with shapes; :mod:`~symcnn.latex.matrices`: matrices, numeric tables, sparsity drawings;
- :mod:`~symcnn.latex.softmax`: the course's ``A^L = softmax(Z^L)`` over the derivation's own
  convention (its forward rule, loss and two factors, in symbols and in numbers);
- :mod:`~symcnn.latex.pieces` and :mod:`~symcnn.latex.worked`: Jacobians written out and their
  structure, gradients, the worked numbers;
- :mod:`~symcnn.latex.matrix_form`: each layer's backpropagation in the course's matrix form;
- :mod:`~symcnn.latex.document` (an article), :mod:`~symcnn.latex.beamer` (slides) and
  :mod:`~symcnn.latex.fragments` (pieces to paste into other notes), laid out by
  :mod:`~symcnn.latex.layout` at normal size only; :func:`build_pdf` compiles them.
"""

from .beamer import slides
from .content import elided_factors
from .document import document
from .formulas import chain_latex, formula_latex, formula_parts, forward_latex, partial, shape_latex
from .fragments import KINDS as FRAGMENT_KINDS, fragment, parse_fragment
from .matrices import DEFAULT_MAX_SIZE, matrix_latex, pattern_latex
from .pdf import build_pdf
from .pieces import gradient_column, jacobian_matrix
from .printer import NotationPrinter, entry_latex, index_latex, tensor_latex, to_latex

__all__ = ["DEFAULT_MAX_SIZE", "FRAGMENT_KINDS", "NotationPrinter", "build_pdf", "chain_latex", "document",
           "elided_factors", "entry_latex", "formula_latex", "formula_parts", "forward_latex", "fragment",
           "gradient_column", "index_latex", "jacobian_matrix", "matrix_latex", "parse_fragment", "partial",
           "pattern_latex", "shape_latex", "slides", "tensor_latex", "to_latex"]
