"""The walk over an expression's tokens: each piece of notation becomes a value (through
:func:`~.operators.read_piece`), the arithmetic around it stays text for latex2sympy2.

Sums: ``\\sum_{i=1}^{5}``, ``\\sum_i`` (a stand-in range, replaced by the one read from the
tensors ``i`` indexes), ``\\sum_{i,j}``, ``\\sum^{5}_{i=1}``.
"""

from __future__ import annotations

import sympy

from .indices import index_expression
from .names import named_value
from .operators import read_piece
from .scripts import read_script, transpose_end
from .source import SIZES, bracketed, environment_name, skip_group, split_at
from .tensors import LOWERCASE

_SPACES = {r"\,", r"\;", r"\:", r"\!", "\\ ", r"\quad", r"\qquad", "~", r"\>"}
_PRODUCTS = {r"\cdot": r" \cdot ", r"\times": r" \cdot ", "*": r" \cdot ", r"\ast": r" \cdot "}
ENTRYWISE = {r"\odot", r"\circ", r"\otimes"}
_ELLIPSES = {r"\cdots", r"\ldots", r"\dots", r"\vdots", r"\ddots"}
_MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "Bmatrix", "smallmatrix", "array"}
_KEPT = {r"\frac", r"\sqrt", r"\pi", "+", "-", "/", "^", "{", "}", "(", ")", ",", "&", r"\\", "."}


def declare_sums(reader, tokens):
    for i, token in enumerate(tokens):
        if token.text == r"\sum":
            for letter in sum_header(reader, tokens, i)[0]:
                if letter.text in reader.abbreviations:
                    raise reader.error(letter, f"{letter.text} is both the index of a sum and a name the answer "
                                               "gives a value: use another letter for one of them")
                reader.indices.setdefault(letter.text, sympy.Symbol(letter.text, integer=True))

def walk(reader, tokens):
    """``(pieces, matrix_mode, entrywise)``: pieces are ``(text, value, offset)``."""
    pieces, i, matrix_mode, entrywise = [], 0, False, False
    while i < len(tokens):
        token = tokens[i]
        text = token.text
        named = named_value(reader, tokens, i) if text in reader.abbreviations and text not in reader.indices else None
        if named is not None:  # e = A^2 - y, g_i = W^2_i u(Z^1_i): written elsewhere in the answer
            value, i = named
            matrix_mode |= isinstance(value, sympy.MatrixBase)
            pieces.append((None, value, token.start))
            continue
        handled = read_piece(reader, tokens, i)
        if handled is not None:
            value, i, is_matrix = handled
            matrix_mode |= is_matrix
            pieces.append((None, value, token.start))
            continue
        if text in SIZES:
            i += 1
            if i < len(tokens) and tokens[i].text == ".":
                i += 1
            continue
        if text in _SPACES:
            i += 1
        elif text in _PRODUCTS:
            pieces.append((_PRODUCTS[text], None, token.start))
            i += 1
        elif text in ENTRYWISE:
            entrywise = True
            pieces.append((r" \cdot ", None, token.start))
            i += 1
        elif text == "^" and transpose_end(tokens, i + 1) is not None:
            matrix_mode = True
            pieces.append(("^{T}", None, token.start))
            i = transpose_end(tokens, i + 1)
        elif text == r"\sum":
            letters, bounds, i = sum_header(reader, tokens, i)
            pieces.append((sum_text(reader, letters, bounds), None, token.start))
        elif text in (r"\begin", r"\end"):
            name, after = environment_name(tokens, i)
            base = (name or "").rstrip("*")
            if base not in _MATRIX_ENVS:
                raise reader.error(token, f"cannot read the environment {name}: matrices are bmatrix, "
                                        "pmatrix or matrix")
            matrix_mode = True
            if base == "array" and text == r"\begin" and after < len(tokens) and tokens[after].text == "{":
                after = skip_group(tokens, after)  # the column spec {cc}
            pieces.append((f"{text}{{bmatrix}}", None, token.start))
            i = after
        elif text in (r"\frac", r"\dfrac", r"\tfrac"):
            pieces.append((r"\frac", None, token.start))
            i += 1
        elif text in ("(", "[") and (group := _entrywise_group(reader, tokens, i)) is not None:
            value, i = group  # W^1 (\mathbb{1}[Z^1 > 0] \odot W^2 \delta^2): the group is one factor
            matrix_mode |= isinstance(value, sympy.MatrixBase)
            pieces.append((None, value, token.start))
        elif text == "[":
            pieces.append(("(", None, token.start))
            i += 1
        elif text == "]":
            pieces.append((")", None, token.start))
            i += 1
        elif token.kind == "digit" or text in _KEPT or text == r"\\":
            pieces.append(((" " if token.space else "") + text, None, token.start))
            i += 1
        elif text in ("e",) :
            pieces.append((" e", None, token.start))
            i += 1
        elif text in _ELLIPSES:
            raise reader.error(token, f"'{text}' cannot be read: write every term, or a \\sum over an index")
        elif token.kind == "letter" and text in reader.indices:
            pieces.append((None, reader.indices[text], token.start))
            i += 1
        elif text == "_":
            raise reader.error(token, "a subscript on something that is not a tensor or a function")
        elif text in LOWERCASE:
            raise reader.unknown(token, f"cannot read '{text}': the network's tensors are written in capitals, "
                                        f"as on the slides ({text.upper()})")
        else:
            raise reader.unknown(token, f"cannot read '{text}'")
    return pieces, matrix_mode, entrywise


