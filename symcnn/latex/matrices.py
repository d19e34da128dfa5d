"""Matrices as the slides draw them, and the sparsity pattern of a Jacobian as a small drawing.

Everything here is plain amsmath and LaTeX's own ``picture``: a fragment pasted into other
notes needs ``\\usepackage{amsmath}`` and nothing else.
"""

from __future__ import annotations

import numpy as np

DEFAULT_MAX_SIZE = 12
BMATRIX_COLUMNS = 10  # amsmath's MaxMatrixCols: wider matrices are an array, which has no limit


def kept(n: int, max_size: int, start: int = 0) -> list[int | None]:
    """Indices shown of ``n``: all, or the first ``max_size - 2``, ``None`` (dots), the last;
    from ``start`` on (dots before it) when the first ones are not worth showing."""
    if n <= max_size:
        return list(range(n))
    if start:
        return [None] + list(range(start, min(start + max_size - 3, n - 1))) + [None, n - 1]
    return list(range(max_size - 2)) + [None, n - 1]


def grid_latex(cells, row_labels=None, col_labels=None, brackets: bool = True) -> str:
    """A matrix of already printed ``cells`` (a list of rows; ``None`` for the dots of an
    elided row or column), columns labelled above with ``\\overset`` as the seed labels
    ``dZ/dW`` with ``Z_i``, rows labelled in a column on the right.

    Each label row carries a ``\\vphantom`` of its matrix row, so the labels stay level with
    their rows however tall the entries are."""
    lines = []
    for r, row in enumerate(cells):
        shown = []
        for c, cell in enumerate(row):
            if cell is None:
                cell = r"\vdots" if all(x is None for x in row) else r"\cdots"
            if col_labels is not None and r == 0 and col_labels[c] is not None:
                cell = rf"\overset{{{col_labels[c]}}}{{{cell}}}"
            shown.append(cell)
        lines.append(shown)
    columns = max(len(row) for row in lines)
    body = r" \\ ".join(" & ".join(row) for row in lines)
    if not brackets:
        text = rf"\begin{{matrix}} {body} \end{{matrix}}"
    elif columns <= BMATRIX_COLUMNS:
        text = rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
    else:
        text = rf"\left[\begin{{array}}{{{'c' * columns}}} {body} \end{{array}}\right]"
    if row_labels is not None:
        dots = r"\vdots"
        labels = [r"\vphantom{" + " ".join(row) + "}" + (label if label is not None else dots)
                  for row, label in zip(lines, row_labels)]
        text += r" \begin{matrix} " + r" \\ ".join(labels) + r" \end{matrix}"
    return text


def matrix_latex(shape, entry, row_labels=None, col_labels=None, max_size: int = DEFAULT_MAX_SIZE,
                 first_column: int = 0) -> str:
    """A ``rows x cols`` matrix whose printed entries are ``entry(r, c)``, asked for only where
    shown: above ``max_size`` rows or columns the middle is elided with dots (the first rows
    and columns, dots, the last one; the columns from ``first_column`` on, dots before).
    Labels are indexed by row and column (lists or dicts)."""
    rows, cols = shape
    keep_rows, keep_cols = kept(rows, max_size), kept(cols, max_size, first_column)
    cells = [[None if r is None or c is None else entry(r, c) for c in keep_cols] for r in keep_rows]
    pick = lambda labels, keep: None if labels is None else [None if i is None else labels[i] for i in keep]
    return grid_latex(cells, pick(row_labels, keep_rows), pick(col_labels, keep_cols))


def highlighted(text: str) -> str:
    """An entry picked out in a table (a worked entry, its window): bold."""
    return rf"\mathbf{{{text}}}"


def chosen(text: str) -> str:
    """The entry a max-pooling window takes (its first maximum): underlined."""
    return rf"\underline{{{text}}}"


def table_latex(array, show, marked=frozenset(), boxed=frozenset(), max_size: int = DEFAULT_MAX_SIZE,
                picked=frozenset()) -> str:
    """A numeric tensor ``(C, *spatial)`` as the slides draw it: a column for a vector, a
    matrix per channel (side by side); entries at the 0-based positions ``marked`` in bold,
    those at ``boxed`` (the padding) in a box, those at ``picked`` (a pooling window's
    maximum) underlined."""
    array = np.asarray(array, dtype=object)
    texts = np.empty(array.shape, dtype=object)
    for where in np.ndindex(*array.shape):
        text = show(array[where])
        text = highlighted(text) if where in marked else text
        text = chosen(text) if where in picked else text
        texts[where] = rf"\boxed{{{text}}}" if where in boxed else text
    squeezed = texts.reshape([n for n in array.shape if n > 1] or [1])
    if squeezed.ndim == 1:
        maps = [squeezed.reshape(-1, 1)]
    else:
        maps = list(squeezed.reshape(-1, *squeezed.shape[-2:]))
    tables = []
    for m in maps:
        keep_rows, keep_cols = kept(m.shape[0], max_size), kept(m.shape[1], max_size)
        tables.append(grid_latex([[None if r is None or k is None else m[r, k] for k in keep_cols]
                                  for r in keep_rows]))
    return r" \quad ".join(tables)


def pattern_latex(mask: np.ndarray, cell: float = 2.0) -> str:
    """A drawing of which entries of a matrix are nonzero: a frame the matrix's shape, a
    filled square per nonzero entry (runs along a row drawn as one bar), in LaTeX's own
    ``picture`` environment, ``cell`` points a side."""
    rows, cols = mask.shape
    width, height = cols * cell, rows * cell
    bars = []
    for r in range(rows):
        row = np.concatenate([[False], mask[r], [False]])
        changes = np.flatnonzero(row[1:] != row[:-1])
        for start, stop in zip(changes[::2], changes[1::2]):
            bars.append(rf"\put({start * cell:g},{height - (r + 1) * cell:g}){{\rule{{{(stop - start) * cell:g}pt}}"
                        rf"{{{cell:g}pt}}}}")
    return "\n".join([r"{\setlength{\unitlength}{1pt}\linethickness{0.4pt}%",
                      rf"\begin{{picture}}({width:g},{height:g})",
                      rf"\put(0,0){{\framebox({width:g},{height:g}){{}}}}", *bars, r"\end{picture}}"])
