"""Equations in the course's notation: the forward pass as on the slides, general formulas,
chain rules with each factor's shape under it.

Nothing here is computed entry by entry: the slide forms come from the spec, the general
formulas from :class:`~symcnn.derive.general.Formula`, the chain rules from the flow of tensors.
"""

from __future__ import annotations

import math

import sympy

from ..activations import ACTIVATIONS, LOSSES
from ..derive.display import shown
from ..indexed import FirstMax
from ..shown import course_form, factor_rank, softmax_aliases
from .printer import NotationPrinter, entry_latex, index_latex, tensor_latex
from .softmax import softmax_extras, softmax_output

LAYER_NAMES = {"conv": "convolution", "maxpool": "max pooling", "dense": "dense"}


def partial(of: str, wrt: str, flat: bool = False) -> str:
    """``\\frac{\\partial Z^{1}}{\\partial W^{1}}``; the loss is ``\\operatorname{loss}``; with
    ``flat``, ``wrt`` is read flattened: ``\\partial \\operatorname{vec}(A^{2})``."""
    return rf"\frac{{\partial {tensor_latex(of)}}}{{\partial {_read(wrt, flat)}}}"


def slashed(of: str, wrt: str, flat: bool = False) -> str:
    """``\\partial Z^{1} / \\partial W^{1}``: a derivative in running text or a heading."""
    return rf"\partial {tensor_latex(of)} / \partial {_read(wrt, flat)}"


def _read(name: str, flat: bool) -> str:
    return entry_latex(f"vec({name})", None) if flat else tensor_latex(name)


def read_flat(graph, name: str) -> bool:
    """Whether a dense layer reads ``name`` flattened, as ``vec(name)`` (row-major: channel,
    row, column), because more than one of its axes is written."""
    for l, layer in enumerate(graph.spec.layers, start=1):
        if layer.type == "dense" and name == ("X" if l == 1 else f"A{l - 1}"):
            return sum(graph.general.kept(name)) > 1
    return False


def shape_latex(shape) -> str:
    return r" \times ".join(map(str, shape))


def slide_shape(shape) -> tuple[int, ...]:
    """How the slides write a size: a column ``5 x 1`` for a vector (one channel of a 1D
    signal, or a dense layer's units), ``H x W`` for one channel, ``C x H x W`` otherwise."""
    squeezed = tuple(n for n in shape if n > 1) or (1,)
    return (*squeezed, 1) if len(squeezed) == 1 else squeezed


def course_printing(graph) -> dict:
    """The printer settings that write a network's entries as the course does: the softmax
    gradient as ``softmax(Z^L)_k - y_k``."""
    return {"softmax_entries": True, "aliases": softmax_aliases(graph)}


def document_printing(graph) -> dict:
    """:func:`course_printing` with the softmax as the last activation, as documents print
    it (:mod:`~symcnn.latex.softmax`): ``delta^L_k = A^L_k - y_k``."""
    output = softmax_output(graph)
    return {**course_printing(graph), "softmax_outputs": frozenset([output] if output else [])}


# -- chain rules ------------------------------------------------------------------------------

def _size(graph, name: str) -> int:
    return 1 if name == "L" else math.prod(graph.shape(name))


def factor_latex(graph, of: str, by: str, shapes: bool = True, deltas: bool = False) -> str:
    """``d(of)/d(by)`` with its shape ``size(by) x size(of)`` under it (``vec(by)`` where a
    dense layer reads ``by`` flattened); with ``deltas``, ``dloss/dZ^l`` is written ``\\delta^l``."""
    fraction = rf"\delta^{{{by[1:]}}}" if deltas and of == "L" and by.startswith("Z") else \
        partial(of, by, read_flat(graph, by))
    return rf"\underset{{{shape_latex((_size(graph, by), _size(graph, of)))}}}{{{fraction}}}" if shapes else fraction


def chain_terms(graph, wrt: str, steps, shapes: bool = True, deltas: bool = False) -> list[str]:
    """``[lhs, factor, factor, ...]`` of the chain rule ``dloss/d(wrt) = prod of steps``;
    ``steps`` are the factors ``(of, by)`` (:meth:`Derivation.chain_steps`)."""
    lhs = factor_latex(graph, "L", wrt, shapes)
    if deltas and wrt.startswith("Z"):
        lhs = factor_latex(graph, "L", wrt, shapes, deltas=True) + " = " + lhs
    return [lhs] + [factor_latex(graph, of, by, shapes, deltas) for of, by in steps]


def chain_latex(graph, wrt: str, steps, shapes: bool = True, per_line: int | None = None,
                deltas: bool = False) -> str:
    """The chain rule on one line, or broken after every ``per_line`` factors (an ``aligned``)."""
    lhs, *factors = chain_terms(graph, wrt, steps, shapes, deltas)
    if per_line is None or len(factors) <= per_line:
        return f"{lhs} = " + r" \cdot ".join(factors)
    lines = [r" \cdot ".join(factors[i:i + per_line]) for i in range(0, len(factors), per_line)]
    return (r"\begin{aligned} " + f"{lhs} &= " + r" \\ &\quad \cdot ".join(lines) + r" \end{aligned}")


