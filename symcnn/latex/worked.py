"""Worked numbers: the spec's ``[values]`` through the network, as the seed's slides show them.

Forward, layer by layer: the input (zero padded) with the window of one worked entry in bold,
the filter, the convolution with that entry in bold and its products written out (the seed's
``0 * -1 + 0 * 1 + 1 * -1 = -1``), the activation, pooling (the first window and its maximum),
dense layers, the softmax and the loss.  Backward (with a loss and ``y``): every named gradient
``delta^l``, ``dloss/dA^l`` and every parameter's gradient in numbers, in the tensors' shapes,
and, where they fit the page, the chain-rule factors as numeric matrices.

All arithmetic is exact, by substitution into the entry-by-entry network (:meth:`Graph.evaluate`,
:meth:`Graph.substitute`): rationals print as fractions; what is not rational (a softmax, the
cross entropy) prints with four significant digits after ``\\approx``.  Small networks only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..activations import ACTIVATIONS, LOSSES
from ..functions import PoolMax
from ..notation import parse_symbol
from ..shown import softmax_aliases
from .formulas import LAYER_NAMES, partial, shape_latex, slashed
from .layout import equation_chain, estimated_width
from .matrices import DEFAULT_MAX_SIZE, chosen, grid_latex, table_latex
from .printer import entry_latex, tensor_latex, to_latex
from .pieces import factor_matrix
from .softmax import course_values, softmax_factor, softmax_numbers, softmax_output

DIGITS = 4


@dataclass(frozen=True)
class Step:
    """One idea of the worked example: a heading and blocks of LaTeX (displays), and the blocks
    a slide shows instead (``None``: the same)."""

    title: str
    blocks: tuple[str, ...]
    slide_blocks: tuple[str, ...] | None = None


def number(value) -> str:
    """An exact number as it is (``\\frac{1}{4}``), anything else to four significant digits."""
    value = sympy.Integer(int(value)) if isinstance(value, sympy.Float) and float(value).is_integer() else value
    if sympy.sympify(value).is_Rational:
        return to_latex(value)
    return to_latex(sympy.Float(approximate(sympy.sympify(value)), DIGITS))


def approximate(value, precisions=(30, 60, 120, 240, 480, 960, 1920)) -> sympy.Float:
    """An exact number's value, to 15 significant digits where they are certain.

    SymPy's ``N`` evaluates a tree node by node with no memory of the nodes it shares: a
    gradient entry of a tanh/softmax network (a few thousand distinct nodes, the softmax's sums
    shared by every entry) takes it tens of seconds.  Here each distinct node is evaluated once,
    at a fixed precision, bottom up; the precision doubles until two evaluations agree and are
    not 0, which sees through cancellation (``1 - \\tanh^2(300)``, about 10^{-260}, is 0 below
    its 261st digit); past the last precision the last value is taken (0 for what is exactly 0)."""
    previous = None
    for digits in precisions:
        current = _at_precision(value, digits)
        if previous is not None and current != 0 and abs(current - previous) <= abs(current) * sympy.Float(10) ** -16:
            return sympy.Float(current, 15)
        previous = current
    return sympy.Float(previous, 15)


def _at_precision(value, digits: int) -> sympy.Float:
    """``value`` evaluated once per distinct node at ``digits`` digits (see :func:`approximate`)."""
    done: dict = {}
    for node in sympy.postorder_traversal(value):
        if node not in done:
            args = [done[a] for a in node.args]
            done[node] = (node.func(*args) if args else node).evalf(digits)
    return done[value]


def _relation(values) -> str:
    """``=`` between exact numbers, ``\\approx`` where some are rounded."""
    return "=" if all(sympy.sympify(v).is_Rational for v in np.asarray(values, dtype=object).flat) else r"\approx"


def has_values(net) -> bool:
    """Whether the spec's ``[values]`` give every input and parameter (``y`` is optional)."""
    return all(name in net.spec.values for name in net.spec.shapes() if name != "y")


