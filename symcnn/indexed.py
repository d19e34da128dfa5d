"""Index form: tensors as ``IndexedBase`` objects, the reductions of a network, and their values.

A general formula is a SymPy expression in *indexed* tensors whose subscripts are integer
expressions of index variables, e.g. the seed's forward rule

    Z^1_i = \\sum_{k=1}^{3} W^1_k X_{i+k-2}          (1 <= i <= 5)

Internally every subscript list is *full rank*: one subscript per axis of the tensor's shape,
``W1[f, c, k]``, ``X[c, i]``, so that differentiation and index arithmetic never depend on the
sizes.  Axes of size 1 are dropped only when a formula is shown, as the symbols' names drop
them (:mod:`symcnn.notation`).  Bound index variables are ``Dummy`` symbols, unique in an
expression, so that substituting a free index never reaches into a sum.

Besides SymPy's ``Sum`` and ``KroneckerDelta``, the network needs

- :class:`WindowMax` ``max_{a,b} f(a, b)``, a pooling window (row-major order breaks ties); its
  derivative is a sum over the window of :class:`FirstMax` ``1[(a, b) is the first maximum]``;
- :class:`LogSumExpOver` ``log sum_k e^{f(k)}``, whose derivative is the softmax;
- :class:`InRange` ``1[lo <= e <= hi]``, what a resolved Kronecker delta leaves behind.

:func:`instantiate` gives an index-form expression's value at concrete indices, in the
network's entry symbols (``X_3``, ``W1_2``); it is how the entry-by-entry network is built from
the layers' templates and how :meth:`Formula.at <symcnn.derive.general.Formula.at>` works.
"""

from __future__ import annotations

from itertools import product

import sympy
from sympy.concrete.expr_with_limits import ExprWithLimits

from .functions import LogSumExp, PoolMax


def index(name: str) -> sympy.Symbol:
    """A free index variable (an integer symbol, ``i``, ``k``, ...)."""
    return sympy.Symbol(name, integer=True)


def bound(name: str) -> sympy.Dummy:
    """A fresh bound index variable (summation, window) with a name hint for printing."""
    return sympy.Dummy(name, integer=True)


def tensor(name: str) -> sympy.IndexedBase:
    """The indexed tensor ``name``: ``"X"``, ``"W1"``, ``"b1"``, ``"Z1"``, ``"A1"``, ``"y"``,
    a named gradient ``"delta1"`` (``dloss/dZ^1``) or ``"dA2"`` (``dloss/dA^2``), or the
    flattened input of a dense layer ``"vec(A2)"``."""
    return sympy.IndexedBase(sympy.Symbol(name))


def base_name(indexed: sympy.Indexed) -> str:
    return indexed.base.label.name


def index_value(e, values: dict):
    """A linear integer index expression (``2i+k-3``) at ``values``: ints, or NumPy arrays of
    index values (then an array)."""
    total = 0
    for symbol, coefficient in sympy.sympify(e).as_coefficients_dict().items():
        total = total + int(coefficient) * (1 if symbol == 1 else values[symbol])
    return total


ALTERNATIVES = {"i": "jmn", "j": "kmn", "k": "mnr", "f": "gh", "g": "h", "c": "de", "a": "de", "b": "de"}


def course_letters(names, taken: set) -> list[str]:
    """Index letters for ``names`` that avoid the ``taken`` ones, as the course would pick them:
    ``i -> j`` (``m`` if ``j`` is taken), ``j -> k``, ``f -> g``, ``c -> d``; a clash of both
    positions ``i, j`` gives ``m, n``.  ``taken`` grows by the letters chosen."""
    clashing = {n for n in names if n in taken}
    pair = {"i": "m", "j": "n"} if {"i", "j"} <= clashing else {}
    chosen = []
    for name in names:
        if name in taken:
            options = pair.get(name, "") + ALTERNATIVES.get(name, "")
            name = next((n for n in options if n not in taken), None) or _primed(name, taken)
        taken.add(name)
        chosen.append(name)
    return chosen


def _primed(name: str, taken: set) -> str:
    while name in taken:
        name += "'"
    return name


def fresh(limits) -> tuple[dict, list]:
    """New bound variables for ``limits`` ``((v, lo, hi), ...)``: the renaming and new limits."""
    renaming = {v: bound(v.name) for v, _, _ in limits}
    return renaming, [(renaming[v], lo, hi) for v, lo, hi in limits]


class WindowMax(ExprWithLimits):
    """``max`` of ``function`` over the window ``limits``, listed outermost first (unlike a
    ``Sum``'s): the members are taken row-major, and the first maximum wins.

    ``d/dx max_a f(a) = sum_a 1[a is the first maximum] df(a)/dx`` (PyTorch's convention).
    """

    def _eval_derivative(self, x):
        variables = [v for v, _, _ in self.limits]
        renaming, limits = fresh(self.limits)
        window = WindowMax(self.function.xreplace(renaming), *limits)
        return sympy.Sum(FirstMax(window, *variables) * sympy.diff(self.function, x), *self.limits)


