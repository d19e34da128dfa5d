"""The layers' forward rules in index form: one template per layer type, valid for every size.

Each template returns a :class:`Rule` ``of[indices] = expression`` with the ranges of its free
indices.  Subscripts are full rank (:mod:`symcnn.indexed`); with stride ``s`` and zero padding
``p`` per axis,

    conv     Z^l_{f,i,j} = \\sum_c \\sum_a \\sum_b W^l_{f,c,a,b} A^{l-1}_{c, s(i-1)+a-p, s(j-1)+b-p} + W^l_{0,f}
    dense    Z^l_j = \\sum_i W^l_{i,j} vec(A^{l-1})_i + W^l_{0,j}
    pool     A^l_{c,i,j} = \\max_{a,b} A^{l-1}_{c, s(i-1)+a, s(j-1)+b}
    f        A^l_{f,i,j} = f(Z^l_{f,i,j})                    (ReLU, sigmoid, tanh or the identity)
    squared  loss = \\sum_k (A^L_k - y_k)^2
    softmax cross entropy   loss = \\log \\sum_k e^{A^L_k} - \\sum_k y_k A^L_k   (one-hot y)

where ``A^{l-1}`` at a padding position is 0 (its padding symbol, ``X_0``, until substituted).
The entry-by-entry network (:mod:`symcnn.graph`) is these templates instantiated at every
index, and the general derivation (:mod:`symcnn.derive.general`) differentiates them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from .activations import ACTIVATIONS, LOSSES
from .indexed import WindowMax, bound, index, tensor
from .spec import Spec

OFFSET_LETTERS = {1: ("k",), 2: ("a", "b")}
POSITION_LETTERS = ("i", "j")


@dataclass(frozen=True)
class Rule:
    """``of[indices] = expression`` for every ``indices`` in ``ranges`` (1-based, inclusive)."""

    of: str
    indices: tuple[sympy.Symbol, ...]
    ranges: tuple[tuple[int, int], ...]
    expression: sympy.Expr

    @property
    def lhs(self):
        return tensor(self.of)[self.indices] if self.indices else sympy.Symbol(self.of)


def positions(shape) -> tuple[sympy.Symbol, ...]:
    return tuple(index(n) for n in POSITION_LETTERS[:len(shape) - 1])


def conv(l: int, layer, source: str) -> Rule:
    """``Z^l_{f,i,...} = sum_c sum_a W^l_{f,c,a,...} A^{l-1}_{c, s(i-1)+a-p, ...} + W^l_{0,f}``."""
    f, out = index("f"), positions(layer.out_shape)
    c = bound("c")
    offsets = [bound(n) for n in OFFSET_LETTERS[len(layer.size)]]
    at = [s * (i - 1) + a - p for i, a, s, p in zip(out, offsets, layer.stride, layer.padding)]
    product = tensor(f"W{l}")[(f, c, *offsets)] * tensor(source)[(c, *at)]
    limits = [(c, 1, layer.in_shape[0]), *[(a, 1, k) for a, k in zip(offsets, layer.size)]]
    expression = sympy.Sum(product, *limits[::-1])  # SymPy lists the innermost first
    if layer.bias:
        expression += tensor(f"b{l}")[f]
    return Rule(f"Z{l}", (f, *out), _ranges(layer.out_shape), expression)


def dense(l: int, layer, source: str) -> Rule:
    """``Z^l_j = sum_i W^l_{i,j} vec(A^{l-1})_i + W^l_{0,j}`` on the input flattened row-major."""
    j, i = index("j"), bound("i")
    expression = sympy.Sum(tensor(f"W{l}")[i, j] * tensor(f"vec({source})")[i], (i, 1, math.prod(layer.in_shape)))
    if layer.bias:
        expression += tensor(f"b{l}")[j]
    return Rule(f"Z{l}", (j,), ((1, layer.units),), expression)


def activation(l: int, layer) -> Rule:
    """``A^l = f(Z^l)`` entry by entry."""
    indices = _output_indices(layer)
    entry = tensor(f"Z{l}")[indices]
    return Rule(f"A{l}", indices, _ranges(layer.out_shape), ACTIVATIONS[layer.activation].function(entry))


def maxpool(l: int, layer, source: str) -> Rule:
    """``A^l_{c,i,...} = max_{a,...} A^{l-1}_{c, s(i-1)+a, ...}``, each channel on its own."""
    c, out = index("c"), positions(layer.out_shape)
    offsets = [bound(n) for n in OFFSET_LETTERS[len(layer.size)]]
    at = [s * (i - 1) + a for i, a, s in zip(out, offsets, layer.stride)]
    window = WindowMax(tensor(source)[(c, *at)], *[(a, 1, k) for a, k in zip(offsets, layer.size)])
    return Rule(f"A{l}", (c, *out), _ranges(layer.out_shape), window)


def loss(kind: str, output: str, classes: int) -> Rule:
    """The loss's rule (:data:`~symcnn.activations.LOSSES`) over vec(A^L): ``loss = sum_k (A_k - y_k)^2``
    or ``log sum_k e^{A_k} - sum_k y_k A_k``."""
    k = bound("k")
    expression = LOSSES[kind].expression(tensor(f"vec({output})")[k], tensor("y")[k], k, classes)
    return Rule("L", (), (), expression)


def rules(spec: Spec) -> list[Rule]:
    """The network's rules in forward order: ``Z1, A1, Z2, A2, ..., L``."""
    result, source = [], "X"
    for l, layer in enumerate(spec.layers, start=1):
        if layer.type == "maxpool":
            result.append(maxpool(l, layer, source))
        else:
            result.append((conv if layer.type == "conv" else dense)(l, layer, source))
            result.append(activation(l, layer))
        source = f"A{l}"
    if spec.loss is not None:
        result.append(loss(spec.loss, source, math.prod(spec.output_shape)))
    return result


def _output_indices(layer) -> tuple[sympy.Symbol, ...]:
    if layer.type == "dense":
        return (index("j"),)
    return (index("f" if layer.type == "conv" else "c"), *positions(layer.out_shape))


def _ranges(shape) -> tuple[tuple[int, int], ...]:
    return tuple((1, n) for n in shape)
