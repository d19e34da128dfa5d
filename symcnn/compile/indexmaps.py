"""The index maps of the array kernels, evaluated with NumPy from the general formulas.

A conv layer's general Jacobian says which input entry each weight offset meets at each output,

    dZ^l_{f,i,j} / dW^l_{g,c,a,b} = 1[f = g] A^{l-1}_{c, s(i-1)+a-p, s(j-1)+b-p}

so evaluating the subscripts of ``A^{l-1}`` over the ranges of ``(i, j)`` and ``(c, a, b)`` gives
the gather ``G[position, (c, a, b)]`` (an index into the flattened input, or ``n`` for a padding
zero) with which :mod:`symcnn.compile.kernels` computes the layer as one gather and one matrix product.
The map is checked against the other derived Jacobians: ``dZ/dA^{l-1}`` must select weight
``(c, a, b)`` exactly where ``G`` says that input meets it, and ``dZ/dW^l_0 = 1[f = g]``.

A pooling layer's derivative ``1[(a, b) is the first maximum of the window] 1[c = c']`` gives
the windows (its members, row-major); a dense layer's Jacobians are checked to be a matrix
product's.  Nothing here looks at an entry-by-entry expression, so the cost grows with the
arrays, not with SymPy: a 512x512 input costs milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..errors import SymcnnError
from ..indexed import FirstMax, InRange, WindowMax, base_name, index_value, tensor


def conv_gather(general, l: int) -> np.ndarray:
    """``G`` of shape ``(positions, C * prod(K))`` for conv layer ``l`` (see the module doc)."""
    graph = general.graph
    source = graph.flow[graph.flow.index(f"Z{l}") - 1]
    formula = general.formula(f"Z{l}", f"W{l}")
    f, *out = formula.of_indices
    g, *weight = formula.wrt_indices
    entry = _single(formula, sympy.KroneckerDelta(f, g), source)
    grid = _grid(formula.ranges, [*out, *weight])
    inputs = graph.shape(source)
    at = [_evaluate(s, grid) for s in entry.indices]
    inside = np.all([(1 <= a) & (a <= n) for a, n in zip(at, inputs)], axis=0)
    flat = np.ravel_multi_index([np.where(inside, a - 1, 0) for a in at], inputs)
    positions = math.prod(graph.shape(f"Z{l}")[1:])
    gather = np.where(inside, flat, math.prod(inputs)).reshape(positions, -1)
    _check_input_jacobian(general, l, source, gather)
    if f"b{l}" in graph.parameters:
        bias = general.formula(f"Z{l}", f"b{l}")
        if bias.expression != sympy.KroneckerDelta(f, bias.wrt_indices[0]):
            raise _not_the_kernel(f"Z{l}", f"b{l}", bias.expression)
    return gather


def pool_windows(general, l: int) -> np.ndarray:
    """The windows ``(outputs, K)`` of pooling layer ``l``: for each output entry (canonical
    order) the flat input indices of its members, row-major; the derivative must route the
    gradient to the first maximum of exactly these members."""
    graph = general.graph
    source = graph.flow[graph.flow.index(f"A{l}") - 1]
    formula = general.formula(f"A{l}", source)
    c, *out = formula.of_indices
    factors = sympy.Mul.make_args(formula.expression)
    firsts = [x for x in factors if isinstance(x, FirstMax)]
    deltas = [x for x in factors if isinstance(x, sympy.KroneckerDelta)]
    others = [x for x in factors if not isinstance(x, (FirstMax, sympy.KroneckerDelta, InRange))]
    if len(firsts) != 1 or deltas != [sympy.KroneckerDelta(c, formula.wrt_indices[0])] or others:
        raise _not_the_kernel(f"A{l}", source, formula.expression)
    window: WindowMax = firsts[0].args[0]
    member = window.function
    if not isinstance(member, sympy.Indexed) or base_name(member) != source:
        raise _not_the_kernel(f"A{l}", source, window)
    variables = [v for v, _, _ in window.limits]
    sizes = [int(hi) for _, _, hi in window.limits]
    ranges = {**{i: formula.ranges[i] for i in formula.of_indices}, **{v: (1, k) for v, k in zip(variables, sizes)}}
    grid = _grid(ranges, [c, *out, *variables])
    at = [_evaluate(s, grid) for s in member.indices]
    inputs = graph.shape(source)
    if not all(((1 <= a) & (a <= n)).all() for a, n in zip(at, inputs)):
        raise _not_the_kernel(f"A{l}", source, "a window reaches outside the input")
    flat = np.ravel_multi_index([a - 1 for a in at], inputs)
    return flat.reshape(math.prod(graph.shape(f"A{l}")), math.prod(sizes))


def dense_check(general, l: int) -> None:
    """``dZ_j/dW_{i,k} = 1[j = k] a_i``, ``dZ_j/da_i = W_{i,j}``, ``dZ_j/dW_{0,k} = 1[j = k]``:
    a matrix product (``a`` the flattened input)."""
    graph = general.graph
    source = graph.flow[graph.flow.index(f"Z{l}") - 1]
    weights = general.formula(f"Z{l}", f"W{l}")
    (j,), (i, k) = weights.of_indices, weights.wrt_indices
    expected = {f"W{l}": sympy.KroneckerDelta(j, k) * tensor(f"vec({source})")[i]}
    inputs = general.formula(f"Z{l}", source)
    expected[source] = tensor(f"W{l}")[inputs.wrt_indices[0], j]
    formulas = {f"W{l}": weights, source: inputs}
    if f"b{l}" in graph.parameters:
        formulas[f"b{l}"] = general.formula(f"Z{l}", f"b{l}")
        expected[f"b{l}"] = sympy.KroneckerDelta(j, formulas[f"b{l}"].wrt_indices[0])
    for name, formula in formulas.items():
        if formula.expression != expected[name]:
            raise _not_the_kernel(f"Z{l}", name, formula.expression)


def _check_input_jacobian(general, l: int, source: str, gather: np.ndarray) -> None:
    """``dZ_{f,p}/dA_m = W_{f,q}`` (its range factors true) wherever ``G[p, q] = m``."""
    formula = general.formula(f"Z{l}", source)
    f, *out = formula.of_indices
    channel, *position = formula.wrt_indices
    factors = sympy.Mul.make_args(formula.expression)
    weights = [x for x in factors if isinstance(x, sympy.Indexed)]
    if len(weights) != 1 or base_name(weights[0]) != f"W{l}" or weights[0].indices[0] != f or \
            any(not isinstance(x, (sympy.Indexed, InRange)) for x in factors):
        raise _not_the_kernel(f"Z{l}", source, formula.expression)
    inputs = general.graph.shape(source)
    p, q = np.nonzero(gather < math.prod(inputs))
    values = dict(zip(out, np.unravel_index(p, general.graph.shape(f"Z{l}")[1:])))
    values.update(zip([channel, *position], np.unravel_index(gather[p, q], inputs)))
    values = {i: v + 1 for i, v in values.items()}  # 1-based, as the formulas count
    selected = [_evaluate(s, values) - 1 for s in weights[0].indices[1:]]
    inside = np.ones(len(p), dtype=bool)
    for bracket in (x for x in factors if isinstance(x, InRange)):
        position_value = _evaluate(bracket.args[0], values)
        inside &= (int(bracket.args[1]) <= position_value) & (position_value <= int(bracket.args[2]))
    shape = general.graph.shape(f"W{l}")[1:]
    if not (inside.all() and all(((0 <= s) & (s < n)).all() for s, n in zip(selected, shape))
            and np.array_equal(np.ravel_multi_index(selected, shape), q)):
        raise _not_the_kernel(f"Z{l}", source, "dZ/dA does not select the weights the gather map pairs")


def _single(formula, delta, source: str) -> sympy.Indexed:
    """The one input entry of ``formula``'s expression ``delta * A[...]``."""
    factors = sympy.Mul.make_args(formula.expression)
    entries = [x for x in factors if isinstance(x, sympy.Indexed)]
    if sorted(map(str, factors)) != sorted(map(str, [delta, *entries])) or len(entries) != 1 \
            or base_name(entries[0]) != source:
        raise _not_the_kernel(formula.of, formula.wrt, formula.expression)
    return entries[0]


def _grid(ranges: dict, indices) -> dict:
    """Every combination of ``indices`` over their ranges, row-major, as flat arrays."""
    axes = np.indices([ranges[i][1] - ranges[i][0] + 1 for i in indices], dtype=np.int32).reshape(len(indices), -1)
    return {i: axis + ranges[i][0] for i, axis in zip(indices, axes)}


def _evaluate(expression, values: dict) -> np.ndarray:
    """A linear integer index expression over arrays of index values."""
    return np.asarray(index_value(expression, values))


def _not_the_kernel(of: str, wrt: str, where) -> SymcnnError:
    return SymcnnError(f"d{of}/d{wrt}: the derived general formula {where} does not have the structure "
                       "the array kernel computes")
