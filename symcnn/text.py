"""General formulas as plain text for a terminal, in the course's notation.

``symcnn show`` prints the forward rules and the backpropagation this way::

    Z1[i] = sum_{k=1..3} W1[k] X[i+k-2]            i = 1..5; X = 0 outside its 5 entries (padding)
    delta1[i] = dloss/dZ1[i] = [Z1[i] > 0] W2[i] delta2

Tensors are written by their names with 1-based subscripts in brackets (``W1[f,c,a,b]``, the
bias ``W1[0,f]``), indicators in brackets (``[i = j]``, ``[Z1[i] > 0]``), and the named
gradients ``delta2`` and ``dloss/dA2``.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .activations import activation_of
from .derive.display import shown
from .indexed import base_name
from .notation import named_gradient
from .shown import course_form, factor_rank, index_text, named_gradients, softmax_aliases, softmax_entry

LOSS = "loss"


def entry_text(name: str, subscripts: str | None) -> str:
    """``W1[f,c,k]``, the bias ``W1[0,f]``, ``delta2[j]``, ``dloss/dA2[c,i,j]``, ``vec(A2)[i]``."""
    sub = f"[{subscripts}]" if subscripts else ""
    of = named_gradient(name)
    if of is not None:
        return name + sub if of.kind == "Z" else f"d{LOSS}/d{of}{sub}"
    if name.startswith("b"):
        return f"W{name[1:]}[0{',' + subscripts if subscripts else ''}]"
    return name + sub


class TextPrinter(StrPrinter):
    """SymPy's ``StrPrinter`` with the notation of :func:`entry_text` and the index forms."""

    printmethod = "_symcnn_text"  # not SymPy's ``_sympystr``, which would print W1[k] its own way
    _default_settings = {**StrPrinter._default_settings, "aliases": {}}  # as NotationPrinter's

    def _print_Indexed(self, expr):
        return entry_text(base_name(expr), ",".join(index_text(i) for i in expr.indices))

    def _print_Symbol(self, expr):
        if named_gradient(expr.name):
            return entry_text(expr.name, None)
        return expr.name

    def _print_Mul(self, expr):
        if not expr.has(sympy.Indexed, sympy.Sum):
            return super()._print_Mul(expr)
        if expr.could_extract_minus_sign():
            return "-" + self._print(-expr)
        below = [1 / a for a in expr.args if a.is_Pow and a.exp.is_negative]  # y[k]/A3[k]
        above = [a for a in expr.args if not (a.is_Pow and a.exp.is_negative)]
        text = " ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in sorted(above, key=factor_rank))
        if below:
            text += "/" + self.parenthesize(sympy.Mul(*below), PRECEDENCE["Mul"])
        return text

    def _print_Sum(self, expr):
        signs = " ".join(f"sum_{{{v}={lo}..{hi}}}" for v, lo, hi in reversed(expr.limits))
        body = self._print(expr.function)
        return f"{signs} ({body})" if expr.function.is_Add else f"{signs} {body}"

    def _print_KroneckerDelta(self, expr):
        return f"[{self._print(expr.args[0])} = {self._print(expr.args[1])}]"

    def _print_InRange(self, expr):
        e, lo, hi = (self._print(a) for a in expr.args)
        return f"[{lo} <= {e} <= {hi}]"

    def _print_Heaviside(self, expr):
        relation = ">" if len(expr.args) > 1 and expr.args[1] == 0 else ">="
        return f"[{self._print(expr.args[0])} {relation} 0]"

    def _window(self, limits) -> str:
        return ",".join(f"{v}={lo}..{hi}" for v, lo, hi in limits)

    def _print_WindowMax(self, expr):
        return f"max_{{{self._window(expr.limits)}}} {self._print(expr.function)}"

    def _print_FirstMax(self, expr):
        window, *position = expr.args
        at = ",".join(index_text(p) for p in position)
        return f"[({at}) = argmax_{{{self._window(window.limits)}}} {self._print(window.function)}]"

    def _print_LogSumExpOver(self, expr):
        return f"log sum_{{{self._window(expr.limits)}}} exp({self._print(expr.function)})"

    def _print_exp(self, expr):
        softmax = softmax_entry(expr.args[0])
        if softmax is None:
            return f"exp({self._print(expr.args[0])})"
        vector, position = softmax
        vector = self._settings["aliases"].get(vector, vector)
        return f"softmax({entry_text(vector, None)})[{index_text(position)}]"

    def _print_ActivationBase(self, expr):
        """``ReLU(z)``, ``sigma(z)``: the row's name."""
        return f"{activation_of(expr.func).text}({self._print(expr.args[0])})"