def forward_steps(net, max_size: int = DEFAULT_MAX_SIZE, fit: bool = True, slide_width: float = 380.0) -> list[Step]:
    """The worked forward pass, one :class:`Step` per layer (and its activation, and the loss).

    A layer's input, parameters and output stand side by side where they fit the line (TeX
    decides in a document; on a slide, their estimated width against ``slide_width``), one
    under the other otherwise; a worked entry is broken at its ``=`` where it does not fit.
    Without ``fit`` (a self-contained fragment): one under the other, the entry on one line."""
    values = net.evaluate()
    substitutions = net.substitutions()
    steps, previous = [], "X"
    for l, layer in enumerate(net.spec.layers, start=1):
        output = f"A{l}" if layer.type == "maxpool" else f"Z{l}"
        kind = LAYER_NAMES[layer.type]
        steps.append(_layer_step(net, values, substitutions, previous, output, kind, (max_size, fit, slide_width)))
        if layer.type != "maxpool" and layer.activation != "none":
            A, Z = tensor_latex(f"A{l}"), tensor_latex(f"Z{l}")
            steps.append(Step(f"Layer {l}: {ACTIVATIONS[layer.activation].words}", (
                _display(rf"{A} = {ACTIVATIONS[layer.activation].latex}\left({Z}\right) = "
                         rf"{numbers_table(values[f'A{l}'], max_size=max_size)}"),)))
        previous = f"A{l}"
    if "L" in values:
        steps.append(_loss_step(net, values, previous))
    return steps


def numbers_table(array, marked=frozenset(), max_size=DEFAULT_MAX_SIZE, picked=frozenset()) -> str:
    """A tensor in numbers as the slides draw it (see :func:`~symcnn.latex.matrices.table_latex`)."""
    return table_latex(array, number, marked, max_size=max_size, picked=picked)


TIE_RULE = (r"The window's maximum is underlined; on a tie, max pooling takes (and backpropagation routes "
            r"the gradient to) the first maximum in row-major order.\par")


def _display(math: str) -> str:
    return rf"\[ {math} \]"


def _layer_step(net, values, substitutions, source: str, output: str, kind: str, layout) -> Step:
    """A layer in numbers: its input (zero padded) with the window of the first output entry
    in bold (a conv or pool layer), its parameters, its output with that entry in bold, and
    the entry worked out (``layout``: the most rows and columns, ``fit``, the slides' width)."""
    max_size, fit, slide_width = layout
    l = net.layer_of(output)
    expression = net.expr_array(output).flat[0]
    padded = net.symbol_array(source, padded=True)
    window = expression.free_symbols if kind != "dense" else set()
    marked = {where for where in np.ndindex(*padded.shape) if padded[where] in window}
    taken = first_maximum(expression, substitutions) if isinstance(expression, PoolMax) else None
    picked = {where for where in marked if padded[where] == taken}
    note = r" \text{ zero padded}" if padded.shape != net.shape(source) else ""
    tables = [rf"{tensor_latex(source)}{note} = {numbers_table(net.substitute(padded), marked, max_size, picked)}"]
    tables += [rf"{tensor_latex(p)} = {numbers_table(values[p], max_size=max_size)}"
               for p in net.parameters if net.layer_of(p) == l]
    first = {(0,) * values[output].ndim}
    tables.append(rf"{tensor_latex(output)} = {numbers_table(values[output], first, max_size)}")
    together, stacked = r" \qquad ".join(tables), [_display(t) for t in tables]
    lhs, boxed = to_latex(net.symbol_array(output).flat[0]), set(net.padding_symbols())
    rule = (TIE_RULE,) if taken is not None else ()
    if not fit:
        return Step(f"Layer {l}: {kind}", (*stacked, _display(" = ".join([lhs, *worked_entry(
            expression, substitutions, boxed)])), *rule))
    # a document writes a 3 x 3 filter's products and its bias out; a slide four terms at most
    blocks = (rf"\bestfit{{0.8\textheight}}{{{together}}}{{{' '.join(stacked)}}}",
              equation_chain(lhs, worked_entry(expression, substitutions, boxed, 10)), *rule)
    slide_blocks = (*([_display(together)] if estimated_width(together) <= slide_width else stacked),
                    equation_chain(lhs, worked_entry(expression, substitutions, boxed, 4)), *rule)
    return Step(f"Layer {l}: {kind}", blocks, slide_blocks)


