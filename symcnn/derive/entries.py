"""Jacobians, chain-rule factors and gradients, derived with SymPy in the course's layout.

Layout: the Jacobian of ``T`` (size m) with respect to ``S`` (size n) is the n x m matrix

    (dT/dS)_{i,j} = d T_j / d S_i

so the chain rule reads left to right from the variable to the loss, as on the seed's slide:

    dL/dW^1 = dZ^1/dW^1 . dA^1/dZ^1 . dL/dA^1          3x1 = 3x5 . 5x5 . 5x1

Only *local* Jacobians are differentiated (a layer's output with respect to its own input or
parameters), entry by entry over the symbols each entry actually contains, so they come out
sparse.  Longer spans are sparse products of local ones; ``dL/dT`` is back-propagated from the
loss one layer at a time (vector-Jacobian products), never by differentiating one expanded
expression of the whole network.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import sympy

from ..errors import TensorNameError
from ..graph import Graph


@dataclass(frozen=True)
class Sparse:
    """An ``rows x cols`` matrix of SymPy expressions stored as ``{(i, j): entry}``."""

    rows: int
    cols: int
    entries: dict

    @classmethod
    def identity(cls, n: int) -> Sparse:
        return cls(n, n, {(i, i): sympy.S.One for i in range(n)})

    def __matmul__(self, other: Sparse) -> Sparse:
        by_row = defaultdict(list)
        for (j, k), entry in other.entries.items():
            by_row[j].append((k, entry))
        terms = defaultdict(list)
        for (i, j), entry in self.entries.items():
            for k, other_entry in by_row.get(j, ()):
                terms[i, k].append(entry * other_entry)
        products = {key: sympy.Add(*parts) for key, parts in terms.items()}
        return Sparse(self.rows, other.cols, {k: e for k, e in products.items() if e != 0})

    def map(self, function) -> Sparse:
        mapped = {key: function(entry) for key, entry in self.entries.items()}
        return Sparse(self.rows, self.cols, {k: e for k, e in mapped.items() if e != 0})

    def to_matrix(self) -> sympy.Matrix:
        matrix = sympy.zeros(self.rows, self.cols)
        for (i, j), entry in self.entries.items():
            matrix[i, j] = entry
        return matrix


@dataclass(frozen=True)
class Factor:
    """One factor ``d(of)/d(wrt)`` of a chain rule, in the course's layout."""

    of: str
    wrt: str
    matrix: sympy.Matrix

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __str__(self) -> str:
        return f"d{self.of}/d{self.wrt} ({self.shape[0]}x{self.shape[1]})"


@dataclass(frozen=True)
class Chain:
    """``dL/d(wrt) = factors[0] . factors[1] . ...`` and the product, padding symbols kept."""

    wrt: str
    factors: tuple[Factor, ...]
    product: sympy.Matrix

    def __str__(self) -> str:
        rows, cols = self.product.shape
        return f"dL/d{self.wrt} ({rows}x{cols}) = " + " . ".join(map(str, self.factors))


