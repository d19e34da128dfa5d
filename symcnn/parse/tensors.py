r"""Tensors, the loss, ``\\delta^l``, ``\\hat y`` and derivatives as an answer writes them.

Each ``read_*`` takes the :class:`~symcnn.parse.reader.Reader`, the tokens and the position of
the piece, and returns ``(value, next position, needs matrix mode)``, or ``None`` when the
piece is not there.  :func:`read_ref` also reads left-hand sides, where index letters are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import sympy

from .indexed import Entry
from .indices import index_expression
from .source import Token, bracketed, skip_group, split_at
from .tables import canonical_index, single_entry
from .scripts import read_script, transpose_end


_THIN = (r"\,", r"\;", r"\!")
LOSS_LETTERS = ("L", "E", "J")  # the loss, as courses name it (also \ell, \mathcal{L}, \text{loss})
LOWERCASE = ("x", "w", "z", "a")  # the tensors' letters, written in lowercase: told they are capitals


@dataclass(frozen=True)
class Ref:
    """A tensor (``"W1"``, ``"b1"``, ``"X"``, ...), the loss ``"L"``, ``dL/dZ^l`` (``delta``)
    or the prediction, as written: ``indices`` are SymPy integers or index expressions,
    ``None`` for the whole tensor."""

    tensor: str
    indices: tuple | None
    at: Token
    kind: str = "tensor"


# -- tensors ---------------------------------------------------------------------------------

def read_tensor(reader, tokens, i):
    found = read_ref(reader, tokens, i)
    if found is None:
        return None
    ref, end = found
    value = ref_value(reader, ref)
    return value, end, isinstance(value, sympy.MatrixBase) and value.cols > 1  # a dense layer's W^l


def ref_value(reader, ref: Ref):
    tables = reader.tables
    if ref.kind == "loss":
        raise reader.error(ref.at, "the loss L can only appear in a derivative such as \\frac{\\partial L}{\\partial W^1}")
    key = {"tensor": lambda: tables.tensor_key(ref.tensor), "delta": lambda: tables.derivative_key("L", ref.tensor),
           "prediction": tables.prediction_key}[ref.kind]()
    table = reader.scope.tables[key]
    if ref.indices is None:
        written = _all_indices(table.ranges)
        if len(written) == 1:
            return table.lookup(())
        if ref.kind == "tensor":
            return tables.whole(ref.tensor)
        return sympy.Matrix([table.lookup(index) for index in written])
    if len(ref.indices) != len(table.ranges) and ref.indices not in single_entry(reader.net, ref.tensor):
        raise reader.error(ref.at, f"{table.latex} has {len(table.ranges)} ind{'ex' if len(table.ranges) == 1 else 'ices'}"
                           f", written with {len(ref.indices)}")
    if all(index.is_Integer for index in ref.indices):
        value = table.lookup(tuple(int(index) for index in ref.indices))
        if value is None:
            ranges = ", ".join(f"{low}..{high}" for low, high in table.ranges)
            raise reader.unknown(ref.at, f"{table.latex} has no entry {','.join(map(str, ref.indices))} "
                                         f"(its indices run {ranges})")
        return value
    return Entry(sympy.Symbol(key), *ref.indices)


def _all_indices(ranges):
    return list(product(*[range(low, high + 1) for low, high in ranges]))


def read_ref(reader, tokens, i, free: dict | None = None):
    """A tensor, ``\\delta^l``, ``\\hat y`` or the loss at ``tokens[i]``: ``(Ref, next)``.

    With ``free`` (a left-hand side), index letters are new variables, collected there."""
    token = tokens[i]
    letter, j = token.text, i + 1
    if token.text in (r"\mathbf", r"\boldsymbol", r"\bm", r"\mathit", r"\mathcal") and j < len(tokens):
        inner_end = skip_group(tokens, j) if tokens[j].text == "{" else j + 1
        inner = [t.text for t in tokens[j:inner_end] if t.text not in "{}"]
        if len(inner) != 1 or inner[0] not in ("W", "Z", "A", "X", "y", *LOSS_LETTERS):
            return None
        letter, j = inner[0], inner_end
    elif token.text in (r"\hat", r"\widehat"):
        inner_end = skip_group(tokens, j) if j < len(tokens) and tokens[j].text == "{" else j + 1
        if [t.text for t in tokens[j:inner_end] if t.text not in "{}"] != ["y"]:
            raise reader.error(token, "only \\hat{y}, the prediction, is read with a hat")
        letter, j = "hat", inner_end
    elif token.text == r"\delta":
        if j >= len(tokens) or tokens[j].text != "^":
            return None  # Kronecker's delta_{ij}: see read_function
    elif token.text == "b" and j < len(tokens) and tokens[j].text in ("^", "_"):
        pass  # the bias b^l = W^l_0, as symcnn names it (a b without a layer is a letter)
    elif token.kind != "letter" or token.text not in ("W", "Z", "A", "X", "y", *LOSS_LETTERS):
        if token.text in (r"\ell",) or (token.text in (r"\operatorname", r"\text", r"\mathrm") and
                                         word_in_braces(tokens, j)[0] in ("loss", "L")):
            return Ref("L", (), token, "loss"), (word_in_braces(tokens, j)[1] if token.text != r"\ell" else j)
        return None
    if letter in LOSS_LETTERS:
        return Ref("L", (), token, "loss"), j
    sup = sub = None
    while j < len(tokens) and tokens[j].text in ("^", "_"):
        kind = tokens[j].text
        if kind == "^" and (letter in ("X", "y", "hat") or sup is not None):
            break  # a power (or a transpose) of the entry, read by the arithmetic
        if kind == "^" and transpose_end(tokens, j + 1) is not None:
            break
        if kind == "_" and sub is not None:
            raise reader.error(tokens[j], "a second subscript")
        script, j = read_script(reader, tokens, j + 1)
        if kind == "^":
            sup = script
        else:
            sub = script
    layer = None
    if letter == "b" and sup is None:
        return None
    if letter in ("W", "Z", "A", "b", r"\delta"):
        if sup is None:
            raise reader.error(token, f"{token.text} needs its layer as a superscript, e.g. {token.text}^{{1}}_{{2}}")
        layer = _layer(reader, sup, token)
    indices = None if sub is None else _indices(reader, sub, token, free)
    if letter == "hat":
        return Ref("y", indices, token, "prediction"), j
    if letter == r"\delta":
        return Ref(reader.tables.tensor_name("Z", layer, token), indices, token, "delta"), j
    tensor = reader.tables.tensor_name(letter, layer, token)
    if letter == "W" and indices and indices[0] == 0:
        tensor = reader.tables.tensor_name("b", layer, token)
        indices = indices[1:] or None
    return Ref(tensor, indices, token), j


def _layer(reader, script, at) -> int:
    inner = [t for t in script if t.text not in ("(", ")", "[", "]")]
    value = index_expression(reader, inner, at, {"L": sympy.Integer(reader.tables.layers)})
    if not value.is_Integer:
        raise reader.error(at, "a layer must be a number (or L, the last layer)")
    return int(value)


def _indices(reader, script, at, free):
    parts = split_at(script)
    if len(parts) == 1 and len(script) > 1 and all(t.kind == "letter" for t in script):
        parts = [[t] for t in script]  # W_{ij}: two index letters side by side
    values = []
    for part in parts:
        if free is not None:
            if len(part) == 1 and part[0].kind == "letter":
                free.setdefault(part[0].text, sympy.Symbol(part[0].text, integer=True))
                values.append(free[part[0].text])
                continue
            if not all(t.kind == "digit" for t in part):
                raise reader.error(at, "the indices of a left-hand side are numbers or single letters")
        values.append(index_expression(reader, part, at, {}))
    return tuple(values)


def word_in_braces(tokens, j):
    """The letters in the brace group at ``tokens[j]`` and the index after it."""
    if j >= len(tokens) or tokens[j].text != "{":
        return "", j
    end = skip_group(tokens, j)
    return "".join(t.text for t in tokens[j + 1:end - 1]), end


# -- derivatives -----------------------------------------------------------------------------

def read_derivative(reader, tokens, i):
    found = derivative_refs(reader, tokens, i)
    if found is None:
        return None
    of, wrt, end = found
    return derivative_value(reader, of, wrt), end, of.indices is None or wrt.indices is None


def derivative_refs(reader, tokens, i, free=None):
    """``\\frac{\\partial of}{\\partial wrt}``, ``\\frac{d of}{d wrt}``, ``\\partial of/\\partial wrt``,
    ``d of / d wrt``, ``\\nabla_{wrt} of``, or an operator before what it differentiates,
    ``\\frac{\\partial}{\\partial wrt} of`` and ``\\partial_{wrt} of``, at ``tokens[i]``: ``(of, wrt, next)``."""
    token = tokens[i]
    if token.text in (r"\frac", r"\dfrac", r"\tfrac") and i + 1 < len(tokens) and tokens[i + 1].text == "{":
        top_end = skip_group(tokens, i + 1)
        top = tokens[i + 2:top_end - 1]
        if top_end >= len(tokens) or tokens[top_end].text != "{" or _differential(top) is None:
            return None
        bottom_end = skip_group(tokens, top_end)
        bottom = tokens[top_end + 1:bottom_end - 1]
        wrt = _side(reader, bottom, token, free)
        if not [t for t in top[_differential(top):] if t.text not in _THIN]:  # \frac{\partial}{\partial W^1_k} L
            of, end = _operand(reader, tokens, bottom_end, free, token)
            return of, wrt, end
        return _side(reader, top, token, free), wrt, bottom_end
    if token.text == r"\nabla" or token.text == r"\partial" and i + 1 < len(tokens) and tokens[i + 1].text == "_":
        if i + 1 >= len(tokens) or tokens[i + 1].text != "_":
            raise reader.error(token, "\\nabla needs its variable, e.g. \\nabla_{W^1} L")
        script, j = read_script(reader, tokens, i + 2)
        wrt = _whole_ref(reader, script, token, free)
        if token.text == r"\partial":  # \partial_{W^1_k} L
            of, j = _operand(reader, tokens, j, free, token)
            return of, wrt, j
        found = read_ref(reader, tokens, j, free) if j < len(tokens) else None
        of, j = found if found is not None else (Ref("L", (), token, "loss"), j)
        return of, wrt, j
    skip = _differential(tokens[i:])
    if skip is not None and i + skip < len(tokens):  # \partial of / \partial wrt, d of / d wrt
        found = read_ref(reader, tokens, i + skip, free)
        if found is None or found[1] >= len(tokens) or tokens[found[1]].text != "/":
            return None
        slash = found[1]
        skip_wrt = _differential(tokens[slash + 1:])
        wrt = read_ref(reader, tokens, slash + 1 + skip_wrt, free) if skip_wrt is not None else None
        if wrt is None:
            raise reader.error(token, "a derivative of the form \\partial L / \\partial W^1 needs \\partial before both")
        return found[0], wrt[0], wrt[1]
    return None


def _differential(tokens) -> int | None:
    """How many tokens the ``\\partial``, ``d`` or ``\\mathrm{d}`` at the start take."""
    if not tokens:
        return None
    if tokens[0].text == r"\partial":
        return 1
    if tokens[0].text == "d" and (len(tokens) == 1 or tokens[1].text in ("W", "Z", "A", "X", "y", "L")
                                  or tokens[1].kind == "cmd"):
        return 1  # alone: the operator \frac{d}{dW^1}
    if tokens[0].text in (r"\mathrm", r"\text", r"\operatorname") and len(tokens) > 3 and \
            [t.text for t in tokens[1:4]] == ["{", "d", "}"]:
        return 4
    return None


def _side(reader, tokens, at, free):
    skip = _differential(tokens)
    if skip is None:
        raise reader.error(at, "each side of a derivative starts with \\partial or d")
    return _whole_ref(reader, tokens[skip:], at, free)


def _operand(reader, tokens, j, free, at):
    """What a derivative written as an operator (``\\frac{\\partial}{\\partial W^1_k}``,
    ``\\partial_{W^1_k}``) differentiates: the tensor or loss right after it, also in
    parentheses, ``(ref, next)``.  An expression there is not read (its derivative is the
    answer's to write)."""
    while j < len(tokens) and tokens[j].text in _THIN:
        j += 1
    inside, end = bracketed(reader.source, tokens, j, openers=("(",))
    if inside is None:
        found = read_ref(reader, tokens, j, free) if j < len(tokens) else None
    else:
        found = read_ref(reader, inside, 0, free) if inside else None
        found = (found[0], end) if found is not None and found[1] == len(inside) else None
    if found is None or found[0].kind == "prediction":
        raise reader.error(at, "a derivative written as an operator differentiates the tensor or loss written "
                               "right after it, e.g. \\frac{\\partial}{\\partial W^1_k} L")
    return found


def _whole_ref(reader, tokens, at, free):
    tokens = [t for t in tokens if t.text not in _THIN]
    if not tokens:
        raise reader.error(at, "a derivative with nothing to differentiate")
    vec = vec_name(tokens) if free is not None else None
    if vec is not None:
        return _vec_ref(reader, tokens, vec, free)
    found = read_ref(reader, tokens, 0, free)
    if found is None or found[1] != len(tokens) or found[0].kind == "prediction":
        raise reader.unknown(tokens[0], "cannot tell which tensor this derivative is about")
    return found[0]


def vec_name(tokens) -> int | None:
    """The index after ``\\operatorname{vec}`` (``\\mathrm``, ``\\text``, plain ``vec``) at the start."""
    if tokens[0].text in (r"\operatorname", r"\mathrm", r"\text") and word_in_braces(tokens, 1)[0] == "vec":
        return word_in_braces(tokens, 1)[1]
    if "".join(t.text for t in tokens[:3]) == "vec":
        return 3
    return None


def vec_of(reader, tokens, j) -> tuple[str, int] | None:
    """``(tensor, next)``: the whole tensor in the parentheses of ``vec(A^2)`` at ``tokens[j]``
    (``\\left(`` too), or None when there is none."""
    inner, end = bracketed(reader.source, tokens, j)
    found = read_ref(reader, inner, 0) if inner else None
    if found is None or found[1] != len(inner) or found[0].indices is not None:
        return None
    return found[0].tensor, end


def _vec_ref(reader, tokens, j, free) -> Ref:
    r"""``\operatorname{vec}(A^2)_i`` on a left-hand side, as the notes print ``dL/dvec(A^2)_i``: the
    entry of ``A^2`` at new index variables ``i_1, i_2, ..`` (one per axis), and ``i`` the flat
    (row-major) position ``1 + sum_d (i_d - 1) stride_d``, so the right-hand side reads ``i`` as it
    is written and the check runs over the tensor's own indices."""
    at = tokens[0]
    found = vec_of(reader, tokens, j)
    end = len(tokens) if found is None else found[1]
    script, end = read_script(reader, tokens, end + 1) if end < len(tokens) and tokens[end].text == "_" else ([], end)
    if found is None or end != len(tokens) or len(script) != 1 or script[0].kind != "letter":
        raise reader.error(at, r"a derivative by a vec entry is written \frac{\partial L}{\partial \operatorname{vec}(A^2)_i}")
    tensor, letter = found[0], script[0].text
    ranges = reader.tables.ranges(tensor)
    axes = tuple(sympy.Symbol(f"{letter}_{d + 1}", integer=True) for d in range(len(ranges)))
    flat, stride, shown = sympy.Integer(0), 1, []
    for axis, (low, high) in reversed(list(zip(axes, ranges))):
        flat = flat + (axis - low) * stride
        shown.insert(0, f"{stride}({axis}-{low})" if stride > 1 else f"{axis}" + (f"-{low - 1}" if low != 1 else ""))
        stride *= high - low + 1
    free.update({str(axis): axis for axis in axes})
    free[letter] = flat + 1
    name = reader.scope.tables[reader.tables.tensor_key(tensor)].latex  # as the notes print it
    reader.notes.append(f"\\operatorname{{vec}}({name})_{letter} read as {name}_{{{','.join(map(str, axes))}}} "
                        f"with {letter} = {'+'.join(shown)}")
    return Ref(tensor, axes, at)


def derivative_value(reader, of: Ref, wrt: Ref):
    """The derived value of ``d(of)/d(wrt)``: an entry, or a matrix in the course's layout."""
    tables = reader.tables
    if wrt.kind == "loss":
        raise reader.error(wrt.at, "a derivative with respect to the loss")
    if of.kind == "delta" or wrt.kind == "delta":
        raise reader.error(of.at, "\\delta inside a derivative cannot be read")
    key = tables.derivative_key(of.tensor, wrt.tensor)
    table = reader.scope.tables[key]
    of_indices = [()] if of.kind == "loss" else (_all_indices(tables.ranges(of.tensor)) if of.indices is None else [of.indices])
    wrt_indices = _all_indices(tables.ranges(wrt.tensor)) if wrt.indices is None else [wrt.indices]
    for ref, fixed in ((of, of_indices), (wrt, wrt_indices)):
        if ref.indices is not None and ref.kind != "loss" and len(ref.indices) != tables.axes(ref.tensor) \
                and ref.indices not in single_entry(reader.net, ref.tensor):
            raise reader.error(ref.at, f"{table.latex}: {ref.tensor} has {tables.axes(ref.tensor)} indices")
    rows = []
    for w in wrt_indices:
        row = []
        for o in of_indices:
            index = canonical_index(reader.net, of.tensor, o) + canonical_index(reader.net, wrt.tensor, w)
            if all(sympy.sympify(x).is_Integer for x in index):
                value = table.lookup(tuple(int(x) for x in index))
                row.append(sympy.S.Zero if value is None else value)
            else:
                row.append(Entry(sympy.Symbol(key), *index))
        rows.append(row)
    matrix = sympy.Matrix(rows)
    return matrix[0, 0] if matrix.shape == (1, 1) else matrix