def first_maximum(window: PoolMax, substitutions: dict):
    """The entry a max-pooling window takes: its first maximal argument (row-major order), the
    one backpropagation routes the gradient to, as PyTorch does."""
    numbers = [a.xreplace(substitutions) for a in window.args]
    return window.args[next(i for i, v in enumerate(numbers) if all(v >= w for w in numbers))]


def worked_entry(expression, substitutions: dict, boxed=frozenset(), written: int = 8) -> list[str]:
    """An entry's expression, its numbers, its value: ``[W^1_1 X_0 + ..., (-1) 0 + ..., -1]``
    for a sum of at most ``written`` products (a longer one elided, and only its value),
    ``[\\max(...), \\max(0, ...), 1]`` for a pooling window; padding symbols (``boxed``) boxed."""
    value = expression.xreplace(substitutions)
    if isinstance(expression, PoolMax):
        first = first_maximum(expression, substitutions)
        numbers = ", ".join((chosen if a == first else str)(number(a.xreplace(substitutions))) for a in expression.args)
        return [to_latex(expression), rf"\max\left({numbers}\right)", number(value)]
    terms = sorted(sympy.Add.make_args(expression), key=_weight_order)
    symbolic = [" ".join(to_latex(f, boxed) for f in _factors(t)) for t in terms]
    if len(terms) > written:
        return [" + ".join(symbolic[:written - 2]) + r" + \cdots + " + symbolic[-1], number(value)]
    numeric = " + ".join(r" \cdot ".join(_factor(f.xreplace(substitutions)) for f in _factors(t)) for t in terms)
    return [" + ".join(symbolic), numeric, number(value)]


def _factors(term):
    coefficient, rest = term.as_coeff_Mul()
    factors = sorted(sympy.Mul.make_args(rest), key=lambda s: not s.name.startswith("W"))
    return ([coefficient] if coefficient != 1 else []) + factors


def _weight_order(term):
    """Terms in the order of their weight's index (the filter read left to right); bias last."""
    for s in sorted(term.free_symbols, key=str):
        ref = parse_symbol(s.name)
        if ref is not None and ref.kind == "W":
            return (0, ref.index)
    return (1, ())


def _factor(value) -> str:
    text = number(value)
    return rf"\left({text}\right)" if text.startswith("-") else text


def _loss_step(net, values, output: str) -> Step:
    loss = values["L"][()]
    y = values["y"]
    if LOSSES[net.spec.loss].softmax:
        scores = softmax_aliases(net).get(output, output)
        softmax = softmax_numbers(values[output])
        label = int(np.flatnonzero(np.array([v == 1 for v in y.flat]))[0]) + 1 if sum(y.flat) == 1 else None
        function = rf"\operatorname{{softmax}}\left({tensor_latex(scores)}\right)"
        # the course names the softmax A^L; after another activation it stays softmax(A^L)
        name = tensor_latex(output) if softmax_output(net) == output else function
        probabilities = rf"{name} = {function}" if name != function else function
        shown = [_display(rf"y = {numbers_table(y)} \qquad {probabilities} \approx {numbers_table(softmax)}")]
        entry = (lambda k: entry_latex(output, k)) if name != function else (lambda k: f"{function}_{{{k}}}")
        rule = rf"-\log {entry(label)}" if label else rf"-\sum_k y_k \log {entry('k')}"
        shown.append(_display(rf"{tensor_latex('L')} = {rule} {_relation(loss)} {number(loss)}"))
    else:
        prediction = values[output]
        shown = [_display(rf"{tensor_latex(output)} = {numbers_table(prediction)} \qquad y = {numbers_table(y)}")]
        squares = " + ".join(rf"\left({number(a)} - {_factor(b)}\right)^{{2}}" for a, b in zip(prediction.flat, y.flat))
        shown.append(_display(rf"{tensor_latex('L')} = {squares} {_relation(loss)} {number(loss)}"))
    return Step("The loss", tuple(shown))


