"""The ``"numba"`` backend: the whole network as a few compiled loop nests per layer.

It takes over the array backend's layers once their index maps are read out of the derivation
(``index_map``: a conv layer's gather, a pooling layer's windows) and runs them with
:mod:`symcnn.compile.conv_loops` and :mod:`symcnn.compile.loops` on feature-major activations ``(n, B)`` kept in
buffers reused from step to step; dense layers are BLAS matrix products (``Z = W^T A``, ``dW = A delta^T``,
``dA = W delta``).  Each layer's backward pass receives ``delta = dL/dZ`` (``dL/dA`` for
pooling): the layer above multiplies its ``dL/dA`` by this layer's ``f'`` where it writes it.

The kernels' activation and loss formulas are checked against the derived ones (lambdified by
:mod:`symcnn.compile.engine` and :mod:`symcnn.compile.arrays`) when the engine is built.  Numba compiles each kernel once per dtype on
first use and caches the machine code on disk (``__pycache__`` beside this file, or Numba's
user-wide cache directory when that is read-only; ``NUMBA_CACHE_DIR`` overrides both).
"""

from __future__ import annotations

import math

import numpy as np
from threadpoolctl import ThreadpoolController

from . import conv_loops, loops
from ..activations import ACTIVATIONS, LOSSES
from ..errors import SymcnnError

TILE = 256         # batch columns per tile of the pooling backward pass
CHUNK = 256        # forward passes (predict) run in chunks of this many samples: they stay in cache
KEEP = 2           # batch sizes whose buffers are kept (a training batch and the last, short one)


class Engine:
    """Forward pass and gradients of a network whose array layers carry their index maps."""

    def __init__(self, spec, array_layers: list, derived_loss):
        self.spec = spec
        self.probe = array_layers
        self.layers, below = [], None
        for al in array_layers:
            layer = {"conv": Conv, "maxpool": Pool, "dense": Dense}[al.layer.type](al, below)
            _check_activation(al, layer.act)
            self.layers.append(layer)
            below = layer
        self.loss = spec.loss
        if derived_loss is not None:
            _check_loss(self, derived_loss)
        self._buffers = {}

    def forward(self, params: dict, X: np.ndarray) -> np.ndarray:
        """``A^L`` as ``(B, outputs)``, in chunks of :data:`CHUNK` samples."""
        result = None
        with OneBlasThread():
            for at in range(0, len(X), CHUNK):  # each chunk's output lives in a reused buffer: copy it out now
                chunk = self._forward(params, X[at:at + CHUNK]).T
                if result is None:
                    result = np.empty((len(X), chunk.shape[1]), dtype=chunk.dtype)
                result[at:at + len(chunk)] = chunk
        return result

    def loss_and_grad(self, params: dict, X: np.ndarray, targets: np.ndarray, gradient: bool = True):
        """Mean loss and (if ``gradient``) ``{name: dL/dname}``; ``targets`` are class labels
        for cross entropy, ``(B, K)`` for squared loss."""
        with OneBlasThread():
            return self._loss_and_grad(params, X, targets, gradient)

    def _loss_and_grad(self, params, X, targets, gradient):
        batch = len(X)
        out = self._forward(params, X)
        delta = self._buffer(batch, X.dtype)["delta"]
        kernel = getattr(loops, LOSSES[self.loss].kernel)
        total = kernel(out, targets, X.dtype.type(1 / batch), delta)
        if not gradient:
            return total / batch, None
        top = self.layers[-1]
        if top.act != loops.NONE:
            loops.activation_grad(delta, out, top.act, np.empty(len(delta), X.dtype))
        grads = {}
        for layer, buffers in zip(reversed(self.layers), reversed(self._buffer(batch, X.dtype)["layers"])):
            delta = layer.backward(params, delta, buffers, grads)
        return total / batch, grads

    def _forward(self, params: dict, X: np.ndarray) -> np.ndarray:
        buffers = self._buffer(len(X), X.dtype)
        a = buffers["input"]
        np.copyto(a, X.T)
        for layer, own in zip(self.layers, buffers["layers"]):
            a = layer.forward(params, a, own)
        return a

    def _buffer(self, batch: int, dtype) -> dict:
        """Activations, deltas and pooling choices for one batch size, allocated once."""
        key = (batch, dtype)
        if key not in self._buffers:
            if len(self._buffers) >= KEEP:
                del self._buffers[next(iter(self._buffers))]
            first = self.layers[0]
            self._buffers[key] = {
                "input": np.empty((first.inputs, batch), dtype),
                "delta": np.empty((self.layers[-1].outputs, batch), dtype),
                "layers": [layer.allocate(batch, dtype) for layer in self.layers]}
        return self._buffers[key]


class OneBlasThread:
    """BLAS on one thread inside ``with``: a step's products are small, and OpenBLAS's threads
    cost more than they save there (and stall when another process holds a core)."""

    libraries = None

    def __enter__(self):
        if OneBlasThread.libraries is None:
            OneBlasThread.libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        self.saved = [library.get_num_threads() for library in self.libraries]
        for library in self.libraries:
            library.set_num_threads(1)

    def __exit__(self, *exception):
        for library, threads in zip(self.libraries, self.saved):
            library.set_num_threads(threads)


class _Layer:
    """What every layer knows: its spec, sizes, activation code and the layer below it."""

    def __init__(self, al, below):
        self.l, self.layer, self.below = al.l, al.layer, below
        self.inputs, self.outputs = al.inputs, math.prod(al.layer.out_shape)
        self.act = ACTIVATIONS[al.layer.activation].kernel

    def allocate(self, batch: int, dtype) -> dict:
        buffers = {"out": np.empty((self.outputs, batch), dtype)}
        if self.below is not None:
            buffers["d_input"] = np.zeros((self.inputs, batch), dtype)
        return buffers

    def _bias(self, params: dict, units: int, dtype) -> np.ndarray:
        return params[f"b{self.l}"] if self.layer.bias else np.zeros(units, dtype)


