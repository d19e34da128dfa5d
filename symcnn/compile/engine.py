"""What the backends share: SymPy expressions printed as NumPy code, the loss and its gradient
lambdified from their general formulas, and the engine that runs layers one after another."""

from __future__ import annotations

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from ..activations import activation_of
from ..derive import GeneralDerivation
from ..errors import SymcnnError
from ..graph import Graph
from ..indexed import LogSumExpOver, base_name


class ModelPrinter(NumPyPrinter):
    """NumPy code for symcnn's functions (the activations' rows' code: a stable sigmoid; logsumexp)."""

    def _print_Heaviside(self, expr):
        """The steps of the contract as comparisons (40x faster than ``numpy.heaviside``)."""
        argument, at_zero = self._print(expr.args[0]), expr.args[1] if len(expr.args) > 1 else None
        if at_zero in (0, 1):
            return f"numpy.{'greater' if at_zero == 0 else 'greater_equal'}({argument}, 0)"
        return super()._print_Heaviside(expr)

    def _print_ActivationBase(self, expr):
        return activation_of(expr.func).numpy.format(z=self._print(expr.args[0]))

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


class RowSum(sympy.Function):
    """``sum_k f_k`` over the entries of one sample (a row), as the loss's sums are."""


class RowLogSumExp(sympy.Function):
    """``log sum_k e^{f_k}`` over the entries of one sample."""


def general_loss(general: GeneralDerivation):
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

    loss = vectorized(general.own("L").expression)
    gradient = vectorized(general.own("L", output).expression)
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


def input_of(graph: Graph, l: int) -> str:
    """The tensor layer ``l`` reads: ``X`` or ``A^{l-1}``."""
    return "X" if l == 1 else f"A{l - 1}"


class Layers:
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
