"""The text of a LaTeX answer: where its math is, its lines and equations, and its tokens.

Every token keeps its offset in the file, so an error names the line and column of the piece
it is about.  The structure read here, before any notation:

- the math: inside ``$...$``, ``$$...$$``, ``\\[...\\]``, ``\\(...\\)`` or an environment
  (``equation``, ``align``, ``gather``, ``multline``, their starred forms, ``aligned``,
  ``split``), or the whole file when it has none; ``%`` comments are dropped;
- lines: split at ``\\\\`` outside braces and matrices; ``&``, ``\\nonumber``, ``\\label{..}``
  and a final ``,`` or ``.`` dropped;
- equations: a line split at its top-level ``=`` (``:=`` too); a line that starts with ``=``
  continues the chain of the line before it (``lhs &= a \\\\ &= b``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import LatexError
from .ranges import split_range

MAX_ANSWER_BYTES = 100_000
# Characters that stand for a command, as editors and copy-paste produce them
UNICODE = {"\u2212": "-", "\u00b7": r"\cdot", "\u22c5": r"\cdot", "\u00d7": r"\times", "\u2032": "'",
           "\u2265": r"\geq", "\u2264": r"\leq", "\u2211": r"\sum", "\u03c3": r"\sigma", "\u03b4": r"\delta",
           "\u2202": r"\partial", "\u2207": r"\nabla", "\u2299": r"\odot", "\u2218": r"\circ", "\u22a4": r"\top"}
_MATH_ENVS = ("equation", "align", "gather", "multline", "displaymath", "math", "eqnarray", "flalign")
_OPEN = re.compile(r"\$\$|\$|\\\[|\\\(|\\begin\s*\{\s*(" + "|".join(_MATH_ENVS) + r")(\*?)\s*\}")
_TRANSPARENT = {"aligned", "split", "gathered", "alignedat"}  # line structure only, dropped
_MATRICES = {"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array"}
_DROPPED = {r"\nonumber", r"\notag", r"\displaystyle", r"\limits", r"\nolimits", r"\textstyle"}
_DROPPED_WITH_ARGUMENT = {r"\label", r"\tag"}
# Size commands before a delimiter, and the brackets a group opens and closes with
SIZES = {r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr", r"\Biggl",
         r"\Biggr", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\middle"}
DELIMITERS = {"(": ")", "[": "]", r"\{": r"\}", r"\lbrace": r"\rbrace", r"\lbrack": r"\rbrack"}
_BRACKETS = {**DELIMITERS, "{": "}"}
_CLOSERS = set(_BRACKETS.values())


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``cmd`` (``\\frac``, ``\\\\``, ``\\,``), ``letter``, ``digit`` or
    ``char``; ``space`` says whether whitespace came before it."""

    kind: str
    text: str
    start: int
    space: bool = False


