"""The ``"scalar"`` backend: every layer and the loss lambdified entry by entry from the
entry-by-entry derivation, every symbol standing for a ``(batch,)`` array (the proof at small
sizes)."""

from __future__ import annotations

import numpy as np
import sympy

from ..derive import Derivation, GeneralDerivation, Sparse
from ..graph import Graph
from .arrays import array_layers
from .engine import Layers, input_of, lambdify


def entry_loss(graph: Graph, derivation: Derivation):
    """``L(A^L, y)`` and ``dL/dA^L`` lambdified entry by entry from the derivation (the proof)."""
    outputs = list(graph.symbol_array(graph.flow[-2]).flat)
    targets = list(graph.symbol_array("y").flat)
    gradient = derivation.local_jacobian("L", graph.flow[-2]).to_matrix()
    function = lambdify(outputs + targets, [graph.expr("L")[0], *gradient])

    def loss(a: np.ndarray, y: np.ndarray):
        values = function(*a.T, *y.T)
        per_sample = np.broadcast_to(values[0], (len(a),))
        return per_sample, np.stack([np.broadcast_to(v, (len(a),)) for v in values[1:]], axis=1).astype(a.dtype)
    return loss


class _ScalarLayer:
    """One layer's forward pass and VJPs, lambdified from the derivation."""

    def __init__(self, graph: Graph, derivation: Derivation, l: int):
        previous = input_of(graph, l)
        self.params = [p for p in (f"W{l}", f"b{l}") if p in graph.parameters]
        inputs = list(graph.symbol_array(previous).flat)
        weights = [s for p in self.params for s in graph.symbol_array(p).flat]
        zeros = {s: 0 for s in graph.padding_symbols(previous)}
        forward = [e.xreplace(zeros) for e in _layer_expressions(graph, l)]
        upstream = sympy.symbols(f"G_1:{len(forward) + 1}", real=True)
        column = Sparse(len(forward), 1, {(j, 0): g for j, g in enumerate(upstream)})
        vjp_input = _vjp(graph, derivation, l, previous, column)
        vjp_params = [(p, _vjp(graph, derivation, l, p, column)) for p in self.params]
        self._forward = lambdify(inputs + weights, forward)
        self._backward = lambdify(inputs + weights + list(upstream),
                                  _column_entries(vjp_input, zeros)
                                  + [e for _, v in vjp_params for e in _column_entries(v, zeros)])

    def forward(self, params, a):
        batch = len(a)
        columns = [*a.T, *[w for p in self.params for w in params[p].ravel()]]
        out = np.stack([np.broadcast_to(v, (batch,)) for v in self._forward(*columns)], axis=1)
        return out.astype(a.dtype), (a, columns)

    def backward(self, params, cache, delta):
        a, columns = cache
        batch = len(a)
        values = [np.broadcast_to(v, (batch,)) for v in self._backward(*columns, *delta.T)]
        inputs = a.shape[1]
        d_input = np.stack(values[:inputs], axis=1).astype(a.dtype)
        grads, at = {}, inputs
        for p in self.params:
            size = params[p].size
            grads[p] = np.stack(values[at:at + size], axis=1).sum(axis=0).reshape(params[p].shape).astype(a.dtype)
            at += size
        return d_input, grads


def _layer_expressions(graph: Graph, l: int) -> list:
    """``A^l`` in terms of the layer's input and weights (``Z^l`` substituted into ``f``)."""
    activation = graph.expr_array(f"A{l}")
    if f"Z{l}" not in graph.flow:
        return list(activation.flat)
    pre = graph.definitions([f"Z{l}"])
    return [e.xreplace(pre) for e in activation.flat]


def _vjp(graph: Graph, derivation: Derivation, l: int, wrt: str, upstream: Sparse) -> Sparse:
    """``d(A^l)/d(wrt) . G``, the layer's derived local Jacobians applied to ``G``."""
    steps = [(f"Z{l}", wrt), (f"A{l}", f"Z{l}")] if f"Z{l}" in graph.flow else [(f"A{l}", wrt)]
    jacobian = derivation.local_jacobian(*steps[0])
    for of, by in steps[1:]:
        jacobian = jacobian @ derivation.local_jacobian(of, by)
    result = jacobian @ upstream
    if f"Z{l}" in graph.flow:  # the activation's derivative is written in Z^l: write Z^l out
        pre = graph.definitions([f"Z{l}"])
        result = result.map(lambda e: e.xreplace(pre))
    return result


def _column_entries(column: Sparse, zeros: dict) -> list:
    return [column.entries.get((i, 0), sympy.S.Zero).xreplace(zeros) for i in range(column.rows)]


def scalar_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation) -> Layers:
    """Every layer and the loss lambdified entry by entry: the proof at small sizes."""
    layers = [_ScalarLayer(graph, derivation, l) for l in range(1, len(graph.spec.layers) + 1)]
    return Layers(layers, entry_loss(graph, derivation) if graph.spec.loss else None, array_layers(general))
