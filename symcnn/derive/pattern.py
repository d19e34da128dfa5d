"""Which entries of a local Jacobian can be nonzero, read from its general formula with NumPy.

A local Jacobian's general formula is a product of index conditions and values, e.g.

    dZ^1_{f,i,j} / dW^1_{g,c,a,b} = 1[f = g] X_{c, i+a-2, j+b-2}

so the entry at row ``(g, c, a, b)`` (an entry of ``W^1``), column ``(f, i, j)`` (an entry of
``Z^1``) can be nonzero only where every condition holds: ``f = g``, and ``X``'s subscripts
inside ``X`` (outside it is zero padding).  Conditions are Kronecker deltas, ranges, subscripts
of tensors that are 0 outside their entries, and a pooling window's first maximum (zero unless
the position is in the window); anything else (a weight, ``1[Z > 0]``) may be nonzero.  The
indices are evaluated over arrays, so the cost grows with the entries asked for, never with
SymPy: the pattern of LeNet-5's largest factor takes well under a second.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..indexed import FirstMax, InRange, base_name, index_value
from ..notation import named_gradient


def nonzero(formula, rows, cols) -> np.ndarray:
    """``mask[r, c]``: whether ``d(of)_c / d(wrt)_r`` can be nonzero, for the flat row-major
    positions ``rows`` of ``wrt`` and ``cols`` of ``of`` (the course's layout: rows are the
    variable's entries, columns the function's)."""
    derivation = formula.derivation
    values = {}
    for indices, name, flat, positions, axis in ((formula.wrt_indices, formula.wrt, formula.flat[1], rows, 0),
                                                  (formula.of_indices, formula.of, formula.flat[0], cols, 1)):
        sizes = derivation.index_sizes(name, flat)
        if not sizes:  # the loss: a single column
            continue
        for index, at in zip(indices, np.unravel_index(np.asarray(positions, dtype=np.int64), sizes)):
            values[index] = np.expand_dims(at + 1, 1 - axis)
    shape = (len(rows), len(cols))
    return np.broadcast_to(_possible(formula.expression, values, derivation.graph), shape).copy()


def counts(formula, chunk: int = 1 << 20, budget: int = 1 << 25) -> tuple[int, int, int]:
    """``(nonzero entries, most nonzero entries in one column, columns counted)``, evaluated a
    block of columns at a time (about ``chunk`` entries each): every column of a Jacobian of
    at most ``budget`` entries (LeNet-5's largest has 22 million), else about ``budget / 8``
    entries' worth of columns spread evenly over it (a 512 x 512 input's ``dA^1/dZ^1`` has
    2.7e11 entries: counting them all would take hours)."""
    derivation = formula.derivation
    rows = math.prod(derivation.index_sizes(formula.wrt, formula.flat[1]))
    cols = math.prod(derivation.index_sizes(formula.of, formula.flat[0])) if formula.of != "L" else 1
    columns = np.arange(cols)
    if rows * cols > budget:
        columns = np.unique(np.linspace(0, cols - 1, max(1, budget // 8 // rows)).astype(np.int64))
    step = max(1, chunk // rows)
    total = most = 0
    for start in range(0, len(columns), step):
        per_column = nonzero(formula, range(rows), columns[start:start + step]).sum(axis=0)
        total += int(per_column.sum())
        most = max(most, int(per_column.max()))
    return total, most, len(columns)


def _possible(e, values, graph):
    """Where ``e`` can be nonzero (a boolean, or a boolean array over the index values)."""
    if e.is_Number:
        return bool(e != 0)
    if e.is_Mul:
        result = True
        for factor in e.args:
            result = result & _possible(factor, values, graph)
        return result
    if e.is_Add:
        result = False
        for term in e.args:
            result = result | _possible(term, values, graph)
        return result
    if isinstance(e, sympy.KroneckerDelta):
        return index_value(e.args[0], values) == index_value(e.args[1], values)
    if isinstance(e, InRange):
        at = index_value(e.args[0], values)
        return (int(e.args[1]) <= at) & (at <= int(e.args[2]))
    if isinstance(e, FirstMax):
        window, *position = e.args
        result = True
        for offset, (_, lo, hi) in zip(position, window.limits):
            at = index_value(offset, values)
            result = result & (int(lo) <= at) & (at <= int(hi))
        return result
    if isinstance(e, sympy.Indexed) and named_gradient(base_name(e)) is None:
        return _inside(e, values, graph)
    return True


def _inside(entry, values, graph):
    """Whether a tensor entry's subscripts are inside the tensor (outside: a padding zero)."""
    name = base_name(entry)
    shape = (math.prod(graph.shape(name[4:-1])),) if name.startswith("vec(") else graph.shape(name)
    result = True
    for subscript, n in zip(entry.indices, shape):
        if subscript.free_symbols:
            at = index_value(subscript, values)
            result = result & (1 <= at) & (at <= n)
    return result