class Conv(_Layer):
    """Convolution over the runs of the gather ``(P, Q)`` read from the derivation; ``dL/dA`` is
    the convolution of ``delta`` over the transposed gather."""

    def __init__(self, al, below):
        super().__init__(al, below)
        gather = np.asarray(al.index_map)
        self.runs = conv_loops.conv_runs(gather, self.inputs)
        channels, filters = al.layer.in_shape[0], al.layer.filters
        transposed = conv_loops.transposed_gather(gather, self.inputs, channels, filters)
        if transposed is None:
            raise SymcnnError(f"layer {self.l}: the gather read from the derivation is not a convolution's")
        self.runs_back = conv_loops.conv_runs(transposed, filters * len(gather))

    def forward(self, params, a, own):
        W = params[f"W{self.l}"]
        weights = W.reshape(len(W), -1)
        conv_loops.conv_forward(a, *self.runs, weights, self._bias(params, len(W), W.dtype), self.act, own["out"])
        own["a"] = a
        return own["out"]

    def backward(self, params, delta, own, grads):
        W = params[f"W{self.l}"]
        weights = W.reshape(len(W), -1)
        d_weights, d_bias = np.empty_like(weights), np.empty(len(W), W.dtype)
        conv_loops.conv_weight_grad(delta, own["a"], *self.runs, d_weights, d_bias)
        grads[f"W{self.l}"] = d_weights.reshape(W.shape)
        if self.layer.bias:
            grads[f"b{self.l}"] = d_bias
        if self.below is None:
            return None
        channels = W.shape[1]
        flipped = np.ascontiguousarray(np.swapaxes(W.reshape(len(W), channels, -1), 0, 1)).reshape(channels, -1)
        d_input = own["d_input"]
        conv_loops.conv_forward(delta, *self.runs_back, flipped, np.zeros(channels, W.dtype), loops.NONE,
                                d_input)
        if self.below.act != loops.NONE:
            conv_loops.times_slope(d_input, own["a"], self.below.act)
        return d_input


class Pool(_Layer):
    """Max pooling over the windows ``(J, K)`` read from the derivation."""

    def __init__(self, al, below):
        super().__init__(al, below)
        self.windows = np.ascontiguousarray(al.index_map, dtype=np.intp)
        counts = np.bincount(self.windows.ravel(), minlength=self.inputs)
        self.disjoint = bool((counts <= 1).all())

    def forward(self, params, a, own):
        loops.pool_forward(a, self.windows, own["out"])
        own["a"] = a
        return own["out"]

    def backward(self, params, delta, own, grads):
        if self.below is None:
            return None
        loops.pool_backward(delta, own["a"], self.windows, own["out"], self.below.act, own["d_input"],
                            self.disjoint, TILE)
        return own["d_input"]


class Dense(_Layer):
    """``Z = W^T A + c`` as one BLAS product and one bias-and-activation pass."""

    def forward(self, params, a, own):
        W, out = params[f"W{self.l}"], own["out"]
        np.matmul(W.T, a, out=out)
        if self.layer.bias or self.act != loops.NONE:
            loops.bias_activate(out, self._bias(params, W.shape[1], W.dtype), self.act)
        own["a"] = a
        return out

    def backward(self, params, delta, own, grads):
        W, a = params[f"W{self.l}"], own["a"]
        grads[f"W{self.l}"] = a @ delta.T
        if self.layer.bias:
            grads[f"b{self.l}"] = delta.sum(axis=1)
        if self.below is None:
            return None
        d_input = own["d_input"]
        np.matmul(W, delta, out=d_input)
        if self.below.act != loops.NONE:
            loops.activation_grad(d_input, a, self.below.act, np.empty(len(d_input), W.dtype))
        return d_input


def _check_activation(al, act: int) -> None:
    """The kernels' ``f`` and ``f'`` (in the output) against the derived ones, lambdified."""
    if al.f is None:
        return
    z = np.linspace(-3, 3, 14)[None, :]  # no point at the kink 0
    a = z.copy()
    loops.bias_activate(a, np.zeros(1), act)
    slope = np.ones_like(z)
    loops.activation_grad(slope, a, act, np.empty(1))
    if not (np.allclose(a, al.f(z)[0], rtol=1e-13, atol=1e-15)
            and np.allclose(slope, al.df(z)[0], rtol=1e-13, atol=1e-15)):
        raise SymcnnError(f"layer {al.l}: the derived activation {al.layer.activation!r} is not the one the "
                          "numba kernels compute")


def _check_loss(engine: Engine, derived_loss) -> None:
    """The loss kernel's per-sample loss and ``dL/dA^L`` against the derived ones at a random point."""
    classes, batch = engine.layers[-1].outputs, 3
    rng = np.random.default_rng(0)
    out = rng.normal(size=(classes, batch))
    if engine.spec.class_labels:
        labels = np.arange(batch) % classes
        targets, onehot = labels, np.eye(classes)[labels]
    else:
        targets = onehot = rng.normal(size=(batch, classes))
    kernel = getattr(loops, LOSSES[engine.loss].kernel)
    delta = np.empty_like(out)
    total = kernel(out, targets, 1.0, delta)
    losses, derived = derived_loss(np.ascontiguousarray(out.T), onehot)
    if not (np.isclose(total, losses.sum(), rtol=1e-12) and np.allclose(delta, derived.T, rtol=1e-12)):
        raise SymcnnError(f"the derived {engine.loss} loss is not the one the numba kernels compute")
