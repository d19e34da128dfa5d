r"""Pooling windows written with bound indices, as symcnn prints them and the notes write them:

- ``\max_{1 \le a, b \le 2} A^1_{c,2i+a-2,2j+b-2}``: the maximum over the window, its entries in
  row-major order (the first letter outermost), the same :class:`~symcnn.functions.PoolMax`
  that ``\max(a_1, .., a_n)`` gives;
- ``\mathbb{1}[(p, q) = \operatorname*{argmax}_{1 \le a, b \le 2} A^1_{..}]``: 1 where ``(p, q)``
  is the window position of the maximum, with the course's tie rule (the first maximum,
  row-major), that is ``sum_k [(p, q) = position_k] d max / d a_k``.

The window's range is written ``1 \le a, b \le 2``, ``a, b = 1, 2`` or ``a \in \{1, 2\}``
(read by :func:`~.ranges.one_range`).  ``argmax`` is spelled ``\operatorname*{argmax}``,
``\operatorname{argmax}``, ``\mathrm{argmax}``, ``\arg\max`` or ``\argmax``.
"""

from __future__ import annotations

from itertools import product

import sympy

from ..functions import PoolMax
from .indices import index_expression
from .ranges import NAMES, one_range
from .scripts import read_script
from .source import split_at, unwrapped
from .tensors import word_in_braces


def argmax_at(tokens, i) -> int | None:
    """The index after an ``argmax`` name at ``tokens[i]``, or None."""
    if tokens[i].text == r"\argmax":
        return i + 1
    if tokens[i].text == r"\arg" and i + 1 < len(tokens) and tokens[i + 1].text == r"\max":
        return i + 2
    if tokens[i].text in NAMES:
        star = i + 1 < len(tokens) and tokens[i + 1].text == "*"  # \operatorname*{argmax}
        word, end = word_in_braces(tokens, i + 1 + star)
        return end if word.replace(" ", "") in ("argmax", r"arg\max") else None
    return None


def window(reader, tokens, j, at, read_operand):
    """``(arguments, positions, next)`` of ``_{1 \\le a, b \\le 2} operand`` at ``tokens[j]``:
    the operand at every window position (row-major) and those positions.  ``read_operand(j)``
    reads the operand at ``tokens[j]`` as ``(value, next)``, the window's letters bound."""
    if j >= len(tokens) or tokens[j].text != "_":
        raise reader.error(at, r"a window's maximum needs its range, e.g. \max_{1 \le a, b \le 2} A^1_{c,2i+a-2,2j+b-2}")
    script, j = read_script(reader, tokens, j + 1)
    ranges = one_range(reader, script)
    letters = {name: sympy.Symbol(name, integer=True) for name in ranges}
    before = {name: reader.indices.get(name) for name in letters}
    reader.indices.update(letters)
    try:
        operand, end = read_operand(j)
    finally:
        for name, symbol in before.items():
            if symbol is None:
                del reader.indices[name]
            else:
                reader.indices[name] = symbol
    if isinstance(operand, sympy.MatrixBase):
        raise reader.error(at, "a window's maximum is taken over one entry at each position, e.g. A^1_{c,2i+a-2,2j+b-2}")
    positions = list(product(*ranges.values()))
    arguments = [operand.xreplace({letters[n]: sympy.Integer(v) for n, v in zip(ranges, p)}) for p in positions]
    return arguments, positions, end


def argmax_indicator(reader, position_tokens, arguments, positions, at):
    """``1[(p, q) = argmax ..]``: ``sum_k [(p, q) = positions[k]] d max / d argument_k``."""
    parts = split_at(unwrapped(position_tokens))
    if len(parts) != len(positions[0]):
        raise reader.error(at, f"the window has {len(positions[0])} ind{'ex' if len(positions[0]) == 1 else 'ices'}; "
                               f"the position compared with its argmax has {len(parts)}")
    where = [index_expression(reader, p, at, {}) for p in parts]
    maximum = PoolMax(*arguments)
    reader.notes.append("argmax read with the course's tie rule: at a tie only the first maximum (row-major) "
                        "gets the gradient")
    return sympy.Add(*[sympy.Mul(*[sympy.KroneckerDelta(w, v) for w, v in zip(where, position)])
                       * maximum.fdiff(k + 1) for k, position in enumerate(positions)])
