r"""Indicators, Kronecker's delta, functions, tuples and wrappers, and the dispatch over every
piece of notation (:func:`read_piece`); each reader returns ``(value, next position, needs
matrix mode)`` or ``None``, as in :mod:`.tensors`.
"""

from __future__ import annotations

import sympy

from ..functions import PoolMax
from ..notation import TensorName, parse_symbol
from .functions import FUNCTION_COMMANDS, FUNCTION_NAMES, FunctionError, apply_function
from .indices import index_expression
from .source import bracketed, skip_group, split_at, unwrapped
from .tensors import read_derivative, read_ref, read_tensor, ref_value, word_in_braces
from .scripts import read_script, transpose_end
from .windows import argmax_at, argmax_indicator, window

_WORD_COMMANDS = {r"\operatorname", r"\text", r"\mathrm", r"\textrm", r"\mathit", r"\textit"}
_INDICATOR_COMMANDS = {r"\mathbb", r"\mathbf", r"\mathds", r"\mathbbm", r"\boldsymbol", r"\mathrm", r"\bm"}
_RELATIONS = {">": (">", False), "<": ("<", False), r"\gt": (">", False), r"\lt": ("<", False),
              r"\geq": (">", True), r"\ge": (">", True), r"\geqslant": (">", True), r"\leq": ("<", True),
              r"\le": ("<", True), r"\leqslant": ("<", True), "=": ("=", True)}


def read_piece(reader, tokens, i):
    token = tokens[i]
    for read in (read_wrapper, read_derivative, read_indicator, read_function, read_tuple, read_tensor):
        found = read(reader, tokens, i)
        if found is not None:
            return found
    if token.text in (r"\{", r"\lbrace"):
        raise reader.error(token, r"braces \{ \} are only read around an indicator's condition")
    return None


# -- indicators, Kronecker, functions ---------------------------------------------------------

def read_indicator(reader, tokens, i):
    """An indicator: ``\\mathbb{1}[..]`` (and its spellings, ``1_{..}``, ``\\chi_{..}``) or
    Iverson's bracket ``[Z^1_i > 0]``, the condition read by :func:`condition`."""
    token = tokens[i]
    j = _indicator_name(tokens, i)
    if j is None:
        inner, end = bracketed(reader.source, tokens, i, openers={"["})
        if inner is None or len(split_at(inner, _RELATIONS.keys())) != 2:
            return None
        return condition(reader, inner, token), end, False
    if j < len(tokens) and tokens[j].text == "_":
        script, end = read_script(reader, tokens, j + 1)
        inner = unwrapped(script)
    else:
        inner, end = bracketed(reader.source, tokens, j)
        if inner is None:
            raise reader.error(token, "an indicator needs its condition, e.g. \\mathbb{1}[Z^1_2 > 0]")
    return condition(reader, inner, token), end, False


def _indicator_name(tokens, i) -> int | None:
    """The index after an indicator's name at ``tokens[i]`` (``\\mathbb{1}``, ``\\mathbf 1``,
    ``\\chi``, a plain ``1`` with a subscript), or None."""
    token = tokens[i]
    if token.text == r"\chi":
        return i + 1
    if token.text == "1" and i + 1 < len(tokens) and tokens[i + 1].text == "_" and (i == 0 or tokens[i - 1].kind != "digit"):
        return i + 1
    if token.text not in _INDICATOR_COMMANDS or i + 1 >= len(tokens):
        return None
    if tokens[i + 1].text == "{":
        end = skip_group(tokens, i + 1)
        return end if [t.text for t in tokens[i + 2:end - 1]] in (["1"], ["I"]) else None
    return i + 2 if tokens[i + 1].text in ("1", "I") else None


def condition(reader, inner, at):
    """``a > b -> Heaviside(a - b, 0)``, ``a >= b -> Heaviside(a - b, 1)``, ``<`` mirrored,
    ``i = j`` -> Kronecker's delta, ``a = \\max(.., a, ..)`` -> the argmax (:func:`_argmax`),
    ``(p, q) = \\operatorname*{argmax}_{1 \\le a, b \\le 2} ..`` -> the window's argmax (:mod:`.windows`)."""
    depths = [0]
    for t in inner:
        depths.append(depths[-1] + (t.text == "{") - (t.text == "}"))
    positions = [k for k, t in enumerate(inner) if t.text in _RELATIONS and depths[k] == 0]
    if len(positions) != 1:
        raise reader.error(at, "an indicator needs one comparison, e.g. \\mathbb{1}[Z^1_2 > 0]")
    k = positions[0]
    relation, inclusive = _RELATIONS[inner[k].text]
    sides = [(inner[k + 1:], inner[:k]), (inner[:k], inner[k + 1:])]
    for side, other in sides if relation == "=" else ():
        start = argmax_at(side, 0) if side else None
        if start is not None:
            arguments, places, end = window(reader, side, start, at, lambda j: _operand(reader, side, j, at))
            if end != len(side):
                raise reader.error(side[end], "cannot read the rest of this argmax")
            return argmax_indicator(reader, other, arguments, places, at)
    if relation == "=" and any(_function_name(inner, j)[0] == "max" for j in range(len(inner))):
        return _argmax(reader, reader.value(inner[:k]), reader.value(inner[k + 1:]), at)
    if relation == "=":
        return sympy.KroneckerDelta(index_expression(reader, inner[:k], at, {}),
                                    index_expression(reader, inner[k + 1:], at, {}))
    left, right = reader.value(inner[:k]), reader.value(inner[k + 1:])
    if relation == "<":
        left, right = right, left
    if isinstance(left, sympy.MatrixBase) != isinstance(right, sympy.MatrixBase):
        column, scalar, sign = (left, right, 1) if isinstance(left, sympy.MatrixBase) else (right, left, -1)
        difference = column.applyfunc(lambda e: sign * (e - scalar))
    else:
        difference = left - right
    step = (lambda d: sympy.Heaviside(d, 1 if inclusive else 0))
    return difference.applyfunc(step) if isinstance(difference, sympy.MatrixBase) else step(difference)


