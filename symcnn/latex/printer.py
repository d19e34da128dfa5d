"""The course's notation as a SymPy printer: entries, index forms and the functions of a network.

:class:`NotationPrinter` is SymPy's ``LatexPrinter`` with the notation of the slides:
``W1_2 -> W^{1}_{2}``, ``W1_0 -> W^{1}_{0}`` (bias), ``A2 -> A^{2}``, ``ReLU``, ``\\max`` for a
pooling window, ``\\mathbf{1}\\left[Z^{1}_{3} > 0\\right]`` for the ReLU step, ``\\sigma``,
``\\operatorname{softmax}``, and ``\\boxed{...}`` around padding symbols when asked.
:mod:`symcnn.parse` reads the same notation back (with its default settings).
"""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter

from ..activations import activation_of
from ..indexed import base_name
from ..notation import SymbolRef, named_gradient, parse_symbol, split_tensor_name
from ..shown import factor_rank, index_text, softmax_entry


class NotationPrinter(LatexPrinter):
    r"""``LatexPrinter`` for the course's notation.

    Settings, besides SymPy's:

    - ``boxed``: a set of symbols to draw in a box (the padding);
    - ``max_terms``: the most terms a sum shows before it is elided as ``a + b + \cdots + z``
      (``None``: all, so that the LaTeX reads back to the same expression);
    - ``softmax_entries``: write an entry's ``e^{A_k - logsumexp(A_1, ..., A_n)}`` as
      ``softmax(A)_k`` (index forms always are); off by default, as the parser reads ``e^{...}``;
    - ``aliases``: tensors shown under another name in a softmax, ``{"A3": "Z3"}`` when the last
      layer has no activation (``A^L = Z^L``): the course writes ``softmax(Z^L)_k - y_k``;
    - ``softmax_outputs``: tensors whose softmax is the course's last activation ``A^L``
      (:mod:`symcnn.latex.softmax`): ``softmax(A3)_k`` is written ``A^{3}_{k}``;
    - ``digits``: significant digits of a float (``None``: SymPy's); exact numbers stay exact.
    """

    _default_settings = {**LatexPrinter._default_settings, "boxed": frozenset(), "max_terms": None,
                         "softmax_entries": False, "aliases": {}, "softmax_outputs": frozenset(),
                         "digits": None,
                         "parenthesize_super": True, "mul_symbol": None}

    def _print_Add(self, expr, order=None):
        terms = self._as_ordered_terms(expr, order=order)
        # a layer's sum first, then its bias; a negative term after the positive ones (softmax - y)
        ordered = sorted(terms, key=lambda t: (not isinstance(t, sympy.Sum), t.could_extract_minus_sign()))
        if ordered != terms:
            terms, expr, order = ordered, sympy.Add(*ordered, evaluate=False), "none"
        limit = self._settings["max_terms"]
        if not limit or len(terms) <= limit:
            return super()._print_Add(expr, order)
        first = terms[:max(limit - 1, 1)]
        head = super()._print_Add(sympy.Add(*first, evaluate=False), order="none") if len(first) > 1 \
            else self._print(first[0])
        last = terms[-1]
        sign, last = ("-", -last) if last.could_extract_minus_sign() else ("+", last)
        return rf"{head} + \cdots {sign} {self.parenthesize(last, 0)}"

    def _print_Symbol(self, expr, style="plain"):
        ref = parse_symbol(expr.name)
        if ref is None:
            named = named_latex(expr.name, "")
            return named if named is not None else super()._print_Symbol(expr, style)
        text = symbol_latex(ref)
        return rf"\boxed{{{text}}}" if expr in self._settings["boxed"] else text

    def _print_Float(self, expr):
        digits = self._settings["digits"]
        return super()._print_Float(expr if digits is None else sympy.Float(expr, digits))

    # -- index form ----------------------------------------------------------------------

    def _print_Indexed(self, expr):
        """``W1[f, c, k] -> W^{1}_{f,c,k}``, ``b1[f] -> W^{1}_{0,f}``, ``delta2[j] -> \\delta^{2}_{j}``."""
        return entry_latex(base_name(expr), ",".join(index_latex(i) for i in expr.indices))

    def _print_Mul(self, expr):
        """Factors in the course's order: indicators and derivatives of activations first, then
        tensor entries, sums, and the named gradient last (``1[Z^1_i > 0] W^2_i \\delta^2``)."""
        if not expr.has(sympy.Indexed, sympy.Sum) and not any(named_latex(str(a), None) for a in expr.args):
            return super()._print_Mul(expr)
        ordered = sympy.Mul(*sorted(expr.args, key=factor_rank), evaluate=False)
        order, self._settings["order"] = self._settings["order"], "none"
        try:
            text = super()._print_Mul(ordered)
        finally:
            self._settings["order"] = order
        return "-" + text[2:] if text.startswith("- ") else text  # the course's -\frac{y_k}{A^L_k}

    def _print_log(self, expr, exp=None):
        """``\\log A^{3}_{k}``: the logarithm of one entry without parentheses, as the course writes
        the cross entropy ``-\\sum_k y_k \\log A^L_k``."""
        if not isinstance(expr.args[0], (sympy.Indexed, sympy.Symbol)):
            return super()._print_log(expr, exp)
        text = rf"\log {self._print(expr.args[0])}"
        return rf"\left({text}\right)^{{{exp}}}" if exp else text

    def _print_Sum(self, expr):
        signs = "".join(rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
                        for v, lo, hi in reversed(expr.limits))
        body = self._print(expr.function)
        return signs + (rf"\left({body}\right)" if expr.function.is_Add else body)

    def _print_KroneckerDelta(self, expr, exp=None):
        return rf"\mathbf{{1}}\left[{self._print(expr.args[0])} = {self._print(expr.args[1])}\right]"

    def _print_InRange(self, expr):
        e, lo, hi = (self._print(a) for a in expr.args)
        return rf"\mathbf{{1}}\left[{lo} \le {e} \le {hi}\right]"

    def _window(self, limits) -> str:
        variables = ", ".join(self._print(v) for v, _, _ in limits)
        if len({(lo, hi) for _, lo, hi in limits}) == 1:
            return rf"{self._print(limits[0][1])} \le {variables} \le {self._print(limits[0][2])}"
        return r",\ ".join(rf"{self._print(lo)} \le {self._print(v)} \le {self._print(hi)}" for v, lo, hi in limits)

    def _print_WindowMax(self, expr):
        return rf"\max_{{{self._window(expr.limits)}}} {self._print(expr.function)}"

    def _print_FirstMax(self, expr):
        window, *position = expr.args
        at = ", ".join(index_latex(p) for p in position)
        at = f"\\left({at}\\right)" if len(position) > 1 else at
        return (rf"\mathbf{{1}}\left[{at} = \operatorname*{{argmax}}_{{{self._window(window.limits)}}} "
                rf"{self._print(window.function)}\right]")

    def _print_LogSumExpOver(self, expr):
        limits = "".join(rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
                         for v, lo, hi in reversed(expr.limits))
        return rf"\log {limits}e^{{{self._print(expr.function)}}}"

    def _print_exp(self, expr, exp=None):
        """``e^{A_k - log sum_j e^{A_j}}`` (and, with ``softmax_entries``, ``e^{A_k -
        logsumexp(A_1, ..., A_n)}``) is the softmax, ``softmax(A)_k``."""
        softmax = softmax_entry(expr.args[0], self._settings["softmax_entries"])
        if softmax is None:
            return super()._print_ExpBase(expr, exp)
        vector, position = softmax
        if vector in self._settings["softmax_outputs"]:
            text = entry_latex(vector, index_latex(position))
            return rf"\left({text}\right)^{{{exp}}}" if exp else text
        vector = self._settings["aliases"].get(vector, vector)
        text = rf"\operatorname{{softmax}}\left({entry_latex(vector, None)}\right)_{{{index_latex(position)}}}"
        return rf"{text}^{{{exp}}}" if exp else text

    def _print_ActivationBase(self, expr, exp=None):
        """``\\operatorname{ReLU}\\left(z\\right)``, ``\\sigma\\left(z\\right)``: the row's name."""
        base = rf"{activation_of(expr.func).latex}\left({self._print(expr.args[0])}\right)"
        return rf"{base}^{{{exp}}}" if exp else base

    def _print_PoolMax(self, expr):
        return rf"\max\left({', '.join(self._print(a) for a in expr.args)}\right)"

    def _print_LogSumExp(self, expr):
        return rf"\operatorname{{logsumexp}}\left({', '.join(self._print(a) for a in expr.args)}\right)"

    def _print_Heaviside(self, expr, exp=None):
        """``Heaviside(a - b, 0) -> 1[a > b]``, ``Heaviside(a - b, 1) -> 1[a >= b]``."""
        argument, at_zero = expr.args[0], expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        if at_zero not in (0, 1):
            return super()._print_Heaviside(expr, exp)
        terms = sympy.Add.make_args(argument)
        negative = [-t for t in terms if t.could_extract_minus_sign()]
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        relation = ">" if at_zero == 0 else r"\geq"
        text = (rf"\mathbf{{1}}\left[{self._print(sympy.Add(*positive))} {relation} "
                rf"{self._print(sympy.Add(*negative))}\right]")
        return rf"{text}^{{{exp}}}" if exp else text