def formula_text(formula) -> str:
    """One line: ``lhs = rhs``, then the ranges and conventions in parentheses."""
    view = shown(formula)
    printer = TextPrinter({"aliases": softmax_aliases(formula.derivation.graph)})
    of = LOSS if view.of is None else printer.doprint(view.of)
    lhs = of if view.wrt is None else f"d{of}/d{printer.doprint(view.wrt)}"
    if view.named is not None:
        lhs = f"{printer.doprint(view.named)} = {lhs}"
    notes = [f"{', '.join(map(str, indices))} = {lo}..{hi}" for (lo, hi), indices in view.ranges]
    notes += [f"{entry_text(name, None)} = 0 outside its {'x'.join(map(str, sizes))} entries"
              + (" (zero padding)" if padding else "") for name, sizes, padding in view.zero_outside]
    notes += [f"vec({name})[{'+'.join(f'{s}({n}-1)' if s > 1 else n for n, s in zip(letters, steps))}] = "
              f"{name}[{','.join(letters)}]" for name, letters, steps in view.flattened]
    text = f"{lhs} = {printer.doprint(sympy.factor_terms(course_form(formula, view.expression)))}"
    return text + ("    (" + "; ".join(notes) + ")" if notes else "")


ENTRY_LIMIT = 200  # ``show`` writes the entries out when the network has at most this many


def overview(graph, derivation, general, entries: bool | None = None) -> list[str]:
    """What ``symcnn show`` prints after the summary: the forward rules and backpropagation as
    general formulas (always), the chain rules with shapes, and the entries written out when
    the network is small (``entries=None``) or when asked (``entries=True``)."""
    lines = ["", "forward pass (general formulas, for every size):"]
    lines += [f"  {general.formula(rule.of)}" for rule in graph.rules]
    if graph.spec.loss is not None:
        named = named_gradients(graph)
        lines += ["", "backpropagation:"] + [f"  {general.formula('L', name)}" for name in named + graph.parameters]
        lines += ["", "chain rules:"] + [f"  {chain_text(graph, name, derivation.chain_steps(name))}"
                                         for name in graph.parameters]
    count = sum(int(np.prod(graph.shape(name))) for name in graph.flow[1:])
    if entries is False or entries is None and count > ENTRY_LIMIT:
        return lines + ["", f"entries: {count} in all, not written out (`symcnn show SPEC --entries` writes "
                            "every one)"]
    lines += ["", "entries (at this spec's sizes):"]
    for name in graph.flow[1:]:
        symbols = graph.symbols(name) if name != "L" else [LOSS]
        lines += [f"  {symbol} = {expression}" for symbol, expression in zip(symbols, graph.expr(name))]
    return lines


def chain_text(graph, wrt: str, steps) -> str:
    """``dloss/dW1 (3x1) = dZ1/dW1 (3x5) . dA1/dZ1 (5x5) . dloss/dA1 (5x1)``, from the shapes alone."""
    def size(name):
        return 1 if name == "L" else int(np.prod(graph.shape(name)))
    factors = " . ".join(f"d{LOSS if of == 'L' else of}/d{by} ({size(by)}x{size(of)})" for of, by in steps)
    return f"d{LOSS}/d{wrt} ({size(wrt)}x1) = {factors}"