class Source:
    """An answer's text and name; turns offsets into ``line L, column C`` for errors."""

    def __init__(self, text: str, name: str = "<answer>"):
        if len(text.encode("utf-8", "replace")) > MAX_ANSWER_BYTES:
            raise LatexError(f"{name}: the answer is {len(text.encode('utf-8', 'replace')) // 1000} KB; "
                             f"answers are limited to {MAX_ANSWER_BYTES // 1000} KB")
        self.text, self.name = text, name
        self.inline: list[tuple[int, int]] = []  # inline math in the prose (see math_regions)

    def written(self, tokens: list[Token]) -> str:
        """The text of a run of tokens as the answer writes it, whitespace made single spaces."""
        end = tokens[-1].start + len(tokens[-1].text)
        return " ".join(self.text[tokens[0].start:end].split())

    def where(self, offset: int) -> str:
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"line {line}, column {column}"

    def error(self, at, message: str) -> LatexError:
        """A one-line error about the piece at ``at`` (a Token or an offset)."""
        offset = at.start if isinstance(at, Token) else at
        return LatexError(f"{self.name}: {self.where(offset)}: {message}")

    # -- tokens ---------------------------------------------------------------------------

    def tokens(self, start: int, end: int) -> list[Token]:
        """The tokens of ``text[start:end]``, comments and whitespace left out."""
        text, out, i, space = self.text, [], start, False
        while i < end:
            char = text[i]
            if char.isspace():
                i, space = i + 1, True
                continue
            if char == "%":
                newline = text.find("\n", i, end)
                i, space = (end if newline < 0 else newline), True
                continue
            if char == "\\":
                match = re.compile(r"\\(?:[A-Za-z]+|.)", re.S).match(text, i, end)
                if match is None:
                    raise self.error(i, "a lone backslash at the end")
                if match.group(0) not in _DROPPED:  # no-ops for the math: \limits, \nonumber, ...
                    out.append(Token("cmd", match.group(0), i, space))
                i = match.end()
            elif char in UNICODE:
                replacement = UNICODE[char]
                out.append(Token("cmd" if replacement.startswith("\\") else "char", replacement, i, space))
                i += 1
            elif not char.isascii() or not char.isprintable():
                raise self.error(i, f"cannot read the character {char!r}")
            else:
                kind = "letter" if char.isalpha() else "digit" if char.isdigit() else "char"
                out.append(Token(kind, char, i, space))
                i += 1
            space = False
        return out

    # -- structure ------------------------------------------------------------------------

    def math_regions(self) -> list[tuple[int, int]]:
        """``(start, end)`` offsets of the math in the file (the whole file if no delimiters).
        In a file with displayed math, inline math (``$..$``, ``\\(..\\)``) belongs to the prose
        around it (``for $k = 1, 2, 3$``) and is left out, kept in ``inline``."""
        text, regions, inline, i = self.text, [], [], 0
        plain = re.sub(r"(?<!\\)%[^\n]*", lambda m: " " * len(m.group(0)), text)
        while True:
            match = _OPEN.search(plain, i)
            if match is None:
                break
            opener = match.group(0)
            if match.group(1):
                closer = re.compile(r"\\end\s*\{\s*" + match.group(1) + re.escape(match.group(2)) + r"\s*\}")
            else:
                closer = re.compile(re.escape({"$$": "$$", "$": "$", r"\[": r"\]", r"\(": r"\)"}[opener])
                                    + ("" if opener != "$" else r"(?!\$)"))
            close = closer.search(plain, match.end())
            if close is None:
                raise self.error(match.start(), f"'{opener}' is never closed")
            (inline if opener in ("$", r"\(") else regions).append((match.end(), close.start()))
            i = close.end()
        self.inline = inline if regions else []
        if not regions:
            regions = sorted(inline)
        if not regions:
            stripped = plain.strip()
            if not stripped:
                raise LatexError(f"{self.name}: no math found")
            return [(0, len(text))]
        return regions

    def inline_equations(self) -> list[list[list[Token]]]:
        """The inline math left to the prose by :meth:`math_regions`, each split at ``=``
        (``Let $e = A^2 - y$.``: a name the displayed math uses)."""
        return [_split_equals(self.tokens(start, end)) for start, end in self.inline]

    def equations(self) -> list[list[list[Token]]]:
        """The answer as equations, each a list of parts (token lists) separated by ``=``.

        A range stated after a line (``, \\quad k = 1, 2, 3``, see :mod:`.ranges`) is cut off
        first and kept in ``ranges``, by the offset of its equation's first token."""
        equations: list[list[list[Token]]] = []
        self.ranges: dict[int, list[Token]] = {}
        for start, end in self.math_regions():
            for line in _lines(self, self.tokens(start, end)):
                line, clause = split_range(line)
                parts = _split_equals(line)
                if not parts[0]:  # "&= ..." continues the chain above
                    if not equations:
                        raise self.error(line[0], "the answer starts with '='")
                    equations[-1].extend(parts[1:])
                else:
                    equations.append(parts)
                if clause is not None:
                    self.ranges[equations[-1][0][0].start] = clause
        for parts in equations:
            for part in parts:
                if not part:
                    raise self.error(_first(parts), "an empty side of '='")
        if not equations:
            raise LatexError(f"{self.name}: no math found")
        return equations


def _first(parts) -> int:
    return next((p[0].start for p in parts if p), 0)


