"""Array kernels on the index maps of a layer's derived general Jacobians.

A conv layer's general formulas say ``dZ_{f,i}/dW_{f,q} = A_{G[i,q]}`` (the input entry, or a
padding zero, that weight offset ``q`` meets at output ``i``) and ``dZ_{f,i}/dA_{G[i,q]} =
W_{f,q}``; :mod:`symcnn.compile.indexmaps` evaluates ``G`` from them.  The kernels compute

    Z = P W^T + b            with the patches P[b, i, q] = A[b, G[i, q]]   (one gather, one matmul)
    dL/dW = sum_{b,i} delta[b, i, :]^T P[b, i, :]      dL/dA[G[i, q]] += sum_f delta[b, f, i] W[f, q]

where the bias is one more weight, meeting a constant 1 (as its derived ``dZ/db = 1`` says).

A pooling layer's windows (their members row-major) come from its derivative, which routes
the gradient to the first maximum, as :class:`Pool` does.
Activations carry a leading batch axis ``B`` and are flattened per sample: ``(B, n)``.
"""

from __future__ import annotations

import numpy as np


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
