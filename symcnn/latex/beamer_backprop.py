"""The main part's backpropagation frames: the chain rule built factor by factor, the seed's
central slide (the chain written out as matrices, then in numbers), and a summary frame per
layer in the course's matrix form beside the general formulas it agrees with.

Overlays build a chain one factor at a time: ``\\onslide<k->{...}`` around the ``k``-th factor,
so the frame's layout never moves while it is built.
"""

from __future__ import annotations

import sympy

from .formulas import LAYER_NAMES, chain_terms
from .content import written_entries
from .matrices import grid_latex
from .matrix_form import layer_rules
from .pieces import chain_factor_matrices, size
from .worked import factor_numbers, number

HEIGHT = "150pt"  # the most height of a written-out chain: a frame's, less its chain with shapes and an entry


def overlaid(lhs: str, factors: list[str], height: str = r"\textheight", first: int = 2) -> str:
    """``lhs = f_1 . f_2 ...`` displayed, its ``k``-th factor appearing on overlay
    ``first + k - 1``: on one line where TeX finds it fits the frame, else on the fewest lines
    that fit (TeX tries every way to break it between factors, in :data:`MACROS`' ``\bestfit``);
    a broken one starts each line at the left, so that a wide factor has the whole line."""
    dots = ["", *[r"\cdot "] * (len(factors) - 1)]
    shown = [rf"\onslide<{first + k}->{{{dot}{factor}}}" for k, (dot, factor) in enumerate(zip(dots, factors))]
    candidates = sorted(_breaks(shown), key=len)
    displays = [rf"{lhs} = {' '.join(lines[0])}" if len(lines) == 1 else
                r"\begin{aligned} " + f"&{lhs} = " + r" \\ &\quad ".join(" ".join(line) for line in lines)
                + r" \end{aligned}" for lines in candidates]
    result = rf"\[ {displays[-1]} \]"
    for display in reversed(displays[:-1]):
        result = rf"\bestfit{{{height}}}{{{display}}}{{{result}}}"
    return result


def _breaks(items: list[str]) -> list[list[list[str]]]:
    """Every way to cut ``items`` into consecutive lines."""
    if len(items) <= 1:
        return [[items]]
    rest = _breaks(items[1:])
    return [[[items[0]], *lines] for lines in rest] + [[[items[0], *lines[0]], *lines[1:]] for lines in rest]


def chain_blocks(net) -> list[str]:
    """Every parameter's chain rule with each factor's shape under it (the seed's three
    factors), the ``k``-th factors of all of them appearing together on overlay ``k + 1``."""
    blocks = []
    for name in net.parameters:
        lhs, *factors = chain_terms(net, name, net.derivation.chain_steps(name))
        blocks.append(overlaid(lhs, factors))
    return blocks


def central_parameter(net, max_size: int) -> str | None:
    """The parameter of the seed's central slide: the first whose chain has every factor at
    most ``max_size`` rows and columns and a last factor short enough to read (None: none).
    Through a softmax output its factors are the course's ``diag(A^L) - A^L (A^L)^T`` and
    ``-y / A^L`` (:mod:`~symcnn.latex.softmax`)."""
    return next((name for name in net.parameters
                 if all(max(size(net, of), size(net, by)) <= max_size for of, by in net.derivation.chain_steps(name))
                 and chain_factor_matrices(net, name, max_size) is not None), None)


def central_blocks(net, name: str, max_size: int) -> list[str]:
    """The seed's central slide for ``dloss/d(name)``: the chain with its shapes; for a conv
    layer's weights, the first entry of ``Z^l`` without padding written out (the seed's
    ``Z^1_2 = W^1_1 X_1 + W^1_2 X_2 + W^1_3 X_3``: why its column is what it is); then each
    factor written out as a matrix, one overlay at a time."""
    lhs, *shaped = chain_terms(net, name, net.derivation.chain_steps(name))
    shapes = rf"\[ {lhs} = " + r" \cdot ".join(shaped) + r" \]"
    layer = net.layer_of(name)
    written = written_entries(net, max_size) if name.startswith("W") and \
        net.spec.layers[layer - 1].type == "conv" and net.layer_of(net.flow[1]) == layer else None
    example = [] if written is None else [e for e in written[1] if r"\boxed" not in e][:1]
    factors = chain_factor_matrices(net, name, max_size)
    return [shapes, *example, overlaid(chain_terms(net, name, [], shapes=False)[0], factors, HEIGHT)]


def numbers_blocks(net, name: str) -> list[str]:
    """The same chain in numbers (the spec's ``[values]``, padding 0), each factor computed by
    substitution (:func:`~symcnn.latex.worked.factor_numbers`: the course's softmax factors in
    its convention), and the product: ``dloss/d(name)``."""
    matrices = [factor_numbers(net, of, by) for of, by in net.derivation.chain_steps(name)]
    gradient = net.gradient(name).xreplace(net.substitutions())
    factors = [grid_latex([[number(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]) for m in matrices]
    exact = all(sympy.sympify(v).is_Rational for v in gradient)
    result = ("=" if exact else r"\approx") + " " + grid_latex([[number(v)] for v in gradient])
    lhs = chain_terms(net, name, [], shapes=False)[0]
    return [overlaid(lhs, [*factors[:-1], factors[-1] + rf" \onslide<{len(factors) + 2}->{{{result}}}"], HEIGHT)]


def summary_items(net, l: int) -> tuple[str, list[str]]:
    """Layer ``l``'s backpropagation in matrix form (:mod:`~symcnn.latex.matrix_form`): a
    title and the blocks (the rules, one a line, their notes in small type)."""
    rules, notes = layer_rules(net, l)
    title = f"Layer {l} backwards: {LAYER_NAMES[net.spec.layers[l - 1].type]}"
    display = r"\begin{gather*} " + r" \\ ".join(rule.latex for rule in rules) + r" \end{gather*}"
    items = [display]
    if notes:
        items.append(r"{\small " + r"\par ".join(f"${note}$" for note in notes) + r"\par}")
    return title, items
