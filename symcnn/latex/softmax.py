"""The course's softmax convention, printed over the derivation's own.

The derivation keeps a classifier's last layer without activation (``A^L = Z^L``) and takes
the loss as the cross entropy of ``softmax(Z^L)``.  The course writes the softmax as the last
activation, and every document prints that form:

    A^L = softmax(Z^L),            loss = -\\sum_k y_k \\log A^L_k,
    dloss/dA^L_k = -y_k / A^L_k,   dA^L_j / dZ^L_k = A^L_j (1[j = k] - A^L_k),

that is ``dA^L/dZ^L = diag(A^L) - A^L (A^L)^T`` (symmetric, so the course's layout
``size(Z^L) x size(A^L)`` reads the same), and their product collapses (``sum_k y_k = 1``) to
``delta^L = dA^L/dZ^L . dloss/dA^L = A^L - y``, which is the derivation's ``softmax(Z^L) - y``.
Everything from ``delta^L`` back is the same in both conventions; only the forward rule of
``A^L``, the loss and these two factors differ.  The course's ``A^L_k`` are written with the
symbols of the derivation's ``A^L`` entries (which stand for ``Z^L_k`` and never show).
"""

from __future__ import annotations

import numpy as np
import sympy

from ..derive.general import softmax_output
from .printer import entry_latex, tensor_latex


def softmax_factor(graph, of: str, wrt: str) -> bool:
    """Whether ``d(of)/d(wrt)`` is ``dloss/dA^L`` or ``dA^L/dZ^L`` under the course's softmax."""
    output = softmax_output(graph)
    return output is not None and (of, wrt) in (("L", output), (output, "Z" + output[1:]))


def _symbol(name: str, k: int) -> sympy.Symbol:
    return sympy.Symbol(f"{name}_{k}", real=True)


def course_entry(graph, of: str, wrt: str, row: int, column: int) -> sympy.Expr:
    """Entry ``(row, column)`` (0-based, the course's layout ``size(wrt) x size(of)``) of
    ``dloss/dA^L`` (``-y_k / A^L_k``) or ``dA^L/dZ^L`` (``A^L_j (1[j = k] - A^L_k)``)."""
    output = softmax_output(graph)
    if of == "L":
        return -_symbol("y", row + 1) / _symbol(output, row + 1)
    a_j, a_k = _symbol(output, column + 1), _symbol(output, row + 1)
    return a_j * (1 - a_j) if row == column else -a_j * a_k


def course_matrix(graph, of: str, wrt: str) -> sympy.Matrix:
    """The whole factor (``softmax_factor``) in the course's symbols."""
    rows = graph.shape("y")[0]
    columns = 1 if of == "L" else rows
    return sympy.Matrix(rows, columns, lambda r, c: course_entry(graph, of, wrt, r, c))


def softmax_numbers(scores) -> np.ndarray:
    """``softmax`` of an array of exact numbers, exactly (``e^{s_k} / sum_j e^{s_j}``), in its shape."""
    exponentials = np.vectorize(sympy.exp, otypes=[object])(np.asarray(scores, dtype=object))
    return exponentials / sum(exponentials.flat)


def course_values(graph, values: dict) -> dict:
    """``{A^L_k symbol: softmax(Z^L)_k, y_k symbol: y_k}`` from the derivation's exact values
    (its ``A^L`` is ``Z^L``), to put numbers into :func:`course_entry`."""
    output = softmax_output(graph)
    result = {_symbol(output, k): p for k, p in enumerate(softmax_numbers(values[output]).flat, 1)}
    result.update({_symbol("y", k): v for k, v in enumerate(np.asarray(values["y"], dtype=object).flat, 1)})
    return result


def softmax_pieces(formula) -> tuple[str, list[str], list[str]] | None:
    """``(lhs, pieces, notes)`` of the general formulas that differ in the course's
    convention (the forward rule of ``A^L``, the loss, ``dloss/dA^L``, ``dA^L/dZ^L``);
    None for every other formula."""
    graph = formula.derivation.graph
    output = softmax_output(graph)
    if output is None or (formula.of, formula.wrt) not in ((output, None), ("L", None), ("L", output),
                                                           (output, "Z" + output[1:])):
        return None
    A, Z, y = tensor_latex(output), tensor_latex("Z" + output[1:]), tensor_latex("y")
    classes = graph.shape("y")[0]
    span = rf"1, \dots, {classes}" if classes > 2 else "1, 2"
    entry = lambda name, i: entry_latex(name, i)
    if formula.wrt is None and formula.of == output:
        return entry(output, "j"), [rf"\operatorname{{softmax}}\left({Z}\right)_{{j}} = "
                                    rf"\frac{{e^{{{entry('Z' + output[1:], 'j')}}}}}"
                                    rf"{{\sum_{{k=1}}^{{{classes}}} e^{{{entry('Z' + output[1:], 'k')}}}}}"], \
            [f"j = {span}"]
    if formula.wrt is None:
        return tensor_latex("L"), [rf"-\sum_{{k=1}}^{{{classes}}} {entry(y, 'k')} \log {entry(output, 'k')}"], []
    if formula.of == "L":
        return (rf"\frac{{\partial {tensor_latex('L')}}}{{\partial {entry(output, 'k')}}}",
                [rf"-\frac{{{entry(y, 'k')}}}{{{entry(output, 'k')}}}"], [f"k = {span}"])
    return (rf"\frac{{\partial {entry(output, 'j')}}}{{\partial {entry('Z' + output[1:], 'k')}}}",
            [rf"{entry(output, 'j')} \left(\mathbf{{1}}\left[j = k\right] - {entry(output, 'k')}\right)"],
            [f"j, k = {span}", rf"\text{{that is }} {_matrix_form(A)}"])


def _matrix_form(A: str) -> str:
    return rf"\operatorname{{diag}}\left({A}\right) - {A} \left({A}\right)^\top"
