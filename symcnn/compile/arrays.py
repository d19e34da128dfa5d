"""The ``"array"`` backend: conv, dense and pooling layers on whole arrays with the index maps
that :mod:`symcnn.compile.indexmaps` evaluates from the general formulas, run by
:mod:`symcnn.compile.kernels`; the activations and the loss lambdified from their index forms."""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..derive import Derivation, GeneralDerivation
from ..errors import SymcnnError
from ..graph import Graph
from . import indexmaps, kernels
from .engine import Layers, general_loss, input_of, lambdify


class _ArrayLayer:
    """A conv, pooling or dense layer on whole arrays, its index structure read from the
    derivation (:mod:`symcnn.compile.kernels`); the activation and its derived derivative lambdified.

    ``index_map`` is what was evaluated: a conv layer's gather, a pooling layer's windows (in
    the canonical order of the input), for the numba backend to take over.

    A conv layer's output is kept position-major (``(B, outputs * F)``, one GEMM row per
    position) instead of the canonical (filter, position) order; ``slots`` says which canonical
    entry each column holds, and the next layer's indices are permuted once, here, to match.
    """

    def __init__(self, general: GeneralDerivation, l: int, in_slots):
        graph = general.graph
        self.layer, self.l = graph.spec.layers[l - 1], l
        previous = input_of(graph, l)
        self.inputs, self.first, self.slots = math.prod(graph.shape(previous)), l == 1, None
        column = np.argsort(in_slots) if in_slots is not None else np.arange(self.inputs)
        if self.layer.type == "conv":
            gather = self.index_map = indexmaps.conv_gather(general, l)
            gather = np.where(gather == self.inputs, self.inputs, column[np.minimum(gather, self.inputs - 1)])
            if self.layer.bias:  # the bias meets the constant 1 at index inputs + 1
                gather = np.hstack([gather, np.full((len(gather), 1), self.inputs + 1)])
            self.gather = gather
            self.slots = kernels.position_major(self.layer.filters, gather.shape[0])
        elif self.layer.type == "maxpool":
            self.index_map = indexmaps.pool_windows(general, l)
            self.pool = kernels.Pool(column[self.index_map], self.inputs)
        else:
            indexmaps.dense_check(general, l)
            self.index_map = None
            self.rows = in_slots  # W's rows in the order the input's columns come
        self.f = self.df = None
        if self.layer.type != "maxpool" and self.layer.activation != "none":
            self.f, self.df = _activation(general, l)

    def forward(self, params, a):
        layer, l = self.layer, self.l
        if layer.type == "maxpool":
            return self.pool.forward(a)
        if layer.type == "conv":
            z, patches = kernels.conv_forward(a, self._conv_weights(params), self.gather)
        else:
            W = params[f"W{l}"] if self.rows is None else params[f"W{l}"][self.rows]
            patches, z = a, a @ W + params.get(f"b{l}", 0)
        out = self.f(z)[0].astype(a.dtype, copy=False) if self.f else z
        return out, (patches, z)

    def backward(self, params, cache, delta):
        layer, l = self.layer, self.l
        if layer.type == "maxpool":
            return self.pool.backward(delta, cache), {}
        patches, z = cache
        if self.df:
            delta = delta * self.df(z)[0]
        W = params[f"W{l}"]
        if layer.type == "conv":
            d_weights, d_input = kernels.conv_backward(delta, patches, self._conv_weights(params), self.gather,
                                                       self.inputs, not self.first)
            dW, db = d_weights[:, :W[0].size].reshape(W.shape), d_weights[:, -1]
        else:
            W = W if self.rows is None else W[self.rows]
            dW, db = patches.T @ delta, delta.sum(axis=0)
            d_input = None if self.first else delta @ W.T
            if self.rows is not None:
                dW = dW[np.argsort(self.rows)]
        grads = {f"W{l}": dW}
        if layer.bias:
            grads[f"b{l}"] = db
        return d_input, grads


    def _conv_weights(self, params) -> np.ndarray:
        """``(F, C * prod(K))``, with the bias as one more column when the layer has one."""
        W = params[f"W{self.l}"].reshape(self.layer.filters, -1)
        return np.hstack([W, params[f"b{self.l}"][:, None]]) if self.layer.bias else W


def _activation(general: GeneralDerivation, l: int):
    """``f`` and ``f'`` of layer ``l`` lambdified from its general formulas ``A^l_t = f(Z^l_t)``
    and ``dA^l_t/dZ^l_u = f'(Z^l_t) 1[t = u]``, with ``Z^l_t`` standing for the whole array."""
    z = sympy.Symbol("z", real=True)
    forward = general.own(f"A{l}")
    derivative = general.own(f"A{l}", f"Z{l}")
    entry = sympy.Indexed(sympy.IndexedBase(sympy.Symbol(f"Z{l}")), *forward.indices)
    diagonal = sympy.Mul(*[sympy.KroneckerDelta(t, u) for t, u in zip(derivative.of_indices, derivative.wrt_indices)])
    slope = sympy.cancel(derivative.expression / diagonal)
    functions = []
    for expression in (forward.expression, slope):
        expression = expression.xreplace({entry: z})
        if expression.free_symbols - {z}:
            raise SymcnnError(f"A{l}: the activation's formula {expression} is not elementwise")
        functions.append(lambdify([z], [expression]))
    return functions


def array_layers(general: GeneralDerivation) -> list:
    layers, slots = [], None
    for l in range(1, len(general.graph.spec.layers) + 1):
        layers.append(_ArrayLayer(general, l, slots))
        slots = layers[-1].slots
    return layers


def array_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation) -> Layers:
    """The layers on whole arrays and the loss, all from the general formulas."""
    return Layers(array_layers(general), general_loss(general) if graph.spec.loss else None)
