"""PyTorch as an independent oracle: the same network, its loss and autograd gradients.

Parameters use symcnn's layout (conv weights ``(F, C, *k)`` as in PyTorch, dense weights
``(inputs, units)``, so a dense layer is ``a @ W + b``).
"""

import numpy as np
import pytest


def loss_and_grads(spec, params: dict, X: np.ndarray, y) -> tuple[float, dict]:
    """Loss summed over the batch ``X`` ``(batch, *input)`` and its gradients, in float64.

    PyTorch is an optional oracle (no wheel for every Python): the calling test skips without it.
    """
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    CONV = {1: F.conv1d, 2: F.conv2d}
    POOL = {1: F.max_pool1d, 2: F.max_pool2d}
    ACTIVATION = {"none": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
    weights = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
               for k, v in params.items()}
    a = torch.tensor(np.asarray(X, dtype=np.float64)).reshape(-1, *spec.input_shape)
    for l, layer in enumerate(spec.layers, start=1):
        if layer.type == "maxpool":
            a = POOL[spec.dims](a, layer.size, layer.stride)
            continue
        W, b = weights[f"W{l}"], weights.get(f"b{l}")
        if layer.type == "conv":
            z = CONV[spec.dims](a, W, b, stride=layer.stride, padding=layer.padding)
        else:
            z = a.reshape(a.shape[0], -1) @ W + (b if b is not None else 0)
        a = ACTIVATION[layer.activation](z)
    logits = a.reshape(a.shape[0], -1)
    if spec.loss == "squared":
        loss = ((logits - torch.tensor(np.asarray(y, dtype=np.float64))) ** 2).sum()
    else:
        loss = F.cross_entropy(logits, torch.tensor(np.asarray(y, dtype=np.int64)), reduction="sum")
    loss.backward()
    return loss.item(), {k: w.grad.numpy() for k, w in weights.items()}