class Derivation:
    """Every derivative of one network, each computed once when first asked for."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._local: dict[tuple[str, str], Sparse] = {}

    def local_jacobian(self, of: str, wrt: str) -> Sparse:
        """``d(of)/d(wrt)`` for a tensor ``of`` and one of its direct inputs ``wrt``.

        Entry ``(i, j)`` is ``diff(of_j, wrt_i)``, computed only where ``wrt_i`` occurs in
        ``of_j``; ``wrt``'s padding symbols are not variables (they are constant zeros).  A sum
        is differentiated term by term, only the terms that contain the variable: a dense
        unit's 129 terms are walked once, not once per variable.
        """
        key = (of, wrt)
        if key not in self._local:
            graph = self.graph
            variables = {s: i for i, s in enumerate(graph.symbol_array(wrt).flat)}
            entries = {}
            for j, expression in enumerate(graph.expr_array(of).flat):
                pieces = defaultdict(list)
                for term in sympy.Add.make_args(expression):
                    for symbol in term.free_symbols & variables.keys():
                        pieces[symbol].append(term.diff(symbol))
                for symbol, parts in pieces.items():
                    derivative = sympy.Add(*parts)
                    if derivative != 0:
                        entries[variables[symbol], j] = derivative
            self._local[key] = Sparse(len(variables), graph.expr_array(of).size, entries)
        return self._local[key]

    def jacobian(self, of: str, wrt: str) -> Sparse:
        """``d(of)/d(wrt)`` for any ``wrt`` upstream of ``of``: a product of local Jacobians."""
        graph = self.graph
        of, wrt = graph.tensor(of), graph.tensor(wrt)
        if of not in graph.flow or of == "X":
            raise TensorNameError(f"jacobian({of!r}, {wrt!r}): {of} is an input, it has no "
                                  "derivative; differentiate one of " + ", ".join(graph.flow[1:]))
        if wrt in graph.parameters or wrt == "y":
            consumer = self._consumer(wrt)
            self._require_upstream(of, consumer, wrt)
            return self.local_jacobian(consumer, wrt) @ self._span(consumer, of)
        self._require_upstream(of, wrt, wrt)
        return self._span(wrt, of)

    def _span(self, start: str, end: str) -> Sparse:
        """``d(end)/d(start)`` along the flow ``start -> ... -> end``."""
        flow = self.graph.flow
        result = Sparse.identity(self.graph.expr_array(start).size)
        for i in range(flow.index(start), flow.index(end)):
            result = result @ self.local_jacobian(flow[i + 1], flow[i])
        return result

    def _require_upstream(self, of: str, entry: str, wrt: str):
        flow = self.graph.flow
        if flow.index(entry) > flow.index(of):
            raise TensorNameError(f"jacobian({of!r}, {wrt!r}): {of} does not depend on {wrt}, "
                                  f"which enters the network later (at {entry})")

    @cached_property
    def _deltas(self) -> dict[str, Sparse]:
        """``dL/dT`` (a column) for every flow tensor ``T``, back-propagated from the loss."""
        flow = self.graph.flow
        if flow[-1] != "L":
            raise TensorNameError("this network has no loss: give the spec a loss to take gradients")
        deltas = {"L": Sparse.identity(1)}
        for i in range(len(flow) - 2, -1, -1):
            deltas[flow[i]] = self.local_jacobian(flow[i + 1], flow[i]) @ deltas[flow[i + 1]]
        return deltas

    def loss_gradient(self, wrt: str) -> Sparse:
        """``dL/d(wrt)`` as a column, for a parameter, ``y`` or a flow tensor; padding -> 0."""
        graph = self.graph
        wrt = graph.tensor(wrt)
        if wrt in self._deltas:
            return self._deltas[wrt]
        # Padding symbols enter Z^l only as factors of W^l's entries, so they appear in
        # dZ^l/dW^l alone: zeroing them there, before the product, zeroes them everywhere.
        zeros = {s: sympy.S.Zero for s in graph.padding_symbols()}
        consumer = self._consumer(wrt)
        local = self.local_jacobian(consumer, wrt).map(lambda e: e.xreplace(zeros))
        return local @ self._deltas[consumer]

    def chain_steps(self, wrt: str, full: bool = False) -> list[tuple[str, str]]:
        """The factors ``(of, wrt)`` of the chain rule for ``dL/d(wrt)``, computing nothing.

        For a parameter of layer ``l``: ``dZ^l/dW^l . dA^l/dZ^l . dL/dA^l`` (the seed's three
        factors); for a flow tensor ``T`` read by ``C``: ``dC/dT . dL/dC``.  With ``full``, the
        last factor is itself written out as local Jacobians down to ``dL/dA^L``.
        """
        graph = self.graph
        wrt = graph.tensor(wrt)
        consumer = self._consumer(wrt)
        steps = [(consumer, wrt)]
        flow = graph.flow
        position = flow.index(consumer)
        if wrt in graph.parameters:
            steps.append((flow[position + 1], consumer))
            position += 1
        if full:
            return steps + [(flow[i + 1], flow[i]) for i in range(position, len(flow) - 1)]
        return steps + ([("L", flow[position])] if flow[position] != "L" else [])

    def chain(self, wrt: str, full: bool = False) -> Chain:
        """The chain rule for ``dL/d(wrt)`` (see :meth:`chain_steps`), each factor's matrix
        and the product, padding symbols kept."""
        factors = [Factor(of, w, (self.local_jacobian(of, w) if of != "L" or w in ("y", self.graph.flow[-2])
                                  else self._deltas[w]).to_matrix())
                   for of, w in self.chain_steps(wrt, full)]
        product = factors[0].matrix
        for factor in factors[1:]:
            product = product * factor.matrix
        return Chain(self.graph.tensor(wrt), tuple(factors), product)

    def _consumer(self, name: str) -> str:
        """The tensor that reads ``name`` directly: ``Z^l`` for ``W^l``, ``L`` for ``y``, ..."""
        graph = self.graph
        if name == "y":
            return "L"
        if name in graph.parameters:
            return f"Z{graph.layer_of(name)}"
        flow = graph.flow
        if name == "L":
            raise TensorNameError("dL/dL is 1: ask for the gradient of a parameter or a tensor")
        return flow[flow.index(name) + 1]