def _lines(source: Source, tokens: list[Token]) -> list[list[Token]]:
    """Split at ``\\\\`` outside braces and matrices; drop alignment and labels."""
    lines, line, depth, matrices, i = [], [], 0, 0, 0
    while i < len(tokens):
        token = tokens[i]
        if token.text in (r"\begin", r"\end"):
            name, after = environment_name(tokens, i)
            if name in _TRANSPARENT:
                i = after
                continue
            if name is not None and name.rstrip("*") in _MATRICES:
                matrices += 1 if token.text == r"\begin" else -1
        if token.text in _DROPPED_WITH_ARGUMENT and i + 1 < len(tokens) and tokens[i + 1].text == "{":
            i = skip_group(tokens, i + 1)
            continue
        depth += token.text in ("{",) and 1 or 0
        depth -= token.text in ("}",) and 1 or 0
        if token.text == r"\\" and depth == 0 and matrices == 0:
            lines.append(line)
            line = []
        elif token.text == "&" and matrices == 0:
            pass
        else:
            line.append(token)
        i += 1
    lines.append(line)
    cleaned = []
    for line in lines:
        while line and line[-1].text in (",", ".", ";"):
            line = line[:-1]
        if line:
            cleaned.append(line)
    return cleaned


def _split_equals(line: list[Token]) -> list[list[Token]]:
    parts, part, depth = [], [], 0
    for i, token in enumerate(line):
        if token.text in ("{", "(", "["):
            depth += 1
        elif token.text in ("}", ")", "]"):
            depth -= 1
        if token.text == "=" and depth == 0:
            parts.append(part)
            part = []
        elif token.text == ":" and i + 1 < len(line) and line[i + 1].text == "=" and depth == 0:
            continue
        else:
            part.append(token)
    return parts + [part]


def environment_name(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """The name in ``\\begin{name}`` at ``tokens[i]`` and the index after its brace."""
    if i + 1 >= len(tokens) or tokens[i + 1].text != "{":
        return None, i + 1
    end = skip_group(tokens, i + 1)
    return "".join(t.text for t in tokens[i + 2:end - 1]), end


def skip_group(tokens: list[Token], i: int) -> int:
    """The index just past the brace group that opens at ``tokens[i]`` (``{``)."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].text == "{"
        depth -= tokens[j].text == "}"
        if depth == 0:
            return j + 1
    return len(tokens)


# -- bracket groups ---------------------------------------------------------------------------

def closing(tokens: list[Token], k: int) -> int | None:
    """The index of the bracket that closes the one opening at ``tokens[k]`` (any of
    ``( [ { \\{``, nested ones of every kind counted), or None when it is never closed."""
    depth = 0
    for j in range(k, len(tokens)):
        depth += (tokens[j].text in _BRACKETS) - (tokens[j].text in _CLOSERS)
        if depth == 0:
            return j
    return None


def bracketed(source: Source, tokens: list[Token], j: int, openers=DELIMITERS) -> tuple[list[Token] | None, int]:
    """``(inside, next)`` of the delimited group at ``tokens[j]`` (``( [ \\{``, or only ``openers``;
    after ``\\left``, ``\\bigl`` and friends); ``(None, j)`` when none opens there."""
    start = j
    while j < len(tokens) and tokens[j].text in SIZES:
        j += 1
    if j >= len(tokens) or tokens[j].text not in openers:
        return None, start
    close = closing(tokens, j)
    if close is None:
        raise source.error(tokens[j], f"an unbalanced '{tokens[j].text}'")
    inside = tokens[j + 1:close]
    while inside and inside[-1].text in SIZES:  # \right before the closing delimiter
        inside = inside[:-1]
    return inside, close + 1


def unwrapped(tokens: list[Token]) -> list[Token]:
    """``tokens`` without size commands and without one pair of delimiters around them all."""
    tokens = [t for t in tokens if t.text not in SIZES]
    if tokens and tokens[0].text in DELIMITERS and closing(tokens, 0) == len(tokens) - 1:
        return tokens[1:-1]
    return tokens


def split_at(tokens: list[Token], separators=frozenset({","})) -> list[list[Token]]:
    """The parts of ``tokens`` between separators (commas by default) outside brackets and braces."""
    parts, part, depth = [], [], 0
    for token in tokens:
        depth += (token.text in _BRACKETS) - (token.text in _CLOSERS)
        if token.text in separators and depth == 0:
            parts.append(part)
            part = []
        else:
            part.append(token)
    return parts + [part]