def _argmax(reader, left, right, at):
    """``1[a = \\max(a_1, .., a_n)]`` with ``a`` one of the ``a_k``: read with the course's tie rule,
    as ``d max / d a``: 1 where ``a`` is the FIRST maximum (``a > a_j`` before it, ``a >= a_j``
    after it).  Taken literally the equality also holds at every other tied maximum; the two
    differ only at ties, and the reader's notes say so."""
    maximum, chosen = (right, left) if isinstance(right, PoolMax) else (left, right)
    if not isinstance(maximum, PoolMax) or chosen not in maximum.args:
        raise reader.error(at, "an indicator of a maximum is written \\mathbb{1}[a = \\max(.., a, ..)], a one of "
                               "the maximum's arguments")
    reader.notes.append("1[a = max(..)] read as the course's argmax: at a tie only the first maximum gets the "
                        "gradient (the equality, taken literally, holds at every tied maximum)")
    return maximum.fdiff(maximum.args.index(chosen) + 1)


def read_function(reader, tokens, i):
    token = tokens[i]
    name, j = _function_name(tokens, i)
    if j == i + 1 and token.kind == "letter" and token.text in reader.indices:
        return None  # \sum_{u=1}^{3} u (..): a letter the answer binds is its index, not u(z) or h(z)
    if name is None:
        if token.text == r"\delta" and i + 1 < len(tokens) and tokens[i + 1].text == "_":
            script, end = read_script(reader, tokens, i + 2)
            parts = split_at(script)  # \delta_{j,i+k-2}; \delta_{ij}: a letter each
            parts = parts if len(parts) > 1 else [[t] for t in script]
            if len(parts) != 2 or not all(parts):
                raise reader.error(token, "Kronecker's delta has two indices, e.g. \\delta_{ij} or \\delta_{j,i+k-2}")
            return sympy.KroneckerDelta(*(index_expression(reader, p, token, {}) for p in parts)), end, False
        return None
    if name == "max" and j < len(tokens) and tokens[j].text == "_":  # \max_{1 \le a, b \le 2} A^1_{..}
        arguments, _, end = window(reader, tokens, j, token, lambda k: _operand(reader, tokens, k, token))
        return PoolMax(*arguments), end, False
    power, prime, entry = None, False, None
    while j < len(tokens) and tokens[j].text in ("^", "'", "_"):
        if tokens[j].text == "'":
            prime, j = True, j + 1
        elif tokens[j].text == "_":
            entry, j = read_script(reader, tokens, j + 1)
        else:
            script, j = read_script(reader, tokens, j + 1)
            if [t.text for t in script] in ([r"\prime"], ["'"]):
                prime = True
            elif all(t.kind == "digit" for t in script):
                power = int("".join(t.text for t in script))
            else:
                raise reader.error(token, f"cannot read the superscript of {token.text}")
    args, end = _arguments(reader, tokens, j, token, name)
    if end < len(tokens) and tokens[end].text == "_" and entry is None:
        entry, end = read_script(reader, tokens, end + 1)
    try:
        value = apply_function(name, args, prime, lambda v: _activation_of(reader, v))
    except FunctionError as error:
        raise reader.error(token, str(error)) from None
    if power is not None:
        value = value.applyfunc(lambda v: v ** power) if isinstance(value, sympy.MatrixBase) else value ** power
    if entry is not None:
        value = _vector_entry(reader, value, entry, token)
    return value, end, name == "diag"


