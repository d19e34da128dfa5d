"""The network as an answer indexes it: tensors, derivatives and the prediction as tables.

Written indices are the 1-based ones of the symbols' names (size-1 axes left out): the
seed's ``W^1_2`` is ``W1`` at ``(2,)``, a 2D filter bank's ``W^1_{f,a,b}`` is at ``(f, a, b)``.
A derivative ``d(of)/d(wrt)`` is indexed by ``of``'s indices, then ``wrt``'s, and its value is
the derived one (:func:`derived`), in the course's layout ``size(wrt) x size(of)``.
"""

from __future__ import annotations

import weakref

import sympy

from ..activations import LOSSES
from ..errors import SymcnnError, TensorNameError
from ..functions import LogSumExp
from ..indexed import tensor
from .indexed import Scope, Table
from ..latex import to_latex, tensor_latex
from ..notation import TensorName, parse_symbol, symbol_name


def derived(net, of: str, wrt: str | None, named: bool = False) -> sympy.Matrix:
    """What the derivation says, in the course's layout: ``d(of)/d(wrt)`` (``size(wrt) x
    size(of)``, padding kept; ``dL/d(wrt)`` a column, padding 0), or with ``wrt=None`` the
    forward rule of ``of`` (a column).  Every entry is :func:`derived_entry` (``named``: see there)."""
    cols = written_indices(net, of)
    if wrt is None:
        return sympy.Matrix([derived_entry(net, of, None, c, (), named) for c in cols])
    rows = written_indices(net, wrt)
    if of != "L" and _general(net, of, wrt) is None and not named:
        return _chain_product(net, of, wrt)
    return sympy.Matrix(len(rows), len(cols), lambda r, c: derived_entry(net, of, wrt, cols[c], rows[r], named))


def derived_entry(net, of: str, wrt: str | None, of_index: tuple, wrt_index: tuple, named: bool = False):
    """One entry of :func:`derived`, from the general formula ``net.formula(of, wrt).at(...)``.

    A pair that spans layers (``dZ^2/dW^1``) has no general formula of its own: its entries
    are those of the product of the local ones along the chain (:func:`chain_steps`).  With
    ``named``, named gradients stay entries (``delta3[1, 2, 3]``, see ``Formula.at``), and a
    gradient that has a name is that entry itself."""
    general = net.general
    if named and of == "L" and wrt is not None and general.named(wrt) is not None:
        return tensor(general.named(wrt))[general.full_index(wrt, tuple(wrt_index), False, None, False)]
    formula = layer_formula(net, of, wrt) if named else _general(net, of, wrt)
    if formula is None:
        rows, cols = written_indices(net, wrt), written_indices(net, of)
        return _chain_product(net, of, wrt)[rows.index(tuple(wrt_index)), cols.index(tuple(of_index))]
    return formula.at(*of_index, *(wrt_index if wrt else ()), named=named)


def single_entry(net, tensor: str | None) -> tuple[tuple[int, ...], ...]:
    """The single-entry rule, stated here only: a tensor of one entry is written without index
    or with index 1 (``A^2`` or ``A^2_1``), and the loss (``"L"``, or ``None`` where there is no
    tensor) has the index ``()``.  Those written indices; ``()`` (none) for a tensor of more
    entries, whose indices are its symbols'."""
    if tensor in (None, "L"):
        return ((),)
    return ((), (1,)) if net.symbol_array(tensor).size == 1 else ()


def canonical_index(net, tensor: str | None, index: tuple) -> tuple:
    """A written index as the tensor's symbols write it: ``()`` for a single entry
    (:func:`single_entry`), else the index as written."""
    return () if single_entry(net, tensor) else tuple(index)


def chain_steps(net, of: str, wrt: str) -> list[tuple[str, str]] | None:
    """``[(of_1, wrt), (of_2, of_1), ..., (of, ..)]``: the neighbouring pairs along the network
    from ``wrt`` (a parameter or a tensor of the flow) to ``of``; None when ``of`` does not
    depend on ``wrt``."""
    flow = net.flow
    if wrt in net.parameters:
        layer = net.layer_of(wrt)
        steps, start = [(f"Z{layer}", wrt)], flow.index(f"Z{layer}")
    elif wrt in flow:
        steps, start = [], flow.index(wrt)
    else:
        return None
    if of not in flow or flow.index(of) < start:
        return None
    return steps + [(flow[i + 1], flow[i]) for i in range(start, flow.index(of))]


