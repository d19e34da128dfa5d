r"""The functions an answer may apply, their derivatives (``f'``) and how they meet columns.

Spelled as commands (``\sigma``, ``\tanh``, ``\exp``, ``\max``, ``\log``, ``\ln``), inside
``\operatorname{..}``, ``\text{..}``, ``\mathrm{..}``, or as plain letters (``ReLU``, ``softmax``):

| name | value | with a prime |
| --- | --- | --- |
| the activations' (:data:`~symcnn.activations.ACTIVATIONS`): | | |
| ``ReLU`` | ``ReLU(z)`` | ``1[z > 0]`` (``ReLU'(0) = 0``) |
| ``\sigma``, ``sigmoid`` | ``\sigma(z)`` | ``\sigma(z)(1 - \sigma(z))`` |
| ``\tanh`` | ``\tanh(z)`` | ``1 - \tanh^2(z)`` |
| ``step``, ``H``, ``u``, ``heaviside``, ``\theta``, ``\Theta`` (the step's spellings) | ``1[z > 0]`` | |
| ``sgn``, ``sign`` | ``-1, 0, 1`` (``(1 + sgn z)/2`` is the step) | |
| ``sech``, ``\cosh``, ``\sinh``, ``\exp``, ``\log``, ``\ln`` | as SymPy | ``\exp' = \exp`` |
| ``f``, ``g`` | layer ``l``'s activation, read from its argument ``Z^l`` | its derivative |
| ``softmax`` | a column ``e^{z_k - logsumexp(z)}`` | |
| ``logsumexp``, ``lse`` | ``\log \sum_k e^{z_k}`` | |
| ``\max`` | a pooling window's maximum, its arguments in order | |
| ``diag`` | the diagonal matrix of a column or of its arguments | |
| ``vec`` | a tensor's entries as one column, row-major: ``vec(A^2)_{4(c-1)+2(p-1)+q} = A^2_{c,p,q}`` | |

Functions of one variable apply entry by entry to a column.  A power between the name and
the argument (``\operatorname{sech}^2(z)``, ``\sigma^2(z)``) is a power of the value.
"""

from __future__ import annotations

import sympy

from ..activations import ACTIVATIONS
from ..functions import LogSumExp, PoolMax

_NAMED = [row for row in ACTIVATIONS.values() if row.name != "none"]  # the identity has no name to write
FUNCTION_COMMANDS = {r"\exp": "exp", r"\log": "log", r"\ln": "log", r"\max": "max", r"\cosh": "cosh",
                     r"\sinh": "sinh", r"\sech": "sech", r"\diag": "diag", r"\softmax": "softmax",
                     r"\theta": "step", r"\Theta": "step", r"\sgn": "sign",
                     **{command: row.name for row in _NAMED for command in row.commands}}
FUNCTION_NAMES = {"step": "step", "h": "step", "u": "step", "heaviside": "step", "sgn": "sign", "sign": "sign",
                  "sech": "sech", "cosh": "cosh", "sinh": "sinh", "exp": "exp", "log": "log",
                  "ln": "log", "softmax": "softmax", "logsumexp": "logsumexp", "lse": "logsumexp", "max": "max",
                  "diag": "diag", "vec": "vec", "f": "f", "g": "f", **{letters: row.name for row in _NAMED for letters in row.letters}}

_SCALAR = {"step": lambda z: sympy.Heaviside(z, 0), "sign": sympy.sign, "sech": sympy.sech, "cosh": sympy.cosh, "sinh": sympy.sinh,
           "exp": sympy.exp, "log": sympy.log, **{row.name: row.function for row in _NAMED}}
_DERIVATIVE = {"exp": sympy.exp, **{row.name: row.slope for row in _NAMED}}


class FunctionError(ValueError):
    """A function applied in a way that has no reading; the caller adds where."""


def apply_function(name: str, args: list, prime: bool, activation_of=None):
    """The value of ``name(args)`` (``name'(args)`` with ``prime``).

    ``activation_of(value)`` names the activation of the layer whose ``Z^l`` the argument
    is, for ``f``; it raises :class:`FunctionError` when that is not one layer.
    """
    if name == "f":
        activation = activation_of(args[0]) if len(args) == 1 else None
        if activation is None:
            raise FunctionError("f(..) must be applied to one Z^l, to tell which layer's activation it is")
        row = ACTIVATIONS[activation]
        return _entrywise(args[0], row.slope if prime else row.function)
    if name in ("softmax", "logsumexp", "max", "diag", "vec"):
        if prime:
            raise FunctionError(f"{name}' cannot be read: write the derivative out")
        values = _flat(args)
        if name == "vec":
            return sympy.Matrix(values)
        if name == "max":
            return PoolMax(*values)
        if name == "logsumexp":
            return LogSumExp(*values)
        if name == "diag":
            return sympy.diag(*values)
        total = LogSumExp(*values)
        return sympy.Matrix([sympy.exp(v - total) for v in values])
    if len(args) != 1:
        raise FunctionError(f"{name} takes one argument, got {len(args)}")
    if prime:
        if name not in _DERIVATIVE:
            raise FunctionError(f"{name}' cannot be read: write the derivative out")
        return _entrywise(args[0], _DERIVATIVE[name])
    return _entrywise(args[0], _SCALAR[name])


def _entrywise(value, function):
    if isinstance(value, sympy.MatrixBase):
        return value.applyfunc(function)
    return function(value)


def _flat(args) -> list:
    values = []
    for arg in args:
        values += list(arg) if isinstance(arg, sympy.MatrixBase) else [arg]
    return values