def _arguments(reader, tokens, j, token, name):
    """``(arguments, next)`` of a function at ``tokens[j]``: in parentheses, or one entry without."""
    inner, end = bracketed(reader.source, tokens, j)
    if inner is None and j < len(tokens) and tokens[j].text == "{":  # SymPy's \tanh^{2}{\left(x \right)}
        close = skip_group(tokens, j)
        inner, rest = bracketed(reader.source, tokens[j + 1:close - 1], 0)
        inner, end = (inner, close) if inner is not None and rest == close - j - 2 else (None, j)
    if inner is None:  # \tanh Z^1_2, \ln y: one entry, no parentheses
        found = read_ref(reader, tokens, j)
        if found is None:
            raise reader.error(token, f"{name} needs its argument in parentheses")
        args, end = [ref_value(reader, found[0])], found[1]
    else:
        args = [reader.value(part) for part in split_at(inner)] if inner else []
    return args, end


def _operand(reader, tokens, j, at):
    """``(value, next)``: the one operand of a window's max or argmax at ``tokens[j]``."""
    args, end = _arguments(reader, tokens, j, at, "max")
    if len(args) != 1:
        raise reader.error(at, "a window's max or argmax takes one operand, e.g. A^1_{c,2i+a-2,2j+b-2}")
    return args[0], end


def _function_name(tokens, i):
    token = tokens[i]
    if token.text in FUNCTION_COMMANDS:
        return FUNCTION_COMMANDS[token.text], i + 1
    if token.text in _WORD_COMMANDS:
        word, end = word_in_braces(tokens, i + 1)
        return FUNCTION_NAMES.get(word.lower()), end
    if token.kind == "letter":
        word, j = "", i
        while j < len(tokens) and tokens[j].kind == "letter" and (j == i or not tokens[j].space):
            word += tokens[j].text
            j += 1
        for length in range(len(word), 0, -1):
            name = FUNCTION_NAMES.get(word[:length].lower())
            if name is not None and (length > 1 or _followed_by_call(tokens, i + 1)):
                return name, i + length
    return None, i


def _followed_by_call(tokens, j) -> bool:
    return j < len(tokens) and tokens[j].text in ("(", "'", r"\left", r"\bigl", r"\Bigl")


def _activation_of(reader, value):
    """The activation of the one layer whose ``Z^l`` the value is made of (for ``f``): its
    symbols (``Z1_2``) and the tensors of its entries (``Z^1_i``)."""
    symbols = value.free_symbols if hasattr(value, "free_symbols") else set()
    tensors = {reader.scope.tables[s.name].tensor if s.name in reader.scope.tables else
               getattr(parse_symbol(s.name), "tensor", None) for s in symbols}
    names = [TensorName(t) for t in tensors if t is not None]
    layers = {name.layer for name in names if name.kind == "Z"}
    if len(layers) != 1:
        return None
    return reader.net.spec.layers[layers.pop() - 1].activation


def _vector_entry(reader, value, script, at):
    if not isinstance(value, sympy.MatrixBase) or value.cols != 1:
        raise reader.error(at, "a subscript on a value that is not a column")
    index = index_expression(reader, script, at, {})
    if index.is_Integer:
        if not 1 <= int(index) <= value.rows:
            raise reader.error(at, f"entry {index} of a column of {value.rows}")
        return value[int(index) - 1]
    return sympy.Piecewise(*[(value[k], sympy.Eq(index, k + 1)) for k in range(value.rows)], (0, True))


# -- tuples and wrappers ------------------------------------------------------------------------

def read_tuple(reader, tokens, i):
    inner, end = bracketed(reader.source, tokens, i, openers={"(", "["})
    parts = split_at(inner or [])
    if inner is None or len(parts) < 2:
        return None
    row = sympy.Matrix([[reader.value(part) for part in parts]])
    if end < len(tokens) and tokens[end].text == "^" and transpose_end(tokens, end + 1) is not None:
        return row, end, True
    reader.notes.append("a tuple (a, b, ...) is read as a column")
    return row.T, end, True


def read_wrapper(reader, tokens, i):
    token = tokens[i]
    if token.text not in (r"\boxed", r"\overset", r"\underset", r"\underbrace", r"\overbrace", r"\textcolor",
                          r"\color", r"\cancel", r"\fbox", r"\mbox") or i + 1 >= len(tokens) or tokens[i + 1].text != "{":
        return None
    first_end = skip_group(tokens, i + 1)
    if token.text in (r"\overset", r"\underset", r"\textcolor"):
        if first_end >= len(tokens) or tokens[first_end].text != "{":
            raise reader.error(token, f"{token.text} needs two arguments")
        end = skip_group(tokens, first_end)
        return reader.value(tokens[first_end + 1:end - 1]), end, False
    if token.text == r"\color":
        raise reader.error(token, r"\color cannot be read: leave colours out of the answer")
    if token.text == r"\cancel":
        raise reader.error(token, r"\cancel cannot be read: leave cancelled terms out")
    inner = tokens[i + 2:first_end - 1]
    end = first_end
    if token.text in (r"\underbrace", r"\overbrace") and end < len(tokens) and tokens[end].text in ("_", "^"):
        _, end = read_script(reader, tokens, end + 1, glued_ok=True)
    value = reader.value(inner)
    return value, end, isinstance(value, sympy.MatrixBase)