class FirstMax(sympy.Function):
    """``FirstMax(window, a, b)``: 1 where ``(a, b)`` is the first maximum of ``window``, else 0."""

    def fdiff(self, argindex=1):
        return sympy.S.Zero  # a step: zero almost everywhere, as the contract's kinks


class LogSumExpOver(ExprWithLimits):
    """``log sum_k e^{f(k)}`` over ``limits``; its derivative is ``sum_k softmax_k df(k)/dx``
    with ``softmax_k = e^{f(k) - logsumexp}``."""

    def _eval_derivative(self, x):
        renaming, limits = fresh(self.limits)
        softmax = sympy.exp(self.function.xreplace(renaming) - self)
        return sympy.Sum(softmax * sympy.diff(self.function, x).xreplace(renaming), *limits)


class InRange(sympy.Function):
    """``InRange(e, lo, hi) = 1[lo <= e <= hi]`` for an integer expression ``e``."""

    @classmethod
    def eval(cls, e, lo, hi):
        if e.is_Integer and lo.is_Integer and hi.is_Integer:
            return sympy.S.One if lo <= e <= hi else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero


def window_members(window: WindowMax, values: dict) -> list:
    """The window's argument at each position, row-major, with the free indices at ``values``."""
    variables = [v for v, _, _ in window.limits]
    ranges = [range(int(lo), int(hi) + 1) for _, lo, hi in window.limits]
    return [window.function.xreplace({**values, **dict(zip(variables, point))}) for point in product(*ranges)]


class Instantiation:
    """Values of index-form expressions at concrete indices.

    ``lookup(name, full_index)`` gives the value of tensor ``name`` at a full-rank, 1-based
    index (a symbol such as ``X_0``, or a named gradient's value); everything else is
    evaluated here: sums and windows are written out, Kronecker deltas and ranges decided.
    """

    def __init__(self, lookup):
        self.lookup = lookup
        self._linear: dict = {}

    def __call__(self, expression, values: dict):
        return self._value(expression, values)

    def _value(self, e, values):
        if e.is_Integer or e.is_Rational or e.is_Float or e.is_NumberSymbol:
            return e
        if isinstance(e, sympy.Symbol):
            return sympy.Integer(values[e]) if e in values else e
        if isinstance(e, sympy.Indexed):
            return self.lookup(base_name(e), tuple(self._integer(s, values) for s in e.indices))
        if isinstance(e, sympy.KroneckerDelta):
            return sympy.S.One if self._integer(e.args[0], values) == self._integer(e.args[1], values) \
                else sympy.S.Zero
        if isinstance(e, InRange):
            low, position, high = (self._integer(a, values) for a in (e.args[1], e.args[0], e.args[2]))
            return sympy.S.One if low <= position <= high else sympy.S.Zero
        if isinstance(e, sympy.Sum):
            return sympy.Add(*self._over(e, values))
        if isinstance(e, WindowMax):
            return PoolMax(*self._over(e, values))
        if isinstance(e, LogSumExpOver):
            return LogSumExp(*self._over(e, values))
        if isinstance(e, FirstMax):
            window, *position = e.args
            members = self._over(window, values)
            offsets = [self._integer(p, values) for p in position]
            shape = [int(hi - lo + 1) for _, lo, hi in window.limits]
            if not all(1 <= o <= n for o, n in zip(offsets, shape)):
                return sympy.S.Zero
            flat = 0
            for o, n in zip(offsets, shape):
                flat = flat * n + (o - 1)
            return PoolMax(*members).fdiff(flat + 1)
        if isinstance(e, (sympy.Add, sympy.Mul)):
            factors = []
            for a in e.args:  # a zero factor spares the rest of a product
                value = self._value(a, values)
                if value == 0 and e.is_Mul:
                    return sympy.S.Zero
                factors.append(value)
            return e.func(*factors)
        return e.func(*[self._value(a, values) for a in e.args])

    def _over(self, e, values) -> list:
        """The reduced expression's terms, one per point of its limits, row-major."""
        variables = [v for v, _, _ in e.limits]
        ranges = [range(self._integer(lo, values), self._integer(hi, values) + 1) for _, lo, hi in e.limits]
        return [self._value(e.function, {**values, **dict(zip(variables, point))}) for point in product(*ranges)]

    def _integer(self, e, values) -> int:
        """An integer subscript (a linear expression of indices) at ``values``."""
        if e.is_Integer:
            return int(e)
        coefficients = self._linear.get(e)
        if coefficients is None:
            coefficients = self._linear[e] = [(s, int(c)) for s, c in e.as_coefficients_dict().items()]
        return sum(c * (1 if s == 1 else values[s]) for s, c in coefficients)
