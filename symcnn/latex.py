"""LaTeX in the course's notation: a SymPy printer and the fragments of a derivation.

:class:`NotationPrinter` is SymPy's ``LatexPrinter`` with the notation of the slides:
``W1_2 -> W^{1}_{2}``, ``W1_0 -> W^{1}_{0}`` (bias), ``A2 -> A^{2}``, ``ReLU``, ``\\max`` for a
pooling window, ``\\mathbf{1}\\left[Z^{1}_{3} > 0\\right]`` for the ReLU step, ``\\sigma``,
``\\operatorname{logsumexp}``, and ``\\boxed{...}`` around padding symbols when asked.  Every
fragment is built here and only here; :mod:`symcnn.verify` reads the same notation back.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy.printing.latex import LatexPrinter

from .derive.display import shown
from .graph import Graph
from .indexed import LogSumExpOver, base_name
from .notation import SymbolRef, parse_symbol, split_tensor_name

DEFAULT_MAX_SIZE = 12


class NotationPrinter(LatexPrinter):
    r"""``LatexPrinter`` for the course's notation.

    Settings, besides SymPy's: ``boxed``, a set of symbols to draw in a box (the padding);
    ``max_terms``, the most terms a sum shows before it is elided as ``a + b + \cdots + z``
    (``None``: all, so that the LaTeX reads back to the same expression).
    """

    _default_settings = {**LatexPrinter._default_settings, "boxed": frozenset(),
                         "max_terms": None, "parenthesize_super": True, "mul_symbol": None}

    def _print_Add(self, expr, order=None):
        terms = self._as_ordered_terms(expr, order=order)
        if any(isinstance(t, sympy.Sum) for t in terms):  # a layer's sum first, then its bias
            terms = sorted(terms, key=lambda t: not isinstance(t, sympy.Sum))
            expr, order = sympy.Add(*terms, evaluate=False), "none"
        limit = self._settings["max_terms"]
        if not limit or len(terms) <= limit:
            return super()._print_Add(expr, order)
        head = super()._print_Add(sympy.Add(*terms[:limit - 1], evaluate=False), order="none")
        last = terms[-1]
        sign, last = ("-", -last) if last.could_extract_minus_sign() else ("+", last)
        return rf"{head} + \cdots {sign} {self.parenthesize(last, 0)}"

    def _print_Symbol(self, expr, style="plain"):
        ref = parse_symbol(expr.name)
        if ref is None:
            named = _named_latex(expr.name, "")
            return named if named is not None else super()._print_Symbol(expr, style)
        text = symbol_latex(ref)
        return rf"\boxed{{{text}}}" if expr in self._settings["boxed"] else text

    # -- index form ----------------------------------------------------------------------

    def _print_Indexed(self, expr):
        """``W1[f, c, k] -> W^{1}_{f,c,k}``, ``b1[f] -> W^{1}_{0,f}``, ``delta2[j] -> \\delta^{2}_{j}``."""
        return entry_latex(base_name(expr), ",".join(index_latex(i) for i in expr.indices))

    def _print_Mul(self, expr):
        """Factors in the course's order: indicators and derivatives of activations first, then
        tensor entries, sums, and the named gradient last (``1[Z^1_i > 0] W^2_i \\delta^2``)."""
        if not expr.has(sympy.Indexed, sympy.Sum) and not any(_named_latex(str(a), None) for a in expr.args):
            return super()._print_Mul(expr)
        ordered = sympy.Mul(*sorted(expr.args, key=_factor_rank), evaluate=False)
        order, self._settings["order"] = self._settings["order"], "none"
        try:
            return super()._print_Mul(ordered)
        finally:
            self._settings["order"] = order

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
        """``e^{A_k - log sum_j e^{A_j}}`` is the softmax, ``softmax(A)_k``."""
        softmax = _softmax_entry(expr.args[0])
        if softmax is None:
            return super()._print_ExpBase(expr, exp)
        vector, position = softmax
        text = rf"\operatorname{{softmax}}\left({entry_latex(vector, None)}\right)_{{{self._print(position)}}}"
        return rf"{text}^{{{exp}}}" if exp else text

    def _print_ReLU(self, expr):
        return rf"\operatorname{{ReLU}}\left({self._print(expr.args[0])}\right)"

    def _print_Sigmoid(self, expr, exp=None):
        base = rf"\sigma\left({self._print(expr.args[0])}\right)"
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
    named = _named_latex(name, subscripts)
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
    """An index expression as the course writes it: positions first, then offsets, the
    constant last: ``i+k-2``, ``2i+k-3``, ``j-i+2``, ``m-2i+2``."""
    e = sympy.sympify(e)
    if e.is_Symbol or e.is_Integer:
        return NotationPrinter().doprint(e)
    terms = sorted(sympy.Add.make_args(e), key=_term_rank)
    text = ""
    for term in terms:
        coefficient, rest = term.as_coeff_Mul()
        body = "" if rest == 1 else NotationPrinter().doprint(rest)
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


def _factor_rank(factor) -> int:
    """Numbers, then indicators and activation derivatives, other factors, tensor entries,
    sums, and the named gradients last."""
    if factor.is_Number:
        return 0
    if isinstance(factor, (sympy.Indexed, sympy.Symbol)):
        name = base_name(factor) if isinstance(factor, sympy.Indexed) else factor.name
        return 5 if _named_latex(name, None) else 3 if name[:1] in "Wb" else 3.5
    if isinstance(factor, sympy.Sum):
        return 4
    return 1 if factor.is_Function else 2


def _named_latex(name: str, subscripts: str | None) -> str | None:
    """The named gradients: ``delta2 -> \\delta^{2}``, ``dA2 -> \\partial loss / \\partial A^{2}``."""
    sub = f"_{{{subscripts}}}" if subscripts else ""
    if name.startswith("delta") and name[5:].isdigit():
        return rf"\delta^{{{name[5:]}}}{sub}"
    if name.startswith("dA") and name[2:].isdigit():
        return rf"\frac{{\partial \operatorname{{loss}}}}{{\partial A^{{{name[2:]}}}{sub}}}"
    return None


def _softmax_entry(argument):
    """``(vector, k)`` when ``argument`` is ``v_k - log sum_j e^{v_j}``, else None."""
    terms = sympy.Add.make_args(argument)
    totals = [t for t in terms if (-t).func is LogSumExpOver]
    rest = [t for t in terms if t not in totals]
    if len(totals) != 1 or len(rest) != 1 or not isinstance(rest[0], sympy.Indexed):
        return None
    total = -totals[0]
    (variable, _, _), = total.limits
    entry = rest[0]
    if not isinstance(total.function, sympy.Indexed) or total.function.base != entry.base \
            or total.function.indices != (variable,):
        return None
    return base_name(entry), entry.indices[0]


def tensor_latex(name: str) -> str:
    """A whole tensor: ``"W1" -> W^{1}``, ``"b1" -> W^{1}_{0}``, ``"L" -> \\operatorname{loss}``."""
    if name == "L":
        return r"\operatorname{loss}"
    if name in ("X", "y"):
        return name
    return symbol_latex(SymbolRef(name, ()))


def to_latex(expression, boxed=frozenset(), max_terms: int | None = None) -> str:
    """One expression in the notation (common factors pulled out of sums for reading)."""
    printer = NotationPrinter({"boxed": frozenset(boxed), "max_terms": max_terms})
    return printer.doprint(sympy.factor_terms(expression))


def partial(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {tensor_latex(of)}}}{{\partial {tensor_latex(wrt)}}}"


def shape_latex(shape) -> str:
    return r" \times ".join(map(str, shape))


def matrix_latex(matrix, row_labels=None, col_labels=None, boxed=frozenset(),
                 max_size: int = DEFAULT_MAX_SIZE, max_terms: int | None = None) -> str:
    """A ``bmatrix`` with optional labels: columns via ``\\overset`` (as the seed labels
    ``dZ/dW`` with ``Z_i``), rows in a column on the right.  Above ``max_size`` rows or
    columns, the middle is elided with dots (first rows/columns, dots, the last one)."""
    rows, cols = matrix.shape
    keep_rows, keep_cols = _kept(rows, max_size), _kept(cols, max_size)
    lines = []
    for r in keep_rows:
        cells = []
        for c in keep_cols:
            if r is None or c is None:
                cells.append(r"\ddots" if r is None and c is None else r"\vdots" if r is None else r"\cdots")
                continue
            cell = to_latex(matrix[r, c], boxed, max_terms)
            if col_labels is not None and r == keep_rows[0]:
                cell = rf"\overset{{{col_labels[c]}}}{{{cell}}}"
            cells.append(cell)
        lines.append(" & ".join(cells))
    body = r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"
    if row_labels is not None:
        labels = [row_labels[r] if r is not None else r"\vdots" for r in keep_rows]
        body += r" \begin{matrix} " + r" \\ ".join(labels) + r" \end{matrix}"
    return body


def _kept(n: int, max_size: int) -> list[int | None]:
    """Indices shown of ``n``: all, or the first ``max_size - 2``, ``None`` (dots), the last."""
    if n <= max_size:
        return list(range(n))
    return list(range(max_size - 2)) + [None, n - 1]


def labels(graph: Graph, name: str) -> list[str]:
    """The entry names of a tensor, e.g. ``Z^{1}_{1}, ..., Z^{1}_{5}``, for labelling."""
    return [to_latex(s) for s in graph.symbol_array(name).flat]


def jacobian_latex(graph: Graph, matrix: sympy.Matrix, of: str, wrt: str,
                   max_size: int = DEFAULT_MAX_SIZE, labelled: bool | None = None) -> str:
    """``d(of)/d(wrt)`` as a bmatrix, padding symbols boxed.  As on the seed's slide, the
    Jacobian of a layer with respect to its weights has its columns labelled with the
    ``Z_i`` and its rows with the weights (``labelled`` overrides that choice)."""
    if labelled is None:
        labelled = wrt in graph.parameters
    return matrix_latex(matrix, row_labels=labels(graph, wrt) if labelled else None,
                        col_labels=labels(graph, of) if labelled and of != "L" else None,
                        boxed=graph.padding_symbols(), max_size=max_size)


def chain_latex(graph: Graph, wrt: str, steps, shapes: bool = True) -> str:
    """``dloss/dW^1 = dZ^1/dW^1 . dA^1/dZ^1 . dloss/dA^1`` with each factor's shape under it;
    ``steps`` are the factors ``(of, wrt)`` (:meth:`Derivation.chain_steps`), nothing is computed."""
    def size(name):
        return 1 if name == "L" else int(np.prod(graph.shape(name)))

    def term(of, by):
        fraction = partial(of, by)
        return rf"\underset{{{shape_latex((size(by), size(of)))}}}{{{fraction}}}" if shapes else fraction
    return f"{term('L', wrt)} = " + r" \cdot ".join(term(of, by) for of, by in steps)


def forward_latex(graph: Graph) -> list[tuple[str, str]]:
    """The forward pass as ``(equation, shape note)`` pairs, layer by layer, as on the slides:
    ``Z^1_i = (W^1)^T X_[i-1,i,i+1]``, ``A^1 = ReLU(Z^1)``, ``A^2 = (W^2)^T A^1``, ``L(A^2, y)``."""
    spec = graph.spec
    lines, previous = [], "X"
    for l, layer in enumerate(spec.layers, start=1):
        Z, A = tensor_latex(f"Z{l}"), tensor_latex(f"A{l}")
        size = shape_latex(_slide_shape(layer.out_shape))
        if layer.type == "maxpool":
            lines.append((f"{A}_{{{_indices(layer.out_shape, 'c')}}} = " + _pool_rule(previous, layer),
                          f"{A}: {size}"))
        elif layer.type == "dense":
            rule = rf"\left({tensor_latex(f'W{l}')}\right)^\top {tensor_latex(previous)}"
            rule += f" + {tensor_latex(f'b{l}')}" if layer.bias else ""
            if layer.activation == "none":
                lines.append((f"{A} = {rule}", f"{A} = {Z}: {size}"))
            else:
                lines.append((f"{Z} = {rule}", f"{Z}: {size}"))
        else:
            lines.append((f"{Z}_{{{_indices(layer.out_shape, 'f')}}} = " + _conv_rule(previous, l, layer),
                          f"{Z}: {size}"))
        if layer.type != "maxpool" and (layer.type == "conv" or layer.activation != "none"):
            function = ACTIVATION_LATEX[layer.activation]
            lines.append((f"{A} = {function}\\left({Z}\\right)" if function else f"{A} = {Z}", f"{A}: {size}"))
        previous = f"A{l}"
    if spec.loss is not None:
        lines.append((rf"L\left({tensor_latex(previous)}, y\right) = {_loss_rule(graph, previous)}",
                      r"\text{loss}: 1 \times 1"))
    return lines


def _loss_rule(graph: Graph, output: str) -> str:
    """The loss written out for one output (the seed's ``(A^2 - y)^2``), as a sum otherwise."""
    A, classes = tensor_latex(output), graph.shape("y")[0]
    if graph.spec.loss == "cross_entropy":
        return (rf"-\sum_{{k=1}}^{{{classes}}} y_{{k}} \log \operatorname{{softmax}}\left({A}\right)_{{k}}"
                rf" = \operatorname{{logsumexp}}\left({A}\right) - \sum_{{k=1}}^{{{classes}}} y_{{k}} {A}_{{k}}")
    if classes == 1:
        return rf"\left({A} - y\right)^{{2}}"
    return rf"\sum_{{k=1}}^{{{classes}}} \left({A}_{{k}} - y_{{k}}\right)^{{2}}"


ACTIVATION_LATEX = {"none": "", "relu": r"\operatorname{ReLU}", "sigmoid": r"\sigma", "tanh": r"\tanh"}


def _slide_shape(shape) -> tuple[int, ...]:
    """How the slides write a size: ``5 x 1`` for a vector, ``C x H x W`` otherwise."""
    squeezed = tuple(n for n in shape if n > 1) or (1,)
    return (*squeezed, 1) if len(squeezed) == 1 else squeezed


def _indices(shape, channel: str) -> str:
    """The written indices of an activation ``(C, *spatial)``: ``i`` or ``f,i,j``; size-1
    axes are left out, as in the symbols' names."""
    names = [channel, "i", "j"][:len(shape)]
    return ",".join(n for n, size in zip(names, shape) if size > 1) or "1"


def _conv_rule(previous: str, l: int, layer) -> str:
    """The slide's ``(W^l)^T A_{[i-1,i,i+1]}`` for one filter on one channel in 1D; the
    explicit sum over channels and filter offsets otherwise."""
    weights, source = tensor_latex(f"W{l}"), tensor_latex(previous)
    filters, channels = layer.filters, layer.in_shape[0]
    bias = ""
    if layer.bias:
        bias = f" + {weights}_{{0,f}}" if filters > 1 else f" + {weights}_{{0}}"
    if len(layer.size) == 1 and filters == 1 and channels == 1:
        (k,), (s,), (p,) = layer.size, layer.stride, layer.padding
        start = "i" if s == 1 else f"{s}(i-1)+1"
        window = [start if j == p else f"{start}{j - p:+d}" for j in range(k)]
        return rf"\left({weights}\right)^\top {source}_{{[{','.join(window)}]}}{bias}"
    offsets = "ab"[:len(layer.size)]
    positions = _window_positions(offsets, layer.stride, layer.padding)
    w_index = ([["f"]] if filters > 1 else []) + ([["c"]] if channels > 1 else [])
    w_index = ",".join([*(x[0] for x in w_index), *offsets])
    a_index = ",".join((["c"] if channels > 1 else []) + positions)
    sums = (r"\sum_{c=1}^{" + str(channels) + "}" if channels > 1 else "") + "".join(
        rf"\sum_{{{o}=1}}^{{{k}}}" for o, k in zip(offsets, layer.size))
    return f"{sums} {weights}_{{{w_index}}} {source}_{{{a_index}}}{bias}"


def _window_positions(offsets, stride, padding) -> list[str]:
    """``s (i - 1) + a - p`` per axis, simplified: ``a + i - 2`` for ``s = 1, p = 1``."""
    return [sympy.latex(s * (sympy.Symbol(i) - 1) + sympy.Symbol(o) - p)
            for i, o, s, p in zip("ij", offsets, stride, padding)]


def _pool_rule(previous: str, layer) -> str:
    offsets = "ab"[:len(layer.size)]
    positions = _window_positions(offsets, layer.stride, (0,) * len(offsets))
    ranges = ",".join(f"{o} \\le {k}" for o, k in zip(offsets, layer.size))
    channel = ["c"] if layer.in_shape[0] > 1 else []
    return rf"\max_{{{ranges}}} {tensor_latex(previous)}_{{{','.join(channel + positions)}}}"


def entries_latex(graph: Graph, name: str, limit: int = DEFAULT_MAX_SIZE) -> list[str]:
    """``Z^{1}_{2} = W^{1}_{1} X_{1} + ...``: a tensor's first entries written out, padding boxed."""
    boxed = graph.padding_symbols()
    pairs = list(zip(graph.symbol_array(name).flat, graph.expr_array(name).flat))[:limit]
    return [f"{to_latex(symbol)} = {to_latex(expression, boxed)}" for symbol, expression in pairs]


def values_latex(array) -> str:
    """A numeric tensor ``(C, *spatial)`` as one bmatrix per channel (a row for 1D data)."""
    array = np.asarray(array, dtype=object)
    maps = array.reshape(-1, *array.shape[-2:]) if array.ndim >= 2 else array.reshape(1, 1, -1)
    return r" \quad ".join(matrix_latex(sympy.Matrix(m.tolist()), max_size=32) for m in maps)


def formula_latex(formula, ranges: bool = True) -> str:
    """A general formula (:class:`~symcnn.derive.general.Formula`) in the course's notation:
    ``\\frac{\\partial Z^{1}_{i}}{\\partial W^{1}_{k}} = X_{i+k-2}``, then (with ``ranges``) its
    index ranges and the tensors that are 0 outside theirs."""
    equation, notes = formula_parts(formula)
    return equation + (r" \qquad " + r",\quad ".join(notes) if ranges and notes else "")


def formula_parts(formula) -> tuple[str, list[str]]:
    """``(equation, notes)``: the formula, and its ranges and conventions as separate pieces."""
    view = shown(formula)
    printer = NotationPrinter()
    of = r"\operatorname{loss}" if view.of is None else printer.doprint(view.of)
    lhs = of if view.wrt is None else rf"\frac{{\partial {of}}}{{\partial {printer.doprint(view.wrt)}}}"
    if view.named is not None:
        lhs = f"{printer.doprint(view.named)} = {lhs}"
    equation = f"{lhs} = {printer.doprint(sympy.factor_terms(view.expression))}"
    notes = [_range_note(printer, *group) for group in view.ranges]
    notes += [_zero_note(*zero) for zero in view.zero_outside]
    return equation, notes + [_flat_note(*flat) for flat in view.flattened]


def _range_note(printer, span, indices) -> str:
    lo, hi = span
    names = ", ".join(printer.doprint(i) for i in indices)
    return rf"{names} = {lo}, \dots, {hi}" if hi - lo > 1 else rf"{names} = {lo}, {hi}"


def _zero_note(name, sizes, padding) -> str:
    what = r"\text{ (zero padding)}" if padding else ""
    return rf"{entry_latex(name, None)} = 0 \text{{ outside its }} {shape_latex(sizes)} \text{{ entries}}{what}"


def _flat_note(name, letters, steps) -> str:
    position = "+".join(f"{s}({n}-1)" if s > 1 else n for n, s in zip(letters, steps))
    return rf"{entry_latex(f'vec({name})', position)} = {entry_latex(name, ','.join(letters))}"