def symbol_latex(ref: SymbolRef) -> str:
    """``W1 at (2,) -> W^{1}_{2}``; a bias is ``W^{l}_{0...}``; no subscript for a single entry."""
    index = ((0,) if ref.kind == "b" else ()) + ref.index
    letter = "W" if ref.kind == "b" else ref.kind
    sup = f"^{{{ref.layer}}}" if ref.layer is not None else ""
    sub = f"_{{{','.join(map(str, index))}}}" if index else ""
    return letter + sup + sub


def entry_latex(name: str, subscripts: str | None) -> str:
    """An entry of an indexed tensor, or the tensor (``subscripts`` None): ``X_{i+k-2}``,
    ``W^{1}_{f,c,a,b}``, ``W^{1}_{0,f}`` (a bias), ``\\delta^{2}_{j}``, ``vec(A^{2})_{i}``."""
    named = named_latex(name, subscripts)
    if named is not None:
        return named
    if name.startswith("vec("):
        inner = rf"\operatorname{{vec}}\left({tensor_latex(name[4:-1])}\right)"
        return inner if subscripts is None else rf"{inner}_{{{subscripts}}}"
    kind, layer = split_tensor_name(name)
    if kind == "b":
        return rf"W^{{{layer}}}_{{0{',' + subscripts if subscripts else ''}}}"
    return tensor_latex(name) + ("" if subscripts is None else f"_{{{subscripts}}}")


