"""A general formula as the course writes it: what every printer of formulas starts from.

A :class:`~symcnn.derive.general.Formula` keeps full-rank subscripts and bound ``Dummy``
indices.  :func:`shown` turns it into what is printed:

- axes of size 1 left out, as the symbols' names leave them out (the seed's ``W^1_k``, not
  ``W^1_{1,1,k}``), and sums over a single value written out;
- a dense layer's flattened input ``vec(A^1)_i`` written ``A^1_i`` when only one axis is left;
- bound indices named by the course's letters (``k``, ``a``, ``b``, ``c``, ``i``, ``j``),
  none clashing with a free index;
- a range factor ``1[lo <= e <= hi]`` that only says that a subscript ``e`` of a tensor in the
  same product is inside that tensor's range is dropped, and a *convention* says instead that
  the tensor is 0 outside its range (as zero padding is 0): the flipped-filter convolution
  ``sum_a W_a delta_{m-a+2}`` reads as the course reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..indexed import FirstMax, InRange, base_name, course_letters, tensor
from ..notation import gradient_name, named_gradient, symbol_name

@dataclass(frozen=True)
class Shown:
    """A formula ready to print: ``of`` (and ``wrt``) as displayed entries, ``ranges`` the
    displayed free indices' ranges, ``zero_outside`` the tensors (base names, full shapes) taken
    as 0 outside their ranges, and whether that is zero padding."""

    of: sympy.Expr | None
    wrt: sympy.Expr | None
    named: sympy.Expr | None  # delta^l_{...} for dloss/dZ^l
    expression: sympy.Expr
    ranges: tuple[tuple[tuple[int, int], tuple[sympy.Symbol, ...]], ...]  # ((lo, hi), indices), grouped
    zero_outside: tuple[tuple[str, tuple[int, ...], bool], ...]  # (base name, kept sizes, by zero padding)
    flattened: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...]  # (tensor, its letters, row-major steps)


def shown(formula) -> Shown:
    """What :mod:`symcnn.latex` and :mod:`symcnn.text` print for ``formula``."""
    derivation = formula.derivation
    single = {i: sympy.S.One for i, (lo, hi) in formula.ranges.items() if lo == hi}
    expression = _written_out(formula.expression.xreplace(single))
    expression, zero = _conventions(derivation, expression)
    padded = {base_name(e) for e in expression.atoms(sympy.Indexed) if any(derivation.graph.paddings.get(base_name(e), ()))}
    zero = tuple((name, shape, name in padded) for name, shape in sorted({
        **dict(zero), **{n: derivation.graph.shape(n) for n in padded}}.items()))
    expression = _renamed(expression, {i.name for i in formula.indices})
    expression = _squeezed(derivation, expression)
    of = wrt = named = None
    if formula.of != "L":
        of = _squeezed(derivation, _entry(formula.of, formula.of_indices, formula.flat[0]).xreplace(single))
    if formula.wrt is not None:
        wrt = _squeezed(derivation, _entry(formula.wrt, formula.wrt_indices, formula.flat[1]).xreplace(single))
    if formula.kind == "gradient" and formula.wrt.startswith("Z"):
        named = _squeezed(derivation, tensor(gradient_name(formula.wrt))[formula.wrt_indices].xreplace(single))
    ranges = _grouped([(i, lo, hi) for i, (lo, hi) in formula.ranges.items() if lo != hi])
    zero = tuple((name, tuple(n for n in shape if n > 1) or (1,), padding) for name, shape, padding in zero)
    return Shown(of, wrt, named, expression, ranges, zero, _flattened(derivation, [expression, of, wrt]))


def _grouped(ranges) -> tuple:
    """Consecutive indices with the same range together: ``((1, 8), (f, i, j))``."""
    groups = []
    for i, lo, hi in ranges:
        if groups and groups[-1][0] == (lo, hi):
            groups[-1][1].append(i)
        else:
            groups.append(((lo, hi), [i]))
    return tuple((span, tuple(group)) for span, group in groups)


def _flattened(derivation, shown) -> tuple:
    """The tensors written flattened, ``vec(A^2)_i``, with the letters and steps that say
    which entry position ``i`` is: ``vec(A^2)_{16(c-1)+4(i-1)+j} = A^2_{c,i,j}``."""
    names = sorted({base_name(e)[4:-1] for x in shown if x is not None for e in x.atoms(sympy.Indexed)
                    if base_name(e).startswith("vec(")})
    result = []
    for name in names:
        shape = [n for n, k in zip(derivation.graph.shape(name), derivation.kept(name)) if k]
        letters = [s.name for s, k in zip(derivation.letters(name), derivation.kept(name)) if k]
        result.append((name, tuple(letters), tuple(int(sympy.prod(shape[a + 1:])) for a in range(len(shape)))))
    return tuple(result)


def _entry(name: str, indices, flat: bool):
    return tensor(f"vec({name})" if flat else name)[indices]


def _written_out(e):
    """Sums and windows over a single value replaced by their one term."""
    if not e.args or isinstance(e, sympy.Indexed):
        return e
    if isinstance(e, sympy.concrete.expr_with_limits.ExprWithLimits):
        single = {v: lo for v, lo, hi in e.limits if lo == hi}
        kept = [limit for limit in e.limits if limit[0] not in single]
        function = _written_out(e.function.xreplace(single))
        return e.func(function, *kept) if kept else function
    return e.func(*[_written_out(a) for a in e.args])


def _conventions(derivation, e):
    """Drop range factors that a subscript of the same product states (see the module doc)."""
    zero = {}

    def visit(e):
        if e.is_Mul:
            factors = list(e.args)
            ranges = [f for f in factors if isinstance(f, InRange)]
            subscripts = {}
            for f in factors:
                if isinstance(f, FirstMax):  # 0 outside its window: the window's ranges are implied
                    for position, (_, lo, hi) in zip(f.args[1:], f.args[0].limits):
                        subscripts.setdefault(position, (None, (hi,), 0))
                if isinstance(f, sympy.Indexed):
                    shape = _shape(derivation, base_name(f))
                    for axis, s in enumerate(f.indices):
                        subscripts.setdefault(s, (base_name(f), shape, axis))
            kept = []
            for f in factors:
                position, lo, hi = f.args if isinstance(f, InRange) else (None, None, None)
                owner = subscripts.get(position)
                if owner and lo == 1 and hi == owner[1][owner[2]]:
                    if owner[0] is not None:
                        zero[owner[0]] = owner[1]
                    continue
                kept.append(visit(f) if f not in ranges else f)
            return sympy.Mul(*kept)
        if not e.args or isinstance(e, sympy.Indexed):
            return e
        if isinstance(e, sympy.concrete.expr_with_limits.ExprWithLimits):
            return e.func(visit(e.function), *e.limits)
        return e.func(*[visit(a) for a in e.args])

    result = visit(e)
    return result, tuple(sorted(zero.items()))


def _shape(derivation, name: str) -> tuple[int, ...]:
    if name.startswith("vec("):
        return (int(sympy.prod(derivation.graph.shape(name[4:-1]))),)
    return derivation.graph.shape(named_gradient(name) or name)


def _renamed(e, taken: set):
    """Bound indices named by their hints, in the order they appear, none clashing."""
    dummies = list(dict.fromkeys(a for a in sympy.preorder_traversal(e) if isinstance(a, sympy.Dummy)))
    letters = course_letters([d.name for d in dummies], taken)
    return e.xreplace({d: sympy.Symbol(n, integer=True) for d, n in zip(dummies, letters)})


def _squeezed(derivation, e):
    """Subscripts of axes of size 1 left out; ``vec(T)`` written ``T`` when one axis is left."""
    replacements = {}
    for entry in e.atoms(sympy.Indexed):
        name = base_name(entry)
        target, subscripts = name, list(entry.indices)
        if name.startswith("vec("):
            inner = name[4:-1]
            if sum(_kept(derivation, inner)) <= 1:
                target = inner
                kept = _kept(derivation, inner)
                subscripts = [subscripts[0] if k else sympy.S.One for k in kept]
        kept = _kept(derivation, target)
        if len(kept) == len(subscripts) and all(k or s == 1 for k, s in zip(kept, subscripts)):
            subscripts = [s for s, k in zip(subscripts, kept) if k]
        replacements[entry] = tensor(target)[tuple(subscripts)] if subscripts else _scalar(target)
    return e.xreplace(replacements)


def _kept(derivation, name: str) -> tuple[bool, ...]:
    if name.startswith("vec("):
        return (True,)
    return derivation.kept(named_gradient(name) or name)


def _scalar(name: str) -> sympy.Symbol:
    """A tensor with a single entry: its symbol (``A2``, ``W1_0``), or a named gradient."""
    if named_gradient(name):
        return sympy.Symbol(name)
    return sympy.Symbol(symbol_name(name, ()), real=True)
