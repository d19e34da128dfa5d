"""The compiled model: checked inputs in, the chosen backend's loss, gradients and predictions out."""

from __future__ import annotations

import copy
import math

import numpy as np

from ..activations import ACTIVATIONS
from ..derive import Derivation, GeneralDerivation
from ..errors import ShapeError
from ..graph import Graph
from .arrays import array_backend, array_layers
from .engine import general_loss
from .scalar import scalar_backend

DEFAULT_BACKEND = "numba"  # the fastest: see benchmarks/bench_step.py


class CompiledModel:
    """A network's compiled loss, gradients and predictions.

    ``params`` maps ``"W1"``, ``"b1"``, ... to arrays in the contract's shapes; ``X`` is
    ``(batch, *input)``; ``y`` is ``(batch, K)`` for squared loss, integer labels ``(batch,)``
    for cross entropy.
    """

    def __init__(self, graph: Graph, derivation: Derivation, general: GeneralDerivation,
                 backend: str = DEFAULT_BACKEND, dtype=np.float64):
        if backend not in BACKENDS:
            raise ShapeError(f"compile: unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        self.spec, self.backend, self.dtype = graph.spec, backend, np.dtype(dtype)
        self.shapes = graph.spec.parameter_shapes()
        self._engine = BACKENDS[backend](graph, derivation, general)

    def at_float64(self) -> CompiledModel:
        """The same compiled model computing in float64 (for finite differences)."""
        return self.astype(np.float64)

    def astype(self, dtype) -> CompiledModel:
        """The same compiled model computing in ``dtype`` (float64 or float32), without compiling
        again: the engines work in the dtype of the arrays they are given."""
        if np.dtype(dtype) == self.dtype:
            return self
        twin = copy.copy(self)
        twin.dtype = np.dtype(dtype)
        return twin

    def init_params(self, seed: int = 0) -> dict[str, np.ndarray]:
        """PyTorch's default initialisation: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
        rng = np.random.default_rng(seed)
        params = {}
        for name, shape in self.shapes.items():
            weight = self.shapes["W" + name[1:]]
            fan_in = math.prod(weight[1:]) if len(weight) > 2 else weight[0]
            bound = 1 / math.sqrt(fan_in)
            params[name] = rng.uniform(-bound, bound, size=shape).astype(self.dtype)
        return params

    def forward(self, params: dict, X) -> np.ndarray:
        """The network's output ``A^L`` for a batch, shape ``(batch, *output)``."""
        a = self._engine.forward(*self._finite(params, X))
        return a.reshape(len(a), *self.spec.output_shape)

    def predict(self, params: dict, X) -> np.ndarray:
        """Class labels (cross entropy) or outputs (squared loss) for a batch."""
        out = self._engine.forward(*self._finite(params, X))
        return out.argmax(axis=1) if self.spec.class_labels else out

    def loss(self, params: dict, X, y) -> float:
        return self.loss_and_grad(params, X, y, gradient=False)[0]

    def loss_and_grad(self, params: dict, X, y, gradient: bool = True):
        """Mean loss over the batch and its gradient for every parameter (same keys and shapes)."""
        params, X = self._params(params), self._inputs(X)
        loss, grads = self._engine.loss_and_grad(params, X, self._targets(y, len(X)), gradient)
        return float(loss), None if grads is None else {name: grads[name] for name in self.shapes}

    def kink_distance(self, params: dict, X) -> np.ndarray:
        """Per sample, how close the forward pass comes to a kink: the smallest ``|Z|`` of a
        ReLU unit and the smallest gap between the two largest entries of a pooling window.
        A window of ReLU outputs that are all clamped to 0 is flat, not a kink, and is skipped."""
        params, a = self._params(params), self._inputs(X)
        distance = np.full(len(a), np.inf)
        after_relu = False
        for layer in self._engine.probe:
            if layer.layer.type == "maxpool":
                values = np.take(a, layer.pool.targets, axis=1).reshape(len(a), layer.pool.size, -1)
                top = np.sort(values, axis=1)[:, -2:]
                gap = top[:, 1] - top[:, 0]
                if after_relu:
                    gap = np.where(top[:, 1] == 0, np.inf, gap)
                distance = np.minimum(distance, gap.min(axis=1))
            a, cache = layer.forward(params, a)
            kink = layer.layer.type != "maxpool" and ACTIVATIONS[layer.layer.activation].kink
            after_relu = kink or (after_relu and layer.layer.type == "maxpool")
            if kink:
                distance = np.minimum(distance, np.abs(cache[1]).min(axis=1))
        return distance

    # -- input checks ------------------------------------------------------------------

    def _params(self, params: dict) -> dict:
        missing = [n for n in self.shapes if n not in params]
        if missing:
            raise ShapeError(f"params: missing {', '.join(missing)} (this network has {', '.join(self.shapes)})")
        extra = [n for n in params if n not in self.shapes]
        if extra:
            raise ShapeError(f"params: {extra[0]!r} is not a parameter of this network ({', '.join(self.shapes)})")
        checked = {}
        for name, shape in self.shapes.items():
            array = np.asarray(params[name], dtype=self.dtype)
            if array.shape != shape:
                raise ShapeError(f"params[{name!r}]: shape {array.shape}, expected {shape}")
            checked[name] = array
        return checked

    def _finite(self, params: dict, X) -> tuple[dict, np.ndarray]:
        """Checked parameters and inputs that are finite too: a NaN input would otherwise come
        out as class 0, silently."""
        params, X = self._params(params), self._inputs(X)
        for name, array in (("X", X), *((f"params[{n!r}]", p) for n, p in params.items())):
            bad = np.argwhere(~np.isfinite(array))
            if bad.size:
                where = f"sample {bad[0][0]}" if name == "X" else f"entry {list(map(int, bad[0]))}"
                raise ShapeError(f"{name}: {where} holds {array[tuple(bad[0])]}; the network needs finite numbers")
        return params, X

    def _inputs(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.shape[1:] not in (self.spec.sample_shape, self.spec.input_shape):
            shape = self.spec.sample_shape
            raise ShapeError(f"X: shape {X.shape}, expected (batch, {', '.join(map(str, shape))})")
        return X.reshape(len(X), -1)

    def _targets(self, y, batch: int) -> np.ndarray:
        """``(batch, K)`` targets in the model's dtype, or the class labels as they are."""
        classes = math.prod(self.spec.output_shape)
        y = np.asarray(y)
        if not self.spec.class_labels:
            if y.shape != (batch, classes):
                raise ShapeError(f"y: shape {y.shape}, expected ({batch}, {classes})")
            return y.astype(self.dtype)
        if y.shape != (batch,) or not np.issubdtype(y.dtype, np.integer):
            raise ShapeError(f"y: integer class labels of shape ({batch},) expected, got {y.dtype} {y.shape}")
        bad = np.flatnonzero((y < 0) | (y >= classes))
        if bad.size:
            raise ShapeError(f"y: labels must be in 0..{classes - 1}, got {y[bad[0]]} (entry {bad[0]})")
        return y


def numba_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation):
    """The array backend's index maps as compiled loop nests (see :mod:`symcnn.compile.numba_backend`)."""
    from .numba_backend import Engine  # Numba is imported only by the models that use it
    return Engine(graph.spec, array_layers(general), general_loss(general) if graph.spec.loss else None)


BACKENDS = {"numba": numba_backend, "array": array_backend, "scalar": scalar_backend}