def backward_steps(graph) -> list[tuple[str, tuple[str, str], tuple[str, str]]]:
    """From the loss back: ``(T, (reader, T), ("L", reader))`` for every tensor ``T`` of the
    flow after ``X``: ``dloss/dT = d(reader)/dT . dloss/d(reader)``."""
    flow = graph.flow
    return [(flow[i], (flow[i + 1], flow[i]), ("L", flow[i + 1])) for i in range(len(flow) - 3, 0, -1)]


# -- general formulas ---------------------------------------------------------------------------

def formula_latex(formula, ranges: bool = True) -> str:
    """A general formula (:class:`~symcnn.derive.general.Formula`) in the course's notation:
    ``\\frac{\\partial Z^{1}_{i}}{\\partial W^{1}_{k}} = X_{i+k-2}``, then (with ``ranges``) its
    index ranges and the tensors that are 0 outside theirs."""
    equation, notes = formula_parts(formula)
    return equation + (r" \qquad " + r",\quad ".join(notes) if ranges and notes else "")


def formula_parts(formula) -> tuple[str, list[str]]:
    """``(equation, notes)``: the formula, and its ranges and conventions as separate pieces."""
    lhs, pieces, notes = formula_pieces(formula)
    return f"{lhs} = " + " ".join(pieces), notes


TIE_NOTE = r"\operatorname*{argmax}\text{: the first maximum (row-major) on a tie}"


def formula_pieces(formula) -> tuple[str, list[str], list[str]]:
    """``(lhs, right-hand side in pieces, notes)``: the pieces are the right-hand side's top-level
    terms or factors (a sum's signs attached to the first), where a long formula may break.
    The course's softmax convention (:mod:`~symcnn.latex.softmax`) writes the softmax entries as
    ``A^L_k`` (:func:`~symcnn.shown.course_form`) and adds its notes; a max-pooling route states
    the tie rule."""
    view = shown(formula)
    printer = NotationPrinter(document_printing(formula.derivation.graph))
    of = tensor_latex("L") if view.of is None else printer.doprint(view.of)
    lhs = of if view.wrt is None else rf"\frac{{\partial {of}}}{{\partial {printer.doprint(view.wrt)}}}"
    if view.named is not None:
        lhs = f"{printer.doprint(view.named)} = {lhs}"
    notes = [_range_note(printer, *group) for group in view.ranges]
    notes += [_zero_note(*zero) for zero in view.zero_outside]
    taken = {s.name for e in (view.expression, view.of, view.wrt) if e is not None for s in e.atoms(sympy.Symbol)}
    notes += [_flat_note(name, _fresh(letters, taken), steps) for name, letters, steps in view.flattened]
    if view.expression.has(FirstMax):
        notes.append(TIE_NOTE)
    pieces, softmax_notes = softmax_extras(formula)
    return lhs, _pieces(printer, sympy.factor_terms(course_form(formula, view.expression))) + pieces, notes + softmax_notes


def _fresh(letters, taken: set) -> tuple[str, ...]:
    """``letters`` with those the formula already uses for another range replaced (``i, j``
    of ``vec(A^2)``'s ordering beside a formula's ``i = 1..8``): one letter, one range."""
    spare = [n for n in "cpqrstuvw" if n not in taken and n not in letters]
    return tuple(spare.pop(0) if n in taken else n for n in letters)


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


def _pieces(printer, e) -> list[str]:
    """``e`` printed in pieces that join (with spaces) to ``printer.doprint(e)`` but for the
    breaks: a product of tensor expressions into its factors, a sum's signs into its body."""
    whole = printer.doprint(e)
    if isinstance(e, sympy.Sum) and not e.function.is_Add:
        body = _pieces(printer, e.function)
        prefix = whole[:len(whole) - len(printer.doprint(e.function))]
        return [prefix + body[0], *body[1:]]
    if e.is_Mul and not any(f.is_Number or f.is_Add or f.is_Pow for f in e.args) and e.has(sympy.Indexed):
        factors = sorted(e.args, key=factor_rank)
        pieces = [p for f in factors for p in _pieces(printer, f)]
        return pieces if " ".join(pieces) == whole else [whole]
    return [whole]


# -- the forward pass as on the slides ----------------------------------------------------------

