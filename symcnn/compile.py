"""Derived gradients -> NumPy functions, vectorized over the batch, layer by layer.

Every layer is compiled from its derivation: the forward expressions and the local
vector-Jacobian products ``dL/dA^{l-1} = (dA^l/dA^{l-1}) dL/dA^l`` and
``dL/dW^l = (dA^l/dW^l) dL/dA^l`` that :mod:`symcnn.derive` differentiates, with the upstream
gradient ``dL/dA^l`` as symbols ``G_1, G_2, ...``.  Three backends share one call signature:

``"scalar"``
    ``sympy.lambdify`` (with common-subexpression elimination) of those expressions, every
    symbol standing for a ``(batch,)`` array: one NumPy call per scalar operation, the
    reference for small sizes.
``"array"``
    Compiled from the general formulas (:mod:`symcnn.derive.general`), never entry by entry:
    conv, dense and pooling layers use vectorized kernels (:mod:`symcnn.kernels`) on index maps
    evaluated with NumPy from the derived general Jacobians (:mod:`symcnn.indexmaps`); the
    activations, their derived derivatives and the loss and its gradient are lambdified from
    their index-form formulas, vectorized over the batch and the entries.
``"numba"`` (default)
    The array backend's index maps run as compiled loop nests (:mod:`symcnn.numba_backend`),
    with activations and loss checked against the derived ones: the fastest at every size.

The loss is the mean over the batch of the per-sample loss ``L``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from . import indexmaps, kernels
from .derive import Derivation, GeneralDerivation, Sparse
from .errors import ShapeError, SymcnnError
from .graph import Graph
from .indexed import LogSumExpOver, base_name

DEFAULT_BACKEND = "numba"  # the fastest: see benchmarks/bench_step.py


class ModelPrinter(NumPyPrinter):
    """NumPy code for symcnn's functions (stable sigmoid and logsumexp)."""

    def _print_Heaviside(self, expr):
        """The steps of the contract as comparisons (40x faster than ``numpy.heaviside``)."""
        argument, at_zero = self._print(expr.args[0]), expr.args[1] if len(expr.args) > 1 else None
        if at_zero in (0, 1):
            return f"numpy.{'greater' if at_zero == 0 else 'greater_equal'}({argument}, 0)"
        return super()._print_Heaviside(expr)

    def _print_ReLU(self, expr):
        return f"numpy.maximum({self._print(expr.args[0])}, 0)"

    def _print_Sigmoid(self, expr):
        return f"(0.5 * (1 + numpy.tanh(0.5 * ({self._print(expr.args[0])}))))"

    def _print_PoolMax(self, expr):
        return f"numpy.maximum.reduce([{', '.join(map(self._print, expr.args))}])"

    def _print_LogSumExp(self, expr):
        return f"logsumexp([{', '.join(map(self._print, expr.args))}])"

    def _print_RowSum(self, expr):
        return f"numpy.sum({self._print(expr.args[0])}, axis=1, keepdims=True)"

    def _print_RowLogSumExp(self, expr):
        return f"row_logsumexp({self._print(expr.args[0])})"


def logsumexp(terms: list) -> np.ndarray:
    """``log sum_k e^{z_k}`` computed as ``m + log sum_k e^{z_k - m}``, ``m = max_k z_k``."""
    stacked = np.stack(np.broadcast_arrays(*terms))
    top = stacked.max(axis=0)
    return top + np.log(np.exp(stacked - top).sum(axis=0))


def lambdify(arguments, expressions):
    """``sympy.lambdify`` with cse and :class:`ModelPrinter`, returning a list of arrays."""
    return sympy.lambdify(arguments, list(expressions), modules=[{"logsumexp": logsumexp}, "numpy"],
                          cse=True, printer=ModelPrinter({"fully_qualified_modules": True}), dummify=True)


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
        return out.argmax(axis=1) if self.spec.loss == "cross_entropy" else out

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
            after_relu = layer.layer.activation == "relu" or (after_relu and layer.layer.type == "maxpool")
            if layer.layer.activation == "relu":
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
        if self.spec.loss == "squared":
            if y.shape != (batch, classes):
                raise ShapeError(f"y: shape {y.shape}, expected ({batch}, {classes})")
            return y.astype(self.dtype)
        if y.shape != (batch,) or not np.issubdtype(y.dtype, np.integer):
            raise ShapeError(f"y: integer class labels of shape ({batch},) expected, got {y.dtype} {y.shape}")
        bad = np.flatnonzero((y < 0) | (y >= classes))
        if bad.size:
            raise ShapeError(f"y: labels must be in 0..{classes - 1}, got {y[bad[0]]} (entry {bad[0]})")
        return y


