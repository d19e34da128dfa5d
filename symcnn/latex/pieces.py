"""The pieces of a derivation: a Jacobian written out, its structure, a chain rule in matrices,
a gradient column.  Documents, slides and fragments are assembled from these.

A local Jacobian's entries come from its general formula (:meth:`Formula.at
<symcnn.derive.general.Formula.at>`), only at the rows and columns shown, so the first rows and
columns of LeNet-5's ``dZ^1/dW^1`` cost what the seed's whole ``3 x 5`` does; a gradient column
needs the network entry by entry and is only written out for small networks.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..derive.pattern import counts, nonzero
from ..notation import parse_symbol, symbol_name
from ..shown import course_softmax
from .formulas import document_printing, partial, read_flat, shape_latex, slashed
from .layout import label_latex
from .matrices import DEFAULT_MAX_SIZE, kept, matrix_latex, pattern_latex
from .printer import tensor_latex, to_latex
from .softmax import softmax_factor, softmax_output

MAX_TERMS = 6  # a sum in a written-out matrix shows at most this many terms; the rest is elided
MAX_OPS = 60   # an entry with more operations than this is never written out: it cannot fit a page


def is_small(net, max_size: int = DEFAULT_MAX_SIZE) -> bool:
    """Whether ``net`` is small enough to be derived and evaluated entry by entry in no time
    (every tensor at most ``max_size^2`` entries): written-out gradients and worked numbers."""
    return all(math.prod(shape) <= max_size ** 2 for shape in net.shapes.values())


def size(net, name: str) -> int:
    return 1 if name == "L" else math.prod(net.shape(name))


def entries(net, name: str, positions) -> list[tuple[tuple[int, ...], sympy.Symbol]]:
    """For flat row-major ``positions`` of tensor ``name``: ``(written index, entry symbol)``,
    the written index being what :meth:`Formula.at` takes (axes of size 1 left out)."""
    if name == "L":
        return [((), None)]
    shape, keep = net.shape(name), net.general.kept(name)
    result = []
    for p in positions:
        full = np.unravel_index(p, shape)
        written = tuple(int(i) + 1 for i, k in zip(full, keep) if k)
        result.append((written, sympy.Symbol(symbol_name(name, written), real=True)))
    return result


def padding(net, symbols) -> set:
    """The padding symbols among ``symbols`` (an index outside its tensor), found from the names."""
    found = set()
    for s in symbols:
        ref = parse_symbol(s.name)
        if ref is None or ref.tensor in ("y",):
            continue
        sizes = [n for n, k in zip(net.shape(ref.tensor), net.general.kept(ref.tensor)) if k]
        if any(not 1 <= i <= n for i, n in zip(ref.index, sizes)):
            found.add(s)
    return found


def show(net, **settings):
    """``entry -> LaTeX`` in a written-out matrix: padding boxed, the course's softmax, long
    sums elided (``settings`` override, e.g. ``digits`` for numbers)."""
    def printed(entry):
        entry = sympy.sympify(entry)
        return to_latex(entry, padding(net, entry.free_symbols), **{
            "max_terms": MAX_TERMS, **document_printing(net), **settings})
    return printed


def labelled(net, of: str, wrt: str) -> bool:
    """The seed labels ``dZ/dW``'s rows with the weights and columns with the ``Z_i``."""
    return wrt in net.parameters and of != "L"


def entry_function(net, of: str, wrt: str):
    """``(row, column) -> entry`` of ``d(of)/d(wrt)`` (0-based, the course's layout): from
    the general formula, the course's softmax factors with its ``A^L_k`` (:func:`~symcnn.shown.course_softmax`)."""
    formula = net.formula(of, wrt)
    output = softmax_output(net) if softmax_factor(net, of, wrt) else None

    def at(r, c):
        ((of_index, _),), ((wrt_index, _),) = entries(net, of, [c]), entries(net, wrt, [r])
        return course_softmax(formula.at(*of_index, *wrt_index), output)
    return at


def factor_matrix(net, of: str, wrt: str) -> sympy.Matrix:
    """The whole of ``d(of)/d(wrt)`` (``size(wrt) x size(of)``), entry by entry (:func:`entry_function`)."""
    at = entry_function(net, of, wrt)
    return sympy.Matrix(size(net, wrt), size(net, of), lambda r, c: at(int(r), int(c)))


