"""Numba kernels of the numba backend: pooling over the windows read from the derivation,
activations, the losses (the conv layers' kernels are in :mod:`symcnn.compile.conv_loops`).

Activations are laid out feature-major, ``A[j, b]`` with shape ``(n, B)``: row ``j`` is entry
``j`` of the layer's flattened output in the canonical (channel, row, column) order and the
batch runs along the row, so that every inner loop is a contiguous, vectorizable pass over the
batch, whatever the index map.  Loops run over row views from 0 (``x = a[j]``, ``x[b]``): LLVM
then knows the index is not negative and vectorizes them.

A max-pool layer with windows ``(J, K)`` routes each window's gradient to its first maximum
(row-major), as the derivation does.  Activations and their derivatives are written in terms of the
output ``a = f(z)`` (``relu' = 1[a > 0]``, ``sigmoid' = a (1 - a)``, ``tanh' = 1 - a^2``);
:mod:`symcnn.compile.numba_backend` checks them against the derived ones.  Every constant takes the
arrays' dtype: float32 stays float32.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..activations import ACTIVATIONS

# the branches of activate and slope, numbered by the activations' rows (``kernel``)
NONE, RELU, SIGMOID, TANH = (ACTIVATIONS[name].kernel for name in ("none", "relu", "sigmoid", "tanh"))
FAST = {"reassoc", "contract"}  # let sums be reordered: dot products vectorize; NaN and inf stay IEEE


@njit(inline="always", cache=True)
def activate(z, act):
    """``f(z)``; ReLU as ``numpy.maximum(z, 0)`` (a NaN stays NaN); sigmoid in its stable tanh form."""
    t = type(z)
    if act == RELU:
        return t(0) if z < 0 else z
    if act == SIGMOID:
        return t(0.5) * (t(1) + np.tanh(t(0.5) * z))
    if act == TANH:
        return np.tanh(z)
    return z


@njit(inline="always", cache=True)
def slope(a, act):
    """``f'(z)`` written in the output ``a = f(z)``; ``relu'(0) = 0``."""
    t = type(a)
    if act == RELU:
        return t(1) if a > 0 else t(0)
    if act == SIGMOID:
        return a * (t(1) - a)
    if act == TANH:
        return t(1) - a * a
    return t(1)


@njit(cache=True)
def pool_forward(a, windows, out):
    """``out[j] = max_k A[windows[j, k]]``; a NaN wins and stays, as in ``numpy.maximum``."""
    outputs, size = windows.shape
    batch = a.shape[1]
    for j in range(outputs):
        best = out[j]
        best[:] = a[windows[j, 0]]
        for k in range(1, size):
            x = a[windows[j, k]]
            for b in range(batch):
                best[b] = x[b] if (x[b] > best[b]) | (x[b] != x[b]) else best[b]


@njit(cache=True)
def pool_backward(delta, a, windows, out, below_act, d_input, disjoint, tile):
    """Each window's gradient to its first maximum (the first member equal to ``out``: ties go
    to the earlier one, as the derivation routes them), times the layer below's ``f'`` there,
    which is ``f'`` at ``out``.  ``disjoint`` windows cover each input at most once: every
    member is written and nothing needs zeroing; otherwise ``d_input`` is zeroed and summed into."""
    outputs, size = windows.shape
    batch = delta.shape[1]
    if not disjoint:
        d_input[:] = 0
    for t in range((batch + tile - 1) // tile):
        b0, b1 = t * tile, min(batch, (t + 1) * tile)
        width = b1 - b0
        value, open_ = np.empty(width, delta.dtype), np.empty(width, np.bool_)
        zero = delta.dtype.type(0)
        for j in range(outputs):
            d, best = delta[j, b0:b1], out[j, b0:b1]
            for b in range(width):
                value[b] = d[b] * slope(best[b], below_act)
                open_[b] = True
            for k in range(size):
                x, into = a[windows[j, k], b0:b1], d_input[windows[j, k], b0:b1]
                for b in range(width):
                    hit = open_[b] & (x[b] == best[b])
                    open_[b] = open_[b] & ~hit
                    if disjoint:
                        into[b] = value[b] if hit else zero
                    else:
                        into[b] += value[b] if hit else zero


@njit(cache=True)
def bias_activate(z, bias, act):
    """``z[j] = f(z[j] + c_j)`` in place (a dense layer after its matrix product)."""
    for j in range(z.shape[0]):
        for b in range(z.shape[1]):
            z[j, b] = activate(z[j, b] + bias[j], act)


@njit(cache=True, fastmath=FAST)
def activation_grad(delta, out, act, d_bias):
    """``delta *= f'`` in place (``dL/dA -> dL/dZ``) and ``d_bias[j] = sum_b delta[j, b]``."""
    for j in range(delta.shape[0]):
        s = delta.dtype.type(0)
        for b in range(delta.shape[1]):
            if act != NONE:
                delta[j, b] *= slope(out[j, b], act)
            s += delta[j, b]
        d_bias[j] = s


@njit(cache=True)
def cross_entropy(logits, labels, scale, delta):
    """Per sample ``L = logsumexp(z) - z_y``; ``delta = scale (softmax(z) - onehot(y))``.
    Returns the sum of ``L`` over the batch (accumulated in float64)."""
    classes, batch = logits.shape
    total = 0.0
    for b in range(batch):
        top = logits[0, b]
        for k in range(1, classes):
            top = max(top, logits[k, b])
        s = logits.dtype.type(0)
        for k in range(classes):
            e = np.exp(logits[k, b] - top)
            delta[k, b] = e
            s += e
        total += np.log(s) + top - logits[labels[b], b]
        for k in range(classes):
            delta[k, b] *= scale / s
        delta[labels[b], b] -= scale
    return total


@njit(cache=True)
def squared(out, targets, scale, delta):
    """Per sample ``L = sum_k (a_k - y_k)^2``; ``delta = 2 scale (a - y)``; ``targets`` is
    ``(B, K)``.  Returns the sum of ``L`` over the batch."""
    classes, batch = out.shape
    total = 0.0
    two = out.dtype.type(2)
    for b in range(batch):
        for k in range(classes):
            d = out[k, b] - targets[b, k]
            total += d * d
            delta[k, b] = two * scale * d
    return total
