"""Expressions compiled once into Python functions of SymPy numbers, for exact evaluation.

``expression.xreplace({symbol: number, ...})`` rebuilds every sum and product and infers the
assumptions of each new node; at a network's size (thousands of entries, a few dozen points
to check an answer at) that was most of the time ``verify`` took.  The expressions printed
once as Python code do the same arithmetic on the numbers directly: rationals stay exact (a
constant ``1/2`` is printed as ``Rational(1, 2)``, never as the float ``0.5``), Floats keep
their precision, and every function (``exp``, ``ReLU``, ``PoolMax``, ``LogSumExp``, ...) is
SymPy's or symcnn's own, evaluating as it does under ``xreplace``.
"""

from __future__ import annotations

import sympy
from sympy.printing.str import StrPrinter

from . import functions


class _ExactPrinter(StrPrinter):
    """Python code whose constants are SymPy numbers and whose symbols are ``v[k]``."""

    def __init__(self, slots: dict):
        super().__init__({"order": "none"})  # the terms as they stand: sorting them is slow
        self.slots = slots

    def _print_Symbol(self, expr):
        return f"v[{self.slots[expr]}]"

    def _print_Rational(self, expr):
        return f"Rational({expr.p}, {expr.q})"

    def _print_Half(self, expr):
        return self._print_Rational(expr)

    def _print_Float(self, expr):
        return f"Float({str(expr)!r}, precision={expr._prec})"


def _relu(z):
    """``ReLU(z)``, on a number without SymPy's function machinery (most of the time it took)."""
    if z.is_Number:
        return z if z >= 0 else sympy.S.Zero
    return functions.ReLU(z)


def _pool_max(*window):
    """``PoolMax`` of a window, on numbers as Python's ``max``."""
    if all(value.is_Number for value in window):
        return max(window)
    return functions.PoolMax(*window)


# every function of symcnn.functions (the activations of symcnn.activations among them), two by a shortcut
_NAMESPACE = {**{name: f for name, f in vars(functions).items()
                 if isinstance(f, sympy.FunctionClass) and f.__module__ == functions.__name__},
              "ReLU": _relu, "PoolMax": _pool_max}


class ExactFunction:
    """``expressions`` as one function of their free symbols: ``f(substitutions)`` is the list
    ``[e.xreplace(substitutions) for e in expressions]``, every free symbol being given."""

    def __init__(self, expressions):
        self.expressions = [sympy.sympify(e) for e in expressions]
        self.symbols = sorted(set().union(*(e.free_symbols for e in self.expressions)), key=str)
        printer = _ExactPrinter({s: k for k, s in enumerate(self.symbols)})
        body = ",\n        ".join(printer.doprint(e) for e in self.expressions)
        namespace = {**vars(sympy), **_NAMESPACE}
        exec(f"def exact(v):\n    return [\n        {body}]", namespace)  # noqa: S102 (our own printer's code)
        self._function = namespace["exact"]

    def __call__(self, substitutions: dict) -> list:
        return [sympy.sympify(v) for v in self._function([substitutions[s] for s in self.symbols])]
