r"""The reader of one answer: the one module that uses latex2sympy2.

A walk over the tokens (:mod:`.walk`) replaces every piece of the course's notation by a
placeholder symbol ``\\xi_{N}`` bound to its SymPy meaning; latex2sympy2 parses the arithmetic
that is left (``+ - \\cdot \\frac``, powers, matrices, ``\\sum``), and the placeholders are
substituted.  latex2sympy2 is imported on first use, so ``import symcnn`` does not load it.

Index variables: each has one placeholder, and a piece that depends on index variables is
written as a function of theirs, ``\\xi_{12}(\\xi_{11})`` for ``W^2_i``.  latex2sympy2 evaluates
(``doit``) the sums in a matrix product; a plain symbol would make ``\\sum_{i=1}^{5} W^2_i``
five times one unknown entry, the function form makes it ``\\xi_{12}(1) + ... + \\xi_{12}(5)``,
which is right.  A placeholder followed by ``(`` gets an explicit ``\\cdot``: latex2sympy2 reads
``\\xi_{12} (2)`` as a call.
"""

from __future__ import annotations

import sys
import types
import typing

import sympy
from sympy.core.function import AppliedUndef

from ..errors import LatexError, SymcnnError
from .indexed import Scope, index_positions
from .source import Source, Token, split_at
from .tables import NetworkTables
from .walk import ENTRYWISE, declare_sums, walk


def latex2sympy(text: str):
    """latex2sympy2's parser, imported on first use.  Its antlr runtime (4.7.2) imports
    ``typing.io``, which Python 3.13 removed: a stand-in module gives it ``TextIO``."""
    shim = types.ModuleType("typing.io")  # also spares 3.11 and 3.12 typing.io's deprecation warning
    shim.TextIO = typing.TextIO
    sys.modules["typing.io"] = shim
    from latex2sympy2 import latex2sympy as parse
    return parse(text)


def _shape_error(error) -> bool:
    message = str(error).splitlines()[0] if str(error) else ""
    return type(error).__name__ == "ShapeError" or "not aligned" in message or "dimension" in message


def _simple(pieces):
    """The value of a lone piece of notation or a whole number, else None."""
    values = [value for text, value, _ in pieces if value is not None]
    text = "".join(t for t, value, _ in pieces if value is None).strip()
    if len(values) == 1 and not text:
        return values[0]
    if not values and text.isdigit():
        return sympy.Integer(int(text))
    return None


