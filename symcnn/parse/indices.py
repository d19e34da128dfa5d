"""Index arithmetic in subscripts: ``i+k-2``, ``2i+k-3``, ``4(i-1)+j``, read without latex2sympy2
(whose ``i`` could be the imaginary unit) into SymPy integers and index variables."""

from __future__ import annotations

import sympy

_SPACES = {r"\,", r"\;", r"\:", r"\!", "\\ ", r"\quad", r"\qquad", "~", r"\>", r"\left", r"\right"}  # \left( is (


def index_expression(reader, tokens, at, letters: dict):
    """An integer expression of index variables: ``letters`` first, then the reader's."""
    return _IndexArithmetic(reader, tokens, at, letters).parse()


def index_number(reader, tokens, at) -> int:
    value = index_expression(reader, tokens, at, {})
    if not value.is_Integer:
        raise reader.error(at, "a range limit must be a number")
    return int(value)


class _IndexArithmetic:
    """``expr := term (('+'|'-') term)*``, ``term := factor (['*'|\\cdot] factor)*``,
    ``factor := number | letter | '(' expr ')' | '-' factor | \\max(expr, ..) | \\min(expr, ..)``."""

    def __init__(self, reader, tokens, at, letters):
        self.reader, self.tokens, self.at, self.letters = reader, [t for t in tokens if t.text not in _SPACES], at, letters
        self.i = 0

    def parse(self):
        if not self.tokens:
            raise self.reader.error(self.at, "an empty index")
        value = self.expr()
        if self.i != len(self.tokens):
            raise self.reader.error(self.tokens[self.i], f"cannot read '{self.tokens[self.i].text}' in an index")
        return value

    def peek(self):
        return self.tokens[self.i].text if self.i < len(self.tokens) else None

    def expr(self):
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = self.tokens[self.i].text
            self.i += 1
            value = value + self.term() if sign == "+" else value - self.term()
        return value

    def term(self):
        value = self.factor()
        while self.peek() is not None and self.peek() not in ("+", "-", ")", ","):
            if self.peek() in ("*", r"\cdot", r"\times"):
                self.i += 1
            value = value * self.factor()
        return value

    def extremum(self, token):
        """``\\max(a, b, ..)``, ``\\min\\left(a, b\\right)`` of index expressions."""
        arguments = []
        self.i += 1
        while True:
            arguments.append(self.expr())
            if self.peek() == ",":
                self.i += 1
                continue
            if self.peek() != ")" or len(arguments) < 2:
                raise self.reader.error(token, f"{token.text} in an index is written {token.text}(a, b)")
            self.i += 1
            return (sympy.Max if token.text == r"\max" else sympy.Min)(*arguments)

    def factor(self):
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is None:
            raise self.reader.error(self.at, "an index ends too early")
        self.i += 1
        if token.text == "-":
            return -self.factor()
        if token.text == "(":
            value = self.expr()
            if self.peek() != ")":
                raise self.reader.error(token, "an unbalanced '(' in an index")
            self.i += 1
            return value
        if token.text in (r"\max", r"\min") and self.peek() == "(":  # \sum_{k=\max(1, j-4)}^{..}
            return self.extremum(token)
        if token.kind == "digit":
            digits = token.text
            while self.peek() is not None and self.tokens[self.i].kind == "digit":
                digits += self.tokens[self.i].text
                self.i += 1
            return sympy.Integer(int(digits))
        if token.kind == "letter":
            if token.text in self.letters:
                return self.letters[token.text]
            if token.text in self.reader.indices:
                return self.reader.indices[token.text]
            raise self.reader.error(token, f"the index {token.text} is neither a number, nor an index of the "
                                           "left-hand side, nor the index of a \\sum")
        raise self.reader.error(token, f"cannot read '{token.text}' in an index")
