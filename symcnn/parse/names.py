r"""Names an answer gives to what it writes often: ``e = A^2 - y``, ``g_i = W^2_i u(Z^1_i)``.

A line ``letter = formula`` (also ``:=``, and inline in the prose, ``Let $e = A^2 - y$.``)
whose formula has a tensor in it names that formula; a subscript of index letters on the left
(``g_i``, ``r_{ij}``) makes it a formula of those indices.  Names are read before the equations,
in the order written, so a step may use one defined below it (``\text{where}``-style); each
later formula reads the letter as its value, ``g_{k+1}`` with the index put in.  A name is
not a step: it is checked through the steps that use it, and a note says how it was read.

Not names: the network's letters (``X, W, Z, A, b, y`` and the loss), a letter that is an
index where it is used (an error says so), ``\delta`` without a subscript.
"""

from __future__ import annotations

import sympy

from ..errors import LatexError
from .indices import index_expression
from .scripts import read_script
from .ranges import NAME_GREEK, segments
from .source import split_at
from .tensors import LOSS_LETTERS, read_ref

_NETWORK = {"X", "W", "Z", "A", "b", "y", *LOSS_LETTERS}


def read_names(reader, source, lines) -> tuple[list, int, set]:
    """Every name the answer gives, read in the order written, from its equations ``lines``,
    its inline math and its clauses (``\\quad \\text{where } g_i = ..``): ``(the equations
    that are not names, how many pieces of inline math are prose, where the clause segments read
    as names start)``."""
    inline = source.inline_equations()
    clauses = [split_at(segment, {"="}) for clause in source.ranges.values() for segment in segments(clause)]
    candidates = [parts for parts in (*inline, *lines, *clauses) if parts[0]]
    named = {id(parts) for parts in sorted(candidates, key=lambda parts: parts[0][0].start) if read_name(reader, parts)}
    return ([parts for parts in lines if id(parts) not in named], sum(id(parts) not in named for parts in inline),
            {parts[0][0].start for parts in clauses if id(parts) in named})


def read_name(reader, parts) -> bool:
    """Whether the equation ``parts`` (split at ``=``) names a formula; if so it is read into
    ``reader.abbreviations``: letter -> (its index variables, its value)."""
    if len(parts) != 2 or not parts[1]:
        return False
    left, right = parts
    token = left[0]
    if (token.kind != "letter" and token.text not in NAME_GREEK) or token.text in _NETWORK:
        return False
    letters = _index_letters(reader, left)
    if letters is None or (token.text == r"\delta" and not letters) or reads_ref(reader, left, 0):
        return False
    if not any(reads_ref(reader, right, k) for k in range(len(right))):
        return False  # k = 1, 2, 3: a range, or prose
    name = token.text
    if name in reader.abbreviations:
        raise reader.error(token, f"{name} is named twice: one letter, one value")
    if any(t.text == name for t in right):
        raise reader.error(token, f"{name} is named by a formula that uses {name} itself")
    variables = tuple(sympy.Symbol(t.text, integer=True) for t in letters)
    reader.indices = {str(v): v for v in variables}
    reader.abbreviations[name] = (variables, reader.value(right))
    reader.indices = {}
    reader.notes.append(f"{reader.source.written(left)} read as a name for {reader.source.written(right)} "
                        f"wherever the answer writes {name}")
    return True


def named_value(reader, tokens, i):
    """``(value, next)`` of a name at ``tokens[i]`` (``e``; ``g_{k+1}``, its index put in), or
    None when it is not written as named (``\\delta^1_i`` beside a ``\\delta_i`` named)."""
    token = tokens[i]
    variables, value = reader.abbreviations[token.text]
    subscript = i + 1 < len(tokens) and tokens[i + 1].text == "_"
    if not variables and subscript:
        raise reader.error(token, f"{token.text} is named without an index: write {token.text} alone")
    if not variables:
        return value, i + 1
    if not subscript and token.text == r"\delta":
        return None  # \delta^1_i, \delta_{ij}: the network's, or Kronecker's
    if not subscript:
        raise reader.error(token, f"{token.text} is named with {_indices(variables)}: write "
                                  f"{token.text}_{{{','.join(map(str, variables))}}}")
    script, end = read_script(reader, tokens, i + 2)
    parts = split_at(script)  # g_{i+1}, r_{i,j}; r_{ij}: a letter each
    parts = parts if len(parts) > 1 or len(variables) == 1 else [[t] for t in script]
    if len(parts) != len(variables) or not all(parts):
        raise reader.error(token, f"{token.text} is named with {_indices(variables)}: write them all, e.g. "
                                  f"{token.text}_{{{','.join(map(str, variables))}}}")
    indices = [index_expression(reader, part, token, {}) for part in parts]
    summed = {v for s in value.atoms(sympy.Sum) for v in s.variables} if isinstance(value, sympy.Basic) else set()
    captured = set().union(*(i.free_symbols for i in indices)) & summed
    if captured:
        raise reader.error(token, f"{token.text}_{{..}} is given the index {captured.pop()}, which its formula "
                                  "sums over: use another letter for one of them")
    return value.xreplace(dict(zip(variables, indices))), end


def _indices(variables) -> str:
    return f"{len(variables)} ind{'ex' if len(variables) == 1 else 'ices'}"


def _index_letters(reader, left):
    """The index letters of a name's left side (``g_i``, ``r_{ij}``, ``r_{i,j}``; none for
    ``e``), or None when it is not one letter with such a subscript."""
    if len(left) == 1:
        return []
    if left[1].text != "_":
        return None
    try:
        script, end = read_script(reader, left, 2)
    except LatexError:
        return None
    letters = [t for t in script if t.text != ","]
    if end != len(left) or not letters or any(t.kind != "letter" for t in letters):
        return None
    return letters


def reads_ref(reader, tokens, i) -> bool:
    """Whether a tensor (any index letters) or the loss is written at ``tokens[i]``."""
    try:
        return read_ref(reader, tokens, i, {}) is not None
    except LatexError:
        return False
