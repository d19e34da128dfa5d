r"""The softmax convention of an answer about a cross-entropy network.

symcnn's ``A^L`` of a cross-entropy network are the logits (its loss applies the softmax), the
course writes ``A^L = softmax(Z^L)``.  An answer that uses ``A^L`` only outside
``exp``/``softmax``/``logsumexp`` is in the course's convention and its ``A^L`` is read as
``softmax(Z^L)``; one that uses ``A^L`` only inside them is in symcnn's; both at once is
ambiguous and refused.  Either way the expected ``dloss/dA^L`` and ``dA^L/dZ^L`` are the
course's (``-y/A^L``, ``diag(A^L) - A^L (A^L)^T``, see :mod:`symcnn.derive.general`).
"""

from __future__ import annotations

import sympy

from ..derive.general import softmax_output
from ..latex import tensor_latex
from ..parse.indexed import Entry, free_indices, instantiate
from ..parse.tables import probabilities


def softmax_convention(net, reader, steps) -> tuple[dict, list[str]]:
    """``(output_map, notes)``: ``A^L -> softmax(Z^L)`` when the answer is in the course's
    convention, else ``{}``; both conventions in one answer are refused."""
    if softmax_output(net) is None:
        return {}, []
    last = len(net.spec.layers)
    outputs = set(net.symbols(f"A{last}"))
    inside = outside = False
    for step in steps:
        if not _may_use(step.value, outputs, f"TA{last}"):
            continue  # instantiating writes every sum out (19 s for LeNet-5's Z^5 over vec(A^4))
        value = instantiate(step.value, {s: 1 for s in free_indices(step.value, reader.scope)}, reader.scope)
        for expression in (value if isinstance(value, sympy.MatrixBase) else [value]):
            i, o = _uses(sympy.sympify(expression), outputs, False)
            inside, outside = inside or i, outside or o
    if inside and outside:
        raise reader.error(steps[0].at, f"{tensor_latex(f'A{last}')} is used both as the logits (inside "
                                        "softmax or exp) and as the probabilities: write softmax(Z^L) for the "
                                        "probabilities or keep to one convention")
    if not outside:
        return {}, []
    return dict(zip(net.symbols(f"A{last}"), probabilities(net))), [
        f"{tensor_latex(f'A{last}')} read as softmax(Z^{{{last}}}), the course's convention "
        f"(symcnn's {tensor_latex(f'A{last}')} are the logits)"]


def _may_use(value, outputs, key: str) -> bool:
    """Whether a step's value can hold ``A^L`` once instantiated: it writes ``A^L`` (its symbols or
    its table ``key``) or an entry of a table that is not a tensor's (a derivative's value)."""
    entries = value.atoms(Entry)
    return bool(value.free_symbols & outputs) or any(e.args[0].name == key or not e.args[0].name.startswith("T")
                                                     for e in entries)


def _uses(expression, outputs, inside, seen=None) -> tuple[bool, bool]:
    """Whether ``outputs`` occur inside ``exp``/``LogSumExp`` and outside them (each shared
    subexpression looked at once: a deep network's entries share most of their tree)."""
    seen = {} if seen is None else seen
    if (expression, inside) in seen:
        return seen[expression, inside]
    if isinstance(expression, sympy.Symbol):
        found = (inside, not inside) if expression in outputs else (False, False)
    else:
        inner = inside or isinstance(expression, sympy.exp) or type(expression).__name__ == "LogSumExp"
        found_in = found_out = False
        for arg in expression.args:
            i, o = _uses(arg, outputs, inner, seen)
            found_in, found_out = found_in or i, found_out or o
        found = found_in, found_out
    seen[expression, inside] = found
    return found