def forward_latex(graph) -> list[tuple[int, str, str]]:
    """The forward pass as ``(layer, equation, shape note)``, as on the slides:
    ``Z^1_i = (W^1)^T X_[i-1,i,i+1]``, ``A^1 = ReLU(Z^1)``, ``A^2 = (W^2)^T A^1``,
    ``loss(A^2, y) = (A^2 - y)^2`` (the loss is layer ``L + 1``).  A dense layer reads a
    tensor of several axes as ``vec(A^l)``; a classifier ends in ``A^L = softmax(Z^L)`` and
    ``loss = -sum_k y_k log A^L_k``."""
    spec = graph.spec
    lines, previous = [], "X"
    softmax = softmax_output(graph)
    for l, layer in enumerate(spec.layers, start=1):
        Z, A = tensor_latex(f"Z{l}"), tensor_latex(f"A{l}")
        size = shape_latex(slide_shape(layer.out_shape))
        if layer.type == "maxpool":
            lines.append((l, f"{A}_{{{_indices(layer.out_shape, 'c')}}} = " + _pool_rule(previous, layer),
                          f"{A}: {size}"))
        elif layer.type == "dense":
            rule = rf"\left({tensor_latex(f'W{l}')}\right)^\top {_read(previous, read_flat(graph, previous))}"
            rule += f" + {tensor_latex(f'b{l}')}" if layer.bias else ""
            if layer.activation == "none" and softmax != f"A{l}":
                lines.append((l, f"{A} = {rule}", f"{A} = {Z}: {size}"))
            else:
                lines.append((l, f"{Z} = {rule}", f"{Z}: {size}"))
        else:
            lines.append((l, f"{Z}_{{{_indices(layer.out_shape, 'f')}}} = " + _conv_rule(previous, l, layer),
                          f"{Z}: {size}"))
        if softmax == f"A{l}":
            lines.append((l, rf"{A} = \operatorname{{softmax}}\left({Z}\right)", f"{A}: {size}"))
        elif layer.type != "maxpool" and (layer.type == "conv" or layer.activation != "none"):
            function = ACTIVATIONS[layer.activation].latex
            lines.append((l, f"{A} = {function}\\left({Z}\\right)" if function else f"{A} = {Z}", f"{A}: {size}"))
        previous = f"A{l}"
    if spec.loss is not None:
        lines.append((len(spec.layers) + 1,
                      rf"{tensor_latex('L')}\left({tensor_latex(previous)}, y\right) = {_loss_rule(graph, previous)}",
                      rf"{tensor_latex('L')}: 1 \times 1"))
    return lines


def _loss_rule(graph, output: str) -> str:
    """The loss written out for one output (the seed's ``(A^2 - y)^2``), as a sum otherwise;
    the cross entropy of the course's ``A^L = softmax(Z^L)``, or of ``softmax(A^L)`` after
    another activation."""
    A, loss, classes = tensor_latex(output), LOSSES[graph.spec.loss], graph.shape("y")[0]
    probability = entry_latex(output, "k") if softmax_output(graph) == output else \
        rf"\operatorname{{softmax}}\left({A}\right)_{{k}}"
    rule = loss.latex_single if classes == 1 and loss.latex_single else loss.latex
    return rule.format(A=A, K=classes, probability=probability)


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
        i = _position("i", layer.out_shape[-1])
        window = [index_latex(s * (i - 1) + 1 + j - p) for j in range(k)]  # 2i-1, 2i, 2i+1
        return rf"\left({weights}\right)^\top {source}_{{[{','.join(window)}]}}{bias}"
    offsets = "ab"[:len(layer.size)]
    positions = _window_positions(offsets, layer.stride, layer.padding, layer.out_shape[1:])
    w_index = ",".join((["f"] if filters > 1 else []) + (["c"] if channels > 1 else []) + list(offsets))
    a_index = ",".join((["c"] if channels > 1 else []) + positions)
    sums = (r"\sum_{c=1}^{" + str(channels) + "} " if channels > 1 else "") + "".join(
        rf"\sum_{{{o}=1}}^{{{k}}} " for o, k in zip(offsets, layer.size))
    return f"{sums}{weights}_{{{w_index}}} {source}_{{{a_index}}}{bias}"


def _window_positions(offsets, stride, padding, sizes) -> list[str]:
    """``s (i - 1) + a - p`` per axis, as the index forms write it: ``i+a-2`` for ``s = 1, p = 1``;
    an output axis of size 1 (``sizes``) is left out of the entry's name, so its position is 1."""
    return [index_latex(s * (_position(i, n) - 1) + sympy.Symbol(o) - p)
            for i, o, s, p, n in zip("ij", offsets, stride, padding, sizes)]


def _position(name: str, size: int):
    """The output position ``i`` along an axis, 1 where the axis has a single entry."""
    return sympy.Symbol(name) if size > 1 else sympy.S.One


def _pool_rule(previous: str, layer) -> str:
    offsets = "ab"[:len(layer.size)]
    positions = _window_positions(offsets, layer.stride, (0,) * len(offsets), layer.out_shape[1:])
    ranges = r",\ ".join(f"1 \\le {o} \\le {k}" for o, k in zip(offsets, layer.size))
    channel = ["c"] if layer.in_shape[0] > 1 else []
    return rf"\max_{{{ranges}}} {tensor_latex(previous)}_{{{','.join(channel + positions)}}}"
