r"""Facts an answer states about a function of one variable, as students write them on the
way: ``\sigma'(z) = \sigma(z)(1 - \sigma(z))``, ``\operatorname{ReLU}'(z) = \mathbb{1}[z > 0]``,
``\tanh'(x) = 1 - \tanh^2(x)``, ``u(z) = \mathbb{1}[z > 0]``, ``\frac{d}{dz} \sigma(z) = ..``.

A line with no tensor of the network in it and a lowercase variable (``z``, ``x``, ``t``, ``s``,
``v``) is such a fact: each side is read with the variable a real number, and the check
(:func:`symcnn.verify.check.verify`) compares the sides at several values of it; a fact that
does not hold makes the answer wrong, like any step.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .names import Name, reads_ref
from .ranges import NAMES, WORDS
from .source import skip_group
from .tensors import LOWERCASE

VARIABLES = ("z", "x", "t", "s", "v")
_NAMED = NAMES | WORDS


@dataclass(frozen=True)
class Fact:
    """``sides[0] = sides[1] = ...`` in ``variables``, written ``texts`` at ``where``."""

    sides: tuple
    texts: tuple[str, ...]
    variables: tuple[sympy.Symbol, ...]
    where: str


def read_fact(reader, parts) -> Fact | None:
    """The fact stated by an equation ``parts`` (split at ``=``), read; None when it is not one."""
    tokens = [t for part in parts for t in part]
    if len(parts) < 2 or any(reads_ref(reader, tokens, k) for k in _outside_names(tokens)):
        return None
    letters = sorted({t.text for t in tokens if t.kind == "letter" and t.text in VARIABLES
                      and t.text not in reader.abbreviations})
    subscripted = any(t.text in letters and after.text == "_" for t, after in zip(tokens, tokens[1:]))
    if not letters or subscripted:  # z_i = \sum_k w_k x_{i+k-2}: the tensors, in lowercase
        return None
    if len(parts[0]) == 1 and parts[0][0].kind == "letter":
        letter = parts[0][0].text
        if letter in LOWERCASE:
            return None  # x = .., z = ..: the tensors, in lowercase
        raise reader.error(parts[0][0], f"{letter} = .. names a formula without the network's tensors: a name stands "
                                        f"for a formula of them (e = A^2 - y); write the formula where {letter} stands")
    variables = tuple(sympy.Symbol(letter, real=True) for letter in letters)
    reader.abbreviations.update({str(v): Name((), v) for v in variables})
    try:
        sides = tuple(_side(reader, part, variables) for part in parts)
    finally:
        for letter in letters:
            del reader.abbreviations[letter]
    if not all(isinstance(side, sympy.Expr) for side in sides):
        raise reader.error(parts[0][0], "cannot read this line as a fact about a function (f'(z) = ..): "
                                        "each side is one number for each value of its variable")
    return Fact(sides, tuple(reader.source.written(part) for part in parts), variables,
                reader.source.where(parts[0][0].start))


def _side(reader, part, variables):
    """A side's value; a derivative by a variable, ``\\frac{d}{dz} \\sigma(z)``, ``\\frac{d
    \\sigma(z)}{dz}``, ``\\frac{\\partial}{\\partial z}\\left(..\\right)``, is the derivative of
    what it differentiates (SymPy's ``diff`` of the side as read)."""
    if part[0].text in (r"\frac", r"\dfrac") and len(part) > 2 and part[1].text == "{":
        top_end = skip_group(part, 1)
        if top_end < len(part) and part[top_end].text == "{":
            bottom_end = skip_group(part, top_end)
            top, bottom, after = part[2:top_end - 1], part[top_end + 1:bottom_end - 1], part[bottom_end:]
            d_top, d_bottom = _differential(top), _differential(bottom)
            named = {str(v): v for v in variables}
            if d_top is not None and d_bottom is not None and len(bottom) == d_bottom + 1 \
                    and bottom[-1].text in named and bool(top[d_top:]) != bool(after):
                return sympy.diff(reader.value(top[d_top:] or after), named[bottom[-1].text])
    return reader.value(part)


def _differential(tokens) -> int | None:
    """How many tokens the ``d``, ``\\partial`` or ``\\mathrm{d}`` at the start take (None: none)."""
    if tokens and tokens[0].text in ("d", r"\partial"):
        return 1
    if [t.text for t in tokens[:4]] in ([r"\mathrm", "{", "d", "}"], [r"\text", "{", "d", "}"]):
        return 4
    return None


def _outside_names(tokens):
    """The positions of ``tokens`` outside the names of functions (``\\operatorname{ReLU}``'s
    ``L`` is not the loss)."""
    k = 0
    while k < len(tokens):
        if tokens[k].text in _NAMED and k + 1 < len(tokens) and tokens[k + 1].text == "{":
            k = skip_group(tokens, k + 1)
            continue
        yield k
        k += 1