def _entry_loss(graph: Graph, derivation: Derivation):
    """``L(A^L, y)`` and ``dL/dA^L`` lambdified entry by entry from the derivation (the proof)."""
    outputs = list(graph.symbol_array(graph.flow[-2]).flat)
    targets = list(graph.symbol_array("y").flat)
    gradient = derivation.local_jacobian("L", graph.flow[-2]).to_matrix()
    function = lambdify(outputs + targets, [graph.expr("L")[0], *gradient])

    def loss(a: np.ndarray, y: np.ndarray):
        values = function(*a.T, *y.T)
        per_sample = np.broadcast_to(values[0], (len(a),))
        return per_sample, np.stack([np.broadcast_to(v, (len(a),)) for v in values[1:]], axis=1).astype(a.dtype)
    return loss


class RowSum(sympy.Function):
    """``sum_k f_k`` over the entries of one sample (a row), as the loss's sums are."""


class RowLogSumExp(sympy.Function):
    """``log sum_k e^{f_k}`` over the entries of one sample."""


def _general_loss(general: GeneralDerivation):
    """The loss and its gradient ``dloss/dA^L_k`` lambdified from their general formulas, with
    ``A^L_k`` and ``y_k`` standing for whole ``(batch, K)`` arrays and the sums over ``k`` for
    row reductions: one vectorized expression each, whatever ``K``."""
    output = general.graph.flow[-2]
    a, t = sympy.Symbol("a", real=True), sympy.Symbol("t", real=True)

    def vectorized(expression):
        expression = expression.replace(lambda e: isinstance(e, sympy.Indexed),
                                        lambda e: a if base_name(e) == f"vec({output})" else t)
        expression = expression.replace(lambda e: isinstance(e, sympy.Sum), lambda e: RowSum(e.function))
        expression = expression.replace(lambda e: isinstance(e, LogSumExpOver), lambda e: RowLogSumExp(e.function))
        if expression.free_symbols - {a, t}:
            raise SymcnnError(f"loss: the formula {expression} is not elementwise in the outputs")
        return expression

    loss = vectorized(general.formula("L").expression)
    gradient = vectorized(general.formula("L", output).expression)
    modules = [{"row_logsumexp": _row_logsumexp}, "numpy"]
    printer = ModelPrinter({"fully_qualified_modules": True})
    loss_function = sympy.lambdify([a, t], loss, modules=modules, printer=printer)
    gradient_function = sympy.lambdify([a, t], gradient, modules=modules, printer=printer)

    def compiled(a_: np.ndarray, y: np.ndarray):
        per_sample = np.broadcast_to(loss_function(a_, y), (len(a_), 1))[:, 0]
        return per_sample, np.broadcast_to(gradient_function(a_, y), a_.shape).astype(a_.dtype, copy=False)
    return compiled


def _row_logsumexp(x: np.ndarray) -> np.ndarray:
    """``log sum_k e^{x_k}`` per row, as ``m + log sum_k e^{x_k - m}``, kept as a column."""
    top = x.max(axis=1, keepdims=True)
    return top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))


class _Layers:
    """The array and scalar backends' engine: layer objects with ``forward(params, a) -> (a,
    cache)`` and ``backward(params, cache, delta) -> (dL/d input, grads)`` on ``(B, n)`` arrays,
    run one after the other, and the compiled loss.  ``probe`` are array layers for
    :meth:`CompiledModel.kink_distance`."""

    def __init__(self, layers: list, loss, probe: list | None = None):
        self.layers, self.probe, self._loss = layers, layers if probe is None else probe, loss
        slots = getattr(layers[-1], "slots", None)  # the output's columns, if not canonical
        self._order = None if slots is None else np.argsort(slots)
        self._slots = slots

    def forward(self, params: dict, X: np.ndarray) -> np.ndarray:
        return self._forward(params, X)[0]

    def loss_and_grad(self, params: dict, X: np.ndarray, targets: np.ndarray, gradient: bool):
        a, caches = self._forward(params, X)
        if targets.ndim == 1:  # class labels
            targets = np.eye(a.shape[1], dtype=X.dtype)[targets]
        losses, delta = self._loss(a, targets)
        if not gradient:
            return np.mean(losses), None
        delta = delta / len(X)
        if self._slots is not None:
            delta = delta[:, self._slots]
        grads = {}
        for layer, cache in zip(reversed(self.layers), reversed(caches)):
            delta, layer_grads = layer.backward(params, cache, delta)
            grads.update(layer_grads)
        return np.mean(losses), grads

    def _forward(self, params, a):
        """The output in canonical order, and every layer's cache for the backward pass."""
        caches = []
        for layer in self.layers:
            a, cache = layer.forward(params, a)
            caches.append(cache)
        return (a if self._order is None else a[:, self._order]), caches


# -- the scalar backend: every layer lambdified entry by entry --------------------------