def _entrywise_group(reader, tokens, i):
    """``(value, next)`` of a parenthesised group at ``tokens[i]`` whose top level multiplies
    entry by entry (``\\odot``, ``\\circ``), read on its own as one factor of what is around
    it; None for any other group (its arithmetic stays text)."""
    inside, after = bracketed(reader.source, tokens, i, {"(", "["})
    if not inside or len(split_at(inside, ENTRYWISE)) < 2:
        return None
    return reader.value(inside), after


def sum_header(reader, tokens, i):
    """``\\sum_{i=1}^{5}``, ``\\sum_i``, ``\\sum_{i,j}``, ``\\sum_{a,b=1}^{3}``, ``\\sum^{5}_{i=1}``:
    the letters, their ``(low, high)`` (``None``: from the spec) and the index after.  A limit
    is a number or an expression of the left-hand side's indices and outer sums' variables
    (``\\sum_{i=k}^{k+2}``, ``\\sum_{k=\\max(1, j-3)}^{\\min(3, j+1)}``), given its numbers where
    the answer is checked; an empty range (the upper limit below the lower) sums to 0."""
    start, i = tokens[i], i + 1
    sub = sup = None
    while i < len(tokens) and tokens[i].text in ("_", "^"):
        kind = tokens[i].text
        script, i = read_script(reader, tokens, i + 1, glued_ok=True)
        if kind == "_":
            sub = script
        else:
            sup = script
    if sub is None:
        raise reader.error(start, r"a \sum needs its index, e.g. \sum_{i=1}^{5} or \sum_i")
    if any(t.text in ("=",) for t in sub):
        position = next(k for k, t in enumerate(sub) if t.text == "=")
        letters = sub[:position:2]  # \sum_{a,b=1}^{3}: both
        if not letters or [t.text for t in sub[1:position:2]] != [","] * (len(letters) - 1) or \
                any(t.kind != "letter" for t in letters) or sup is None:
            raise reader.error(start, r"a \sum over a range is written \sum_{i=1}^{5}")
        low, high = (index_expression(reader, limit, start, {}) for limit in (sub[position + 1:], sup))
        return letters, (low, high), i
    letters = [t for t in sub if t.text != ","]
    if sup is not None or not letters or any(t.kind != "letter" for t in letters):
        raise reader.error(start, r"cannot read this \sum: write \sum_{i=1}^{5} or \sum_i")
    return letters, None, i

def sum_text(reader, letters, bounds) -> str:
    text = ""
    for letter in letters:
        variable = reader.placeholder(reader.indices[letter.text])
        if bounds is None:  # a stand-in range (two symbols: no sum to evaluate), replaced by the one read from the terms
            low, high = sympy.Dummy("low"), sympy.Dummy("high")
            reader.stand_ins |= {low, high}
            text += f" \\sum_{{{variable}={reader.placeholder(low)}}}^{{{reader.placeholder(high)}}} "
        else:
            low, high = (bound if bound.is_Integer else reader.placeholder(bound).strip() for bound in bounds)
            text += f" \\sum_{{{variable}={low}}}^{{{high}}} "
    return text
