"""Numba kernels: each layer's forward rule and vector-Jacobian products as loop nests over
the index maps that :mod:`symcnn.kernels` reads out of the derivation.

Activations are laid out feature-major, ``A[j, b]`` with shape ``(n, B)``: row ``j`` is entry
``j`` of the layer's flattened output in the canonical (channel, row, column) order and the
batch runs along the row, so that every inner loop is a contiguous, vectorizable pass over the
batch, whatever the index map.  Loops over the batch run in column tiles ``[b0, b1)``
(``prange``: one tile per thread) so that a tile's rows stay in cache.

A conv layer with gather ``G`` (``(P, Q)``, ``G[p, q] = n`` a padding zero), weights ``W``
(``(F, Q)``) and bias ``c`` computes, with ``r = f P + p`` the canonical output row,

    Z[r, b]  = c_f + sum_q W[f, q] A[G[p, q], b]
    dL/dW[f, q] = sum_{p, b} delta[f P + p, b] A[G[p, q], b]        dL/dc_f = sum_{p, b} delta[r, b]
    dL/dA[j, b] = sum_{(p, q): G[p, q] = j} sum_f W[f, q] delta[f P + p, b]

where ``delta = dL/dZ``.  The pairs ``(p, q)`` meeting input ``j`` come from :func:`transpose`.
A max-pool layer with windows ``(J, K)`` keeps each window's first maximum (row-major), as the
derivation routes the gradient.  Activations and their derivatives are written in terms of the
output ``a = f(z)`` (``relu' = 1[a > 0]``, ``sigmoid' = a (1 - a)``, ``tanh' = 1 - a^2``);
:mod:`symcnn.numba_backend` checks them against the derived ones.  Every constant takes the
arrays' dtype: float32 stays float32.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NONE, RELU, SIGMOID, TANH = 0, 1, 2, 3
ACTIVATIONS = {"none": NONE, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH}
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


def input_terms(gather: np.ndarray, inputs: int, filters: int):
    """For each input ``j`` the terms of ``dL/dA[j]``: every ``(p, q)`` with ``G[p, q] = j``
    (padding left out) and every filter ``f``, as CSR arrays ``start (inputs + 1,)``,
    ``rows (m,)`` (``f P + p``, the row of ``delta``) and ``terms (m,)`` (``f Q + q``, the
    entry of ``W`` flattened ``(F, Q)``)."""
    positions, taps = gather.shape
    p, q = np.nonzero(gather < inputs)
    f = np.repeat(np.arange(filters), len(p))
    j, p, q = np.tile(gather[p, q], filters), np.tile(p, filters), np.tile(q, filters)
    order = np.argsort(j, kind="stable")
    start = np.searchsorted(j[order], np.arange(inputs + 1))
    return (start.astype(np.intp), (f * positions + p)[order].astype(np.intp),
            (f * taps + q)[order].astype(np.intp))


@njit(parallel=True, cache=True, fastmath=FAST)
def conv_forward(a, gather, weights, bias, act, out, tile):
    """``out[f P + p] = f(c_f + sum_q W[f, q] A[G[p, q]])`` for every tile of the batch; row
    ``n`` of ``a`` is the padding zero.  Two filters and four taps at a time: each input load
    feeds two multiply-adds and each output row is loaded and stored once per four taps."""
    positions, taps = gather.shape
    filters, batch = weights.shape[0], a.shape[1]
    for t in prange((batch + tile - 1) // tile):
        b0, b1 = t * tile, min(batch, (t + 1) * tile)
        for p in range(positions):
            for f in range(filters):
                out[f * positions + p, b0:b1] = bias[f]
            for f in range(0, filters - 1, 2):
                _taps(a, gather, weights, out, p, f, f + 1, positions, b0, b1)
            if filters % 2:
                _taps(a, gather, weights, out, p, filters - 1, filters - 1, positions, b0, b1)
            if act != NONE:
                for f in range(filters):
                    o = out[f * positions + p, b0:b1]
                    for b in range(b1 - b0):
                        o[b] = activate(o[b], act)


@njit(inline="always", cache=True)
def _taps(a, gather, weights, out, p, f, h, positions, b0, b1):
    """Add every tap of position ``p`` to the rows of filters ``f`` and ``h`` (``h = f``: one
    filter).  Loops run over row views from 0 so that LLVM can vectorize them."""
    taps, width = gather.shape[1], b1 - b0
    o, v = out[f * positions + p, b0:b1], out[h * positions + p, b0:b1]
    q = 0
    while q + 4 <= taps:
        x0, x1 = a[gather[p, q], b0:b1], a[gather[p, q + 1], b0:b1]
        x2, x3 = a[gather[p, q + 2], b0:b1], a[gather[p, q + 3], b0:b1]
        u0, u1, u2, u3 = weights[f, q], weights[f, q + 1], weights[f, q + 2], weights[f, q + 3]
        w0, w1, w2, w3 = weights[h, q], weights[h, q + 1], weights[h, q + 2], weights[h, q + 3]
        if h != f:
            for b in range(width):
                o[b] += u0 * x0[b] + u1 * x1[b] + u2 * x2[b] + u3 * x3[b]
                v[b] += w0 * x0[b] + w1 * x1[b] + w2 * x2[b] + w3 * x3[b]
        else:
            for b in range(width):
                o[b] += u0 * x0[b] + u1 * x1[b] + u2 * x2[b] + u3 * x3[b]
        q += 4
    for q in range(q, taps):
        x, u, w = a[gather[p, q], b0:b1], weights[f, q], weights[h, q]
        if h != f:
            for b in range(width):
                o[b] += u * x[b]
                v[b] += w * x[b]
        else:
            for b in range(width):
                o[b] += u * x[b]


@njit(parallel=True, cache=True, fastmath=FAST)
def conv_weight_grad(delta, a, gather, d_weights, d_bias, tile):
    """``dL/dW`` into ``d_weights`` ``(F, Q)`` and ``dL/dc`` into ``d_bias`` ``(F,)``: partial
    sums per tile, added up at the end; row ``n`` of ``a`` is the padding zero."""
    positions, taps = gather.shape
    filters, batch = d_weights.shape[0], a.shape[1]
    tiles = (batch + tile - 1) // tile
    parts = np.zeros((tiles, filters, taps + 1), dtype=d_weights.dtype)
    for t in prange(tiles):
        b0, b1 = t * tile, min(batch, (t + 1) * tile)
        part = parts[t]
        for p in range(positions):
            for f in range(0, filters - 1, 2):
                _dots(delta, a, gather, part, p, f, f + 1, positions, b0, b1)
            if filters % 2:
                _dots(delta, a, gather, part, p, filters - 1, filters - 1, positions, b0, b1)
            for f in range(filters):
                d, s = delta[f * positions + p, b0:b1], part[f, taps]
                for b in range(b1 - b0):
                    s += d[b]
                part[f, taps] = s
    total = parts[0].copy()
    for t in range(1, tiles):
        total += parts[t]
    d_weights[:] = total[:, :taps]
    d_bias[:] = total[:, taps]


@njit(inline="always", cache=True)
def _dots(delta, a, gather, part, p, f, h, positions, b0, b1):
    """Add position ``p``'s share of ``dL/dW`` of filters ``f`` and ``h`` (``h = f``: one filter)
    to ``part``, four taps at a time."""
    taps, width = gather.shape[1], b1 - b0
    d, e = delta[f * positions + p, b0:b1], delta[h * positions + p, b0:b1]
    zero = delta.dtype.type(0)
    q = 0
    while q + 4 <= taps:
        x0, x1 = a[gather[p, q], b0:b1], a[gather[p, q + 1], b0:b1]
        x2, x3 = a[gather[p, q + 2], b0:b1], a[gather[p, q + 3], b0:b1]
        u0 = u1 = u2 = u3 = v0 = v1 = v2 = v3 = zero
        for b in range(width):
            u0 += d[b] * x0[b]
            u1 += d[b] * x1[b]
            u2 += d[b] * x2[b]
            u3 += d[b] * x3[b]
            v0 += e[b] * x0[b]
            v1 += e[b] * x1[b]
            v2 += e[b] * x2[b]
            v3 += e[b] * x3[b]
        part[f, q] += u0
        part[f, q + 1] += u1
        part[f, q + 2] += u2
        part[f, q + 3] += u3
        if h != f:
            part[h, q] += v0
            part[h, q + 1] += v1
            part[h, q + 2] += v2
            part[h, q + 3] += v3
        q += 4
    for q in range(q, taps):
        x = a[gather[p, q], b0:b1]
        u = v = zero
        for b in range(width):
            u += d[b] * x[b]
            v += e[b] * x[b]
        part[f, q] += u
        if h != f:
            part[h, q] += v


@njit(parallel=True, cache=True, fastmath=FAST)
def conv_input_grad(delta, start, rows, terms, flat_weights, d_input, below, below_act):
    """``dL/dA[j] = sum_m W.flat[terms[m]] delta[rows[m]]`` over ``m`` in ``start[j]:start[j+1]``
    (every filter of every ``(p, q)`` meeting ``j``: :func:`input_terms`), four terms at a time,
    then times the layer below's ``f'`` (``below`` its output, ``below_act`` its activation)."""
    inputs, batch = d_input.shape
    for j in prange(inputs):
        out = d_input[j]
        out[:] = 0
        m, end = start[j], start[j + 1]
        while m + 4 <= end:
            d0, d1, d2, d3 = delta[rows[m]], delta[rows[m + 1]], delta[rows[m + 2]], delta[rows[m + 3]]
            w0, w1 = flat_weights[terms[m]], flat_weights[terms[m + 1]]
            w2, w3 = flat_weights[terms[m + 2]], flat_weights[terms[m + 3]]
            for b in range(batch):
                out[b] += w0 * d0[b] + w1 * d1[b] + w2 * d2[b] + w3 * d3[b]
            m += 4
        for m in range(m, end):
            d, w = delta[rows[m]], flat_weights[terms[m]]
            for b in range(batch):
                out[b] += w * d[b]
        if below_act != NONE:
            y = below[j]
            for b in range(batch):
                out[b] *= slope(y[b], below_act)


@njit(parallel=True, cache=True)
def pool_forward(a, windows, out):
    """``out[j] = max_k A[windows[j, k]]``; a NaN wins and stays, as in ``numpy.maximum``."""
    outputs, size = windows.shape
    batch = a.shape[1]
    for j in prange(outputs):
        best = out[j]
        best[:] = a[windows[j, 0]]
        for k in range(1, size):
            x = a[windows[j, k]]
            for b in range(batch):
                best[b] = x[b] if (x[b] > best[b]) | (x[b] != x[b]) else best[b]


@njit(parallel=True, cache=True)
def pool_backward(delta, a, windows, out, below_act, d_input, disjoint, tile):
    """Each window's gradient to its first maximum (the first member equal to ``out``: ties go
    to the earlier one, as the derivation routes them), times the layer below's ``f'`` there,
    which is ``f'`` at ``out``.  ``disjoint`` windows cover each input at most once: every
    member is written and nothing needs zeroing; otherwise ``d_input`` is zeroed and summed into."""
    outputs, size = windows.shape
    batch = delta.shape[1]
    if not disjoint:
        d_input[:] = 0
    for t in prange((batch + tile - 1) // tile):
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


@njit(parallel=True, cache=True)
def bias_activate(z, bias, act):
    """``z[j] = f(z[j] + c_j)`` in place (a dense layer after its matrix product)."""
    for j in prange(z.shape[0]):
        for b in range(z.shape[1]):
            z[j, b] = activate(z[j, b] + bias[j], act)


@njit(parallel=True, cache=True, fastmath=FAST)
def activation_grad(delta, out, act, d_bias):
    """``delta *= f'`` in place (``dL/dA -> dL/dZ``) and ``d_bias[j] = sum_b delta[j, b]``."""
    for j in prange(delta.shape[0]):
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
