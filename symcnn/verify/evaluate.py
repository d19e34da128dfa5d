r"""Index-form expressions evaluated at every point of an index grid at once, on NumPy arrays.

The numeric twin of :class:`symcnn.indexed.Instantiation` (which writes one entry out in
symbols): a free index is an integer array over the grid, an entry of a tensor is a gather
(0 outside the tensor, as the course's zero padding), a sum a loop over its variable that adds
whole arrays, a window's maximum or a log-sum-exp a reduction over its stacked members, and
every other function is printed to NumPy by the compiled code's printer.  Values are
``numpy.longdouble`` (:data:`FLOAT`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy

from ..compile.engine import lambdify
from ..errors import LatexError
from ..functions import LogSumExp, PoolMax
from ..indexed import FirstMax, InRange, LogSumExpOver, WindowMax
from ..parse.indexed import Entry

FLOAT = np.longdouble


class GridEvaluation:
    """An index-form expression's values at every point of an index grid at once.

    ``values`` maps each free index variable to an integer array (one shape for all, the
    grid's) and the result broadcasts to that shape.  ``read(e, subscripts)`` gives the values
    of an entry ``e`` (an ``Indexed`` of a formula or an answer's
    :class:`~symcnn.parse.indexed.Entry`) at integer arrays of subscripts; ``symbol(s)`` the
    value of a network entry written with numbers (``Z1_2,3``).
    """

    def __init__(self, read, symbol):
        self.read, self.symbol = read, symbol
        self._functions: dict = {}
        self._columns: dict = {}  # a column's entries that depend on no index, once per point
        self.within = True  # where the sums being evaluated count (their limits may depend on an index)

    def __call__(self, e, values: dict):
        return self._value(sympy.sympify(e), values)

    def _value(self, e, values):
        if e.is_Number or e.is_NumberSymbol:
            return FLOAT(str(sympy.Float(e, 25))) if not e.is_Integer else FLOAT(int(e))
        if e.is_number and not e.free_symbols and e.has(sympy.zoo, sympy.nan, sympy.oo):  # 1/0 read as zoo
            return FLOAT("nan")
        if isinstance(e, sympy.Symbol):
            if e in values:
                return values[e]
            if e.is_integer:
                raise LatexError(f"the index {e} is bound neither by a sum nor by the left-hand side")
            return self.symbol(e)
        if isinstance(e, sympy.Indexed):
            return self.read(e, [self.index(s, values) for s in e.indices])
        if isinstance(e, Entry):
            return self.read(e, [self.index(s, values) for s in e.args[1:]])
        if isinstance(e, sympy.Add):
            return sum((self._value(a, values) for a in e.args[1:]), self._value(e.args[0], values))
        if isinstance(e, sympy.Mul):
            product = self._value(e.args[0], values)
            for a in e.args[1:]:
                product = product * self._value(a, values)
            return product
        if isinstance(e, sympy.Pow):
            base, exponent = self._value(e.base, values), self._value(e.exp, values)
            return np.power(np.asarray(base, dtype=FLOAT), exponent)
        if isinstance(e, sympy.KroneckerDelta):
            return np.asarray(self.index(e.args[0], values) == self.index(e.args[1], values), dtype=FLOAT)
        if isinstance(e, InRange):
            position, low, high = (self.index(a, values) for a in e.args)
            return np.asarray((low <= position) & (position <= high), dtype=FLOAT)
        if isinstance(e, sympy.Sum):
            total, around = FLOAT(0), self.within
            for point, inside in self._points(list(reversed(e.limits)), values):
                self.within = around & inside
                term = self._value(e.function, point)
                total = total + (term if inside is True else np.where(inside, term, 0))
            self.within = around
            return total
        if isinstance(e, (WindowMax, LogSumExpOver)):
            return _reduce(self._members(e, values), maximum=isinstance(e, WindowMax))
        if isinstance(e, FirstMax):
            window, *position = e.args
            members = self._members(window, values)
            shape = [int(hi - lo + 1) for _, lo, hi in window.limits]
            offsets = [self.index(p, values) for p in position]
            inside = np.ones(np.broadcast(*offsets).shape, dtype=bool)
            flat = 0
            for offset, n in zip(offsets, shape):
                inside = inside & (1 <= offset) & (offset <= n)
                flat = flat * n + (offset - 1)
            return np.asarray(inside & (np.argmax(members, axis=0) == flat), dtype=FLOAT)
        if isinstance(e, (PoolMax, LogSumExp)):  # written out: max(0, Z), logsumexp(Z_1, ..)
            members = np.stack(np.broadcast_arrays(*[np.asarray(self._value(a, values), dtype=FLOAT) for a in e.args]))
            return _reduce(members, maximum=isinstance(e, PoolMax))
        if isinstance(e, sympy.Piecewise):
            column = _column_entry(e)
            if column is not None:  # entry k of a column (vec(A^4)_i): the column once, then gathered
                index, members = column
                at = self.index(index, values)
                if np.ndim(at) == 0:  # one entry, as inside a sum over k
                    return self._value(members[int(at) - 1], values) if 1 <= at <= len(members) else FLOAT(0)
                if e not in self._columns:
                    entries = [np.asarray(self._value(m, values), dtype=FLOAT) for m in members]
                    fixed = all(m.ndim == 0 for m in entries) and not any(s.is_integer for m in members
                                                                           for s in m.free_symbols)
                    self._columns[e] = np.array(entries, dtype=FLOAT) if fixed else None
                if self._columns[e] is not None:
                    return gather(self._columns[e], [at])
            result = FLOAT(0)
            for value, condition in reversed(e.args):
                chosen = self._condition(condition, values)
                result = np.where(chosen, self._value(value, values), result)
            return result
        return self._function(e)(*[self._value(a, values) for a in e.args if not a.is_number])

    def _condition(self, condition, values):
        if condition is sympy.true:
            return True
        if isinstance(condition, sympy.Eq):
            return self._value(condition.lhs, values) == self._value(condition.rhs, values)
        raise LatexError(f"cannot evaluate the condition {condition}")

    def _function(self, e):
        """``e``'s function on arrays (its arguments that are numbers kept), printed by the
        compiled code's printer: the activations' rows, the steps ``1[z > 0]``, ``logsumexp``."""
        key = (e.func, tuple(a if a.is_number else None for a in e.args))
        if key not in self._functions:
            arguments = sympy.symbols(f"x0:{len(e.args)}", real=True)
            applied = e.func(*[a if a.is_number else x for a, x in zip(e.args, arguments)])
            compiled = lambdify([x for a, x in zip(e.args, arguments) if not a.is_number], [applied])
            self._functions[key] = lambda *args: np.asarray(compiled(*args)[0], dtype=FLOAT)
        return self._functions[key]

    index = staticmethod(lambda e, values: index_values(e, values))

    def _points(self, limits, values, inside=True):
        """``(values, inside)`` for every point of ``limits`` (outermost first); a limit that
        depends on outer variables bounds the points by ``inside``, a boolean array."""
        if not limits:
            yield values, inside
            return
        (variable, low, high), rest = limits[0], limits[1:]
        low, high = self.index(low, values), self.index(high, values)
        for k in range(int(np.min(low)), int(np.max(high)) + 1):
            within = inside if np.ndim(low) == np.ndim(high) == 0 else inside & (low <= k) & (k <= high)
            yield from self._points(rest, {**values, variable: k}, within)

    def _members(self, e, values) -> np.ndarray:
        """A window's (or a log-sum-exp's) terms, stacked along a first axis, row-major."""
        limits = list(e.limits) if isinstance(e, WindowMax) else list(reversed(e.limits))
        terms = []
        for point, inside in self._points(limits, values):
            if inside is not True:
                raise LatexError("a maximum or log-sum-exp over a range that depends on an index")
            terms.append(self._value(e.function, point))
        return np.stack(np.broadcast_arrays(*terms))


def _column_entry(e: sympy.Piecewise):
    """``(index, members)`` when ``e`` is entry ``index`` of a column, as the reader writes
    ``vec(A^2)_i``: ``(m_1, index = 1), ..., (m_n, index = n), (0, True)``; else None."""
    *pieces, (otherwise, last) = e.args
    if otherwise != 0 or last is not sympy.true or not pieces:
        return None
    index = pieces[0][1].lhs if isinstance(pieces[0][1], sympy.Eq) else None
    for k, (_, condition) in enumerate(pieces, start=1):
        if not isinstance(condition, sympy.Eq) or condition.lhs != index or condition.rhs != k:
            return None
    return index, [member for member, _ in pieces]


def _reduce(members: np.ndarray, maximum: bool) -> np.ndarray:
    """The maximum, or the log-sum-exp (stably), over the first axis."""
    top = np.max(members, axis=0)
    return top if maximum else top + np.log(np.sum(np.exp(members - top), axis=0))


def index_values(e, values: dict):
    """An integer subscript (an expression of index variables) at ``values``: an int or an
    integer array."""
    e = sympy.sympify(e)
    if e.is_Integer:
        return int(e)
    if isinstance(e, sympy.Symbol):
        if e not in values:
            raise LatexError(f"the index {e} is bound neither by a sum nor by the left-hand side")
        return values[e]
    if isinstance(e, sympy.Add):
        return sum(index_values(a, values) for a in e.args)
    if isinstance(e, sympy.Mul):
        return math.prod(index_values(a, values) for a in e.args)
    if isinstance(e, (sympy.Max, sympy.Min)):  # a sum's limit, \max(1, j-3)
        extremum = np.maximum if isinstance(e, sympy.Max) else np.minimum
        return functools.reduce(extremum, (index_values(a, values) for a in e.args))
    raise LatexError(f"an index must be a whole-number expression of index variables, not {e}")


def gather(array: np.ndarray, subscripts: list) -> np.ndarray:
    """``array`` at 1-based integer subscripts (arrays broadcast together); 0 outside."""
    if not subscripts:
        return array[()]
    subscripts = [np.asarray(s) for s in subscripts]
    if all(1 <= s.min() and s.max() <= n for s, n in zip(subscripts, array.shape)):  # the common case: inside
        return array[tuple(s - 1 for s in subscripts)]
    subscripts = np.broadcast_arrays(*subscripts)
    inside = np.ones(subscripts[0].shape, dtype=bool)
    clipped = []
    for s, n in zip(subscripts, array.shape):
        inside &= (1 <= s) & (s <= n)
        clipped.append(np.clip(s, 1, n) - 1)
    return np.where(inside, array[tuple(clipped)], FLOAT(0))
