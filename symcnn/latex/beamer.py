r"""A derivation as Beamer slides: one idea per frame, in the order of the seed's slides.

The main part, a ``\section`` each and an outline first: the network; each layer's forward
rule (as on the slides, then in index form); the worked example, a frame per layer; then the
backpropagation: every parameter's chain rule with each factor's shape, built factor by factor
(overlays); for a small network the seed's central slide, the chain written out as matrices and
then in numbers; a summary frame per layer, from the loss back, in the course's matrix form
(:mod:`~symcnn.latex.beamer_backprop`); and, with values, the backward pass in numbers.  After
``\appendix``: the general formulas of ``delta^l`` and of every gradient, and every factor of the
chain rules with its general formula, written out where it fits the frame at normal size.
What does not fit one frame is spread over several (estimated heights, on the tall side);
nothing is scaled down, and a sub- or superscript is never smaller than 7 pt.
"""

from __future__ import annotations

from ..shown import named_gradients
from .beamer_backprop import central_blocks, central_parameter, chain_blocks, numbers_blocks, summary_items
from .content import (backward_chain_displays, corner_block, factor_body, factors, formula_display,
                      network_rows, network_title, size_note, written_entries)
from .formulas import LAYER_NAMES, forward_latex, partial, shape_latex, slashed
from .layout import MACROS, SLIDE_LABELS, escape_text, estimated_height, estimated_width
from .matrices import DEFAULT_MAX_SIZE
from .pieces import draws, gradient_column, is_small, pattern_block, size, structure_words
from .worked import backward_steps, forward_steps, has_values

WIDTH = 400.0        # points of a 16:9 frame's text width (420 with margins of 6 mm), a little to spare
HEIGHT = 215.0       # points of a frame below its title (252 in all), a little to spare
CHAIN_HEIGHT = 46.0  # points of a chain rule with shapes under its factors, on one line
CORNER = 4           # the rows and columns of a large Jacobian's corner (where they fit the frame)
PATTERN = (360.0, 120.0)       # the most width and height of a sparsity drawing on a frame of its own
SMALL_PATTERN = (360.0, 56.0)  # ... under a formula, in place of a matrix too wide to write out

# Scripts at 8 pt and scripts of scripts (and the frame numbers) at 7 pt at least: LaTeX's 6 and 5 are
# too small to read projected
PREAMBLE = r"""\documentclass[aspectratio=169,11pt]{beamer}
\usepackage{amsmath,amssymb,booktabs}
\setbeamertemplate{navigation symbols}{}
\setbeamertemplate{footline}[frame number]
\setbeamerfont{footline}{size=\footnotesize}
\setbeamersize{text margin left=6mm,text margin right=6mm}
\DeclareMathSizes{10.95}{10.95}{8}{7}
\DeclareMathSizes{11}{11}{8}{7}
\DeclareMathSizes{10}{10}{7.5}{7}
""" + MACROS


def slides(net, max_size: int = DEFAULT_MAX_SIZE) -> str:
    """The complete ``.tex`` source of ``net``'s derivation as Beamer slides."""
    small = is_small(net, max_size)
    forward = [network_frame(net), *forward_frames(net)]
    written = written_entries(net, max_size) if small else None
    if written is not None:
        forward.append(frame(written[0], written[1]))
    parts = [section("The network and its forward pass", forward)]
    if small and has_values(net):
        parts.append(section("Worked example", step_frames(forward_steps(net, max_size, slide_width=WIDTH))))
    appendix = []
    if net.spec.loss is not None:
        parts.append(section("Backpropagation", backprop_frames(net, small, max_size)))
        if small and has_values(net) and "y" in net.spec.values:
            parts.append(section("Backpropagation in numbers", step_frames(backward_steps(net, max_size))))
        appendix = [section("General formulas", index_frames(net)),
                    section("The factors, one by one", [f for of, wrt in factors(net)
                                                        for f in factor_frames(net, of, wrt, max_size)]
                            + gradient_frames(net, small, max_size))]
    return "\n\n".join([PREAMBLE, rf"\title{{{escape_text(network_title(net))}}}", r"\date{}", r"\begin{document}",
                        r"\begin{frame}\titlepage\end{frame}", r"\begin{frame}{Outline}\tableofcontents\end{frame}",
                        *parts, *([r"\appendix", *appendix] if appendix else []), r"\end{document}"]) + "\n"


def step_frames(steps) -> list[str]:
    """A frame (or more) per step of the worked numbers, with the blocks meant for a slide."""
    return [frame(step.title, list(step.slide_blocks or step.blocks)) for step in steps]


def section(name: str, frames: list[str]) -> str:
    return "\n\n".join([rf"\section{{{name}}}", *frames])


def frame(title: str, items: list[str], heights: list[float] | None = None) -> str:
    """Frames titled ``title`` holding ``items`` (LaTeX blocks), as many as their estimated
    heights need; continued frames say so in their title."""
    heights = heights or [estimated_height(item) for item in items]
    groups, current, used = [], [], 0.0
    for item, height in zip(items, heights):
        if current and used + height > HEIGHT:
            groups.append(current)
            current, used = [], 0.0
        current.append(item)
        used += height
    groups.append(current)
    return "\n".join(rf"\begin{{frame}}{{{title}{' (continued)' if i else ''}}}" + "\n" + "\n".join(group)
                     + "\n" + r"\end{frame}" for i, group in enumerate(groups))