def _general(net, of, wrt):
    """``net.formula(of, wrt)``, or None for a pair across layers (no formula of its own)."""
    try:
        return net.formula(of, wrt)
    except TensorNameError:
        if wrt is None or chain_steps(net, of, wrt) is None:
            raise
        return None


def layer_formula(net, of: str, wrt: str | None):
    """``net.formula(of, wrt)``, where a pair across layers is an error: where entries are not
    written out (a large network, :mod:`symcnn.verify.grid`), there is no product to fall back on."""
    formula = _general(net, of, wrt)
    if formula is None:
        raise SymcnnError(f"\\frac{{\\partial {tensor_latex(of)}}}{{\\partial {tensor_latex(wrt)}}} spans "
                          "layers; at this network's size verify takes one layer's derivatives (write the "
                          "chain through the named gradients, \\delta^l)")
    return formula


_PRODUCTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # net -> {(of, wrt): product}


def _chain_product(net, of, wrt) -> sympy.Matrix:
    """``d(of)/d(wrt)`` across layers: the local formulas' matrices multiplied along the chain
    (once per network and pair: every entry of the pair reads it)."""
    products = _PRODUCTS.setdefault(net, {})
    if (of, wrt) not in products:
        product = None
        for step_of, step_wrt in chain_steps(net, of, wrt):
            factor = derived(net, step_of, step_wrt)
            product = factor if product is None else product * factor
        products[of, wrt] = product
    return products[of, wrt]


def written_indices(net, tensor: str) -> list[tuple[int, ...]]:
    """The written index of every entry of a tensor, in its column's (row-major) order."""
    if single_entry(net, tensor):
        return [()]
    return [parse_symbol(s.name).index for s in net.symbol_array(tensor).flat]


def probabilities(net) -> list:
    """``softmax`` of the logits: the course's ``A^L`` (= ``\\hat y``) of a cross-entropy net."""
    last = len(net.spec.layers)
    logits = list(net.symbols(f"Z{last}") if _linear_output(net) else net.symbols(f"A{last}"))
    total = LogSumExp(*logits)
    return [sympy.exp(z - total) for z in logits]


def _linear_output(net) -> bool:
    layer = net.spec.layers[-1]
    return layer.type != "maxpool" and layer.activation == "none"


