"""Entries with index expressions, as students write them: ``X_{i+k-2}``, ``W^2_i``, ``\\delta^1_{f,i}``.

An answer in index notation is read into SymPy with :class:`Entry` standing for "entry of
table ``T`` at these (possibly symbolic) indices" and ``Sum`` for the sums.  A *table* is
anything indexed by written (1-based) indices: a tensor of the network, or a derivative the
answer names (``\\frac{\\partial L}{\\partial Z^1_i}``).  :func:`instantiate` gives the index
variables numbers, writes every sum out and replaces each entry by its value.

Out of range (the rule, also in the README): a *computed* index (one with an index variable,
``X_{i+k-2}``) that falls outside a tensor's entries reads as 0, as the course's zero padding
says (``X_0`` of the seed is its padding symbol, itself 0 in gradients; ``X_{-1}`` is 0 too);
each such entry is listed in the report.  An index written as a number is never read as 0:
``X_9`` in a 5-pixel network is an error.  The bias ``W^l_0`` is only ever written with a
literal ``0``; a computed weight index 0 is outside the weights and reads as 0.

A sum's own variable standing alone as an index (``\\sum_{i=0}^{6} Z^1_i``) is not computed:
a sum that runs it past the entries of an unpadded table is a wrong range, not padding
(:func:`sum_past_entries`); the checker calls such an answer wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy

from ..errors import LatexError


class Entry(sympy.Function):
    """``Entry(table, *indices)``: the entry of a named table at written indices."""

    is_real = True

    @classmethod
    def eval(cls, *args):
        return None


@dataclass
class Table:
    """A tensor or a derivative as the answer indexes it.

    ``latex`` names it in the course's notation (``X``, ``W^{1}``); ``ranges`` are the
    written index ranges of its entries per index position; ``lookup`` gives the value at
    integer indices, or ``None`` outside (padding included where the tensor has it).
    """

    latex: str
    ranges: tuple[tuple[int, int], ...]
    lookup: Callable[[tuple[int, ...]], object]
    tensor: str | None = None  # the network's tensor it indexes (None: a derivative, the prediction)


@dataclass
class Scope:
    """The tables an answer uses and what instantiating it met outside them."""

    tables: dict[str, Table] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)

    def add(self, key: str, table: Table) -> sympy.Symbol:
        self.tables[key] = table
        return sympy.Symbol(key)

    def entry(self, key: str, indices) -> Entry:
        return Entry(sympy.Symbol(key), *indices)


def expand_sums(value):
    """Write out every ``Sum`` with integer limits (the outermost first, so that inner limits
    may depend on outer variables; SymPy lists a sum's limits innermost first)."""
    if isinstance(value, sympy.MatrixBase):
        return value.applyfunc(expand_sums)
    if not isinstance(value, sympy.Basic) or not value.has(sympy.Sum):
        return value
    if isinstance(value, sympy.Sum):
        body, limits = value.function, list(value.limits)
        variable, low, high = limits[-1]
        if not (low.is_Integer and high.is_Integer):
            raise LatexError(f"a sum over {variable} from {low} to {high}: its limits must be numbers")
        rest = sympy.Sum(body, *limits[:-1]) if len(limits) > 1 else body
        return sympy.Add(*[expand_sums(rest.xreplace({variable: sympy.Integer(v)}))
                           for v in range(int(low), int(high) + 1)])
    return value.func(*[expand_sums(a) for a in value.args])


def resolve_entries(value, scope: Scope):
    """Replace each :class:`Entry` with integer indices by its table's value (0 outside)."""
    if isinstance(value, sympy.MatrixBase):
        return value.applyfunc(lambda e: resolve_entries(e, scope))
    if not isinstance(value, sympy.Basic) or not value.has(Entry):
        return value
    mapping = {}
    for entry in value.atoms(Entry):
        key, indices = entry.args[0].name, entry.args[1:]
        if not all(i.is_Integer for i in indices):
            raise LatexError(f"an index of {scope.tables[key].latex} is not a whole number: "
                             f"{', '.join(map(str, indices))}")
        found = scope.tables[key].lookup(tuple(int(i) for i in indices))
        if found is None:
            scope.outside.add(f"{scope.tables[key].latex}_{{{','.join(map(str, indices))}}}")
            found = sympy.S.Zero
        mapping[entry] = found
    return value.xreplace(mapping)


def sum_past_entries(value, scope: Scope, padded: Callable[[Table], bool], ranges: dict | None = None) -> str | None:
    """The first sum whose variable, standing alone as an index of an unpadded table, runs past
    that table's entries, said as ``the sum over i runs over 0..6; Z^{1}_{i} has i = 1..5``;
    None when there is none.  Limits that depend on the left-hand side's indices
    (``\\sum_{k=j-3}^{j+1}``) are taken at each value ``ranges`` gives them, ``{variable:
    (low, high)}`` (``at j = 1, the sum over k runs over -2..2; ..``), and limits that depend
    on an outer sum's variable at each value that sum gives it."""
    for expression in _expressions(value):
        sums = sorted(expression.atoms(sympy.Sum), key=str)
        bounds = {variable: (low, high) for node in sums for variable, low, high in node.limits}
        for node in sums:
            for variable, low, high in node.limits:
                for at, numbers in _limit_values(low, high, ranges or {}, bounds):
                    if numbers[0] > numbers[1]:
                        continue  # an empty sum
                    for entry, table, (first, last) in _standing_alone(node.function, variable, scope):
                        if (numbers[0] < first or numbers[1] > last) and not padded(table):
                            written = ",".join(str(i) for i in entry.args[1:])
                            return (f"{at}the sum over {variable} runs over {numbers[0]}..{numbers[1]}; "
                                    f"{table.latex}_{{{written}}} has {variable} = {first}..{last}")
    return None


def _limit_values(low, high, ranges: dict, bounds: dict):
    """``(where, (low, high))`` for a sum's limits: once for numbers, else at every value of
    the variables they depend on, each index of the left-hand side over its ``ranges`` and
    each outer sum's variable over its limits ``bounds`` (themselves taken at every value of
    theirs); not at all when a variable has neither."""
    needed, grown = set(), low.free_symbols | high.free_symbols
    while grown - needed:
        needed |= grown
        grown = needed.union(*(bounds[v][0].free_symbols | bounds[v][1].free_symbols
                               for v in needed if v in bounds and v not in ranges))
    if not needed <= set(ranges) | set(bounds):
        return
    for numbers in _assignments(sorted(needed, key=str), ranges, bounds, {}):
        at = ", ".join(f"{v} = {n}" for v, n in numbers.items())
        yield f"at {at}, " if at else "", (int(low.xreplace(numbers)), int(high.xreplace(numbers)))


def _assignments(variables: list, ranges: dict, bounds: dict, numbers: dict):
    """Every assignment of whole numbers to ``variables``, an outer sum's variable after the
    variables its limits depend on."""
    if not variables:
        yield dict(numbers)
        return
    for k, variable in enumerate(variables):
        if variable in ranges:
            span = ranges[variable]
        else:
            low, high = (limit.xreplace(numbers) for limit in bounds[variable])
            if not (low.is_Integer and high.is_Integer):
                continue  # depends on a variable not given yet
            span = (int(low), int(high))
        rest = variables[:k] + variables[k + 1:]
        for n in range(span[0], span[1] + 1):
            yield from _assignments(rest, ranges, bounds, {**numbers, variable: sympy.Integer(n)})
        return


def sum_variables(value) -> set:
    """The variables of every ``Sum`` in a value."""
    return {limit[0] for expression in _expressions(value) for node in expression.atoms(sympy.Sum)
            for limit in node.limits}


def instantiate(value, assignment: dict, scope: Scope):
    """``value`` with the index variables of ``assignment`` given numbers, sums written
    out and entries replaced: a SymPy expression (or Matrix) in the network's symbols."""
    numbers = {variable: sympy.Integer(v) for variable, v in assignment.items()}
    if isinstance(value, sympy.MatrixBase):
        value = value.xreplace(numbers) if numbers else value
    elif isinstance(value, sympy.Basic):
        value = value.xreplace(numbers)
    return resolve_entries(expand_sums(value), scope)


def index_positions(value, variable: sympy.Symbol, scope: Scope) -> set[tuple[int, int]]:
    """The ranges of the table axes at which ``variable`` stands alone as an index."""
    return {axis for _, _, axis in _standing_alone(value, variable, scope)}


def _standing_alone(value, variable: sympy.Symbol, scope: Scope):
    """``(entry, table, (low, high))`` wherever ``variable`` stands alone as an index of a
    table's axis in ``value``, in a fixed order."""
    for expression in _expressions(value):
        for entry in sorted(expression.atoms(Entry), key=str):
            table = scope.tables[entry.args[0].name]
            for position, index in enumerate(entry.args[1:]):
                if index == variable and position < len(table.ranges):
                    yield entry, table, table.ranges[position]


def _expressions(value) -> list:
    """The SymPy expressions of a value: itself, or a matrix's entries."""
    values = list(value) if isinstance(value, sympy.MatrixBase) else [value]
    return [v for v in values if isinstance(v, sympy.Basic)]


def free_indices(value, scope: Scope) -> set:
    """The index variables left in a value (the symbols naming its tables are not)."""
    symbols = value.free_symbols if hasattr(value, "free_symbols") else set()
    return {s for s in symbols if s.is_integer and s.name not in scope.tables}
