"""Layers as SymPy expressions: one template per layer type, for chosen sizes.

Each function takes object arrays of symbols (or expressions) and returns the object array of
the layer's output expressions.  Shapes follow :mod:`symcnn.spec`: activations are
``(channels, *spatial)``, conv weights ``(F, C, *k)``, dense weights ``(inputs, units)``.
"""

from itertools import product

import numpy as np
import sympy

from .functions import ACTIVATION_FUNCTIONS, LogSumExp, PoolMax


def conv(padded_input: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
         stride: tuple[int, ...]) -> np.ndarray:
    """Cross-correlation of a padded input with a filter bank.

    In 1D, for filter ``f`` and output position ``i`` (1-based),

        Z_{f,i} = sum_c sum_{k=1}^{K} W_{f,c,k} A_{c,(i-1)s+k-p} + W_{0,f}

    where ``A`` is the input with its padding positions ``1-p..0`` and ``n+1..n+p``; in 2D the
    same holds per axis.  Parameters: ``padded_input`` ``(C, *padded)``, ``weights``
    ``(F, C, *K)``, ``bias`` ``(F,)`` or None, ``stride`` one int per spatial axis.
    Returns ``(F, *out)`` with ``out = (padded - K) // s + 1`` per axis.
    """
    filters, channels, *kernel = weights.shape
    padded = padded_input.shape[1:]
    out = tuple((n - k) // s + 1 for n, k, s in zip(padded, kernel, stride))
    result = np.empty((filters, *out), dtype=object)
    for f, position in product(range(filters), product(*map(range, out))):
        start = [i * s for i, s in zip(position, stride)]
        terms = [weights[(f, c, *offset)] * padded_input[(c, *[a + o for a, o in zip(start, offset)])]
                 for c in range(channels) for offset in product(*map(range, kernel))]
        if bias is not None:
            terms.append(bias[f])
        result[(f, *position)] = sympy.Add(*terms)
    return result


def dense(inputs: np.ndarray, weights: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``Z = (W)^T a + W_0``: ``Z_j = sum_i W_{i,j} a_i + W_{0,j}``.

    ``inputs`` of any shape is flattened row-major (channel, row, column) to ``a``;
    ``weights`` is ``(inputs, units)``, ``bias`` ``(units,)`` or None.  Returns ``(units,)``.
    """
    flat = inputs.reshape(-1)
    units = weights.shape[1]
    result = np.empty(units, dtype=object)
    for j in range(units):
        terms = [weights[i, j] * flat[i] for i in range(flat.size)]
        if bias is not None:
            terms.append(bias[j])
        result[j] = sympy.Add(*terms)
    return result


def activation(pre_activation: np.ndarray, name: str) -> np.ndarray:
    """``A = f(Z)`` entry by entry, ``f`` one of ReLU, sigmoid, tanh or the identity (``"none"``)."""
    function = ACTIVATION_FUNCTIONS[name]
    return np.vectorize(function, otypes=[object])(pre_activation)


def maxpool(inputs: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Max pooling of each channel: ``A_{c,i} = max_{k=1..K} A^{prev}_{c,(i-1)s+k}`` per axis.

    The window's entries are passed to :class:`~symcnn.functions.PoolMax` in row-major order,
    which is what breaks ties (the first maximum gets the gradient).
    ``inputs`` is ``(C, *n)``; returns ``(C, *out)``, ``out = (n - K) // s + 1``.
    """
    channels, *spatial = inputs.shape
    out = tuple((n - k) // s + 1 for n, k, s in zip(spatial, size, stride))
    result = np.empty((channels, *out), dtype=object)
    for c, position in product(range(channels), product(*map(range, out))):
        window = [inputs[(c, *[i * s + o for i, s, o in zip(position, stride, offset)])]
                  for offset in product(*map(range, size))]
        result[(c, *position)] = PoolMax(*window)
    return result


def squared_loss(output: np.ndarray, target: np.ndarray) -> sympy.Expr:
    """``L = sum_i (A_i - y_i)^2`` over the flattened output ``A`` and target ``y``."""
    return sympy.Add(*[(a - t) ** 2 for a, t in zip(output.reshape(-1), target.reshape(-1))])


def cross_entropy(output: np.ndarray, target: np.ndarray) -> sympy.Expr:
    """Softmax cross entropy of the logits ``A`` with a one-hot target ``y``:

        L = -sum_k y_k log softmax(A)_k = LogSumExp(A) - sum_k y_k A_k      (sum_k y_k = 1)

    written with :class:`~symcnn.functions.LogSumExp` so that it evaluates stably and
    differentiates to ``softmax(A)_k - y_k``.
    """
    logits = list(output.reshape(-1))
    return LogSumExp(*logits) - sympy.Add(*[t * a for a, t in zip(logits, target.reshape(-1))])


LOSS_FUNCTIONS = {"squared": squared_loss, "cross_entropy": cross_entropy}
