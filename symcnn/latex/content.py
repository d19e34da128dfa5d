"""What a derivation shows, in which order: shared by the document and the slides.

The order is the seed's: the network, each layer's forward rule, the worked example, the
backpropagation with ``delta^l`` named, each chain-rule factor with its shape, the gradient.
Nothing here writes LaTeX of its own beyond assembling the pieces.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..spec import describe
from .formulas import backward_steps, chain_latex, formula_pieces, partial, read_flat, shape_latex, slide_shape
from .layout import display, notes_text
from .pieces import (MAX_TERMS, draws, entries, interior_column, jacobian_matrix, pattern_block, size,
                     structure_words)
from .printer import to_latex
from .softmax import softmax_output

COMPACT = 6  # rows and columns of a Jacobian's corner when the written-out one does not fit


def network_title(net) -> str:
    """The spec's title, or its file's name."""
    return net.spec.title or Path(net.spec.source).stem.replace("_", " ")


def written_entries(net, max_size: int) -> tuple[str, list[str]] | None:
    """The first conv layer's first entries written out, as the seed writes ``Z^1_2``:
    ``(heading, displays)``, padding boxed; None when the layer has more than ``max_size``
    outputs or more than six weights a filter (or there is no conv layer)."""
    l = next((l for l, layer in enumerate(net.spec.layers, 1) if layer.type == "conv"), None)
    if l is None or math.prod(net.shape(f"Z{l}")) > max_size or \
            math.prod(net.spec.layers[l - 1].weight_shape[1:]) > MAX_TERMS:
        return None
    boxed = set(net.padding_symbols())
    pairs = list(zip(net.symbol_array(f"Z{l}").flat, net.expr_array(f"Z{l}").flat))[:6]
    padded = any(e.free_symbols & boxed for _, e in pairs)
    return (f"Layer {l} written out" + (", padding boxed" if padded else ""),
            [rf"\[ {to_latex(s)} = {to_latex(e, boxed)} \]" for s, e in pairs])


def factors(net) -> list[tuple[str, str]]:
    """Every local Jacobian ``(of, wrt)`` of the parameters' full chain rules, once each, in
    forward order: ``dZ^1/dW^1, dA^1/dZ^1, dA^2/dA^1, dZ^3/dA^2, ...``."""
    seen = []
    for parameter in net.parameters:
        for step in net.derivation.chain_steps(parameter, full=True):
            if step not in seen:
                seen.append(step)
    order = {name: i for i, name in enumerate(net.flow)}
    return sorted(seen, key=lambda step: (order[step[0]], step[1] not in net.parameters, step[1]))


def network_rows(net, math=lambda text: f"${text}$") -> list[tuple[str, str, str, str, str]]:
    """The network table: ``(layer, type, details, output size, weights)`` per row, sizes as
    the slides write them (``Z^1: 5 x 1``), the loss, and last the weights in total."""
    spec = net.spec
    rows = [("input", math("X"), "", math(shape_latex(slide_shape(spec.input_shape))), "")]
    counts = spec.parameter_counts()
    for l, layer in enumerate(spec.layers, start=1):
        names = f"A^{{{l}}}" if layer.type == "maxpool" else f"Z^{{{l}}}, A^{{{l}}}"
        details = describe(layer, lambda sizes: math(shape_latex(sizes)))
        if softmax_output(net) == f"A{l}":  # the course's A^L = softmax(Z^L)
            details = details.replace("no activation", "softmax")
        rows.append((str(l), f"{layer.type} {math(names)}", details, math(shape_latex(slide_shape(layer.out_shape))),
                     f"{counts[l]:,}"))
    loss = spec.loss.replace("_", " ") if spec.loss else "none"
    rows.append(("loss", loss, "" if spec.loss else "a forward pass only", "", ""))
    rows.append(("", "", "", "in total", f"{net.parameter_count():,}"))
    return rows


def size_note(net) -> str:
    """What the sizes in the network table mean."""
    if any(len(slide_shape(s)) == 3 for s in net.shapes.values()):
        return r"Sizes are channels $\times$ height $\times$ width; a vector is a column."
    return "A vector is a column, as on the slides."


def formula_display(formula, width: float) -> str:
    """A general formula displayed (broken into lines where it does not fit ``width`` points),
    its ranges and conventions under it."""
    lhs, pieces, notes = formula_pieces(formula)
    return "\n".join(filter(None, [display(lhs, pieces, width), notes_text(notes)]))


def chain_display(net, wrt: str, per_line: int, full: bool = False) -> str:
    """``dloss/d(wrt)`` as the chain rule with each factor's shape under it: the seed's three
    factors, or (``full``) every local Jacobian down to the loss."""
    return rf"\[ {chain_latex(net, wrt, net.derivation.chain_steps(wrt, full), per_line=per_line)} \]"


def backward_chain_displays(net) -> list[str]:
    """``dloss/dT = d(reader)/dT . dloss/d(reader)`` from the loss back, ``delta^l`` named: the
    chain through every later layer, pooling included."""
    return [rf"\[ {chain_latex(net, name, [local, upstream], deltas=True)} \]"
            for name, local, upstream in backward_steps(net)]


def factor_body(net, of: str, wrt: str, max_size: int, height: str, pattern_size: tuple[float, float],
                page: bool = False, label_size: str | None = None) -> str:
    """A chain-rule factor beyond its general formula: written out where it fits the page at
    normal size (and is at most ``height`` tall); otherwise, and always past ``max_size``
    entries a side, its structure in words, its first rows and columns (where those fit), and
    a drawing of its nonzero entries (``pattern_size``: the drawing's most width and height),
    kept on one page with its caption (``page``, in a document); column labels at ``label_size``
    (:data:`~symcnn.latex.layout.SLIDE_LABELS` on slides)."""
    rows, cols = size(net, wrt), size(net, of)
    lhs = partial(of, wrt, read_flat(net, wrt))
    words = structure_words(net, of, wrt) + r"\par"
    drawing = ""
    if draws(net, of, wrt, *pattern_size):
        drawing = (rf"\keepwith{{{pattern_size[1] + 40:g}pt}}" if page else "") + \
            pattern_block(net, of, wrt, *pattern_size)
    if rows <= max_size and cols <= max_size:
        matrix = jacobian_matrix(net, of, wrt, max_size, label_size=label_size)
        return rf"\bestfit{{{height}}}{{{lhs} = {matrix}}}{{{words}" + "\n" + drawing + "}"
    corner = corner_block(net, of, wrt, (max_size, COMPACT), height, label_size)
    return "\n".join(filter(None, [words, corner, drawing]))


def corner_block(net, of: str, wrt: str, sizes, height: str, label_size: str | None = None) -> str:
    """``d(of)/d(wrt)``'s first rows and columns (and the last), written out with at most
    ``sizes[0]`` rows and columns where that fits, else ``sizes[1]``, else a sentence; column
    labels at ``label_size``."""
    lhs, block = partial(of, wrt, read_flat(net, wrt)), r"Its entries are too wide to write out here; the general formula gives each.\par"
    for n in sorted(set(sizes)):
        start = interior_column(net, of, wrt, n)
        column = to_latex(entries(net, of, [start])[0][1])
        intro = "Its first rows and columns, and the last:" if not start else \
            rf"Its first rows, its columns from ${column}$ on (the first hold only zero padding), and the last:"
        block = (rf"\bestfit[{intro}]{{{height}}}"
                 rf"{{{lhs} = {jacobian_matrix(net, of, wrt, n, first_column=start, label_size=label_size)}}}"
                 rf"{{{block}}}")
    return block


def elided_factors(net, max_size: int) -> list[tuple[str, str]]:
    """The chain-rule factors a document shows only by their first rows and columns (more
    than ``max_size`` of either): the command says on stderr how to ask for more of them."""
    return [(of, wrt) for of, wrt in factors(net) if max(size(net, wrt), size(net, of)) > max_size]
