r"""The notes symcnn prints after a general formula, read back and checked, never just dropped.

A range clause (:mod:`.ranges`) may hold, besides ranges:

- ``X = 0 \text{ outside its } 4 \times 4 \text{ entries}``: what the reader does anyway,
  every computed index outside a tensor reads as 0 (:mod:`.indexed`);
- ``\operatorname*{argmax}\text{: the first maximum (row-major) on a tie}``: the one tie rule
  the reader has (:mod:`.operators`); a note naming another rule is refused;
- ``\operatorname{vec}(A^2)_{4(c-1)+2(p-1)+q} = A^2_{c,p,q}``: compared with the network's
  row-major order at every entry of the tensor; another order is refused, naming the first
  entry it moves;
- ``\text{that is } \operatorname{diag}(A^3) - A^3 (A^3)^\top``: the formula again as a whole
  matrix, which :func:`~.answer.read_answer` checks as one more equation.
"""

from __future__ import annotations

from .indices import index_expression
from .ranges import WORDS, is_padding_statement, one_range, segments
from .source import split_at
from .tensors import read_ref, vec_name, vec_of, word_in_braces
from .windows import argmax_at

_THAT_IS = {"thatis", "i.e.", "ie", "ie.", "thatis:"}


def read_clause(reader, tokens, named=frozenset()) -> tuple[dict[str, tuple[int, ...]], list[list]]:
    """``({letter: (values)}, restated)`` of a clause found by :func:`~.ranges.split_range`, its
    notes checked; ``restated``: the tokens of each ``\\text{that is } ..`` (the formula as a whole
    matrix, ``\\operatorname{diag}(A^3) - A^3 (A^3)^\\top``), for the caller to check as well.
    ``named``: where the segments read already as names start (``\\text{where } e = A^2 - y``)."""
    ranges: dict[str, tuple[int, ...]] = {}
    restated: list[list] = []
    for segment in segments(tokens):
        if segment[0].start in named:
            continue
        if segment[0].text in WORDS and word_in_braces(segment, 1)[0].lower().rstrip(":,") in _THAT_IS:
            end = word_in_braces(segment, 1)[1]
            if end >= len(segment):
                raise reader.error(segment[0], "'that is' with nothing after it")
            restated.append(segment[end:])
            continue
        if _note(reader, segment):
            continue
        for letter, values in one_range(reader, segment).items():
            if letter in ranges:
                raise reader.error(segment[0], f"a second range for {letter}")
            ranges[letter] = values
    return ranges, restated


def _note(reader, tokens) -> bool:
    """Whether ``tokens`` is one of the notes symcnn prints (checked here), not a range."""
    if argmax_at(tokens, 0) is not None:
        _tie_note(reader, tokens, argmax_at(tokens, 0))
        return True
    if vec_name(tokens) is not None:
        _vec_note(reader, tokens, vec_name(tokens))
        return True
    equals = next((k for k, t in enumerate(tokens) if t.text == "="), None)
    if equals is not None and [t.text for t in tokens[equals + 1:equals + 2]] == ["0"] \
            and equals + 2 < len(tokens) and tokens[equals + 2].text in WORDS:
        found = read_ref(reader, tokens, 0)
        if found is None or found[1] != equals:
            raise reader.error(tokens[0], "a zero-padding note names one tensor: X = 0 \\text{ outside its entries}")
        return True  # every computed index outside a tensor reads as 0 (symcnn.parse.indexed)
    if is_padding_statement(tokens):
        _padding_entries(reader, tokens)
        return True
    return False


def _padding_entries(reader, tokens):
    """``X_0 = X_6 = 0``: each entry named must be the network's zero padding."""
    for side in split_at(tokens, {"="})[:-1]:
        found = read_ref(reader, side, 0)
        index = found[0].indices if found is not None and found[1] == len(side) else None
        value = None
        if index is not None and all(i.is_Integer for i in index):
            value = reader.tables.lookup(found[0].tensor, tuple(int(i) for i in index))
        if value is None or value not in reader.net.padding_symbols(found[0].tensor):
            raise reader.error(side[0], f"a note says {reader.source.written(side)} = 0: only the zero padding is 0")


def _tie_note(reader, tokens, end):
    words = " ".join(word_in_braces(tokens, k)[0] for k in range(end, len(tokens)) if tokens[k - 1].text in WORDS)
    if "first" not in words.lower():
        raise reader.error(tokens[0], "symcnn reads argmax with the course's tie rule, the first maximum "
                                      "(row-major); a note stating another rule cannot be checked")


def _vec_note(reader, tokens, end):
    r"""``\operatorname{vec}(A^2)_{4(c-1)+2(p-1)+q} = A^2_{c,p,q}``: the flat position must be the
    network's (row-major) at every entry of the tensor."""
    at = tokens[0]
    found = vec_of(reader, tokens, end)
    equals = next((k for k, t in enumerate(tokens) if t.text == "="), None)
    if found is None or equals is None or found[1] >= len(tokens) or tokens[found[1]].text != "_":
        raise reader.error(at, r"a vec note is written \operatorname{vec}(A^2)_{4(c-1)+2(p-1)+q} = A^2_{c,p,q}")
    tensor, after = found
    script = tokens[after + 1:equals]
    if script and script[0].text == "{" and script[-1].text == "}":
        script = script[1:-1]
    free: dict = {}
    entry = read_ref(reader, tokens, equals + 1, free)
    if entry is None or entry[0].tensor != tensor or entry[1] != len(tokens) or entry[0].indices is None:
        raise reader.error(at, r"a vec note gives the entries of the same tensor: vec(A^2)_{..} = A^2_{c,p,q}")
    position = index_expression(reader, script, at, free)
    letters = entry[0].indices
    for index, flat in reader.tables.positions(tensor).items():
        if len(index) == len(letters) and position.xreplace(dict(zip(letters, index))) != flat + 1:
            where = ",".join(map(str, index))
            raise reader.error(at, f"this vec note puts entry ({where}) of the tensor at "
                                   f"{position.xreplace(dict(zip(letters, index)))}; the network's vec (row-major) "
                                   f"puts it at {flat + 1}")