def jacobian_matrix(net, of: str, wrt: str, max_size: int = DEFAULT_MAX_SIZE, labels: bool | None = None,
                    first_column: int = 0, label_size: str | None = None) -> str:
    """``d(of)/d(wrt)`` written out in the course's layout (``size(wrt) x size(of)``) from its
    general formula: every entry, or above ``max_size`` rows or columns the first ones (the
    columns from ``first_column`` on), dots, and the last; labelled as the seed's slide labels
    ``dZ^1/dW^1`` (always when elided), but for a single column (its label would sit inside
    the bracket); column labels at ``label_size`` (:func:`~symcnn.latex.layout.label_latex`)."""
    entry = entry_function(net, of, wrt)
    rows, cols = size(net, wrt), size(net, of)
    keep_rows, keep_cols = kept(rows, max_size), kept(cols, max_size, first_column)
    row_entries = dict(zip([r for r in keep_rows if r is not None],
                           entries(net, wrt, [r for r in keep_rows if r is not None])))
    col_entries = dict(zip([c for c in keep_cols if c is not None],
                           entries(net, of, [c for c in keep_cols if c is not None])))
    if labels is None:
        labels = labelled(net, of, wrt) or rows > max_size or cols > max_size
    row_labels = col_labels = None
    if labels:
        row_labels = {r: to_latex(s) for r, (_, s) in row_entries.items()}
        col_labels = {c: label_latex(to_latex(s), label_size) for c, (_, s) in col_entries.items()} if cols > 1 \
            else None
    printed = show(net)
    return matrix_latex((rows, cols), lambda r, c: printed(entry(r, c)), row_labels, col_labels, max_size,
                        first_column)