class _ScalarLayer:
    """One layer's forward pass and VJPs, lambdified from the derivation."""

    def __init__(self, graph: Graph, derivation: Derivation, l: int):
        previous = _input_of(graph, l)
        self.params = [p for p in (f"W{l}", f"b{l}") if p in graph.parameters]
        inputs = list(graph.symbol_array(previous).flat)
        weights = [s for p in self.params for s in graph.symbol_array(p).flat]
        zeros = {s: 0 for s in graph.padding_symbols(previous)}
        forward = [e.xreplace(zeros) for e in _layer_expressions(graph, l)]
        upstream = sympy.symbols(f"G_1:{len(forward) + 1}", real=True)
        column = Sparse(len(forward), 1, {(j, 0): g for j, g in enumerate(upstream)})
        vjp_input = _vjp(graph, derivation, l, previous, column)
        vjp_params = [(p, _vjp(graph, derivation, l, p, column)) for p in self.params]
        self._forward = lambdify(inputs + weights, forward)
        self._backward = lambdify(inputs + weights + list(upstream),
                                  _column_entries(vjp_input, zeros)
                                  + [e for _, v in vjp_params for e in _column_entries(v, zeros)])

    def forward(self, params, a):
        batch = len(a)
        columns = [*a.T, *[w for p in self.params for w in params[p].ravel()]]
        out = np.stack([np.broadcast_to(v, (batch,)) for v in self._forward(*columns)], axis=1)
        return out.astype(a.dtype), (a, columns)

    def backward(self, params, cache, delta):
        a, columns = cache
        batch = len(a)
        values = [np.broadcast_to(v, (batch,)) for v in self._backward(*columns, *delta.T)]
        inputs = a.shape[1]
        d_input = np.stack(values[:inputs], axis=1).astype(a.dtype)
        grads, at = {}, inputs
        for p in self.params:
            size = params[p].size
            grads[p] = np.stack(values[at:at + size], axis=1).sum(axis=0).reshape(params[p].shape).astype(a.dtype)
            at += size
        return d_input, grads


def _input_of(graph: Graph, l: int) -> str:
    """The tensor layer ``l`` reads: ``X`` or ``A^{l-1}``."""
    return "X" if l == 1 else f"A{l - 1}"


def _layer_expressions(graph: Graph, l: int) -> list:
    """``A^l`` in terms of the layer's input and weights (``Z^l`` substituted into ``f``)."""
    activation = graph.expr_array(f"A{l}")
    if f"Z{l}" not in graph.flow:
        return list(activation.flat)
    pre = graph.definitions([f"Z{l}"])
    return [e.xreplace(pre) for e in activation.flat]


def _vjp(graph: Graph, derivation: Derivation, l: int, wrt: str, upstream: Sparse) -> Sparse:
    """``d(A^l)/d(wrt) . G``, the layer's derived local Jacobians applied to ``G``."""
    steps = [(f"Z{l}", wrt), (f"A{l}", f"Z{l}")] if f"Z{l}" in graph.flow else [(f"A{l}", wrt)]
    jacobian = derivation.local_jacobian(*steps[0])
    for of, by in steps[1:]:
        jacobian = jacobian @ derivation.local_jacobian(of, by)
    result = jacobian @ upstream
    if f"Z{l}" in graph.flow:  # the activation's derivative is written in Z^l: write Z^l out
        pre = graph.definitions([f"Z{l}"])
        result = result.map(lambda e: e.xreplace(pre))
    return result


def _column_entries(column: Sparse, zeros: dict) -> list:
    return [column.entries.get((i, 0), sympy.S.Zero).xreplace(zeros) for i in range(column.rows)]


def _scalar_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation) -> _Layers:
    """Every layer and the loss lambdified entry by entry: the proof at small sizes."""
    layers = [_ScalarLayer(graph, derivation, l) for l in range(1, len(graph.spec.layers) + 1)]
    return _Layers(layers, _entry_loss(graph, derivation) if graph.spec.loss else None, _array_layers(general))


# -- the array backend ------------------------------------------------------------------

