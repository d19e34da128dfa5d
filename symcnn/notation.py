"""The one naming scheme of symcnn's symbols, shared by the builder, the printers and the parser.

The course writes the input ``X``, layer ``l``'s weights ``W^l``, its bias ``W^l_0``, its
pre-activation ``Z^l`` and activation ``A^l``, the target ``y``, with 1-based indices.
A symbol's SymPy name spells exactly that::

    X_3        X_{3}            (input pixel 3)        X_2,4    X_{2,4}  (row 2, column 4)
    W1_2       W^1_{2}          (filter entry 2)        W2_3,1   W^2_{3,1}
    W1_0       W^1_{0}          (bias of the filter)    W1_0,2   W^1_{0,2} (bias of filter 2)
    Z1_5, A1_5                  (layer 1, position 5)   A2       A^2 (a single entry)

Index axes of size 1 are left out (the seed writes ``W^1_2``, not ``W^1_{1,1,2}``), unless
the axis is padded.  Zero padding of ``p`` adds the positions ``1-p .. 0`` and
``n+1 .. n+p`` on each padded axis: the seed's 5-pixel input with ``p = 1`` has ``X_0`` and
``X_6``.  Tensor names (``"X"``, ``"W1"``, ``"b1"``, ``"Z1"``, ``"A1"``, ``"y"``) are those of
the public API; ``"b1"``'s symbols are spelled ``W1_0...``, the course's ``W^1_0``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

import numpy as np
import sympy

from .errors import TensorNameError

_TENSOR = re.compile(r"^(?:(X|y|L)|([WbZA])([1-9]\d*))$")
_SYMBOL = re.compile(r"^(X|y|[WZA][1-9]\d*)(?:_(-?\d+(?:,-?\d+)*))?$")
_NAMED = re.compile(r"^(delta|dA)([1-9]\d*)$")
_NAMED_KIND = {"delta": "Z", "dA": "A"}  # a named gradient's prefix -> the kind of tensor it is the gradient of
_NAMED_PREFIX = {kind: prefix for prefix, kind in _NAMED_KIND.items()}


@dataclass(frozen=True)
class SymbolRef:
    """What a symbol stands for: tensor ``"W1"`` (or ``"b1"``, ``"X"``, ...) at ``index``.

    ``index`` holds the written (kept-axis, 1-based) indices, e.g. ``(0,)`` for the padding
    symbol ``X_0``; for a bias the leading ``0`` is not part of it (``W1_0,2`` is ``b1`` at
    ``(2,)``).
    """

    tensor: str
    index: tuple[int, ...]

    @property
    def kind(self) -> str:
        return self.tensor.rstrip("0123456789")

    @property
    def layer(self) -> int | None:
        digits = self.tensor[len(self.kind):]
        return int(digits) if digits else None


def split_tensor_name(name: str) -> tuple[str, int | None]:
    """``"W2" -> ("W", 2)``, ``"X" -> ("X", None)``; an unknown spelling is a TensorNameError."""
    match = _TENSOR.match(name) if isinstance(name, str) else None
    if not match:
        raise TensorNameError(f"{name!r} is not a tensor name; tensor names are X, y, L, "
                              "W<l>, b<l>, Z<l>, A<l> (e.g. W1, Z2)")
    if match.group(1):
        return match.group(1), None
    return match.group(2), int(match.group(3))


class TensorName(str):
    """A tensor's name parsed once (``"W2"``: ``kind`` ``"W"``, ``layer`` 2; ``layer`` None for
    ``X``, ``y``, ``L``).  It is the plain string too, so it goes wherever a name does; code that
    asks what a tensor is reads ``kind`` and ``layer`` instead of the spelling's prefix."""

    kind: str
    layer: int | None

    def __new__(cls, name: str):
        self = super().__new__(cls, name)
        self.kind, self.layer = split_tensor_name(str(name))
        return self


def named_gradient(name: str) -> TensorName | None:
    """The tensor whose loss gradient a named gradient of backpropagation stands for:
    ``"delta3" -> "Z3"`` (the course's ``\\delta^3 = \\partial loss / \\partial Z^3``),
    ``"dA4" -> "A4"`` (``\\partial loss / \\partial A^4``); ``None`` for any other name."""
    match = _NAMED.match(name) if isinstance(name, str) else None
    return TensorName(_NAMED_KIND[match.group(1)] + match.group(2)) if match else None


def gradient_name(tensor: str) -> str:
    """Inverse of :func:`named_gradient`: ``"Z3" -> "delta3"``, ``"A4" -> "dA4"``."""
    kind, layer = split_tensor_name(tensor)
    if kind not in _NAMED_PREFIX:
        raise TensorNameError(f"{tensor!r} has no named gradient; only Z<l> (delta<l>) and A<l> (dA<l>) do")
    return f"{_NAMED_PREFIX[kind]}{layer}"


def symbol_name(tensor: str, index: tuple[int, ...]) -> str:
    """The SymPy name of ``tensor`` at the written ``index``: ``("b1", (2,)) -> "W1_0,2"``."""
    kind, layer = split_tensor_name(tensor)
    base = f"W{layer}" if kind == "b" else tensor
    if kind == "b":
        index = (0, *index)
    return base + ("_" + ",".join(map(str, index)) if index else "")


def parse_symbol(name: str) -> SymbolRef | None:
    """Inverse of :func:`symbol_name`; ``None`` for a name that is not in the notation."""
    match = _SYMBOL.match(name)
    if not match:
        return None
    base, digits = match.groups()
    index = tuple(int(i) for i in digits.split(",")) if digits else ()
    if base.startswith("W") and index and index[0] == 0:
        return SymbolRef("b" + base[1:], index[1:])
    return SymbolRef(base, index)


def tensor_symbols(tensor: str, shape: tuple[int, ...], padding: tuple[int, ...] = ()) -> np.ndarray:
    """Object array of the real-valued symbols of ``tensor``, zero padding included.

    ``shape`` is the tensor's shape; ``padding`` gives the padding of its trailing axes (the
    spatial axes of an activation), so the array returned has shape ``shape`` grown by
    ``2 p`` on those axes.  Entry ``[i, j, ...]`` (0-based) is written with the 1-based
    indices of the kept axes, shifted by the padding: ``tensor_symbols("X", (1, 5), (1,))``
    is ``[[X_0, X_1, ..., X_6]]``.
    """
    pads = (0,) * (len(shape) - len(padding)) + tuple(padding)
    kept = [axis for axis, (n, p) in enumerate(zip(shape, pads)) if n > 1 or p > 0]
    grown = tuple(n + 2 * p for n, p in zip(shape, pads))
    symbols = np.empty(grown, dtype=object)
    for position in product(*map(range, grown)):
        index = tuple(position[a] + 1 - pads[a] for a in kept)
        symbols[position] = sympy.Symbol(symbol_name(tensor, index), real=True)
    return symbols


def interior(padded: np.ndarray, padding: tuple[int, ...]) -> np.ndarray:
    """The entries of a padded array that are not padding (``padding`` on the trailing axes)."""
    lead = (slice(None),) * (padded.ndim - len(padding))
    return padded[lead + tuple(slice(p, n - p) for p, n in zip(padding, padded.shape[-len(padding):]))] \
        if padding else padded