def network_frame(net) -> str:
    rows = [" & ".join(row) + r" \\" for row in network_rows(net)]
    table = "\n".join([r"\begin{tabular}{llp{5.4cm}rr}", r"\toprule",
                       r"layer & type & & output size & weights \\", r"\midrule", *rows[:-1], r"\midrule",
                       rows[-1], r"\bottomrule", r"\end{tabular}\par\smallskip", size_note(net)])
    return "\n".join([r"\begin{frame}{The network}", table, r"\end{frame}"])


def forward_frames(net) -> list[str]:
    """A frame per layer (and the loss): its rules as on the slides, then in index form."""
    by_layer = {}
    for l, equation, note in forward_latex(net):
        by_layer.setdefault(l, []).append(rf"{equation} && {note}")
    rules = {}
    for rule in net.rules:
        rules.setdefault(net.layer_of(rule.of) if rule.of != "L" else len(net.spec.layers) + 1, []).append(rule.of)
    frames = []
    for l, lines in by_layer.items():
        name = "The loss" if l > len(net.spec.layers) else f"Layer {l}: {LAYER_NAMES[net.spec.layers[l - 1].type]}"
        slide = r"\begin{align*}" + " \\\\ ".join(lines) + r"\end{align*}"
        formulas = [formula_display(net.formula(of), WIDTH) for of in rules[l]]
        frames.append(frame(name, [slide, "In index form:", *formulas],
                            [16.0 + 26.0 * len(lines), 14.0, *[_formula_height(f) for f in formulas]]))
    return frames


def _formula_height(block: str) -> float:
    """A formula display and its notes (a line of small type per ``WIDTH`` of them)."""
    display, _, notes = block.partition("\n")
    return estimated_height(display) + 14.0 * (1 + int(estimated_width(notes) * 0.8 // WIDTH) if notes else 0)


def backprop_frames(net, small: bool, max_size: int) -> list[str]:
    """The main part's backpropagation: the chain rules built factor by factor, the seed's
    central slide for each parameter whose chain fits it (written out, then in numbers), and
    a summary frame per layer from the loss back, in the course's matrix form."""
    chains = chain_blocks(net)
    frames = [frame("The chain rule, with shapes", chains, [CHAIN_HEIGHT] * len(chains))]
    name = central_parameter(net, max_size) if small else None
    if name is not None:
        blocks = central_blocks(net, name, max_size)
        frames.append(frame(rf"${slashed('L', name)}$ written out", blocks, [HEIGHT / len(blocks)] * len(blocks)))
        if has_values(net) and "y" in net.spec.values:
            frames.append(frame(rf"${slashed('L', name)}$ in numbers", numbers_blocks(net, name)))
    for l in range(len(net.spec.layers), 0, -1):
        title, items = summary_items(net, l)
        frames.append(frame(title, items))
    return frames


def index_frames(net) -> list[str]:
    """``delta^l`` and every gradient in index form, for every size, and the chain from the
    loss back through every later layer."""
    gradients = [formula_display(net.formula("L", name), WIDTH) for name in [*named_gradients(net), *net.parameters]]
    return [frame(r"$\delta^l = \partial \operatorname{loss} / \partial Z^l$ and the gradients, in index form",
                  gradients, [_formula_height(g) for g in gradients]),
            frame("The last factor, through every later layer", backward_chain_displays(net))]


def factor_frames(net, of: str, wrt: str, max_size: int) -> list[str]:
    """A factor: its general formula, written out where it fits; a large one's structure in
    words, its first rows and columns, and the drawing of its nonzero entries."""
    title = rf"${slashed(of, wrt)}$: ${shape_latex((size(net, wrt), size(net, of)))}$"
    formula = formula_display(net.formula(of, wrt), WIDTH)
    rows, cols = size(net, wrt), size(net, of)
    if rows <= max_size and cols <= max_size:
        body = factor_body(net, of, wrt, max_size, r"0.5\textheight", SMALL_PATTERN, label_size=SLIDE_LABELS)
        return [frame(title, [formula, body], [_formula_height(formula), HEIGHT - _formula_height(formula)])]
    words = structure_words(net, of, wrt) + r"\par"
    corner = corner_block(net, of, wrt, (CORNER,), r"0.4\textheight", SLIDE_LABELS)
    frames = [frame(title, [formula, words, corner], [_formula_height(formula), 30.0, 100.0])]
    if draws(net, of, wrt, *PATTERN):  # a conv band or a pooling route, not a dense block or a strip
        frames.append(frame(title, [pattern_block(net, of, wrt, *PATTERN)], [HEIGHT]))
    return frames


def gradient_frames(net, small: bool, max_size: int) -> list[str]:
    """A small network's gradient of every parameter written out under its general formula,
    where it fits the frame (the formula alone where it does not)."""
    if not small:
        return []
    frames = []
    for name in net.parameters:
        column = gradient_column(net, name, max_size)
        if column is not None:
            formula = formula_display(net.formula("L", name), WIDTH)
            frames.append(frame(rf"The gradient ${slashed('L', name)}$", [
                formula, rf"\bestfit{{0.6\textheight}}{{{partial('L', name)} = {column}}}{{}}"],
                [_formula_height(formula), HEIGHT - _formula_height(formula)]))
    return frames
