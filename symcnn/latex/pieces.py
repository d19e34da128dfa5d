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
from .formulas import course_printing, partial, shape_latex, slashed
from .matrices import DEFAULT_MAX_SIZE, kept, matrix_latex, pattern_latex
from .printer import tensor_latex, to_latex

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
            "max_terms": MAX_TERMS, **course_printing(net), **settings})
    return printed


def labelled(net, of: str, wrt: str) -> bool:
    """The seed labels ``dZ/dW``'s rows with the weights and columns with the ``Z_i``."""
    return wrt in net.parameters and of != "L"


def jacobian_matrix(net, of: str, wrt: str, max_size: int = DEFAULT_MAX_SIZE, labels: bool | None = None) -> str:
    """``d(of)/d(wrt)`` written out in the course's layout (``size(wrt) x size(of)``) from its
    general formula: every entry, or above ``max_size`` rows or columns the first ones, dots,
    and the last; labelled as the seed's slide labels ``dZ^1/dW^1`` (always when elided)."""
    formula = net.formula(of, wrt)
    rows, cols = size(net, wrt), size(net, of)
    keep_rows, keep_cols = kept(rows, max_size), kept(cols, max_size)
    row_entries = dict(zip([r for r in keep_rows if r is not None],
                           entries(net, wrt, [r for r in keep_rows if r is not None])))
    col_entries = dict(zip([c for c in keep_cols if c is not None],
                           entries(net, of, [c for c in keep_cols if c is not None])))
    if labels is None:
        labels = labelled(net, of, wrt) or rows > max_size or cols > max_size
    row_labels = col_labels = None
    if labels:
        row_labels = {r: to_latex(s) for r, (_, s) in row_entries.items()}
        col_labels = {c: to_latex(s) for c, (_, s) in col_entries.items()} if of != "L" else None
    printed = show(net)
    return matrix_latex((rows, cols), lambda r, c: printed(formula.at(*col_entries[c][0], *row_entries[r][0])),
                        row_labels, col_labels, max_size)


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
    formula = net.formula(of, wrt)
    rows, cols = size(net, wrt), size(net, of)
    total, most, counted = counts(formula)
    shape = rf"${slashed(of, wrt)}$ is ${shape_latex((rows, cols))}$"
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
    return "\n".join([rf"Which entries of ${slashed(of, wrt)}$ can be nonzero ({what}; a row for each entry of "
                      rf"${tensor_latex(wrt)}$, a column for each entry of ${tensor_latex(of)}$):\par",
                      r"{\centering " + pattern_latex(mask, cell) + r"\par}"])
