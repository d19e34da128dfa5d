r"""Facts an answer states about a function of one variable, as students write them on the
way: ``\sigma'(z) = \sigma(z)(1 - \sigma(z))``, ``\operatorname{ReLU}'(z) = \mathbb{1}[z > 0]``,
``\tanh'(x) = 1 - \tanh^2(x)``, ``u(z) = \mathbb{1}[z > 0]``.

A line with no tensor of the network in it and a lowercase variable (``z``, ``x``, ``t``, ``s``,
``v``) is such a fact: each side is read with the variable a real number, and the check
(:func:`symcnn.verify.check.verify`) compares the sides at several values of it; a fact that
does not hold makes the answer wrong, like any step.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .names import reads_ref
from .ranges import NAMES, WORDS
from .source import skip_group

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
    variables = tuple(sympy.Symbol(letter, real=True) for letter in letters)
    reader.abbreviations.update({str(v): ((), v) for v in variables})
    try:
        sides = tuple(reader.value(part) for part in parts)
    finally:
        for letter in letters:
            del reader.abbreviations[letter]
    return Fact(sides, tuple(reader.source.written(part) for part in parts), variables,
                reader.source.where(parts[0][0].start))


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
