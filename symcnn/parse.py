r"""Read LaTeX in the course's notation into SymPy: the one module that uses latex2sympy2.

A walk over the tokens (:mod:`symcnn.latex_source`) replaces every piece of the notation by a
placeholder symbol ``\xi_{N}`` bound to its SymPy meaning; latex2sympy2 then parses the
arithmetic that is left (``+ - \cdot \frac``, powers, matrices, ``\sum``), and the
placeholders are substituted.  What the walk reads:

- tensors ``W^1_2``, ``W_2^1``, ``W^{(1)}_{2}``, ``W^{[1]}_2``, ``W^L``, bias ``W^1_0``,
  ``X_{i+k-2}``, ``Z^1_{f,i,j}``, ``A^0 = X``, ``y_k``, ``\hat y`` (the prediction), ``\delta^l_i``
  (``dL/dZ^l_i``), ``\mathbf{W}``; a tensor without indices is its column (row-major);
- derivatives ``\frac{\partial L}{\partial W^1_k}``, ``\frac{dL}{dW^1}``, ``\partial L/\partial W^1``,
  ``\nabla_{W^1} L`` (``L``, ``\mathcal{L}``, ``\text{loss}``, ``\ell``): the derived value;
- sums ``\sum_{i=1}^{5}``, ``\sum_i`` (the range read from the spec), ``\sum_{i,j}``;
- steps ``\mathbb{1}[Z > 0]`` (``\mathbf``, ``\mathds``, ``\mathbbm``; ``[..]``, ``\{..\}``,
  ``(..)``, ``_{..}``), ``\mathbb{1}[i = j]`` and ``\delta_{ij}`` (Kronecker);
- functions (see :mod:`symcnn.parse_functions`), ``\operatorname{diag}``, tuples ``(a, b)^T``;
- ``^T``, ``^\top``; ``\left``, ``\bigl`` and friends; ``\odot``, ``\circ`` (entry by entry);
  ``\boxed``, ``\overset``, ``\underbrace``, spacing.

Subscripts follow LaTeX: without braces a subscript is ONE token (``W^2_1X_0`` is
``W^2_1 X_0``, ``A^1_j`` is entry ``j``).  A digit or a non-tensor letter glued to such a
one-token script (``X_12``, ``A^1_jk``) is refused as ambiguous, never guessed.  Anything
else is a :class:`~symcnn.errors.LatexError` naming the line and column of the piece.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass

import sympy

from .errors import LatexError, SymcnnError
from .indexed import Scope, index_positions
from .latex_source import Source, Token, environment_name, skip_group
from .parse_tables import NetworkTables

_SIZES = {r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr", r"\Biggl",
          r"\Biggr", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\middle"}
_SPACES = {r"\,", r"\;", r"\:", r"\!", "\\ ", r"\quad", r"\qquad", "~", r"\>"}
_PRODUCTS = {r"\cdot": r" \cdot ", r"\times": r" \cdot ", "*": r" \cdot ", r"\ast": r" \cdot "}
_ENTRYWISE = {r"\odot", r"\circ", r"\otimes"}
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\mathsf", r"\mathrm", r"\text"}
_INDICATORS = {r"\mathbb", r"\mathbf", r"\mathds", r"\mathbbm", r"\mathrm", r"\boldsymbol"}
_BOLD = {r"\mathbf", r"\boldsymbol", r"\bm", r"\mathit", r"\mathrm"}
_ELLIPSES = {r"\cdots", r"\ldots", r"\dots", r"\vdots", r"\ddots"}
_MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "Bmatrix", "smallmatrix", "array"}
_LETTERS = set("WZAXy")
_KEPT = {r"\frac", r"\sqrt", r"\pi", "+", "-", "/", "^", "{", "}", "(", ")", ",", "&", r"\\", "."}


def latex2sympy(text: str):
    """latex2sympy2's parser, imported on first use.  Its antlr runtime (4.7.2) imports
    ``typing.io``, which Python 3.13 removed: a stand-in module gives it ``TextIO``."""
    shim = types.ModuleType("typing.io")  # also spares 3.11 and 3.12 typing.io's deprecation warning
    shim.TextIO = typing.TextIO
    sys.modules["typing.io"] = shim
    from latex2sympy2 import latex2sympy as parse
    return parse(text)


@dataclass(frozen=True)
class Quantity:
    """What a left-hand side names: ``d(of)/d(wrt)`` (``of`` the loss for a gradient,
    ``\\delta^l`` is ``dL/dZ^l``), or with ``wrt=None`` an entry's forward rule ``Z^1_2 = ...``.
    ``free`` holds its index letters (``k`` in ``\\partial L/\\partial W^1_k``)."""

    of: object
    wrt: object
    free: dict


@dataclass(frozen=True)
class Step:
    """One side of a chain of equalities: its value and where it starts."""

    value: object
    at: Token
    text: str


@dataclass(frozen=True)
class Equation:
    """``lhs = step_1 = step_2 = ...`` (``lhs`` None for a bare expression)."""

    lhs: Quantity | None
    steps: tuple[Step, ...]
    at: Token


def read_answer(net, text: str, name: str = "<answer>") -> tuple[list[Equation], "Reader"]:
    """Every equation of an answer, each side read; the reader keeps the tables and notes."""
    source = Source(text, name)
    reader = Reader(net, source)
    equations = []
    for parts in source.equations():
        lhs = reader.quantity(parts[0]) if len(parts) > 1 else None
        reader.indices = dict(lhs.free) if lhs else {}
        steps = tuple(Step(reader.value(part), part[0], _text(source, part)) for part in parts[1 if lhs else 0:])
        equations.append(Equation(lhs, steps, parts[0][0]))
    return equations, reader


def parse_latex(text: str, net, source: str = "<latex>"):
    """The SymPy value (expression or Matrix) of one piece of math without free indices."""
    from .indexed import instantiate
    answer = Source(text, source)
    reader = Reader(net, answer)
    tokens = [t for start, end in answer.math_regions() for t in answer.tokens(start, end)]
    if not tokens:
        raise LatexError(f"{source}: no math found")
    return instantiate(reader.value(tokens), {}, reader.scope)


def _simple(pieces):
    """The value of a lone piece of notation or a whole number, else None."""
    values = [value for text, value, _ in pieces if value is not None]
    text = "".join(t for t, value, _ in pieces if value is None).strip()
    if len(values) == 1 and not text:
        return values[0]
    if not values and text.isdigit():
        return sympy.Integer(int(text))
    return None


def _text(source: Source, tokens) -> str:
    end = tokens[-1].start + len(tokens[-1].text)
    return " ".join(source.text[tokens[0].start:end].split())


class Reader:
    """Reads the parts of one answer; keeps the tables its entries refer to (``scope``) and
    the letters that are index variables where it reads (``indices``)."""

    def __init__(self, net, source: Source):
        self.net, self.source = net, source
        self.tables = NetworkTables(net, self)
        self.scope: Scope = self.tables.scope
        self.indices: dict[str, sympy.Symbol] = {}
        self.notes: list[str] = []
        self.bound: dict[str, object] = {}  # placeholder name -> its SymPy value
        self._count = 10
        self._position = 0  # where the last piece read started, for errors about empty pieces

    def error(self, at, message: str) -> LatexError:
        """One line: where (line, column), what, and the symbols the network has."""
        return self.source.error(at, f"{message}; this network has {self.tables.inventory()}")

    def unknown(self, at, what: str) -> LatexError:
        return self.error(at, what)

    # -- left-hand sides -------------------------------------------------------------------

    def quantity(self, tokens: list[Token]) -> Quantity:
        """The left-hand side: a derivative, ``\\delta^l_i``, an entry ``Z^1_i`` or ``L``."""
        from .parse_pieces import derivative_refs, read_ref
        free: dict = {}
        found = derivative_refs(self, tokens, 0, free)
        if found is not None:
            of, wrt, end = found
        else:
            ref = read_ref(self, tokens, 0, free)
            if ref is None:
                raise self.error(tokens[0], "cannot tell what the left-hand side names: write e.g. "
                                            "\\frac{\\partial L}{\\partial W^1} = ... or Z^1_2 = ...")
            (of, end), wrt = ref, None
            if of.kind == "delta":
                of, wrt = type(of)("L", (), of.at, "loss"), type(of)(of.tensor, of.indices, of.at)
            elif of.kind == "prediction":
                raise self.error(tokens[0], "\\hat y on the left: name the derivative or the entry instead")
            if of.kind == "loss" and end < len(tokens) and tokens[end].text in ("(", r"\left"):
                end = len(tokens) if tokens[-1].text in (")",) else end  # L(A^2, y) = ...
        if end != len(tokens):
            raise self.error(tokens[end], "cannot read the rest of the left-hand side")
        return Quantity(of, wrt, free)

    # -- values -----------------------------------------------------------------------------

    def value(self, tokens: list[Token]):
        """The SymPy value of a piece of math: an expression or a Matrix, with index
        variables, :class:`~symcnn.indexed.Entry` and ``Sum`` left for instantiation."""
        if not tokens:
            raise self.error(self._position, "an empty expression")
        self._position = tokens[0].start
        self._declare_sums(tokens)
        pieces, matrix_mode, entrywise = self._walk(tokens)
        simple = _simple(pieces)
        if simple is not None:  # one entry or one number: latex2sympy2 has nothing to add
            return simple
        if matrix_mode and entrywise:
            raise self.error(tokens[0], r"\odot (entry by entry) and matrix products in one expression: "
                                        "write the entries with an index instead")
        text, offsets = self._render(pieces, matrix_mode)
        try:
            value = latex2sympy(text)
        except SymcnnError:
            raise
        except Exception as error:  # antlr and SymPy raise bare Exceptions with a caret drawing
            raise self._translated(error, text, offsets, tokens) from None
        return self._substitute(value, tokens)

    def _translated(self, error, text, offsets, tokens) -> LatexError:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if type(error).__name__ == "ShapeError" or "not aligned" in message or "dimension" in message:
            return self.error(tokens[0], f"a product of matrices whose sizes do not fit ({message})")
        caret = next((line for line in str(error).splitlines() if line.rstrip().endswith("^")), None)
        at = tokens[0].start
        if caret is not None:
            column = len(caret.rstrip()) - 1
            at = max((source for start, source in offsets if start <= column), default=at)
        return self.error(at, f"cannot read this ({message.rstrip('.')})")

    def placeholder(self, value) -> str:
        """The text ``\\xi_{N}`` that latex2sympy2 reads as a symbol bound to ``value``."""
        self._count += 1
        self.bound[f"xi_{{{self._count}}}"] = value
        return f" \\xi_{{{self._count}}} "

    def _render(self, pieces, matrix_mode):
        """The text for latex2sympy2, where each piece starts in it, and the placeholders."""
        parts, offsets, length = [], [], 0
        for text, value, offset in pieces:
            if value is not None:
                if isinstance(value, sympy.MatrixBase) and matrix_mode:
                    rows = [" & ".join(self.placeholder(value[r, c]) for c in range(value.cols))
                            for r in range(value.rows)]
                    text = r" \begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix} "
                else:
                    text = self.placeholder(value)
            offsets.append((length, offset))
            parts.append(text)
            length += len(text)
        return "".join(parts), offsets

    def _substitute(self, value, tokens):
        bound = self.bound
        if isinstance(value, sympy.MatrixExpr):
            value = value.as_explicit()
        symbols = value.atoms(sympy.Symbol) if hasattr(value, "atoms") else set()  # sum variables too
        mapping = {s: bound[s.name] for s in symbols if s.name in bound}
        vectors = {s: v for s, v in mapping.items() if isinstance(v, sympy.MatrixBase)}
        scalars = {s: v for s, v in mapping.items() if s not in vectors}
        leftover = [s for s in symbols if s.name not in bound]
        if leftover:
            raise self.unknown(tokens[0], f"cannot read the symbol {leftover[0]}")
        if isinstance(value, sympy.MatrixBase):
            return sympy.Matrix(value).xreplace(scalars)
        value = sympy.sympify(value).xreplace(scalars)
        if vectors:
            shapes = {v.shape for v in vectors.values()}
            if len(shapes) > 1:
                raise self.error(tokens[0], "columns of different sizes ("
                                 + ", ".join(f"{r}x{c}" for r, c in sorted(shapes)) + ") entry by entry")
            rows, cols = shapes.pop()
            value = sympy.Matrix(rows, cols, lambda r, c: value.xreplace({s: v[r, c] for s, v in vectors.items()}))
            self.notes.append("columns multiplied entry by entry")
        return self._ranged(value, tokens)

    def _ranged(self, value, tokens):
        """Give the sums written ``\\sum_i`` their range: where ``i`` stands alone as an index."""
        def fix(expression):
            if not isinstance(expression, sympy.Sum):
                return expression
            limits = []
            for variable, low, high in expression.limits:
                if isinstance(low, sympy.Symbol) and low.name.startswith("range_"):
                    ranges = index_positions(expression.function, variable, self.scope)
                    if len(ranges) != 1:
                        raise self.error(tokens[0], f"the range of the sum over {variable} cannot be read "
                                         + ("from the spec: it indexes tensors of different sizes"
                                            if ranges else "from its terms") + f"; write \\sum_{{{variable}=1}}^{{n}}")
                    low, high = ranges.pop()
                limits.append((variable, low, high))
            return sympy.Sum(expression.function, *limits)
        if isinstance(value, sympy.MatrixBase):
            return value.applyfunc(lambda e: e.replace(lambda x: isinstance(x, sympy.Sum), fix))
        return value.replace(lambda x: isinstance(x, sympy.Sum), fix)

    # -- the walk ---------------------------------------------------------------------------

    def _declare_sums(self, tokens):
        for i, token in enumerate(tokens):
            if token.text == r"\sum":
                for letter in self._sum_header(tokens, i)[0]:
                    self.indices.setdefault(letter.text, sympy.Symbol(letter.text, integer=True))

    def _walk(self, tokens):
        """``(pieces, matrix_mode, entrywise)``: pieces are ``(text, value, offset)``."""
        pieces, i, matrix_mode, entrywise = [], 0, False, False
        while i < len(tokens):
            token = tokens[i]
            text = token.text
            handled = self._notation(tokens, i)
            if handled is not None:
                value, i, is_matrix = handled
                matrix_mode |= is_matrix
                pieces.append((None, value, token.start))
                continue
            if text in _SIZES:
                i += 1
                if i < len(tokens) and tokens[i].text == ".":
                    i += 1
                continue
            if text in _SPACES:
                i += 1
            elif text in _PRODUCTS:
                pieces.append((_PRODUCTS[text], None, token.start))
                i += 1
            elif text in _ENTRYWISE:
                entrywise = True
                pieces.append((r" \cdot ", None, token.start))
                i += 1
            elif text == "^" and self._transpose(tokens, i + 1) is not None:
                matrix_mode = True
                pieces.append(("^{T}", None, token.start))
                i = self._transpose(tokens, i + 1)
            elif text == r"\sum":
                letters, bounds, i = self._sum_header(tokens, i)
                pieces.append((self._sum_text(letters, bounds), None, token.start))
            elif text in (r"\begin", r"\end"):
                name, after = environment_name(tokens, i)
                base = (name or "").rstrip("*")
                if base not in _MATRIX_ENVS:
                    raise self.error(token, f"cannot read the environment {name}: matrices are bmatrix, "
                                            "pmatrix or matrix")
                matrix_mode = True
                if base == "array" and text == r"\begin" and after < len(tokens) and tokens[after].text == "{":
                    after = skip_group(tokens, after)  # the column spec {cc}
                pieces.append((f"{text}{{bmatrix}}", None, token.start))
                i = after
            elif text in (r"\frac", r"\dfrac", r"\tfrac"):
                pieces.append((r"\frac", None, token.start))
                i += 1
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
                raise self.error(token, f"'{text}' cannot be read: write every term, or a \\sum over an index")
            elif token.kind == "letter" and text in self.indices:
                pieces.append((None, self.indices[text], token.start))
                i += 1
            elif text == "_":
                raise self.error(token, "a subscript on something that is not a tensor or a function")
            else:
                raise self.unknown(token, f"cannot read '{text}'")
        return pieces, matrix_mode, entrywise

    def _notation(self, tokens, i):
        """A piece of notation at ``tokens[i]``: ``(value, next index, needs matrix mode)``."""
        from .parse_pieces import read_piece  # the notation pieces, one function each
        return read_piece(self, tokens, i)

    def _transpose(self, tokens, i):
        """The index after ``T``, ``\\top``, ``{T}``, ``{\\top}``, ``\\mathsf{T}`` at ``tokens[i]``."""
        if i >= len(tokens):
            return None
        if tokens[i].text == "{":
            end = skip_group(tokens, i)
            inner = [t.text for t in tokens[i + 1:end - 1]]
            return end if inner and all(t in _TRANSPOSE or t in "{}" for t in inner) and \
                ("T" in inner or r"\top" in inner or r"\intercal" in inner) else None
        if tokens[i].text in ("T", r"\top", r"\intercal"):
            return i + 1
        if tokens[i].text in (r"\mathsf", r"\mathrm") and i + 1 < len(tokens) and tokens[i + 1].text == "{":
            end = skip_group(tokens, i + 1)
            return end if [t.text for t in tokens[i + 2:end - 1]] == ["T"] else None
        return None

    # -- sums -------------------------------------------------------------------------------

    def _sum_header(self, tokens, i):
        """``\\sum_{i=1}^{5}``, ``\\sum_i``, ``\\sum_{i,j}``, ``\\sum^{5}_{i=1}``:
        the letters, their ``(low, high)`` (``None``: from the spec) and the index after."""
        start, i = tokens[i], i + 1
        sub = sup = None
        while i < len(tokens) and tokens[i].text in ("_", "^"):
            kind = tokens[i].text
            script, i = self.script(tokens, i + 1, glued_ok=True)
            if kind == "_":
                sub = script
            else:
                sup = script
        if sub is None:
            raise self.error(start, r"a \sum needs its index, e.g. \sum_{i=1}^{5} or \sum_i")
        if any(t.text in ("=",) for t in sub):
            position = next(k for k, t in enumerate(sub) if t.text == "=")
            letters, low = sub[:position], self.index_number(sub[position + 1:], start)
            if len(letters) != 1 or letters[0].kind != "letter" or sup is None:
                raise self.error(start, r"a \sum over a range is written \sum_{i=1}^{5}")
            return letters, (low, self.index_number(sup, start)), i
        letters = [t for t in sub if t.text != ","]
        if sup is not None or not letters or any(t.kind != "letter" for t in letters):
            raise self.error(start, r"cannot read this \sum: write \sum_{i=1}^{5} or \sum_i")
        return letters, None, i

    def _sum_text(self, letters, bounds) -> str:
        text = ""
        for letter in letters:
            variable = self.placeholder(self.indices[letter.text])
            if bounds is None:  # a stand-in range, replaced by the one read from the terms
                stand_in = self.placeholder(sympy.Symbol(f"range_{self._count}"))
                text += f" \\sum_{{{variable}={stand_in}}}^{{{stand_in}}} "
            else:
                text += f" \\sum_{{{variable}={bounds[0]}}}^{{{bounds[1]}}} "
        return text

    # -- scripts and index arithmetic -------------------------------------------------------

    def script(self, tokens, i, glued_ok=False):
        """The tokens of a sub- or superscript at ``tokens[i]`` and the index after it.

        Without braces a script is one token, as in LaTeX; a digit or a letter that is not a
        tensor glued right after it (``X_12``, ``A^1_jk``) is refused as ambiguous."""
        if i >= len(tokens):
            raise self.error(tokens[-1], "a '_' or '^' with nothing after it")
        if tokens[i].text == "{":
            end = skip_group(tokens, i)
            return tokens[i + 1:end - 1], end
        token = tokens[i]
        if token.text in ("}", ")", "]", "^", "_", "&", "="):
            raise self.error(token, "a '_' or '^' with nothing after it")
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if not glued_ok and nxt is not None and not nxt.space and token.kind in ("digit", "letter") and (
                nxt.kind == "digit" or (nxt.kind == "letter" and nxt.text not in _LETTERS)):
            raise self.error(token, f"'{token.text}{nxt.text}' after '_' or '^' is ambiguous: LaTeX reads "
                             f"only '{token.text}' as the script; write {{{token.text}{nxt.text}}} or "
                             f"{{{token.text}}} \\cdot {nxt.text}")
        return [token], i + 1

    def index_number(self, tokens, at) -> int:
        value = self.index_expression(tokens, at, {})
        if not value.is_Integer:
            raise self.error(at, "a range limit must be a number")
        return int(value)

    def index_expression(self, tokens, at, letters: dict):
        """An integer expression of index variables: ``i+k-2``, ``2i+k-3``, ``(i-1)s``."""
        return _IndexArithmetic(self, tokens, at, letters).parse()


class _IndexArithmetic:
    """``expr := term (('+'|'-') term)*``, ``term := factor (['*'|\\cdot] factor)*``,
    ``factor := number | letter | '(' expr ')' | '-' factor``."""

    def __init__(self, reader: Reader, tokens, at, letters):
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
        while self.peek() is not None and self.peek() not in ("+", "-", ")"):
            if self.peek() in ("*", r"\cdot", r"\times"):
                self.i += 1
            value = value * self.factor()
        return value

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
