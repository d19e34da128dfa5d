"""A spec made symbolic: every tensor's symbols and every layer's local expressions.

The forward pass is kept layer by layer, as the course writes it::

    Z^l = conv(A^{l-1}; W^l) + W^l_0  or  (W^l)^T A^{l-1} + W^l_0      A^l = f(Z^l)
    A^l = pool(A^{l-1})                                                  L = loss(A^L, y)

so ``expr("Z2")`` is written in the symbols of ``A1``, not expanded down to ``X``
(:meth:`Graph.expand` does that).  The flow of tensors is ``X (= A0), Z1, A1, ..., A^L, L``;
parameters ``W^l, b^l`` feed ``Z^l``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy

from . import layers as layer_templates
from .errors import ShapeError, TensorNameError
from .exact import ExactFunction
from .indexed import Instantiation
from .notation import interior, split_tensor_name, tensor_symbols
from .spec import Spec, parse_spec


class Graph:
    """The symbolic network for one spec, entry by entry.

    The tensors, their shapes and the flow are known at once; a tensor's symbols are made when
    first asked for, and the expressions (the layers' index-form rules of :mod:`symcnn.layers`
    instantiated at every index) when one is: a large network costs nothing until its entries
    are asked for, and asking for symbols (as reading an answer does) never builds expressions.

    Attributes
    ----------
    spec : Spec
    flow : list of str
        The tensors in forward order: ``["X", "Z1", "A1", ..., "L"]`` (no ``Z`` for pooling).
    parameters : list of str
        ``["W1", "b1", "W2", ...]``, the keys of ``params``.
    """

    def __init__(self, spec: Spec | dict):
        self.spec = spec if isinstance(spec, Spec) else parse_spec(spec)
        self.rules = layer_templates.rules(self.spec)
        self.flow: list[str] = ["X", *(rule.of for rule in self.rules)]
        self.parameters: list[str] = list(self.spec.parameter_shapes())
        self._exact_functions: dict[str, ExactFunction] = {}
        self._symbol_arrays: dict[str, np.ndarray] = {}  # tensor -> its symbols, padding included
        self.shapes: dict[str, tuple[int, ...]] = {"X": self.spec.input_shape, **self.spec.parameter_shapes()}
        layers = self.spec.layers
        self.paddings: dict[str, tuple[int, ...]] = {"X": _consumer_padding(layers, 0)}
        for l, layer in enumerate(layers, start=1):
            if layer.type != "maxpool":
                self.shapes[f"Z{l}"] = layer.out_shape
            self.shapes[f"A{l}"] = layer.out_shape
            self.paddings[f"A{l}"] = _consumer_padding(layers, l)
        if self.spec.loss is not None:
            self.shapes["y"] = (int(np.prod(self.spec.output_shape)),)

    # -- the entries, made on first use ------------------------------------------------------

    def _padded_symbols(self, name: str) -> np.ndarray:
        """One tensor's symbols, padding included, made when first asked for: looking up a
        tensor's symbols never makes the other tensors' nor any expression."""
        if name not in self._symbol_arrays:
            self._symbol_arrays[name] = tensor_symbols(name, self.shapes[name], self.paddings.get(name, ()))
        return self._symbol_arrays[name]

    def _real_symbols(self, name: str) -> np.ndarray:
        """One tensor's symbols, padding excluded."""
        return interior(self._padded_symbols(name), self.paddings.get(name, ()))

    @cached_property
    def _exprs(self) -> dict[str, np.ndarray]:
        """Flow tensor -> its local expressions, by instantiating the rules at every index."""
        def lookup(name: str, full_index: tuple[int, ...]):
            if name.startswith("vec("):
                name = name[4:-1]
                full_index = tuple(int(i) + 1 for i in np.unravel_index(full_index[0] - 1, self.shapes[name]))
            pads = self.paddings.get(name, ())
            pads = (0,) * (len(full_index) - len(pads)) + tuple(pads)
            return self._padded_symbols(name)[tuple(i - 1 + p for i, p in zip(full_index, pads))]

        value = Instantiation(lookup)
        expressions = {}
        for rule in self.rules:
            array = np.empty(tuple(hi for _, hi in rule.ranges), dtype=object)
            for position in np.ndindex(*array.shape):
                array[position] = value(rule.expression, {i: p + 1 for i, p in zip(rule.indices, position)})
            expressions[rule.of] = array
        return expressions

    @cached_property
    def _padding(self) -> list[sympy.Symbol]:
        return [s for name, pads in self.paddings.items() if any(pads) for s in self.padding_symbols(name)]

    # -- looking things up ----------------------------------------------------------------

    def tensor(self, name: str) -> str:
        """The canonical name of a tensor (``"A0"`` is ``"X"``); unknown names raise."""
        split_tensor_name(name)  # a malformed name raises here
        if name == "A0":
            return "X"
        if name not in self.shapes and name != "L" or name == "L" and "L" not in self.flow:
            have = [n for n in self.flow if n != "L"] + self.parameters + (["y", "L"] if "L" in self.flow else [])
            raise TensorNameError(f"this network has no tensor {name!r}; it has {', '.join(have)}")
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        """The tensor's shape: ``(C, *spatial)``, ``(units,)``, a parameter's, or ``()`` for L."""
        name = self.tensor(name)
        return () if name == "L" else self.shapes[name]

    def symbol_array(self, name: str, padded: bool = False) -> np.ndarray:
        """The tensor's symbols as an array of its shape (padding included if ``padded``)."""
        name = self.tensor(name)
        if name == "L":
            raise TensorNameError("'L' is an expression, not a tensor of symbols: use expr('L')")
        return self._padded_symbols(name) if padded else self._real_symbols(name)

    def expr_array(self, name: str) -> np.ndarray:
        """The local expressions of a flow tensor; for ``X``, a parameter or ``y``, its symbols."""
        name = self.tensor(name)
        return self._exprs[name] if name in self.flow[1:] else self._real_symbols(name)

    def symbols(self, name: str) -> sympy.Matrix:
        """The tensor's symbols as a column, flattened row-major, padding excluded."""
        return _column(self.symbol_array(name))

    def expr(self, name: str) -> sympy.Matrix:
        """The tensor's local expressions as a column (``L``: a 1x1 matrix)."""
        return _column(self.expr_array(name))

    def padding_symbols(self, name: str | None = None) -> list[sympy.Symbol]:
        """The zero-padding symbols of one tensor (e.g. ``X_0, X_6``), or of all of them."""
        if name is None:
            return list(self._padding)
        name = self.tensor(name)
        real = set(self._real_symbols(name).flat)
        return [s for s in self._padded_symbols(name).flat if s not in real]

    def layer_of(self, name: str) -> int:
        """The layer ``l`` a tensor belongs to: 0 for ``X``, ``L + 1`` for the loss."""
        name = self.tensor(name)
        if name == "X":
            return 0
        if name in ("y", "L"):
            return len(self.spec.layers) + 1
        return split_tensor_name(name)[1]

    def parameter_counts(self) -> dict[int, int]:
        """Weights (biases included) per layer ``l``: see :meth:`Spec.parameter_counts`."""
        return self.spec.parameter_counts()

    def parameter_count(self) -> int:
        return sum(self.parameter_counts().values())

    # -- evaluation by substitution -------------------------------------------------------

    def definitions(self, names=None) -> dict:
        """``{symbol: local expression}`` for every entry of the intermediate tensors ``Z^l,
        A^l`` (or of the tensors ``names``), in forward order: ``Z1_2 -> W1_1*X_1 + ...``."""
        names = [n for n in self.flow[1:] if n != "L"] if names is None else names
        return {s: e for n in names for s, e in zip(self._real_symbols(n).flat, self._exprs[n].flat)}

    def expand(self, expression):
        """Write an expression in ``X``, the parameters and ``y`` only, by substituting each
        intermediate ``Z^l, A^l`` symbol with its expression (padding symbols stay)."""
        mapping = {}
        for symbol, e in self.definitions().items():
            mapping[symbol] = e.xreplace(mapping)
        return _apply(expression, lambda e: e.xreplace(mapping))

    def evaluate(self, values: dict | None = None, **more) -> dict[str, np.ndarray]:
        """The forward pass by exact substitution: every tensor's values, ``L`` included.

        ``values`` maps ``"X"``, the parameters and ``"y"`` to arrays in their shapes (see
        :meth:`Spec.shapes`); missing ones come from the spec's ``[values]``.  Python ints
        and Fractions stay exact, floats become SymPy Floats.  Padding is 0.  Returns
        ``{name: object array}`` for every tensor of the flow and every input.
        """
        known = self._validated_inputs({**self.spec.values, **(values or {}), **more})
        substitutions = self._substitutions(known)
        for name in self.flow[1:]:
            if name == "L" and "y" not in known:
                break
            known[name] = np.array(self._exact(name)(substitutions), dtype=object).reshape(self._exprs[name].shape)
            if name != "L":
                substitutions.update(zip(self._real_symbols(name).flat, known[name].flat))
        return known

    def _exact(self, name: str) -> ExactFunction:
        """The local expressions of tensor ``name`` compiled once for exact evaluation."""
        if name not in self._exact_functions:
            self._exact_functions[name] = ExactFunction(self._exprs[name].flat)
        return self._exact_functions[name]

    def substitute(self, expression, values: dict | None = None, **more):
        """An expression of the network's symbols evaluated at ``values`` (see :meth:`evaluate`):
        every symbol, intermediate ones included, is replaced by its value, padding by 0."""
        substitutions = self.substitutions(values, **more)
        return _apply(expression, lambda e: e.xreplace(substitutions))

    def substitutions(self, values: dict | None = None, **more) -> dict:
        """``{symbol: value}`` for every symbol of the network at ``values``: the inputs, the
        forward values of every ``Z^l, A^l``, and 0 for the padding (see :meth:`evaluate`)."""
        return self._substitutions(self.evaluate(values, **more))

    def _substitutions(self, known: dict[str, np.ndarray]) -> dict:
        """``{symbol: value}`` for the tensors in ``known`` (``L`` aside), padding symbols -> 0."""
        substitutions = {s: sympy.S.Zero for s in self._padding}
        for name, array in known.items():
            if name != "L":
                substitutions.update(zip(self._real_symbols(name).flat, array.flat))
        return substitutions

    def _validated_inputs(self, given: dict) -> dict[str, np.ndarray]:
        shapes = self.spec.shapes()
        for name in given:
            if name not in shapes:
                raise TensorNameError(f"values: {name!r} is not an input of this network; "
                                      f"the inputs are {', '.join(shapes)}")
        missing = [name for name in shapes if name not in given and name != "y"]
        if missing:
            raise ShapeError("values: missing " + ", ".join(f"{n} (shape {shapes[n]})" for n in missing))
        arrays = {}
        for name, shape in shapes.items():
            if name not in given:
                continue
            if name == "y" and shape == ():
                arrays[name] = self._one_hot(given[name])
                continue
            array = np.array(given[name], dtype=object)
            if array.shape != shape and array.shape != tuple(n for n in shape if n != 1):
                raise ShapeError(f"values: {name} has shape {array.shape}, expected {shape}")
            arrays[name] = np.vectorize(_exact, otypes=[object])(array.reshape(shape))
        return arrays

    def _one_hot(self, label) -> np.ndarray:
        classes = self._real_symbols("y").size
        label_array = np.asarray(label)
        if label_array.shape == (classes,):
            return np.vectorize(_exact, otypes=[object])(label_array.astype(object))
        if label_array.shape != () or not float(label_array).is_integer() or not 0 <= int(label_array) < classes:
            raise ShapeError(f"values: y must be a class label in 0..{classes - 1} "
                             f"or a one-hot vector of {classes}, got {label!r}")
        one_hot = np.full(classes, sympy.S.Zero, dtype=object)
        one_hot[int(label_array)] = sympy.S.One
        return one_hot


def _consumer_padding(layers, l: int) -> tuple[int, ...]:
    """The zero padding that layer ``l + 1`` applies to ``A^l`` (none unless it is a conv)."""
    if l < len(layers) and layers[l].type == "conv":
        return layers[l].padding
    return ()


def _column(array: np.ndarray) -> sympy.Matrix:
    return sympy.Matrix(array.reshape(-1).tolist())


def _exact(value):
    """A number as SymPy sees it: ints and Fractions exactly, floats as Floats."""
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    return sympy.sympify(value)


def _apply(expression, function):
    """Apply ``function`` to a SymPy expression, or to every entry of a matrix or array."""
    if isinstance(expression, sympy.MatrixBase):
        return expression.applyfunc(function)
    if isinstance(expression, np.ndarray):
        return np.vectorize(function, otypes=[object])(expression)
    return function(sympy.sympify(expression))