class Reader:
    """Reads the parts of one answer; keeps the tables its entries refer to (``scope``) and
    the letters that are index variables where it reads (``indices``)."""

    def __init__(self, net, source: Source, named: bool = False):
        self.net, self.source = net, source
        self.tables = NetworkTables(net, self, named)
        self.scope: Scope = self.tables.scope
        self.indices: dict[str, sympy.Symbol] = {}
        self.abbreviations: dict[str, object] = {}  # e = A^2 - y: the letter -> parse.names.Name
        self.names_used: set[str] = set()  # the names a step has used
        self.facts: list = []  # \sigma'(z) = \sigma(z)(1 - \sigma(z)): parse.facts.Fact, checked on their own
        self.notes: list[str] = []
        self.bound: dict[str, object] = {}  # placeholder name -> its SymPy value
        self._index_placeholders: dict[sympy.Symbol, str] = {}
        self.stand_ins: set = set()  # the limits standing in for a range read from the terms (\sum_i)
        self.reversed_chain = False  # the last step read was a product whose sizes fit only reversed
        self._count = 10
        self._position = 0  # where the last piece read started, for errors about empty pieces

    def error(self, at, message: str) -> LatexError:
        """One line: where (line, column), what, and the symbols the network has."""
        return self.source.error(at, f"{message}; this network has {self.tables.inventory()}")

    def unknown(self, at, what: str) -> LatexError:
        return self.error(at, what)

    # -- values -----------------------------------------------------------------------------

    def value(self, tokens: list[Token]):
        """The SymPy value of a piece of math: an expression or a Matrix, with index
        variables, :class:`~symcnn.indexed.Entry` and ``Sum`` left for instantiation."""
        if not tokens:
            raise self.error(self._position, "an empty expression")
        self._position = tokens[0].start
        declare_sums(self, tokens)
        pieces, matrix_mode, entrywise = walk(self, tokens)
        simple = _simple(pieces)
        if simple is not None:  # one entry or one number: latex2sympy2 has nothing to add
            return simple
        if matrix_mode and entrywise:
            return self._entrywise(tokens)
        text, offsets = self._render(pieces, matrix_mode)
        try:
            value = latex2sympy(text)
        except SymcnnError:
            raise
        except Exception as error:  # antlr and SymPy raise bare Exceptions with a caret drawing
            reversed_chain = self._reversed_chain(pieces, tokens) if _shape_error(error) else None
            if reversed_chain is None:
                raise self._translated(error, text, offsets, tokens) from None
            self.reversed_chain = True
            return reversed_chain
        return self._substitute(value, tokens)

    def _entrywise(self, tokens):
        """``\\operatorname{ReLU}'(Z^1) \\odot W^2 \\delta^2``, as the slides write a delta: the
        operands of a ``\\odot`` (``\\circ``) at the top level, each read on its own (matrix
        products inside), multiplied entry by entry; a number or an entry scales them all."""
        operands = split_at(tokens, ENTRYWISE)
        if len(operands) == 1:  # every \odot inside braces (one in parentheses is read by the walk)
            raise self.error(tokens[0], r"\odot (entry by entry) inside a matrix product: put its operands in "
                                        "parentheses, or write the entries with an index")
        if not all(operands) or any(len(split_at(part, {"+", "-"})) > 1 for part in operands):
            raise self.error(tokens[0], r"\odot (entry by entry) between sums of matrices: put each operand in "
                                        "parentheses, or write the entries with an index")
        values = [self.value(part) for part in operands]
        shapes = {v.shape for v in values if isinstance(v, sympy.MatrixBase)}
        if len(shapes) > 1:
            raise self.error(tokens[0], r"\odot (entry by entry) of matrices of different sizes ("
                                        + ", ".join(f"{r} x {c}" for r, c in sorted(shapes)) + ")")
        product = values[0]
        for value in values[1:]:
            if isinstance(product, sympy.MatrixBase) and isinstance(value, sympy.MatrixBase):
                product = product.multiply_elementwise(value)
            else:
                product = product * value
        return product

    def _reversed_chain(self, pieces, tokens):
        """A product of matrices whose sizes fit only in the reverse order (the chain rule written
        from the loss to the variable, ``2(A^2 - y) W^2 \\operatorname{diag}(..) \\frac{\\partial
        Z^1}{\\partial W^1}``): that product, or None.  Its factors are the matrix pieces at the top
        level and the scalar runs between them (no ``+``, ``-`` at the top level: a product only);
        the caller marks the step, which is then wrong, its mistake named."""
        factors, run, depth = [], [], 0
        for piece in pieces + [(None, sympy.zeros(0, 0), None)]:
            text, value, _ = piece
            if isinstance(value, sympy.MatrixBase) and depth == 0:
                if [p for p in run if p[1] is not None or p[0].strip() not in ("", r"\cdot")]:
                    try:
                        factors.append(self._substitute(latex2sympy(self._render(run, False)[0]), tokens))
                    except Exception:  # a run that is not a scalar on its own: not a product of factors
                        return None
                factors.append(value)
                run = []
                continue
            if value is None:
                depth += sum(text.count(c) for c in "({[") - sum(text.count(c) for c in ")}]")
                if depth == 0 and any(c in text for c in ("+", "-", "&", "\\\\", r"\begin")):
                    return None
            run.append(piece)
        matrices = [f for f in factors[:-1] if isinstance(f, sympy.MatrixBase)]
        product = sympy.Integer(1)
        for factor in reversed(factors[:-1]):
            if isinstance(product, sympy.MatrixBase) and isinstance(factor, sympy.MatrixBase) \
                    and product.cols != factor.rows:
                return None
            product = product * factor
        return product if len(matrices) > 1 else None

    def _translated(self, error, text, offsets, tokens) -> LatexError:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if _shape_error(error):
            sizes = [a for a in error.args[1:] if isinstance(a, int)]
            detail = (f"a factor of {sizes[0]} column{'s' * (sizes[0] != 1)} times one of {sizes[1]} "
                      f"row{'s' * (sizes[1] != 1)}" if len(sizes) == 2 else message)
            return self.error(tokens[0], f"a product of matrices whose sizes do not fit ({detail})")
        if "non-square matrix" in message:  # SymPy's words name the placeholders: say it in the answer's
            return self.error(tokens[0], "a power of a matrix that is not square: write the entries squared "
                                         "with an index, or (..) \\odot (..)")
        caret = next((line for line in str(error).splitlines() if line.rstrip().endswith("^")), None)
        at = tokens[0].start
        if caret is not None:
            column = len(caret.rstrip()) - 1
            at = max((source for start, source in offsets if start <= column), default=at)
        return self.error(at, f"cannot read this ({message.rstrip('.')})")

    def placeholder(self, value) -> str:
        """The text ``\\xi_{N}`` that latex2sympy2 reads as a symbol bound to ``value``; a scalar
        that depends on index variables is a function of their placeholders, ``\\xi_{N}(\\xi_{M})``."""
        if isinstance(value, sympy.Symbol) and value in self._index_placeholders:
            return self._index_placeholders[value]
        self._count += 1
        name = f"xi_{{{self._count}}}"
        self.bound[name] = value
        if isinstance(value, sympy.Symbol) and value in self.indices.values():
            self._index_placeholders[value] = f" \\{name} "
            return self._index_placeholders[value]
        variables = self._index_variables(value)
        if variables:
            self.bound[name] = sympy.Lambda(tuple(variables), value)
            return f" \\{name}({', '.join(self.placeholder(v).strip() for v in variables)}) "
        return f" \\{name} "

    def _index_variables(self, value) -> list:
        if isinstance(value, sympy.MatrixBase) or not isinstance(value, sympy.Basic):
            return []
        return sorted(value.free_symbols & set(self.indices.values()), key=str)

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
            elif parts and pieces[len(parts) - 1][1] is not None and text.lstrip().startswith("("):
                text = r" \cdot " + text  # a product, not a call of the placeholder
            elif matrix_mode and text.strip() == "-":  # latex2sympy2 cannot negate a matrix product (M - N P)
                unary = not parts or parts[-1].rstrip().endswith(("(", "{", "[", "&", "+", "-", "=", ",", "^",
                                                                  r"\cdot", "\\\\", r"\begin{bmatrix}"))
                text = r" (-1) \cdot " if unary else r" + (-1) \cdot "
            offsets.append((length, offset))
            parts.append(text)
            length += len(text)
        return "".join(parts), offsets

    def _substitute(self, value, tokens):
        bound = self.bound
        if isinstance(value, sympy.MatrixExpr):  # products of explicit matrices multiplied as matrices: as_explicit
            value = value.doit()                 # writes each entry as a Sum and evaluates it (25 ms an entry)
            value = value.as_explicit() if isinstance(value, sympy.MatrixExpr) else value
        symbols = value.atoms(sympy.Symbol) if hasattr(value, "atoms") else set()  # sum variables too
        mapping = {s: bound[s.name] for s in symbols if s.name in bound}
        calls = value.atoms(AppliedUndef) if hasattr(value, "atoms") else set()
        if any(call.func.__name__.lstrip("\\") not in bound for call in calls):
            raise self.unknown(tokens[0], "cannot read a function applied to an index")
        value = value.xreplace({call: bound[call.func.__name__.lstrip("\\")](*call.args) for call in calls})
        vectors = {s: v for s, v in mapping.items() if isinstance(v, sympy.MatrixBase)}
        scalars = {s: v for s, v in mapping.items() if s not in vectors}
        leftover = [s for s in symbols if s.name not in bound]
        if leftover:
            raise self.unknown(tokens[0], f"cannot read the symbol {leftover[0]}")
        if isinstance(value, sympy.MatrixBase):
            return self._ranged(sympy.Matrix(value).xreplace(scalars), tokens)
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
                if low in self.stand_ins:
                    ranges = index_positions(expression.function, variable, self.scope)
                    if len(ranges) != 1:
                        raise self.error(tokens[0], f"the range of the sum over {variable} cannot be read "
                                         + ("from the spec: it indexes tensors of different sizes"
                                            if ranges else "from its terms") + f"; write \\sum_{{{variable}=1}}^{{n}}")
                    low, high = ranges.pop()
                limits.append((variable, low, high))
            return sympy.Sum(expression.function, *limits)
        if isinstance(value, sympy.MatrixBase):
            value = value.applyfunc(lambda e: e.replace(lambda x: isinstance(x, sympy.Sum), fix))
        else:
            value = value.replace(lambda x: isinstance(x, sympy.Sum), fix)
        if value.free_symbols & self.stand_ins:  # a matrix product evaluated a sum whose terms lack its index
            raise self.error(tokens[0], r"the range of a \sum cannot be read from its terms; write \sum_{i=1}^{n}")
        return value
