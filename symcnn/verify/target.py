r"""What an answer is checked against: ``d(of)/d(wrt)`` (or a forward rule) entry by entry.

A :class:`Target` gives the expected entry at written indices through one function,
``expected(of_index, wrt_index)``: the general formula's ``.at`` (:func:`~symcnn.parse.tables.
derived_entry`), each entry derived when first asked for, so an answer in index form needs only
the entries it names.  The entry-by-entry derivation (``net.jacobian``, ``net.gradient``) is
the tests' oracle, never read here.  The whole matrix (built on demand) is in the course's layout,
``size(wrt) x size(of)``; a gradient may also be written in the variable's own shape
(a dense ``W`` as inputs x outputs, a 2D filter as kh x kw).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy

from ..latex import entry_latex, tensor_latex, to_latex
from ..notation import symbol_name
from ..parse.tables import canonical_index, derived, derived_entry, single_entry, written_indices


@dataclass
class Target:
    """``of`` (a tensor or ``"L"``) differentiated by ``wrt`` (``None``: the forward rule)."""

    net: object
    of: str
    wrt: str | None
    given_matrix: sympy.Matrix | None = None  # a mutation's matrix; None: the derivation's, on demand
    name: str = ""        # a mutation's key, "" for the derivation itself
    named: bool = False   # named gradients kept as entries (``Formula.at(named=True)``)
    _entries: dict = field(default_factory=dict, repr=False)  # derived entries, by written indices

    @classmethod
    def derived(cls, net, of: str, wrt: str | None, named: bool = False) -> Target:
        return cls(net, of, wrt, named=named)

    @cached_property
    def matrix(self) -> sympy.Matrix:
        """The course's layout, size(wrt) x size(of) (a column for a rule)."""
        if self.given_matrix is not None:
            return self.given_matrix
        return derived(self.net, self.of, self.wrt, self.named)

    @property
    def shape(self) -> tuple[int, int]:
        """The shape of :attr:`matrix` without building it."""
        cols = len(written_indices(self.net, self.of)) if self.of != "L" else 1
        return (cols, 1) if self.wrt is None else (len(written_indices(self.net, self.wrt)), cols)

    def mutated(self, matrix: sympy.Matrix, name: str) -> Target:
        return Target(self.net, self.of, self.wrt, matrix, name)

    @property
    def title(self) -> str:
        if self.wrt is None:
            return tensor_latex(self.of) if self.of != "L" else "L"
        of = "L" if self.of == "L" else tensor_latex(self.of)
        return rf"\frac{{\partial {of}}}{{\partial {tensor_latex(self.wrt)}}}"

    def position(self, tensor: str | None, index: tuple) -> int | None:
        single = single_entry(self.net, tensor)
        if single:
            return 0 if tuple(index) in single else None
        return _positions(self.net, tensor).get(symbol_name(tensor, tuple(index)))

    def expected(self, of_index: tuple, wrt_index: tuple):
        """The expected entry at written indices (``None`` if there is no such entry)."""
        row, col = self.position(self.wrt, wrt_index), self.position(self.of, of_index)
        if row is None or col is None:
            return None
        if self.given_matrix is None:
            return self._entry(canonical_index(self.net, self.of, of_index), canonical_index(self.net, self.wrt, wrt_index))
        return self.matrix[col, 0] if self.wrt is None else self.matrix[row, col]

    def _entry(self, of_index: tuple, wrt_index: tuple):
        if (of_index, wrt_index) not in self._entries:
            self._entries[of_index, wrt_index] = derived_entry(self.net, self.of, self.wrt, of_index, wrt_index,
                                                               self.named)
        return self._entries[of_index, wrt_index]

    def label(self, of_index: tuple, wrt_index: tuple) -> str:
        """The entry in the course's notation: ``\\frac{\\partial L}{\\partial W^{1}_{2}}``."""
        of = "L" if self.of == "L" else _entry_latex(self.net, self.of, of_index)
        if self.wrt is None:
            return of
        return rf"\frac{{\partial {of}}}{{\partial {_entry_latex(self.net, self.wrt, wrt_index)}}}"

    def labels(self) -> list[list[str]]:
        """The label of every entry of the course's layout."""
        rows = written_indices(self.net, self.wrt) if self.wrt else [()]
        cols = written_indices(self.net, self.of) if self.of != "L" else [()]
        if self.wrt is None:
            return [[self.label(c, ())] for c in cols]
        return [[self.label(c, r) for c in cols] for r in rows]

    def own_shape(self) -> tuple[int, int] | None:
        """The variable's own 2D shape, for a gradient written in it (axes of size 1 left out)."""
        if self.of != "L" or self.wrt is None:
            return None
        shape = tuple(n for n in self.net.symbol_array(self.wrt).shape if n > 1)
        return shape if len(shape) == 2 else None


_POSITIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # net -> {tensor: {symbol name: position}}


def _positions(net, tensor: str) -> dict[str, int]:
    """Each entry's position in the tensor's column, by its symbol's name (once per network)."""
    known = _POSITIONS.setdefault(net, {})
    if tensor not in known:
        known[tensor] = {s.name: k for k, s in enumerate(net.symbol_array(tensor).flat)}
    return known[tensor]


def _entry_latex(net, tensor: str, index: tuple) -> str:
    if single_entry(net, tensor):
        return to_latex(next(iter(net.symbol_array(tensor).flat)))
    return entry_latex(tensor, ",".join(map(str, index)))  # as to_latex prints the entry's symbol, 60x faster


def own_to_layout(given: sympy.Matrix) -> sympy.Matrix:
    """A gradient written in the variable's own shape, flattened row-major to a column."""
    return sympy.Matrix(list(np.array(given.tolist(), dtype=object).reshape(-1)))
