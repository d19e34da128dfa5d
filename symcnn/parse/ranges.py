r"""The ranges and notes stated after an equation: ``... X_{i+k-2}, \quad k = 1, 2, 3``.

Students state the range of a left-hand side's index after the formula, and symcnn prints its
general formulas so (:func:`~symcnn.latex.formulas.formula_pieces`).  What is read, after a
top-level ``,``, ``\quad``, ``\qquad``, ``\text{for ..}`` or ``\forall`` (any of them, in a row),
as many as are written, separated by the same:

- ranges: ``k = 1, 2, 3``, ``k = 1, \ldots, 3``, ``i, j = 1, \dots, 4``, ``k \in \{1, 2, 3\}``,
  ``1 \le k \le 3`` (``\leq`` too);
- the notes symcnn prints (``X = 0 \text{ outside ..}``, the argmax's tie rule, the order of
  ``\operatorname{vec}``), read and checked in :mod:`.notes`.

:func:`split_range` cuts the clause off a line (before the line is split at ``=``),
:func:`segments` cuts it into its ranges and notes, :func:`one_range` reads a range as
``{letter: values}``.  Whether the values are the index's whole range is for the check to say
(:mod:`symcnn.verify.check`).
"""

from __future__ import annotations

from .indices import index_number

SEPARATORS = {",", r"\quad", r"\qquad", r"\forall", r"\,", r"\;", r"\ "}
WORDS = {r"\text", r"\mathrm", r"\textrm", r"\mbox"}
_FOR_WORDS = {"for", "forall", "foreach", "where", "with", "and"}
_ELLIPSES = {r"\ldots", r"\dots", r"\cdots"}
_AT_MOST = {r"\le", r"\leq", r"\leqslant"}
_OPEN, _CLOSE = {"{", "(", "[", r"\{", r"\left"}, {"}", ")", "]", r"\}", r"\right"}
NAMES = {r"\operatorname", r"\mathrm", r"\text"}
NAME_GREEK = {r"\alpha", r"\beta", r"\gamma", r"\delta", r"\epsilon", r"\varepsilon", r"\eta", r"\theta",
              r"\kappa", r"\lambda", r"\mu", r"\nu", r"\rho", r"\tau", r"\omega"}  # letters of names (.names)


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
    """``\\text{for}`` (``where``, ``and``, ...) at ``line[k]``: a separator."""
    if line[k].text not in WORDS or k + 1 >= len(line) or line[k + 1].text != "{":
        return False
    end = next((j for j in range(k + 1, len(line)) if line[j].text == "}"), None)
    return end is not None and "".join(t.text for t in line[k + 2:end]).lower() in _FOR_WORDS


def _skip_separators(line, k) -> int | None:
    while k < len(line):
        if line[k].text in SEPARATORS:
            k += 1
        elif _is_for(line, k):
            k = next(j for j in range(k + 1, len(line)) if line[j].text == "}") + 1
        else:
            return k
    return None


def _letters_end(tokens, k: int) -> int | None:
    """The index after ``i`` or ``i, j, ..`` at ``k`` when ``=`` or ``\\in`` follows it."""
    while k < len(tokens) and tokens[k].kind == "letter" and len(tokens[k].text) == 1:
        if k + 1 < len(tokens) and tokens[k + 1].text in ("=", r"\in"):
            return k + 1
        if k + 2 < len(tokens) and tokens[k + 1].text == ",":
            k += 2
            continue
        return None
    return None


def is_padding_statement(tokens) -> bool:
    """``X_0 = X_6 = 0``: entries said to be 0 (checked as the padding by :mod:`.notes`)."""
    return len(tokens) >= 5 and tokens[0].kind == "letter" and tokens[1].text in ("_", "^") \
        and [t.text for t in tokens[-2:]] == ["=", "0"]


def _looks_like_range(tokens) -> bool:
    if len(tokens) >= 3 and _letters_end(tokens, 0) is not None or is_padding_statement(tokens) or _names(tokens):
        return True
    return any(t.text in _AT_MOST for t in tokens) and tokens[0].kind == "digit"


def _names(tokens) -> bool:
    """``\\varepsilon = ..``, ``g_i = ..``: a name given to a formula (read in :mod:`.names`)."""
    equals = next((k for k, t in enumerate(tokens) if t.text == "="), None)
    return equals is not None and (tokens[0].kind == "letter" or tokens[0].text in NAME_GREEK) and \
        (equals == 1 or equals > 2 and tokens[1].text == "_")


def segments(tokens) -> list[list]:
    """The clause cut into its ranges and notes: at top-level separators (``\\quad``,
    ``\\text{and}``, ...) and at the ``,`` before each further ``i, j =``."""
    segments, segment, depth, k = [], [], 0, 0
    while k < len(tokens):
        token = tokens[k]
        depth += (token.text in _OPEN) - (token.text in _CLOSE)
        if depth == 0 and (token.text in SEPARATORS - {","} or _is_for(tokens, k)):
            segments.append(segment)
            segment, k = [], (_skip_separators(tokens, k) or len(tokens))
            continue
        if depth == 0 and token.text == "," and segment and _starts_range(tokens, k + 1, segment):
            segments.append(segment)
            segment, k = [], k + 1
            continue
        segment.append(token)
        k += 1
    segments.append(segment)
    cut = []
    for segment in segments:
        while segment and segment[-1].text in SEPARATORS:
            segment = segment[:-1]
        if segment:
            cut.append(segment)
    return cut


def _starts_range(tokens, k, segment) -> bool:
    """Whether a new range or note starts at ``tokens[k]`` (``segment``: the one before it,
    which must already hold its own ``=``)."""
    if not any(t.text in ("=", r"\in") or t.text in _AT_MOST for t in segment):
        return False
    if tokens[k].text in NAMES:
        return True
    if _letters_end(tokens, k) is not None:
        return not (k > 0 and segment[-1].kind == "letter")  # "i, j = ..": not at the comma between i and j
    return False


def one_range(reader, tokens) -> dict[str, tuple[int, ...]]:
    at = tokens[0]
    texts = [t.text for t in tokens]
    if tokens[0].kind == "digit":  # 1 \le k \le 3, 1 \le i, j \le 4
        bounds = [k for k, t in enumerate(texts) if t in _AT_MOST]
        letters = [t for t in tokens[bounds[0] + 1:bounds[1]] if t.text != ","] if len(bounds) == 2 else []
        if not letters or any(t.kind != "letter" for t in letters):
            raise reader.error(at, r"a range is written k = 1, 2, 3, k \in \{1, \dots, 3\} or 1 \le k \le 3")
        low, high = index_number(reader, tokens[:bounds[0]], at), index_number(reader, tokens[bounds[1] + 1:], at)
        return {t.text: tuple(range(low, high + 1)) for t in letters}
    end = _letters_end(tokens, 0)
    if end is None:
        raise reader.error(at, r"cannot read this range: write k = 1, 2, 3, k \in \{1, \dots, 3\} or 1 \le k \le 3")
    letters, values = [t.text for t in tokens[:end] if t.text != ","], tokens[end + 1:]
    if texts[end] == r"\in":
        if not values or values[0].text != r"\{" or values[-1].text != r"\}":
            raise reader.error(at, rf"write the values of {letters[0]} in braces, {letters[0]} \in \{{1, \dots, 3\}}")
        values = values[1:-1]
    listed = _listed(reader, values, at)
    return dict.fromkeys(letters, listed)


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
