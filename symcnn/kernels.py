"""Array kernels built from the index structure of a layer's derived local Jacobians.

A conv layer's derivation says, entry by entry, ``dZ_{f,i}/dW_{f,q} = A_{G[i,q]}`` (the input
entry, or a padding zero, that weight offset ``q`` meets at output ``i``) and
``dZ_{f,i}/dA_{G[i,q]} = W_{f,q}``.  :func:`conv_gather` reads ``G`` out of those Jacobians and
checks that they have exactly that form; the kernels then compute

    Z = P W^T + b            with the patches P[b, i, q] = A[b, G[i, q]]   (one gather, one matmul)
    dL/dW = sum_{b,i} delta[b, i, :]^T P[b, i, :]      dL/dA[G[i, q]] += sum_f delta[b, f, i] W[f, q]

where the bias is one more weight, meeting a constant 1 (as its derived ``dZ/db = 1`` says).

A pooling layer's derivation gives each window's members (its ``PoolMax`` arguments, in
row-major order) and routes the gradient to the first maximum, as :func:`pool_forward` /
:func:`pool_backward` do.  A dense layer's Jacobians are checked to be a matrix product's.
Activations carry a leading batch axis ``B`` and are flattened per sample: ``(B, n)``.
"""

from __future__ import annotations

import numpy as np

from .errors import SymcnnError
from .functions import PoolMax
from .graph import Graph


def conv_gather(graph: Graph, derivation, l: int, previous: str) -> np.ndarray:
    """``G`` of shape ``(outputs, C * prod(K))``, indices into the layer's flattened input with
    ``n`` (one past the end) standing for a padding zero, read from ``dZ^l/dW^l``; then
    ``dZ^l/dA^{l-1}`` and ``dZ^l/dW^l_0`` are checked against it."""
    layer = graph.spec.layers[l - 1]
    inputs = {s: i for i, s in enumerate(graph.symbol_array(previous).flat)}
    zero = len(inputs)
    inputs.update({s: zero for s in graph.padding_symbols(previous)})
    weights = graph.symbol_array(f"W{l}").reshape(layer.filters, -1)
    filters, per_filter = weights.shape
    outputs = graph.expr_array(f"Z{l}").size // filters
    gather = np.full((outputs, per_filter), -1)
    by_weight = derivation.local_jacobian(f"Z{l}", f"W{l}").entries
    for (w, j), entry in by_weight.items():
        f, q = divmod(w, per_filter)
        if entry not in inputs or j // outputs != f or gather[j % outputs, q] not in (-1, inputs[entry]):
            raise _not_the_kernel(f"Z{l}", f"W{l}", (w, j))
        gather[j % outputs, q] = inputs[entry]
    if (gather < 0).any() or len(by_weight) != filters * gather.size:
        raise _not_the_kernel(f"Z{l}", f"W{l}", "some weight meets no input")
    by_input = {(int(gather[i, q]), f * outputs + i): weights[f, q]
                for f in range(filters) for i in range(outputs) for q in range(per_filter) if gather[i, q] != zero}
    _expect(derivation, f"Z{l}", previous, by_input)
    if layer.bias:
        _expect(derivation, f"Z{l}", f"b{l}", {(f, f * outputs + i): 1 for f in range(filters) for i in range(outputs)})
    return gather


def dense_check(graph: Graph, derivation, l: int, previous: str) -> None:
    """Check ``dZ_j/dW_{i,j} = a_i``, ``dZ_j/da_i = W_{i,j}``, ``dZ_j/dW_{0,j} = 1``: a matrix product."""
    inputs = list(graph.symbol_array(previous).flat)
    weights = graph.symbol_array(f"W{l}")
    units = weights.shape[1]
    _expect(derivation, f"Z{l}", f"W{l}", {(i * units + j, j): a for i, a in enumerate(inputs) for j in range(units)})
    _expect(derivation, f"Z{l}", previous, {(i, j): weights[i, j] for i in range(len(inputs)) for j in range(units)})
    if graph.spec.layers[l - 1].bias:
        _expect(derivation, f"Z{l}", f"b{l}", {(j, j): 1 for j in range(units)})


def pool_windows(graph: Graph, derivation, l: int, previous: str) -> np.ndarray:
    """The windows ``(outputs, window)`` (indices into the flattened input, row-major within a
    window) read from ``A^l``'s ``PoolMax`` arguments; the derived Jacobian must be nonzero
    exactly on the window members."""
    inputs = {s: i for i, s in enumerate(graph.symbol_array(previous).flat)}
    windows = []
    for expression in graph.expr_array(f"A{l}").flat:
        if not isinstance(expression, PoolMax) or any(a not in inputs for a in expression.args):
            raise SymcnnError(f"A{l}: {expression} is not a pooling window of {previous}")
        windows.append([inputs[a] for a in expression.args])
    windows = np.array(windows)
    members = {(int(i), j) for j, window in enumerate(windows) for i in window}
    if set(derivation.local_jacobian(f"A{l}", previous).entries) != members:
        raise SymcnnError(f"dA{l}/d{previous}: the derived Jacobian does not route along the windows")
    return windows