class _ArrayLayer:
    """A conv, pooling or dense layer on whole arrays, its index structure read from the
    derivation (:mod:`symcnn.kernels`); the activation and its derived derivative lambdified.

    ``index_map`` is what was evaluated: a conv layer's gather, a pooling layer's windows (in
    the canonical order of the input), for the numba backend to take over.

    A conv layer's output is kept position-major (``(B, outputs * F)``, one GEMM row per
    position) instead of the canonical (filter, position) order; ``slots`` says which canonical
    entry each column holds, and the next layer's indices are permuted once, here, to match.
    """

    def __init__(self, general: GeneralDerivation, l: int, in_slots):
        graph = general.graph
        self.layer, self.l = graph.spec.layers[l - 1], l
        previous = _input_of(graph, l)
        self.inputs, self.first, self.slots = math.prod(graph.shape(previous)), l == 1, None
        column = np.argsort(in_slots) if in_slots is not None else np.arange(self.inputs)
        if self.layer.type == "conv":
            gather = self.index_map = indexmaps.conv_gather(general, l)
            gather = np.where(gather == self.inputs, self.inputs, column[np.minimum(gather, self.inputs - 1)])
            if self.layer.bias:  # the bias meets the constant 1 at index inputs + 1
                gather = np.hstack([gather, np.full((len(gather), 1), self.inputs + 1)])
            self.gather = gather
            self.slots = kernels.position_major(self.layer.filters, gather.shape[0])
        elif self.layer.type == "maxpool":
            self.index_map = indexmaps.pool_windows(general, l)
            self.pool = kernels.Pool(column[self.index_map], self.inputs)
        else:
            indexmaps.dense_check(general, l)
            self.index_map = None
            self.rows = in_slots  # W's rows in the order the input's columns come
        self.f = self.df = None
        if self.layer.type != "maxpool" and self.layer.activation != "none":
            self.f, self.df = _activation(general, l)

    def forward(self, params, a):
        layer, l = self.layer, self.l
        if layer.type == "maxpool":
            return self.pool.forward(a)
        if layer.type == "conv":
            z, patches = kernels.conv_forward(a, self._conv_weights(params), self.gather)
        else:
            W = params[f"W{l}"] if self.rows is None else params[f"W{l}"][self.rows]
            patches, z = a, a @ W + params.get(f"b{l}", 0)
        out = self.f(z)[0].astype(a.dtype, copy=False) if self.f else z
        return out, (patches, z)

    def backward(self, params, cache, delta):
        layer, l = self.layer, self.l
        if layer.type == "maxpool":
            return self.pool.backward(delta, cache), {}
        patches, z = cache
        if self.df:
            delta = delta * self.df(z)[0]
        W = params[f"W{l}"]
        if layer.type == "conv":
            d_weights, d_input = kernels.conv_backward(delta, patches, self._conv_weights(params), self.gather,
                                                       self.inputs, not self.first)
            dW, db = d_weights[:, :W[0].size].reshape(W.shape), d_weights[:, -1]
        else:
            W = W if self.rows is None else W[self.rows]
            dW, db = patches.T @ delta, delta.sum(axis=0)
            d_input = None if self.first else delta @ W.T
            if self.rows is not None:
                dW = dW[np.argsort(self.rows)]
        grads = {f"W{l}": dW}
        if layer.bias:
            grads[f"b{l}"] = db
        return d_input, grads


    def _conv_weights(self, params) -> np.ndarray:
        """``(F, C * prod(K))``, with the bias as one more column when the layer has one."""
        W = params[f"W{self.l}"].reshape(self.layer.filters, -1)
        return np.hstack([W, params[f"b{self.l}"][:, None]]) if self.layer.bias else W


def _activation(general: GeneralDerivation, l: int):
    """``f`` and ``f'`` of layer ``l`` lambdified from its general formulas ``A^l_t = f(Z^l_t)``
    and ``dA^l_t/dZ^l_u = f'(Z^l_t) 1[t = u]``, with ``Z^l_t`` standing for the whole array."""
    z = sympy.Symbol("z", real=True)
    forward = general.formula(f"A{l}")
    derivative = general.formula(f"A{l}", f"Z{l}")
    entry = sympy.Indexed(sympy.IndexedBase(sympy.Symbol(f"Z{l}")), *forward.indices)
    diagonal = sympy.Mul(*[sympy.KroneckerDelta(t, u) for t, u in zip(derivative.of_indices, derivative.wrt_indices)])
    slope = sympy.cancel(derivative.expression / diagonal)
    functions = []
    for expression in (forward.expression, slope):
        expression = expression.xreplace({entry: z})
        if expression.free_symbols - {z}:
            raise SymcnnError(f"A{l}: the activation's formula {expression} is not elementwise")
        functions.append(lambdify([z], [expression]))
    return functions


def _array_layers(general: GeneralDerivation) -> list:
    layers, slots = [], None
    for l in range(1, len(general.graph.spec.layers) + 1):
        layers.append(_ArrayLayer(general, l, slots))
        slots = layers[-1].slots
    return layers


def _array_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation) -> _Layers:
    """The layers on whole arrays and the loss, all from the general formulas."""
    return _Layers(_array_layers(general), _general_loss(general) if graph.spec.loss else None)


def _numba_backend(graph: Graph, derivation: Derivation, general: GeneralDerivation):
    """The array backend's index maps as compiled loop nests (see :mod:`symcnn.numba_backend`)."""
    from .numba_backend import Engine  # Numba is imported only by the models that use it
    return Engine(graph.spec, _array_layers(general), _general_loss(general) if graph.spec.loss else None)


BACKENDS = {"numba": _numba_backend, "array": _array_backend, "scalar": _scalar_backend}
