"""A conv layer's forward rule and vector-Jacobian products as Numba loop nests over runs of
its gather.

The gather ``G`` (``(P, Q)``, read from the derivation; ``G[p, q] = n`` a padding zero) says
which input entry tap ``q`` meets at output position ``p``.  With activations feature-major
(``A[j, b]``, shape ``(n, B)``, C order) and ``r = f P + p`` the canonical output row:

    Z[r, b]     = c_f + sum_q W[f, q] A[G[p, q], b]
    dL/dW[f, q] = sum_{p, b} delta[f P + p, b] A[G[p, q], b]          dL/dc_f = sum_{p, b} delta[r, b]
    dL/dA[j, b] = sum_{(p, q): G[p, q] = j} sum_f W[f, q] delta[f P + p, b]

with ``delta = dL/dZ``.  Where ``G[p + i, q] = G[p, q] + i`` for ``i < R`` and every tap (or the
tap is padding all along), positions ``p .. p + R - 1`` form a *run*: their output rows are one
contiguous block of ``R B`` numbers and so is what each tap reads, so one vectorized loop over
``R B`` numbers does a tap for the whole run.  A stride-1 convolution's output rows away from
the border are runs; any other gather still works, in runs of 1.  Padding taps are left out.
Two filters and four taps (two and two for ``dL/dA``) are done per pass, so each load feeds
several multiply-adds and each output block is loaded and stored once per pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .loops import FAST, NONE, activate, slope


def conv_runs(gather: np.ndarray, inputs: int):
    """The runs of ``G``: ``runs (m, 4)`` holding first position ``p``, length ``R`` and the
    run's span ``[t0, t1)`` of ``taps (k, 2)``, which holds each non-padding tap ``q`` and the
    input ``G[p, q]`` it meets at the run's first position."""
    pad = gather == inputs
    steps = (pad[:-1] & pad[1:]) | (~pad[:-1] & ~pad[1:] & (gather[1:] == gather[:-1] + 1))
    first = np.flatnonzero(np.concatenate([[True], ~steps.all(axis=1)]))
    lengths = np.diff(np.append(first, len(gather)))
    q = [np.flatnonzero(~pad[p]) for p in first]
    ends = np.cumsum([len(t) for t in q])
    runs = np.stack([first, lengths, ends - [len(t) for t in q], ends], axis=1)
    taps = np.stack([np.concatenate(q), np.concatenate([gather[p, t] for p, t in zip(first, q)])], axis=1)
    return runs.astype(np.intp), taps.astype(np.intp)


@njit(inline="always")
def _row(flat, row, batch, width):
    """Row ``row`` of a feature-major ``(n, B)`` array read flat, ``width`` numbers from its start
    (a run's ``R B`` numbers)."""
    return flat[row * batch:row * batch + width]


@njit(inline="always")
def _four_rows(x, taps, k, batch, width):
    """The input rows that taps ``k .. k + 3`` read at a run's first position."""
    return (_row(x, taps[k, 1], batch, width), _row(x, taps[k + 1, 1], batch, width),
            _row(x, taps[k + 2, 1], batch, width), _row(x, taps[k + 3, 1], batch, width))


@njit(cache=True, fastmath=FAST)
def conv_forward(a, runs, taps, weights, bias, act, out):
    """``out[f P + p] = f(c_f + sum_q W[f, q] A[G[p, q]])``; ``out`` is ``(F P, B)``."""
    filters, batch = weights.shape[0], a.shape[1]
    positions = out.shape[0] // filters
    x, z = a.reshape(-1), out.reshape(-1)
    for i in range(len(runs)):
        p, width, t0, t1 = runs[i, 0], runs[i, 1] * a.shape[1], runs[i, 2], runs[i, 3]
        for f in range(filters):
            _row(z, f * positions + p, batch, width)[:] = bias[f]
        for f in range(0, filters, 2):
            h = min(f + 1, filters - 1)
            o = _row(z, f * positions + p, batch, width)
            v = _row(z, h * positions + p, batch, width)
            k = t0
            while k + 4 <= t1:
                x0, x1, x2, x3 = _four_rows(x, taps, k, batch, width)
                q0, q1, q2, q3 = taps[k, 0], taps[k + 1, 0], taps[k + 2, 0], taps[k + 3, 0]
                u0, u1, u2, u3 = weights[f, q0], weights[f, q1], weights[f, q2], weights[f, q3]
                w0, w1, w2, w3 = weights[h, q0], weights[h, q1], weights[h, q2], weights[h, q3]
                if h != f:
                    for b in range(width):
                        o[b] += u0 * x0[b] + u1 * x1[b] + u2 * x2[b] + u3 * x3[b]
                        v[b] += w0 * x0[b] + w1 * x1[b] + w2 * x2[b] + w3 * x3[b]
                else:
                    for b in range(width):
                        o[b] += u0 * x0[b] + u1 * x1[b] + u2 * x2[b] + u3 * x3[b]
                k += 4
            for k in range(k, t1):
                x0, u0, w0 = _row(x, taps[k, 1], batch, width), weights[f, taps[k, 0]], weights[h, taps[k, 0]]
                if h != f:
                    for b in range(width):
                        o[b] += u0 * x0[b]
                        v[b] += w0 * x0[b]
                else:
                    for b in range(width):
                        o[b] += u0 * x0[b]
        if act != NONE:
            for f in range(filters):
                o = _row(z, f * positions + p, batch, width)
                for b in range(width):
                    o[b] = activate(o[b], act)