def index_latex(e) -> str:
    """An index expression as the course writes it (:func:`symcnn.shown.index_text`), its
    variables in LaTeX: ``i+k-2``, ``2i+k-3``."""
    return index_text(e, NotationPrinter().doprint)


def named_latex(name: str, subscripts: str | None) -> str | None:
    """The named gradients: ``delta2 -> \\delta^{2}``, ``dA2 -> \\partial loss / \\partial A^{2}``."""
    of = named_gradient(name)
    if of is None:
        return None
    sub = f"_{{{subscripts}}}" if subscripts else ""
    if of.kind == "Z":
        return rf"\delta^{{{of.layer}}}{sub}"
    return rf"\frac{{\partial \operatorname{{loss}}}}{{\partial A^{{{of.layer}}}{sub}}}"


def tensor_latex(name: str) -> str:
    """A whole tensor: ``"W1" -> W^{1}``, ``"b1" -> W^{1}_{0}``, ``"L" -> \\operatorname{loss}``."""
    if name == "L":
        return r"\operatorname{loss}"
    if name in ("X", "y"):
        return name
    return symbol_latex(SymbolRef(name, ()))


def to_latex(expression, boxed=frozenset(), max_terms: int | None = None, **settings) -> str:
    """One expression in the notation (common factors pulled out of sums for reading);
    ``settings`` are :class:`NotationPrinter`'s (``softmax_entries``, ``aliases``, ``digits``)."""
    printer = NotationPrinter({"boxed": frozenset(boxed), "max_terms": max_terms, **settings})
    return printer.doprint(sympy.factor_terms(expression))
