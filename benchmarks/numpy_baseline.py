"""A hand-written NumPy training step and forward pass for conv -> ReLU -> maxpool -> ... -> dense
-> softmax cross entropy: the baseline a NumPy user would write.

Written independently of symcnn (classic im2col / col2im).  The architecture is a list of
``("conv", k, pad, relu)`` (stride 1, square k x k filters), ``("pool", 2)`` (2x2, stride 2)
and ``("dense", relu)`` layers.  Parameters use symcnn's layout, numbered by layer:
``W{l}`` (F, C, k, k) and ``b{l}`` (F,) for conv, ``W{l}`` (inputs, outputs) and ``b{l}`` for dense.
Everything computes in the dtype of ``x``.
"""

import numpy as np


def im2col(x, k, pad):
    """(B, C, H, W) -> (B * Ho * Wo, C * k * k) for stride 1."""
    B, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    cols = np.empty((B, Ho, Wo, C, k, k), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, :, :, i, j] = xp[:, :, i:i + Ho, j:j + Wo].transpose(0, 2, 3, 1)
    return cols.reshape(B * Ho * Wo, C * k * k)


def col2im(d_cols, shape, k, pad):
    """The adjoint of :func:`im2col`: sums each column entry back onto its input pixel."""
    B, C, H, W = shape
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    d_cols = d_cols.reshape(B, Ho, Wo, C, k, k)
    d_xp = np.zeros((B, C, H + 2 * pad, W + 2 * pad), dtype=d_cols.dtype)
    for i in range(k):
        for j in range(k):
            d_xp[:, :, i:i + Ho, j:j + Wo] += d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return d_xp[:, :, pad:pad + H, pad:pad + W]


def forward(arch, params, x):
    """The logits and, per layer, what its backward pass needs."""
    caches, a = [], x
    for l, layer in enumerate(arch, start=1):
        if layer[0] == "conv":
            _, k, pad, relu = layer
            W, b = params[f"W{l}"], params[f"b{l}"]
            B, F = len(a), len(W)
            cols = im2col(a, k, pad)
            Ho, Wo = a.shape[2] + 2 * pad - k + 1, a.shape[3] + 2 * pad - k + 1
            z = (cols @ W.reshape(F, -1).T + b).reshape(B, Ho, Wo, F).transpose(0, 3, 1, 2)
            caches.append((cols, a.shape, z))
            a = np.maximum(z, 0) if relu else z
        elif layer[0] == "pool":
            B, F, H, W = a.shape
            windows = a.reshape(B, F, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, F, H // 2, W // 2, 4)
            arg = windows.argmax(axis=-1)
            caches.append((arg, a.shape))
            a = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
        else:
            flat = a.reshape(len(a), -1)
            z = flat @ params[f"W{l}"] + params[f"b{l}"]
            caches.append((flat, a.shape, z))
            a = np.maximum(z, 0) if layer[1] else z
    return a, caches


def predict(arch, params, x):
    return forward(arch, params, x)[0].argmax(axis=1)


def step(arch, params, x, labels):
    """Mean cross-entropy loss over the batch and its gradient for every parameter."""
    logits, caches = forward(arch, params, x)
    B = len(x)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(B), labels].mean()
    d = np.exp(log_p)
    d[np.arange(B), labels] -= 1
    d /= B
    grads = {}
    for l in range(len(arch), 0, -1):
        layer, cache = arch[l - 1], caches[l - 1]
        if layer[0] == "dense":
            flat, shape, z = cache
            if layer[1]:
                d = d * (z > 0)
            grads[f"W{l}"], grads[f"b{l}"] = flat.T @ d, d.sum(axis=0)
            d = (d @ params[f"W{l}"].T).reshape(shape)
        elif layer[0] == "pool":
            arg, shape = cache
            B, F, H, W = shape
            d_windows = np.zeros((B, F, H // 2, W // 2, 4), dtype=d.dtype)
            np.put_along_axis(d_windows, arg[..., None], d[..., None], axis=-1)
            d = d_windows.reshape(B, F, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)
        else:
            _, k, pad, relu = layer
            cols, shape, z = cache
            if relu:
                d = d * (z > 0)
            W = params[f"W{l}"]
            rows = d.transpose(0, 2, 3, 1).reshape(-1, len(W))
            grads[f"W{l}"] = (rows.T @ cols).reshape(W.shape)
            grads[f"b{l}"] = rows.sum(axis=0)
            if l > 1:
                d = col2im(rows @ W.reshape(len(W), -1), shape, k, pad)
    return loss, grads