@njit(cache=True, fastmath=FAST)
def conv_weight_grad(delta, a, runs, taps, d_weights, d_bias):
    """``dL/dW`` into ``d_weights`` ``(F, Q)`` and ``dL/dc`` into ``d_bias`` ``(F,)``."""
    filters, batch = d_weights.shape[0], a.shape[1]
    positions = delta.shape[0] // filters
    x, d = a.reshape(-1), delta.reshape(-1)
    zero = delta.dtype.type(0)
    d_weights[:] = 0
    d_bias[:] = 0
    for i in range(len(runs)):
        p, width, t0, t1 = runs[i, 0], runs[i, 1] * batch, runs[i, 2], runs[i, 3]
        for f in range(0, filters, 2):
            h = min(f + 1, filters - 1)
            e0 = _row(d, f * positions + p, batch, width)
            e1 = _row(d, h * positions + p, batch, width)
            k = t0
            while k + 4 <= t1:
                x0, x1, x2, x3 = _four_rows(x, taps, k, batch, width)
                u0 = u1 = u2 = u3 = v0 = v1 = v2 = v3 = zero
                for b in range(width):
                    u0 += e0[b] * x0[b]
                    u1 += e0[b] * x1[b]
                    u2 += e0[b] * x2[b]
                    u3 += e0[b] * x3[b]
                    v0 += e1[b] * x0[b]
                    v1 += e1[b] * x1[b]
                    v2 += e1[b] * x2[b]
                    v3 += e1[b] * x3[b]
                q0, q1, q2, q3 = taps[k, 0], taps[k + 1, 0], taps[k + 2, 0], taps[k + 3, 0]
                d_weights[f, q0] += u0
                d_weights[f, q1] += u1
                d_weights[f, q2] += u2
                d_weights[f, q3] += u3
                if h != f:
                    d_weights[h, q0] += v0
                    d_weights[h, q1] += v1
                    d_weights[h, q2] += v2
                    d_weights[h, q3] += v3
                k += 4
            for k in range(k, t1):
                x0 = _row(x, taps[k, 1], batch, width)
                u0 = v0 = zero
                for b in range(width):
                    u0 += e0[b] * x0[b]
                    v0 += e1[b] * x0[b]
                d_weights[f, taps[k, 0]] += u0
                if h != f:
                    d_weights[h, taps[k, 0]] += v0
        for f in range(filters):
            e0, s = _row(d, f * positions + p, batch, width), zero
            for b in range(width):
                s += e0[b]
            d_bias[f] += s


def transposed_gather(gather: np.ndarray, inputs: int, channels: int, filters: int):
    """The gather of ``dL/dA`` as a convolution of ``delta`` with the weights ``W[f, c, k]`` read
    as ``W'[c, f K + k]``: ``G'[s, f K + k] = f P + p`` for the output position ``p`` where tap
    ``(c, k)`` meets input ``c S + s`` (``F P``, one past ``delta``'s last row, where none does).
    It exists when ``G`` is one spatial map repeated per channel and each ``(s, k)`` has at most
    one ``p``, as for every convolution; ``None`` otherwise."""
    positions, taps = gather.shape
    kernel, spatial = taps // channels, inputs // channels
    pad = gather == inputs
    base = np.where(pad[:, :kernel], inputs, gather[:, :kernel])
    for c in range(channels):
        block = gather[:, c * kernel:(c + 1) * kernel]
        if not (pad[:, c * kernel:(c + 1) * kernel] == pad[:, :kernel]).all() or \
                not (np.where(pad[:, :kernel], 0, block - base - c * spatial) == 0).all():
            return None
    p, k = np.nonzero(~pad[:, :kernel])
    s = base[p, k]
    if len(np.unique(s * kernel + k)) != len(s):
        return None
    transposed = np.full((spatial, filters * kernel), filters * positions, dtype=np.intp)
    for f in range(filters):
        transposed[s, f * kernel + k] = f * positions + p
    return transposed


@njit(cache=True)
def times_slope(d, below, act):
    """``d *= f'`` in place, ``f'`` written in the layer below's output ``below``."""
    for j in range(d.shape[0]):
        for b in range(d.shape[1]):
            d[j, b] *= slope(below[j, b], act)
