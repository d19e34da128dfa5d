"""A hand-written NumPy training step for conv(3x3, pad 1) -> ReLU -> maxpool 2 -> dense -> softmax CE.

Written independently of symcnn (classic im2col), as the baseline a NumPy user would write.
Parameters use symcnn's layout: W1 (F, 1, 3, 3), b1 (F,), W3 (inputs, 10), b3 (10,).
"""

import numpy as np


def im2col(x, k=3, pad=1):
    """(B, C, H, W) -> (B * H * W, C * k * k) for stride 1 and 'same' padding."""
    B, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((B, H, W, C, k, k), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, :, :, i, j] = xp[:, :, i:i + H, j:j + W].transpose(0, 2, 3, 1)
    return cols.reshape(B * H * W, C * k * k)


def step(params, x, labels):
    W1, b1, W3, b3 = params["W1"], params["b1"], params["W3"], params["b3"]
    B, C, H, W = x.shape
    F = W1.shape[0]
    cols = im2col(x)
    z = (cols @ W1.reshape(F, -1).T + b1).reshape(B, H, W, F).transpose(0, 3, 1, 2)
    a = np.maximum(z, 0)
    windows = a.reshape(B, F, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, F, H // 2, W // 2, 4)
    arg = windows.argmax(axis=-1)
    pooled = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
    flat = pooled.reshape(B, -1)
    logits = flat @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(B), labels].mean()
    d_logits = np.exp(log_p)
    d_logits[np.arange(B), labels] -= 1
    d_logits /= B
    grads = {"W3": flat.T @ d_logits, "b3": d_logits.sum(axis=0)}
    d_pooled = (d_logits @ W3.T).reshape(pooled.shape)
    d_windows = np.zeros_like(windows)
    np.put_along_axis(d_windows, arg[..., None], d_pooled[..., None], axis=-1)
    d_a = d_windows.reshape(B, F, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, F, H, W)
    d_z = d_a * (z > 0)
    rows = d_z.transpose(0, 2, 3, 1).reshape(-1, F)
    grads["W1"] = (rows.T @ cols).reshape(W1.shape)
    grads["b1"] = rows.sum(axis=0)
    return loss, grads
