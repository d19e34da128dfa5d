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

The general formulas give these forms themselves (:mod:`symcnn.derive.general`) and are printed
by the notation printer (:mod:`~symcnn.latex.formulas`, :func:`~symcnn.shown.course_softmax`);
this module tells which factors are the course's, puts numbers into them, and adds the two
pieces no formula holds (:func:`softmax_extras`).
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


def softmax_numbers(scores) -> np.ndarray:
    """``softmax`` of an array of exact numbers, exactly (``e^{s_k} / sum_j e^{s_j}``), in its shape."""
    exponentials = np.vectorize(sympy.exp, otypes=[object])(np.asarray(scores, dtype=object))
    return exponentials / sum(exponentials.flat)


def course_values(graph, values: dict) -> dict:
    """``{A^L_k symbol: softmax(Z^L)_k, y_k symbol: y_k}`` from the derivation's exact values
    (its ``A^L`` is ``Z^L``), to put numbers into the course's factors (:func:`~symcnn.shown.course_softmax`)."""
    output = softmax_output(graph)
    result = {_symbol(output, k): p for k, p in enumerate(softmax_numbers(values[output]).flat, 1)}
    result.update({_symbol("y", k): v for k, v in enumerate(np.asarray(values["y"], dtype=object).flat, 1)})
    return result


def softmax_extras(formula) -> tuple[list[str], list[str]]:
    """``(pieces, notes)`` the course adds to two general formulas, which the derivation's own
    (printed by :mod:`~symcnn.latex.formulas`) does not hold: the forward rule's definition
    ``A^L_j = softmax(Z^L)_j = e^{Z^L_j} / \\sum_k e^{Z^L_k}`` (the derivation keeps the softmax as
    ``e^{Z_j - \\log \\sum_k e^{Z_k}}``, stable, and prints it ``softmax(Z^L)_j``), and
    ``dA^L/dZ^L`` as a matrix, ``diag(A^L) - A^L (A^L)^T`` (no index form prints as a matrix
    product).  Both are written here by hand; ``([], [])`` for every other formula."""
    graph = formula.derivation.graph
    output = softmax_output(graph)
    if output is None:
        return [], []
    logits = "Z" + output[1:]
    if (formula.of, formula.wrt) == (output, None):
        classes = graph.shape("y")[0]
        return [rf"= \frac{{e^{{{entry_latex(logits, 'j')}}}}}{{\sum_{{k=1}}^{{{classes}}} e^{{{entry_latex(logits, 'k')}}}}}"], []
    if (formula.of, formula.wrt) == (output, logits):
        A = tensor_latex(output)
        return [], [rf"\text{{that is }} \operatorname{{diag}}\left({A}\right) - {A} \left({A}\right)^\top"]
    return [], []