def _expect(derivation, of: str, wrt: str, expected: dict) -> None:
    derived = derivation.local_jacobian(of, wrt).entries
    if derived != expected:
        wrong = next(iter(set(derived.items()) ^ set(expected.items())))
        raise _not_the_kernel(of, wrt, wrong[0])


def _not_the_kernel(of: str, wrt: str, where) -> SymcnnError:
    return SymcnnError(f"d{of}/d{wrt}: the derivation at {where} does not have the structure "
                       "the array kernel computes")


# -- the kernels --------------------------------------------------------------------------

def conv_forward(a: np.ndarray, weights: np.ndarray, gather: np.ndarray):
    """``Z[b, i, f] = sum_q weights[f, q] A[b, G[i, q]]``, position-major ``(B, outputs * F)``,
    and the patches ``(B * outputs, Q)``.  ``G`` indexes the input extended by a 0 (index
    ``n``, the padding) and a 1 (index ``n + 1``, which a bias column of ``weights`` meets)."""
    extended = np.zeros((a.shape[0], a.shape[1] + 2), dtype=a.dtype)
    extended[:, :-2] = a
    extended[:, -1] = 1
    patches = np.take(extended, gather.ravel(), axis=1).reshape(-1, gather.shape[1])
    return (patches @ weights.T).reshape(len(a), -1), patches


def conv_backward(delta: np.ndarray, patches: np.ndarray, weights: np.ndarray, gather: np.ndarray,
                  inputs: int, need_input: bool):
    """``dL/d weights`` and (if ``need_input``) ``dL/dA`` for :func:`conv_forward`, with
    ``delta`` position-major like ``Z``."""
    filters = weights.shape[0]
    rows = delta.reshape(-1, filters)
    d_weights = rows.T @ patches
    if not need_input:
        return d_weights, None
    d_patches = (rows @ weights).reshape(len(delta), -1)
    return d_weights, scatter(d_patches, gather.ravel(), inputs + 2)[:, :-2]


def position_major(filters: int, outputs: int) -> np.ndarray:
    """The canonical (filter, position) index held at each position-major slot ``i * F + f``."""
    slot = np.arange(filters * outputs)
    return (slot % filters) * outputs + slot // filters


class Pool:
    """Max pooling over windows ``(outputs, K)`` of indices into the flattened input."""

    def __init__(self, windows: np.ndarray, inputs: int):
        self.size, self.inputs = windows.shape[1], inputs
        self.member = np.int8 if self.size < 128 else np.intp  # a small type: less to write
        self.targets = np.ascontiguousarray(windows.T).ravel()  # window member k of every output
        counts = np.bincount(self.targets, minlength=inputs)
        self.inverse = np.argsort(self.targets) if (counts == 1).all() else None

    def forward(self, a: np.ndarray):
        """Each window's maximum and which member (0..K-1) is its first maximum, row-major."""
        values = np.take(a, self.targets, axis=1).reshape(len(a), self.size, -1)
        best, first = values[:, 0], np.zeros(values.shape[::2], dtype=self.member)
        for k in range(1, self.size):
            later = values[:, k] > best  # strictly greater: an earlier maximum keeps a tie
            best = np.maximum(best, values[:, k])
            first = np.where(later, self.member(k), first)
        return best, first

    def backward(self, delta: np.ndarray, first: np.ndarray) -> np.ndarray:
        """The gradient of each window goes to its first maximum, as in PyTorch."""
        members = np.arange(self.size, dtype=self.member)[None, :, None]
        routed = ((first[:, None, :] == members) * delta[:, None, :]).reshape(len(delta), -1)
        if self.inverse is not None:  # the windows tile the input: a permutation puts it back
            return np.take(routed, self.inverse, axis=1)
        return scatter(routed, self.targets, self.inputs)


def scatter(values: np.ndarray, targets: np.ndarray, size: int) -> np.ndarray:
    """``out[b, targets[j]] += values[b, j]`` for every sample ``b``, in one bincount."""
    batch = values.shape[0]
    flat = (targets[None, :] + size * np.arange(batch)[:, None]).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=batch * size).reshape(batch, size).astype(
        values.dtype, copy=False)