def interior_column(net, of: str, wrt: str, max_size: int) -> int:
    """Where a corner of ``d(of)/d(wrt)`` starts its columns: 0, or, where its first rows and
    columns hold nothing but zero padding (a padded convolution's first outputs), the first
    output whose window lies inside the input (``ceil(p / s)`` along each axis)."""
    rows, cols = size(net, wrt), size(net, of)
    if cols <= max_size or of == "L" or net.spec.layers[net.layer_of(of) - 1].type != "conv" or \
            not of.startswith("Z"):
        return 0
    entry = entry_function(net, of, wrt)
    shown = [sympy.sympify(entry(r, c)) for r in kept(rows, max_size) if r is not None
             for c in kept(cols, max_size)[:-1] if c is not None]
    if any(not e.free_symbols or e.free_symbols - padding(net, e.free_symbols) for e in shown if e != 0):
        return 0
    layer = net.spec.layers[net.layer_of(of) - 1]
    first = [-(-p // s) for p, s in zip(layer.padding, layer.stride)]
    return int(np.ravel_multi_index((0, *first), net.shape(of)))


def readable(matrix) -> bool:
    """Whether every entry is short enough to be worth writing out (at most ``MAX_OPS``
    operations: the seed's gradient has 39)."""
    return all(sympy.count_ops(e) <= MAX_OPS for e in matrix)


def gradient_column(net, wrt: str, max_size: int = DEFAULT_MAX_SIZE) -> str | None:
    """``dloss/d(wrt)`` as a labelled column, padding set to 0, derived entry by entry (a small
    network only); None when its entries are too long to read (see :func:`readable`)."""
    column = net.gradient(wrt)
    if not readable(column):
        return None
    labels = [to_latex(s) for _, s in entries(net, wrt, range(size(net, wrt)))]
    printed = show(net)
    return matrix_latex(column.shape, lambda r, c: printed(column[r, c]), labels, None, max_size)


def chain_matrices(net, wrt: str, max_size: int = DEFAULT_MAX_SIZE) -> str | None:
    """The seed's slide: ``dloss/dW^1 = [dZ^1/dW^1] . [dA^1/dZ^1] . [dloss/dA^1]``, each factor
    written out (padding boxed); None when the last factor's entries are too long to read."""
    factors = chain_factor_matrices(net, wrt, max_size)
    return None if factors is None else f"{partial('L', wrt)} = " + r" \cdot ".join(factors)


def chain_factor_matrices(net, wrt: str, max_size: int = DEFAULT_MAX_SIZE) -> list[str] | None:
    """The factors of :func:`chain_matrices`, each written out; the last is back-propagated
    entry by entry.  None when that one's entries are too long to read."""
    factors = []
    for of, by in net.derivation.chain_steps(wrt):
        if of == "L" and by != net.flow[-2]:
            column, printed = net.gradient(by), show(net)
            if not readable(column):
                return None
            factors.append(matrix_latex(column.shape, lambda r, c: printed(column[r, c]), max_size=max_size))
        else:
            factors.append(jacobian_matrix(net, of, by, max_size))
    return factors


def chain_padding(net, wrt: str) -> bool:
    """Whether the written-out chain of ``wrt`` has padding symbols in it (so its product
    differs from the gradient, where the padding is 0)."""
    of, by = net.derivation.chain_steps(wrt)[0]
    if of == "L" or not net.spec.layers[net.layer_of(of) - 1].type == "conv" or by.startswith("b"):
        return False
    return any(net.general.graph.paddings.get(net.flow[net.flow.index(of) - 1], ()))


def structure_words(net, of: str, wrt: str) -> str:
    """The structure of ``d(of)/d(wrt)`` in words, counted from its general formula."""
    rows, cols = size(net, wrt), size(net, of)
    shape = rf"${slashed(of, wrt, read_flat(net, wrt))}$ is ${shape_latex((rows, cols))}$"
    if softmax_factor(net, of, wrt):
        return f"{shape} and dense: every entry can be nonzero."
    formula = net.formula(of, wrt)
    total, most, counted = counts(formula)
    if total == rows * counted:
        return f"{shape} and dense: every entry can be nonzero (each entry of ${tensor_latex(of)}$ depends on " \
               f"every entry of ${tensor_latex(wrt)}$)."
    sample = min(rows, cols, 64)
    if rows == cols and total == counted and most == 1 and \
            np.array_equal(nonzero(formula, range(sample), range(sample)), np.eye(sample, dtype=bool)):
        return f"{shape} and diagonal: each entry of ${tensor_latex(of)}$ depends on one entry of ${tensor_latex(wrt)}$."
    share = total / (rows * counted)
    percent = f"{share:.0%}" if share >= 0.01 else f"{share:.2%}" if share >= 1e-4 else f"{100 * share:.2g}%"
    percent = percent.replace("%", r"\,\%")
    column = f"(a column for each entry of ${tensor_latex(of)}$)"
    if counted < cols:
        return (f"{shape}: in {counted:,} of its columns, spread evenly, {percent} of the entries can be nonzero, "
                f"at most {most} in a column {column}.")
    return f"{shape}: {total:,} of its {rows * cols:,} entries can be nonzero ({percent}), at most {most} in a column {column}."


MIN_DRAWN = 8  # rows and columns a drawing shows at least: fewer make a strip, not a structure


def draws(net, of: str, wrt: str, max_width: float, max_height: float) -> bool:
    """Whether a drawing of ``d(of)/d(wrt)``'s nonzero entries teaches something: a
    convolution's band (``dZ/dA`` of a conv layer: its first rows and columns show it) or
    its weights' blocks (``dZ/dW``: only the whole of it shows them), or a pooling layer's
    routing, at least ``MIN_DRAWN`` rows and columns of it in the space given.  A dense
    Jacobian, a diagonal one or a bias's few rows are said in words instead."""
    if of == "L" or softmax_factor(net, of, wrt):
        return False
    rows, cols = size(net, wrt), size(net, of)
    shown_rows, shown_cols = min(rows, int(max_height // 2)), min(cols, int(max_width // 2))
    layer = net.spec.layers[net.layer_of(of) - 1]
    if layer.type == "conv" and wrt in net.parameters:
        structured = not wrt.startswith("b") and (shown_rows, shown_cols) == (rows, cols)
    else:
        structured = layer.type == "maxpool" or (layer.type == "conv" and of.startswith("Z"))
    return structured and min(shown_rows, shown_cols) >= MIN_DRAWN


def pattern_block(net, of: str, wrt: str, max_width: float, max_height: float) -> str:
    """A drawing of which entries of ``d(of)/d(wrt)`` can be nonzero, at most ``max_width`` by
    ``max_height`` points (the first rows and columns of a large one; squares of 2 to 4 points),
    with a line saying what it shows."""
    formula = net.formula(of, wrt)
    rows, cols = size(net, wrt), size(net, of)
    shown_rows, shown_cols = min(rows, int(max_height // 2)), min(cols, int(max_width // 2))
    cell = min(4.0, max_width / shown_cols, max_height / shown_rows)
    mask = nonzero(formula, range(shown_rows), range(shown_cols))
    what = "all of it" if (shown_rows, shown_cols) == (rows, cols) else \
        f"its first {shown_rows} rows and {shown_cols} columns"
    name = slashed(of, wrt, read_flat(net, wrt))
    return "\n".join([rf"Which entries of ${name}$ can be nonzero ({what}; a row for each entry of "
                      rf"${tensor_latex(wrt)}$, a column for each entry of ${tensor_latex(of)}$):\par",
                      r"{\centering " + pattern_latex(mask, cell) + r"\par}"])
