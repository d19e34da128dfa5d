"""The shown form: what the LaTeX printer (:mod:`symcnn.latex`) and the text printer
(:mod:`symcnn.text`) both write a formula from, so that neither reads the other.

- which gradients backpropagation names (``delta^l``, ``dloss/dA^l``), and whether a tensor
  name is one of them;
- the order of a product's factors: numbers, indicators and activation derivatives, other
  factors, tensor entries, sums, the named gradient last (``1[Z^1_i > 0] W^2_i delta^2``);
- an index expression as the course writes it, ``i+k-2``, ``2i+k-3``, ``j-i+2``;
- the softmax: an entry ``e^{A_k - log sum_j e^{A_j}}`` is ``softmax(A)_k``, and when the
  last layer has no activation (``A^L = Z^L``) the course writes ``A^L = softmax(Z^L)``
  (:func:`symcnn.derive.general.softmax_output`; :mod:`symcnn.latex.softmax` prints it).

A general formula's own shown form (sizes squeezed, indices renamed, conventions) is
:func:`symcnn.derive.display.shown`.
"""

from __future__ import annotations

import sympy

from .derive.general import softmax_output
from .functions import LogSumExp
from .indexed import LogSumExpOver, base_name
from .notation import named_gradient, parse_symbol, symbol_name


def named_gradients(net) -> list[str]:
    """The tensors whose gradient backpropagation names, from the loss back: ``A^L``, then
    every ``Z^l`` (``delta^l``) and every pooling output or flattened input (``dloss/dA^l``)."""
    flow = net.flow
    return [name for name in reversed(flow[1:-1]) if net.general.named(name) or name == flow[-2]]


def factor_rank(factor) -> int:
    """Numbers, then indicators and activation derivatives, other factors, tensor entries, a
    parenthesized sum or a logarithm (the course's ``A^L_j (1[j = k] - A^L_k)``, ``y_k log A^L_k``),
    sums, and the named gradients last."""
    if factor.is_Number:
        return 0
    if isinstance(factor, (sympy.Indexed, sympy.Symbol)):
        name = base_name(factor) if isinstance(factor, sympy.Indexed) else factor.name
        return 5 if named_gradient(name) else 3 if name[:1] in "Wb" else 3.5
    if isinstance(factor, sympy.Sum):
        return 4
    if factor.is_Add or isinstance(factor, sympy.log):
        return 3.75
    return 1 if factor.is_Function else 2


def index_text(e, variable=str) -> str:
    """An index expression as the course writes it: positions first, then offsets, the
    constant last: ``i+k-2``, ``2i+k-3``, ``j-i+2``, ``m-2i+2``; ``variable`` prints the
    index variables (and an expression that is one variable or one number)."""
    e = sympy.sympify(e)
    if e.is_Symbol or e.is_Integer:
        return variable(e)
    terms = sorted(sympy.Add.make_args(e), key=_term_rank)
    text = ""
    for term in terms:
        coefficient, rest = term.as_coeff_Mul()
        body = "" if rest == 1 else variable(rest)
        magnitude = abs(coefficient)
        number = str(magnitude) if rest == 1 or magnitude != 1 else ""
        sign = "-" if coefficient < 0 else "+" if text else ""
        text += f"{sign}{number}{body}"
    return text


def _term_rank(term):
    coefficient, rest = term.as_coeff_Mul()
    if rest == 1:
        return (2, 0, "")
    name = str(rest)
    return (0 if coefficient > 0 else 1, "ijmnr".find(name[0]) if name[0] in "ijmnr" else 9, name)


def softmax_aliases(graph) -> dict:
    """``{"A<L>": "Z<L>"}`` when the last layer has no activation: the course's ``softmax(Z^L)``."""
    output = softmax_output(graph)
    return {output: "Z" + output[1:]} if output else {}


def course_form(formula, expression):
    """A general formula's ``expression`` as the course writes it: the softmax entries as ``A^L_k``
    (:func:`course_softmax`), but in ``A^L``'s own forward rule, which defines them."""
    output = softmax_output(formula.derivation.graph)
    return expression if (formula.of, formula.wrt) == (output, None) else course_softmax(expression, output)


def course_softmax(expression, output: str | None):
    """``e^{v_k - log sum_j e^{v_j}}`` written as the course's ``A^L_k`` (``v`` the logits of the
    softmax output ``output``) and its inverse ``e^{-(...)}`` as ``1/A^L_k``: the course's
    ``dloss/dA^L_k = -y_k / A^L_k`` and ``dA^L_j/dZ^L_k = A^L_j (1[j = k] - A^L_k)``; in an
    entry (``e^{A3_2 - logsumexp(A3_1, A3_2, A3_3)}``) ``A^L_k`` is the entry's symbol ``A3_2``."""
    if output is None:
        return expression

    def course(e):
        for sign in (1, -1):
            found = softmax_entry(sign * e.args[0], entries=True)
            if found is not None and found[0] in (output, f"vec({output})"):
                k = found[1]
                entry = sympy.Symbol(symbol_name(output, (k,)), real=True) if isinstance(k, int) else \
                    sympy.IndexedBase(sympy.Symbol(output))[k]
                return entry ** sign
        return None
    return expression.replace(lambda e: isinstance(e, sympy.exp) and course(e) is not None, course)


def softmax_entry(argument, entries: bool = False):
    """``(vector, k)`` when ``argument`` is ``v_k - log sum_j e^{v_j}`` (index form) or, with
    ``entries``, ``v_k - logsumexp(v_1, ..., v_n)`` of entry symbols; else None."""
    terms = sympy.Add.make_args(argument)
    totals = [t for t in terms if (-t).func in (LogSumExpOver, LogSumExp)]
    rest = [t for t in terms if t not in totals]
    if len(totals) != 1 or len(rest) != 1:
        return None
    total, entry = -totals[0], rest[0]
    if isinstance(total, LogSumExp):
        ref = parse_symbol(entry.name) if entries and isinstance(entry, sympy.Symbol) else None
        if ref is None or entry not in total.args or len(ref.index) != 1 or \
                any(parse_symbol(a.name) is None or parse_symbol(a.name).tensor != ref.tensor
                    for a in total.args if isinstance(a, sympy.Symbol)):
            return None
        return ref.tensor, ref.index[0]
    (variable, _, _), = total.limits
    if not isinstance(entry, sympy.Indexed) or not isinstance(total.function, sympy.Indexed) \
            or total.function.base != entry.base or total.function.indices != (variable,):
        return None
    return base_name(entry), entry.indices[0]
