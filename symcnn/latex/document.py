"""A whole derivation as a LaTeX article, readable at every size.

The document follows the seed's slides: the network and its sizes; the forward pass as on the
slides and as general formulas in index form; the worked example (a spec with ``[values]``);
the backpropagation in index form, ``delta^l`` named and reused; the chain rule of every
parameter with each factor's shape under it, and the chain through every later layer; each
factor with its general formula and, where it fits the page at normal size, written out
(padding boxed, ``dZ/dW``'s columns labelled with their ``Z_i``), otherwise its structure; for
a small network the seed's slide, the chain written out as matrices, and the gradient; and the
backward pass in numbers.  Nothing is ever scaled down, and nothing is derived entry by entry
for a network past the slide's sizes.
"""

from __future__ import annotations


from ..shown import named_gradients
from .content import (backward_chain_displays, chain_display, factor_body, factors, formula_display,
                      network_rows, network_title, size_note, written_entries)
from .formulas import forward_latex, partial, read_flat, shape_latex, slashed
from .layout import MACROS, escape_text
from .matrices import DEFAULT_MAX_SIZE
from .pieces import chain_matrices, chain_padding, gradient_column, is_small, size
from .worked import Step, backward_steps, forward_steps, has_values

WIDTH = 730.0   # points of text width (A4 landscape, margins 1.6 cm), a little to spare
PER_LINE = 9    # chain-rule factors (with their shapes) on one line
PATTERN = (420.0, 120.0)  # the most width and height of a sparsity drawing, in points

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,landscape,margin=1.6cm]{geometry}
\usepackage{amsmath,amssymb,booktabs}
\pagestyle{empty}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
""" + MACROS


def document(net, max_size: int = DEFAULT_MAX_SIZE) -> str:
    """The complete ``.tex`` source of ``net``'s derivation."""
    small = is_small(net, max_size)
    parts = [PREAMBLE, r"\begin{document}", rf"\section*{{{escape_text(network_title(net))}}}",
             network_section(net), forward_section(net, small, max_size)]
    if small and has_values(net):
        parts.append(steps_section("Worked example", forward_steps(net, max_size)))
    if net.spec.loss is not None:
        parts += [backprop_section(net), chain_section(net), factors_section(net, max_size)]
        if small:
            parts.append(written_out_section(net, max_size))
            if has_values(net) and "y" in net.spec.values:
                parts.append(steps_section("Backpropagation in numbers", backward_steps(net, max_size)))
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


def heading(text: str, level: str = "subsection", room: str | None = None) -> str:
    """A heading kept on the page with what follows it (``room`` of it, by default a fifth of
    a page under a paragraph heading and more under a section's)."""
    room = room or ("0.3\\textheight" if level == "subsection" else "0.2\\textheight")
    command = rf"\subsection*{{{text}}}" if level == "subsection" else rf"\paragraph{{{text}}}\mbox{{}}\par"
    return rf"\keepwith{{{room}}}" + "\n" + command


def network_section(net) -> str:
    rows = [" & ".join(row) + r" \\" for row in network_rows(net)]
    return "\n".join([heading("The network"), r"\begin{tabular}{lllrr}", r"\toprule",
                      r"layer & type & & output size & weights \\", r"\midrule", *rows[:-1], r"\midrule",
                      rows[-1], r"\bottomrule", r"\end{tabular}\par", size_note(net)])


def forward_section(net, small: bool, max_size: int) -> str:
    """The forward pass as on the slides, beside it the first conv layer's first entries written
    out (a small network), then every layer's rule in index form."""
    lines = [rf"{equation} && {note}" for _, equation, note in forward_latex(net)]
    forward = "\n".join([r"\begin{align*}", " \\\\\n".join(lines), r"\end{align*}"])
    rules = "\n".join(["For every size, in index form:"] +
                      [formula_display(net.formula(rule.of), WIDTH) for rule in net.rules])
    written = written_entries(net, max_size) if small else None
    if written is None:
        return "\n".join([heading("Forward pass"), forward, rules])
    return "\n".join([heading("Forward pass"), r"\begin{minipage}[t]{0.55\linewidth}", forward,
                      r"\end{minipage}\hfill\begin{minipage}[t]{0.42\linewidth}", written[0] + ":", *written[1],
                      r"\end{minipage}", "", rules])


def backprop_section(net) -> str:
    """``delta^l = dloss/dZ^l`` (and ``dloss/dA^l``) from the loss back, each in terms of the
    next; then every parameter's gradient."""
    gradients = [formula_display(net.formula("L", name), WIDTH) for name in named_gradients(net)]
    parameters = [formula_display(net.formula("L", name), WIDTH) for name in net.parameters]
    return "\n".join([heading("Backpropagation, for every size"), *gradients,
                      "The gradient of every parameter:", *parameters])


def chain_section(net) -> str:
    """Each parameter's chain rule with shapes (the seed's three factors), then the chain from
    the loss back through every layer, pooling included, ``delta^l`` named."""
    seed_forms = [chain_display(net, name, PER_LINE) for name in net.parameters]
    return "\n".join([heading("The chain rule, with shapes"), *seed_forms,
                      r"The last factor, through every later layer, from the loss back:", *backward_chain_displays(net),
                      "In full, for the first parameter:", chain_display(net, net.parameters[0], PER_LINE, full=True)])


def factors_section(net, max_size: int) -> str:
    """Each local Jacobian of the chain rules once: its shape, general formula, and the matrix
    written out where it fits (its structure where it does not)."""
    parts = []
    for of, wrt in factors(net):
        rows, cols = size(net, wrt), size(net, of)
        shape = rf"${slashed(of, wrt, read_flat(net, wrt))}$: ${shape_latex((rows, cols))}$"
        # the heading, the formula and the written-out matrix (or the start of its structure) together
        room = f"{min(100 + 16 * rows, 400)}pt" if rows <= max_size and cols <= max_size else "0.35\\textheight"
        if not parts:  # the section's heading stays with its first factor
            parts.append(heading("The factors of the chain rule", room=f"\\dimexpr {room} + 40pt\\relax"))
        parts += [heading(shape, "paragraph", room), formula_display(net.formula(of, wrt), WIDTH),
                  factor_body(net, of, wrt, max_size, r"0.8\textheight", PATTERN, page=True)]
    return "\n".join(parts)


def written_out_section(net, max_size: int) -> str:
    """The seed's slide for every parameter: the chain as matrices (where it fits the page),
    then the gradient (the padding set to 0 where there was padding)."""
    parts = []
    for name in net.parameters:
        lhs, chain, column = partial("L", name), chain_matrices(net, name, max_size), gradient_column(net, name, max_size)
        parts.append(heading(rf"Written out: ${slashed('L', name)}$"))
        too_long = r"Written out, its entries are too long to read; the general formula above gives each.\par"
        if chain is None:
            parts.append(too_long)
        else:
            parts.append(rf"\bestfit{{0.8\textheight}}{{{chain}}}"
                         r"{The factors are too large to write out side by side at normal size; each is above.\par}")
        if column is None:
            parts.append(too_long.replace("Written out, its", "The gradient's"))
        else:
            parts += ["With the padding set to 0:" if chain_padding(net, name) else "The gradient:",
                      rf"\bestfit{{0.8\textheight}}{{{lhs} = {column}}}{{Its entries are too long to write out at "
                      r"normal size; the general formula above gives each.\par}"]
    return "\n".join(parts)


def steps_section(name: str, steps: list[Step]) -> str:
    parts = [heading(name)]
    for step in steps:
        parts.append(heading(step.title, "paragraph"))
        parts += step.blocks
    return "\n".join(parts)
