r"""A range stated after an equation: ``... X_{i+k-2}, \quad k = 1, 2, 3``.

Students state the range of a left-hand side's index after the formula.  What is read, after a
top-level ``,``, ``\quad``, ``\qquad``, ``\text{for ..}`` or ``\forall`` (any of them, in a row):

- ``k = 1, 2, 3``, ``k = 1, \ldots, 3``, ``k = 1, 2, \dots, 5``;
- ``k \in \{1, 2, 3\}``, ``k \in \{1, \dots, 3\}``;
- ``1 \le k \le 3`` (``\leq`` too).

:func:`split_range` cuts the clause off a line (before the line is split at ``=``), and
:func:`read_range` reads it as ``{letter: values}``.  Whether the values are the index's whole
range is for the check to say (:mod:`symcnn.verify.check`).
"""

from __future__ import annotations

from .indices import index_number

_SEPARATORS = {",", r"\quad", r"\qquad", r"\forall", r"\,", r"\;", r"\ "}
_WORDS = {r"\text", r"\mathrm", r"\textrm", r"\mbox"}
_ELLIPSES = {r"\ldots", r"\dots", r"\cdots"}
_AT_MOST = {r"\le", r"\leq", r"\leqslant"}
_OPEN, _CLOSE = {"{", "(", "[", r"\{"}, {"}", ")", "]", r"\}"}


def split_range(line: list) -> tuple[list, list | None]:
    """``(formula, clause)``: the line without its range clause, and the clause (``None``)."""
    depth = 0
    for k, token in enumerate(line):
        depth += (token.text in _OPEN) - (token.text in _CLOSE)
        if depth == 0 and k > 0 and (token.text in (",", r"\quad", r"\qquad", r"\forall") or _is_for(line, k)):
            start = _skip_separators(line, k)
            if start is not None and _looks_like_range(line[start:]):
                return line[:k], line[start:]
    return line, None


def _is_for(line, k) -> bool:
    return line[k].text in _WORDS and k + 1 < len(line) and line[k + 1].text == "{"


def _skip_separators(line, k) -> int | None:
    while k < len(line):
        if line[k].text in _SEPARATORS:
            k += 1
        elif _is_for(line, k):
            end = next((j for j in range(k + 1, len(line)) if line[j].text == "}"), None)
            words = "".join(t.text for t in line[k + 2:end or k + 2]).lower()
            if end is None or words not in ("for", "forall", "foreach", "where"):
                return None
            k = end + 1
        else:
            return k
    return None


def _looks_like_range(tokens) -> bool:
    texts = [t.text for t in tokens]
    if len(texts) >= 3 and tokens[0].kind == "letter" and texts[1] in ("=", r"\in"):
        return True
    return any(t in _AT_MOST for t in texts) and tokens[0].kind == "digit"


def read_range(reader, tokens) -> dict[str, tuple[int, ...]]:
    """``{letter: (values)}`` of a clause found by :func:`split_range`."""
    at = tokens[0]
    texts = [t.text for t in tokens]
    if tokens[0].kind == "digit":  # 1 \le k \le 3
        bounds = [k for k, t in enumerate(texts) if t in _AT_MOST]
        if len(bounds) != 2 or bounds[1] != bounds[0] + 2 or tokens[bounds[0] + 1].kind != "letter":
            raise reader.error(at, r"a range is written k = 1, 2, 3, k \in \{1, \dots, 3\} or 1 \le k \le 3")
        low, high = index_number(reader, tokens[:bounds[0]], at), index_number(reader, tokens[bounds[1] + 1:], at)
        return {texts[bounds[0] + 1]: tuple(range(low, high + 1))}
    letter, values = texts[0], tokens[2:]
    if texts[1] == r"\in":
        if not values or values[0].text != r"\{" or values[-1].text != r"\}":
            raise reader.error(at, rf"write the values of {letter} in braces, {letter} \in \{{1, \dots, 3\}}")
        values = values[1:-1]
    return {letter: _listed(reader, values, at)}


def _listed(reader, tokens, at) -> tuple[int, ...]:
    """``1, 2, 3`` or ``1, \\ldots, 3`` (an ellipsis continues the step of the values before it)."""
    items, item = [], []
    for token in tokens + [None]:
        if token is None or token.text == ",":
            if not item:
                raise reader.error(at, "an empty value in a range")
            items.append(item)
            item = []
        elif token.text not in (r"\,", r"\;", r"\ "):
            item.append(token)
    values: list[int] = []
    for k, item in enumerate(items):
        if len(item) == 1 and item[0].text in _ELLIPSES:
            if not values or k + 1 >= len(items):
                raise reader.error(at, r"an ellipsis in a range stands between values, e.g. 1, \ldots, 3")
            step = values[-1] - values[-2] if len(values) > 1 else 1
            end = index_number(reader, items[k + 1], at)
            if step <= 0 or (end - values[-1]) % step:
                raise reader.error(at, "the values of a range around an ellipsis must be evenly spaced")
            values += list(range(values[-1] + step, end, step))
        else:
            values.append(index_number(reader, item, at))
    return tuple(values)