def backward_values(net) -> dict[str, np.ndarray]:
    """``dloss/dT`` in numbers, in ``T``'s shape, for every tensor of the flow after ``X`` and
    every parameter, by exact substitution of the entry-by-entry gradients."""
    result = {}
    for name in [*net.flow[1:-1], *net.parameters]:
        column = factor_numbers(net, "L", name)  # dloss/dA^L in the course's convention: -y_k / A^L_k
        result[name] = np.array(list(column), dtype=object).reshape(net.shape(name))
    return result


def factor_numbers(net, of: str, by: str) -> sympy.Matrix:
    """A chain-rule factor in numbers: a local Jacobian (the course's softmax factors in its
    convention, :mod:`~symcnn.latex.softmax`), or ``dloss/d(by)`` back-propagated entry by entry."""
    if softmax_factor(net, of, by):
        return factor_matrix(net, of, by).xreplace(course_values(net, net.evaluate()))
    return (net.gradient(by) if of == "L" else net.jacobian(of, by)).xreplace(net.substitutions())


def _order_note(shape=None) -> str:
    """How gradients in their tensors' shapes and the chain rule's columns agree (``shape``:
    of one gradient, else of all)."""
    what, column = ("Each gradient is", "column") if shape is None else \
        ("It is", rf"${shape_latex((int(np.prod(shape)), 1))}$ column")
    return (rf"{what} in its tensor's shape; the chain rule's {column} lists the same entries in row-major "
            r"order (channel, row, column).\par")


def backward_steps(net, max_size: int = DEFAULT_MAX_SIZE) -> list[Step]:
    """The backward pass in numbers: the named gradients from the loss back, then for each
    parameter its chain-rule factors as numeric matrices (where they fit) and its gradient."""
    gradients = backward_values(net)
    named = []
    for name in reversed(net.flow[1:-1]):
        if name.startswith("Z") or net.general.named(name) or name == net.flow[-2]:
            delta = rf"\delta^{{{name[1:]}}} = " if name.startswith("Z") else ""
            named.append(_display(rf"{delta}{partial('L', name)} {_relation(gradients[name])} "
                                  rf"{numbers_table(gradients[name], max_size=max_size)}"))
    if any(_tensor(gradients[name]) for name in gradients):
        named.append(_order_note())
    steps = [Step(r"From the loss back: $\delta^l$ and $\partial \operatorname{loss} / \partial A^l$", tuple(named))]
    for parameter in net.parameters:
        gradient = gradients[parameter]
        lhs, relation = partial("L", parameter), _relation(gradient)
        table = _display(f"{lhs} {relation} {numbers_table(gradient, max_size=max_size)}")
        shaped = (table, _order_note(gradient.shape)) if _tensor(gradient) else (table,)
        matrices = [factor_numbers(net, of, by) for of, by in net.derivation.chain_steps(parameter)]
        blocks = shaped
        if all(max(m.shape) <= max_size for m in matrices):  # the chain in numbers, where it fits
            factors = [grid_latex([[number(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]) for m in matrices]
            column = grid_latex([[number(v)] for v in gradient.flat])
            chain = (rf"\bestfit{{0.8\textheight}}{{{lhs} = " + r" \cdot ".join(factors) + f" {relation} {column}}}"
                     f"{{{table}}}")
            blocks = (chain, *shaped[1:], table) if _tensor(gradient) else (chain,)  # a vector's table is the column
        steps.append(Step(rf"The gradient ${slashed('L', parameter)}$ in numbers", blocks, shaped))
    return steps


def _tensor(array) -> bool:
    """Whether ``array`` has more than one axis of more than one entry (it is not a column)."""
    return sum(n > 1 for n in np.shape(array)) > 1