class NetworkTables:
    """Tables of one network for one answer (``scope`` holds those the answer used)."""

    def __init__(self, net, reader, named: bool = False):
        self.net, self.reader, self.named = net, reader, named
        self.scope = Scope()
        self.layers = len(net.spec.layers)
        self._names: dict[str, dict] = {}  # tensor -> {symbol name: symbol}, padding included
        self._positions: dict[str, dict] = {}
        self._ranges: dict[str, tuple] = {}
        self.used: set[tuple[str, str]] = set()  # derivatives named on the right of the step being read

    # -- tensors ----------------------------------------------------------------------------

    def tensor_name(self, letter: str, layer: int | None, at) -> str:
        """``("W", 1) -> "W1"``, ``("A", 0) -> "X"``; a tensor the network lacks is an error."""
        name = {"X": "X", "y": "y"}.get(letter) or ("X" if letter == "A" and layer == 0 else f"{letter}{layer}")
        try:
            return self.net.tensor(name)
        except TensorNameError:
            raise self.reader.unknown(at, f"this network has no {_written(letter, layer)}") from None

    def positions(self, tensor: str) -> dict[tuple[int, ...], int]:
        """Written index -> position in the tensor's column (row-major), real entries only."""
        if tensor not in self._positions:
            single = single_entry(self.net, tensor)
            self._positions[tensor] = dict.fromkeys(single, 0) if single else \
                {parse_symbol(s.name).index: k for k, s in enumerate(self.net.symbol_array(tensor).flat)}
        return self._positions[tensor]

    def ranges(self, tensor: str) -> tuple[tuple[int, int], ...]:
        if tensor not in self._ranges:
            axes = self.axes(tensor)
            written = [i for i in self.positions(tensor) if len(i) == axes]
            self._ranges[tensor] = tuple((min(i[a] for i in written), max(i[a] for i in written)) for a in range(axes))
        return self._ranges[tensor]

    def axes(self, tensor: str) -> int:
        return max((len(i) for i in self.positions(tensor)), default=0) if self.size(tensor) > 1 else 0

    def size(self, tensor: str) -> int:
        return 1 if tensor == "L" else self.net.symbol_array(tensor).size

    def lookup(self, tensor: str, index: tuple[int, ...]):
        """The symbol at a written index (padding included), or ``None``."""
        if index in single_entry(self.net, tensor):
            return next(iter(self.net.symbol_array(tensor).flat))
        if tensor not in self._names:
            self._names[tensor] = {s.name: s for s in self.net.symbol_array(tensor, padded=True).flat}
        return self._names[tensor].get(symbol_name(tensor, index))

    def tensor_key(self, tensor: str) -> str:
        key = f"T{tensor}"
        if key not in self.scope.tables:
            self.scope.add(key, Table(tensor_latex(tensor), self.ranges(tensor),
                                      lambda index, t=tensor: self.lookup(t, index), tensor))
        return key

    def column(self, tensor: str) -> sympy.Matrix:
        return self.net.symbols(tensor) if self.size(tensor) > 1 else sympy.Matrix([self.lookup(tensor, ())])

    def whole(self, tensor: str) -> sympy.Matrix:
        """A tensor written without indices: a dense layer's weights ``W^l`` the matrix they are on
        the slides (inputs x outputs, so that ``Z^l = (W^l)^T A^{l-1} + W^l_0``), any other tensor
        its column (row-major)."""
        name = TensorName(tensor)
        if name.kind == "W" and self.net.spec.layers[name.layer - 1].type == "dense":
            return sympy.Matrix(self.net.symbol_array(tensor))  # one unit: the column
        return self.column(tensor)

    # -- derivatives and the prediction ------------------------------------------------------

    def derivative_key(self, of: str, wrt: str | None) -> str:
        """The table of ``d(of)/d(wrt)``; ``used`` records it for the step being read."""
        self.used.add((of, wrt))
        key = f"D{of}/{wrt}"
        if key not in self.scope.tables:
            of_positions = self.positions(of)
            wrt_positions = self.positions(wrt) if wrt else {(): 0}
            split, entries = self.axes(of), {}

            def lookup(index):  # entries are derived when first asked for, from the general formulas
                of_index, wrt_index = tuple(index[:split]), tuple(index[split:])
                if of_index not in of_positions or wrt_index not in wrt_positions:
                    return None
                if index not in entries:
                    entries[index] = derived_entry(self.net, of, wrt, canonical_index(self.net, of, of_index),
                                                   canonical_index(self.net, wrt, wrt_index), self.named)
                return entries[index]
            label = tensor_latex(of) if wrt is None else rf"\frac{{\partial {tensor_latex(of)}}}{{\partial {tensor_latex(wrt)}}}"
            self.scope.add(key, Table(label, self.ranges(of) + (self.ranges(wrt) if wrt else ()), lookup))
        return key

    def prediction_key(self) -> str:
        """``\\hat y``: the output ``A^L`` (squared loss) or the softmax of the logits."""
        key = "P"
        if key not in self.scope.tables:
            last = f"A{self.layers}"
            softmax = self.net.spec.loss is not None and LOSSES[self.net.spec.loss].softmax
            values = probabilities(self.net) if softmax else list(self.column(last))
            positions = self.positions("y")
            self.scope.add(key, Table(r"\hat{y}", self.ranges("y"),
                                      lambda index: values[positions[index]] if index in positions else None))
        return key

    def inventory(self) -> str:
        """The network's tensors in the notation: ``X_{1}..X_{5} (padding X_{0}, X_{6}), ...``."""
        parts = []
        for name in [n for n in self.net.flow if n != "L"] + self.net.parameters + (["y"] if "L" in self.net.flow else []):
            symbols = list(self.net.symbol_array(name).flat)
            text = to_latex(symbols[0]) + (f"..{to_latex(symbols[-1])}" if len(symbols) > 1 else "")
            padding = self.net.padding_symbols(name)
            if padding:
                text += f" (padding {', '.join(to_latex(s) for s in padding[:2])}{', ...' if len(padding) > 2 else ''})"
            parts.append(text)
        return ", ".join(dict.fromkeys(parts)) + (", L" if "L" in self.net.flow else "")


def _written(letter: str, layer: int | None) -> str:
    return letter if layer is None else f"{letter}^{{{layer}}}"
