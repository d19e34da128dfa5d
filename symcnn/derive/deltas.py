"""Kronecker deltas resolved into index substitutions over the stated ranges.

Differentiating an indexed entry by another gives a Kronecker delta,
``dW^1_k / dW^1_m = delta_{km}``, and a chain rule sums it over an index:

    sum_{k=1}^{K} delta_{k,m} f(k) = f(m) 1[1 <= m <= K]

:func:`resolve` does exactly that for every delta whose two sides differ by ``±v + rest`` for a
summation variable ``v`` (coefficient 1: no divisibility question arises).  When a delta could
be resolved by several variables, the *outermost* sum's is taken: backpropagation through a
stride-1 convolution

    sum_i sum_a W_a delta_{i+a-2, m} d_i  ->  sum_a W_a d_{m-a+2} 1[1 <= m-a+2 <= n]

is the flipped-filter convolution of ``d``, while with stride 2 only ``a`` has coefficient 1 and
the sum over positions stays.  What a resolution leaves is a range factor
:class:`~symcnn.indexed.InRange`, dropped when the ranges of the indices imply it
(:func:`bounds` is interval arithmetic on linear index expressions).
"""

from __future__ import annotations

import sympy
from sympy.concrete.expr_with_limits import ExprWithLimits

from ..indexed import InRange


def bounds(e, ranges: dict) -> tuple[int, int] | None:
    """The least and greatest value of a linear integer expression of indices with ``ranges``
    (``{index: (lo, hi)}``), or None when an index has no known range."""
    low = high = 0
    for symbol, coefficient in sympy.sympify(e).as_coefficients_dict().items():
        if symbol == 1:
            low, high = low + int(coefficient), high + int(coefficient)
            continue
        if symbol not in ranges or not coefficient.is_Integer:
            return None
        lo, hi = ranges[symbol]
        ends = (int(coefficient) * lo, int(coefficient) * hi)
        low, high = low + min(ends), high + max(ends)
    return low, high


def in_range(e, lo, hi, ranges: dict):
    """``1[lo <= e <= hi]``: 1 or 0 when ``ranges`` decide it, an :class:`InRange` otherwise."""
    span = bounds(e, ranges)
    if span is not None and lo <= span[0] and span[1] <= hi:
        return sympy.S.One
    if span is not None and (span[1] < lo or span[0] > hi):
        return sympy.S.Zero
    return InRange(e, lo, hi)


def resolve(e, ranges: dict):
    """``e`` with every Kronecker delta under a sum resolved (see the module doc).

    ``ranges`` gives the free indices' ranges, used to drop range factors that always hold.
    """
    if isinstance(e, sympy.Sum):
        return sympy.Add(*[_resolve_term(term, limits, ranges) for term, limits in _terms(e, [])])
    if not e.args or isinstance(e, (sympy.Indexed, sympy.Symbol)):
        return e
    if isinstance(e, ExprWithLimits):  # a window or a logsumexp: its own sums, inside
        limits = {v: (int(lo), int(hi)) for v, lo, hi in e.limits}
        return e.func(resolve(e.function, {**ranges, **limits}), *e.limits)
    return e.func(*[resolve(a, ranges) for a in e.args])


def _terms(e, limits: list) -> list:
    """``e`` summed over ``limits`` as a list of ``(product, limits)``: nested sums pulled out of
    products (their variables are unique, so ``a sum_k b = sum_k a b``), limits outermost first,
    products distributed over sums where a summand holds a sum or a delta (``2 (A - y)`` stays)."""
    if isinstance(e, sympy.Sum):
        return _terms(e.function, limits + list(e.limits)[::-1])  # SymPy lists the innermost first
    if e.is_Add and e.has(sympy.Sum, sympy.KroneckerDelta):
        return [t for a in e.args for t in _terms(a, limits)]
    if e.is_Mul:
        terms = [(sympy.S.One, limits)]
        for factor in e.args:
            if isinstance(factor, sympy.Sum) or factor.is_Add and factor.has(sympy.Sum, sympy.KroneckerDelta):
                terms = [(t * p, tl + pl) for t, tl in terms for p, pl in _terms(factor, [])]
            else:
                terms = [(t * factor, tl) for t, tl in terms]
        return terms
    return [(e, limits)]


def _resolve_term(term, limits: list, ranges: dict):
    """One product under ``sum`` over ``limits``: resolve its deltas, then sum what is left."""
    inner = {**ranges, **{v: (int(lo), int(hi)) for v, lo, hi in limits}}
    term = sympy.Mul(*[resolve(f, inner) for f in sympy.Mul.make_args(term)])
    conditions = []
    while True:
        choice = _resolvable(term, limits)
        if choice is None:
            break
        delta, variable, solution = choice
        (_, lo, hi), = [limit for limit in limits if limit[0] == variable]
        limits = [limit for limit in limits if limit[0] != variable]
        term = term.xreplace({delta: sympy.S.One}).xreplace({variable: solution})
        conditions = [(e.xreplace({variable: solution}), lo_, hi_) for e, lo_, hi_ in conditions]
        conditions.append((solution, int(lo), int(hi)))
    remaining = {**ranges, **{v: (int(lo), int(hi)) for v, lo, hi in limits}}
    factor = sympy.Mul(*[in_range(e, lo, hi, remaining) for e, lo, hi in conditions])
    term = term * factor
    used = [limit for limit in limits if term.has(limit[0])]
    count = sympy.Mul(*[hi - lo + 1 for v, lo, hi in limits if not term.has(v)])
    if not used:
        return count * term
    variables = {v for v, _, _ in used}
    outside = [f for f in sympy.Mul.make_args(term) if not f.free_symbols & variables]
    inside = [f for f in sympy.Mul.make_args(term) if f.free_symbols & variables]
    return count * sympy.Mul(*outside) * sympy.Sum(sympy.Mul(*inside), *used[::-1])


def _resolvable(term, limits):
    """A delta of ``term`` with a summation variable of coefficient ±1 in ``lhs - rhs``: the
    delta, that variable (the outermost sum's first) and its value."""
    variables = [v for v, _, _ in limits]
    for variable in variables:
        for delta in [f for f in sympy.Mul.make_args(term) if isinstance(f, sympy.KroneckerDelta)]:
            difference = sympy.expand(delta.args[0] - delta.args[1])
            coefficient = difference.coeff(variable)
            if coefficient in (1, -1) and not (difference - coefficient * variable).has(variable):
                return delta, variable, sympy.expand(-(difference - coefficient * variable) / coefficient)
    return None
