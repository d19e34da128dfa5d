r"""Names an answer gives to what it writes often: ``e = A^2 - y``, ``g_i = W^2_i u(Z^1_i)``.

A line ``letter = formula`` (also ``:=``, and inline in the prose, ``Let $e = A^2 - y$.``)
whose formula has a tensor in it names that formula; a subscript of index letters on the left
(``g_i``, ``r_{ij}``) makes it a formula of those indices.  Names are read before the equations,
each after the names its formula uses, so a step may use one defined below it
(``\text{where}``-style); each later formula reads the letter as its value, ``g_{k+1}`` with
the index put in.  A name is not a step: it is checked through the steps that use it (one no
step uses is refused), carries the derivatives its formula names into them, and a note says
how it was read.

Not names: the network's letters (``X, W, Z, A, b, y``, the loss, and ``x, w, z, a``, told
they are capitals), a letter that is an index where it is used (an error says so), ``\delta``
without a subscript.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..errors import LatexError
from .functions import FUNCTION_NAMES
from .indexed import sum_variables
from .indices import index_expression
from .scripts import read_script
from .ranges import NAME_GREEK, segments
from .source import split_at
from .tensors import LOSS_LETTERS, LOWERCASE, read_ref

_NETWORK = {"X", "W", "Z", "A", "b", "y", *LOSS_LETTERS, *LOWERCASE}


@dataclass(frozen=True)
class Name:
    """A letter the answer gives a value: ``variables`` its indices, ``value`` its formula with
    them free, ``derivatives`` the derivatives the formula names (``(of, wrt)``, as
    :attr:`~symcnn.parse.tables.NetworkTables.used` keeps them), so that a step using the name
    names them too (``g = \\frac{\\partial L}{\\partial W^1}`` does not answer for ``\\partial L /
    \\partial W^1``), ``at`` the letter's token."""

    variables: tuple
    value: object
    derivatives: frozenset = frozenset()
    reversed_chain: bool = False
    at: object = None


def read_names(reader, source, lines) -> tuple[list, int, set]:
    """Every name the answer gives, from its equations ``lines``, its inline math and its
    clauses (``\\quad \\text{where } g_i = ..``), read so that a name is read after the names
    its formula uses: ``(the equations that are not names, how many pieces of inline math are
    prose, where the clause segments read as names start)``.  Inline math that does not read
    as a name stays prose."""
    inline = source.inline_equations()
    clauses = [split_at(segment, {"="}) for clause in source.ranges.values() for segment in segments(clause)]
    candidates = sorted((parts for parts in (*inline, *lines, *clauses) if parts[0]), key=lambda p: p[0][0].start)
    pending: dict[str, list] = {}
    for parts in candidates:
        if _names_a_formula(reader, parts):
            token = parts[0][0]
            if token.text in pending:
                raise reader.error(token, f"{token.text} is named twice: one letter, one value")
            pending[token.text] = parts
    named, prose_ids = set(), {id(parts) for parts in inline}
    while pending:
        letter = next((letter for letter, parts in pending.items()
                       if not any(t.text in pending and t.text != letter for t in parts[1])), None)
        if letter is None:
            first = min(pending.values(), key=lambda p: p[0][0].start)[0][0]
            raise reader.error(first, f"{' and '.join(pending)} are named by formulas that use each other: "
                                      "write one of them out")
        parts = pending.pop(letter)
        try:
            _read_name(reader, parts)
        except LatexError:
            if id(parts) not in prose_ids:
                raise
            continue  # Let $g_i = \partial L / \partial$ ..: inline math that is not a name stays prose
        named.add(id(parts))
    return ([parts for parts in lines if id(parts) not in named], sum(id(parts) not in named for parts in inline),
            {parts[0][0].start for parts in clauses if id(parts) in named})


def _names_a_formula(reader, parts) -> bool:
    """Whether the equation ``parts`` (split at ``=``) has the form of a name: a letter that is
    not the network's (with index letters ``g_i``, ``r_{ij}``), ``=``, a formula with a tensor."""
    if len(parts) != 2 or not parts[1]:
        return False
    left, right = parts
    token = left[0]
    if (token.kind != "letter" and token.text not in NAME_GREEK) or token.text in _NETWORK:
        return False
    letters = _index_letters(reader, left)
    if letters is None or (token.text == r"\delta" and not letters) or reads_ref(reader, left, 0):
        return False
    return any(reads_ref(reader, right, k) for k in range(len(right)))  # not k = 1, 2, 3: a range, or prose


def _read_name(reader, parts) -> None:
    """Reads the name ``parts`` into ``reader.abbreviations``: letter -> :class:`Name`."""
    left, right = parts
    token, name = left[0], left[0].text
    if any(t.text == name for t in right):
        raise reader.error(token, f"{name} is named by a formula that uses {name} itself")
    variables = tuple(sympy.Symbol(t.text, integer=True) for t in _index_letters(reader, left))
    reader.indices, reader.tables.used, reader.reversed_chain = {str(v): v for v in variables}, set(), False
    try:
        value = reader.value(right)
    finally:
        reader.indices = {}
    reader.abbreviations[name] = Name(variables, value, frozenset(reader.tables.used), reader.reversed_chain, token)
    reader.notes.append(f"{reader.source.written(left)} read as a name for {reader.source.written(right)} "
                        f"wherever the answer writes {name}")


def unused_name(reader):
    """The token of the first name no step uses, or None."""
    unused = [name.at for letter, name in reader.abbreviations.items() if letter not in reader.names_used]
    return min(unused, key=lambda token: token.start) if unused else None


def named_value(reader, tokens, i):
    """``(value, next)`` of a name at ``tokens[i]`` (``e``; ``g_{k+1}``, its index put in), or
    None when it is not written as named (``\\delta^1_i`` beside a ``\\delta_i`` named).  The
    derivatives its formula names count as named where it is used.  Sum variables of its
    formula that are index letters where it is used (``p = \\sum_i ..`` inside ``\\sum_i``,
    ``s_j`` for ``s_i = \\sum_j ..``) are renamed (``i'``), as the formula means."""
    token = tokens[i]
    name = reader.abbreviations[token.text]
    variables, value = name.variables, name.value
    reader.names_used.add(token.text)
    reader.tables.used |= name.derivatives
    reader.reversed_chain |= name.reversed_chain
    after = tokens[i + 1].text if i + 1 < len(tokens) else None
    if token.text in FUNCTION_NAMES and after in ("(", r"\left", "'"):  # u(Z^1_i) beside u = A^2 - y
        raise reader.error(token, f"{token.text} is named, and {token.text}(..) is a function here: name the "
                                  "formula with another letter")
    subscript = after == "_"
    if not variables and subscript:
        raise reader.error(token, f"{token.text} is named without an index: write {token.text} alone")
    clashing = {v: sympy.Symbol(f"{v}'", integer=True) for v in sum_variables(value) if str(v) in reader.indices}
    value = value.xreplace(clashing) if clashing else value
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
