"""Read LaTeX written in the course's notation back into the network's SymPy symbols.

latex2sympy2 parses the arithmetic, matrices and ``\\frac``; it reads ``W_1^1`` as a power
and knows neither ``ReLU`` nor the step ``\\mathbf{1}[z > 0]``.  So a scan over the text first
replaces every piece of the course's notation by a placeholder symbol ``\\xi_{N}`` bound to
its SymPy meaning, then latex2sympy2 parses the rest, then the placeholders are substituted:

- ``W^1_2``, ``W_2^1``, ``W^{(1)}_{2}``, ``W^1_0`` (bias), ``X_0``, ``Z^1_3``, ``A^2``, ``y``:
  the network's symbols (padding symbols included); a bare multi-entry tensor such as
  ``W^2`` stands for its column, entry by entry (``2(A^2 - y) W^2`` is a vector);
- ``\\operatorname{ReLU}(z)`` (or ``\\text``, ``\\mathrm``, plain ``ReLU``), ``\\sigma(z)``,
  ``\\operatorname{logsumexp}(...)``, ``\\max(...)`` (its arguments kept in order, as a pooling
  window's); ``\\exp``, ``\\ln``, ``\\tanh`` are latex2sympy2's;
- the step: ``\\mathbf{1}[a > b]``, ``\\mathbb{1}\\left[a \\geq b\\right]``, ``\\mathbf{1}_{z > 0}``,
  ``\\text{step}(z)``,
  ``\\operatorname{ReLU}'(z)`` (the contract's ``ReLU'(0) = 0``);
- ``\\boxed{x}`` is ``x``; ``\\overset{label}{x}`` is ``x``; ``^\\top`` and ``^T`` transpose;
  ``\\log`` is the natural logarithm.

Anything else gets a :class:`~symcnn.errors.LatexError` naming the piece of LaTeX it could
not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy
from latex2sympy2 import latex2sympy

from .errors import LatexError
from .functions import LogSumExp, PoolMax, ReLU, Sigmoid
from .graph import Graph
from .notation import split_tensor_name, symbol_name

FUNCTIONS = {"relu": ReLU, "sigmoid": Sigmoid, "sigma": Sigmoid, "logsumexp": LogSumExp,
             "lse": LogSumExp, "max": PoolMax, "step": lambda z: sympy.Heaviside(z, 0)}
# The commands latex2sympy2 is left to read once the notation is replaced ("xi": placeholders)
KNOWN_COMMANDS = {"frac", "cdot", "times", "left", "right", "begin", "end", "sqrt", "exp", "ln",
                  "tanh", "max", "sum", "pi", "xi"}
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad\b|~")
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)")
_SYMBOL = re.compile(r"(?<![A-Za-z])(W|Z|A|X|y)((?:\s*[_^]\s*(?:\{[^{}]*\}|\d))*)(?![A-Za-z])")
_SCRIPT = re.compile(r"([_^])\s*(\{[^{}]*\}|\d)")
_FUNCTION = re.compile(r"(?:\\(?:operatorname|text|mathrm)\s*\{\s*([A-Za-z]+)\s*\}|\\(sigma|max)\b|"
                       r"(?<![\\A-Za-z])(ReLU|relu|step|sigmoid|logsumexp))\s*('?)\s*(?:\\left\s*)?\(")
_INDICATOR = re.compile(r"\\math(?:bf|bb)\s*\{\s*[1I]\s*\}\s*(?:(?:\\left\s*)?[\[(]|_\s*\{)")
_WRAPPER = re.compile(r"\\(boxed|overset|underset)\s*\{")
_RELATION = re.compile(r"\\geq?\b|\\leq?\b|>=|<=|>|<")


@dataclass(frozen=True)
class Answer:
    """A parsed answer: its value (expression or matrix) and what its left-hand side names."""

    value: object
    lhs: str | None = None


class Reader:
    """One parse: the placeholders it made, and the text they stand for (for errors)."""

    def __init__(self, graph: Graph, source: str):
        self.graph, self.source = graph, source
        self.bound: dict[str, object] = {}
        self.names = graph.all_symbols()

    def error(self, message: str) -> LatexError:
        return LatexError(f"{self.source}: {message}")

    def placeholder(self, value) -> str:
        key = f"xi_{{{len(self.bound) + 10}}}"
        self.bound[key] = value
        return rf" \{key} "

    def math(self, text: str):
        """SymPy value of a piece of LaTeX math."""
        rewritten = self.rewrite(text)
        self._check_commands(rewritten, text)
        try:
            value = latex2sympy(rewritten)
        except Exception as error:  # latex2sympy2 raises bare Exceptions with a caret drawing
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise self.error(f"cannot read the LaTeX '{text.strip()}' ({first})") from None
        return self.substitute(value)

    def substitute(self, value):
        if hasattr(value, "doit"):
            value = value.doit()
        if isinstance(value, sympy.MatrixExpr):  # e.g. a scalar times a bmatrix
            value = value.as_explicit()
        bound = {s: self.bound[s.name] for s in getattr(value, "free_symbols", ()) if s.name in self.bound}
        vectors = {s: v for s, v in bound.items() if isinstance(v, sympy.MatrixBase)}
        scalars = {s: v for s, v in bound.items() if s not in vectors}
        if isinstance(value, sympy.MatrixBase):
            if vectors:
                raise self.error("a whole tensor (e.g. W^2) inside a matrix: write its entries")
            return sympy.Matrix(value).xreplace(scalars)
        value = sympy.sympify(value).xreplace(scalars)
        if not vectors:
            return value
        sizes = {v.rows for v in vectors.values()}
        if len(sizes) > 1:
            raise self.error(f"tensors of different sizes ({', '.join(map(str, sorted(sizes)))}) multiplied "
                             "entry by entry")
        return sympy.Matrix([value.xreplace({s: v[k] for s, v in vectors.items()})
                             for k in range(sizes.pop())])

    def rewrite(self, text: str) -> str:
        """The text with the notation replaced by placeholders, ready for latex2sympy2."""
        text = _SPACING.sub(" ", text)
        text = re.sub(r"\^\s*(?:\\top|\\intercal|\{\s*(?:\\top|\\intercal|T)\s*\})", "^{T}", text)
        text = re.sub(r"\\log\b", r"\\ln", text)
        text = re.sub(r"\\(?:dfrac|tfrac)\b", r"\\frac", text)
        out, i = [], 0
        while i < len(text):
            match = (_INDICATOR.match(text, i) or _FUNCTION.match(text, i)
                     or _WRAPPER.match(text, i) or _SYMBOL.match(text, i))
            if match is None:  # copy one character, or a whole command such as \\ or \frac
                command = _COMMAND.match(text, i)
                step = command.end() if command else i + 1
                out.append(text[i:step])
                i = step
                continue
            replacement, i = self._construct(text, match)
            out.append(replacement)
        return "".join(out)

    def _construct(self, text: str, match) -> tuple[str, int]:
        pattern = match.re
        if pattern is _SYMBOL:
            return self.placeholder(self.symbol(match.group(1), match.group(2), match.group(0))), match.end()
        if pattern is _INDICATOR:
            inner, end = bracket_group(text, match.end() - 1, self)
            return self.placeholder(self.indicator(inner)), end
        if pattern is _FUNCTION:
            name = (match.group(1) or match.group(2) or match.group(3)).lower()
            if name not in FUNCTIONS:
                raise self.error(f"unknown function '{match.group(0).rstrip('(').strip()}'; known: "
                                 "ReLU, step, sigmoid (\\sigma), logsumexp, \\max, and latex2sympy2's \\exp, \\ln, \\tanh")
            inner, end = bracket_group(text, match.end() - 1, self)
            args = [self.math(part) for part in _split_top(inner, ",")]
            if match.group(4):  # a derivative: ReLU'(z) is the step
                if name != "relu":
                    raise self.error(f"only ReLU' can be written with a prime, not {name}'")
                return self.placeholder(sympy.Heaviside(args[0], 0)), end
            return self.placeholder(FUNCTIONS[name](*args)), end
        # \boxed{x} is x; \overset{label}{x} and \underset{label}{x} are x
        first, end = bracket_group(text, match.end() - 1, self)
        if match.group(1) == "boxed":
            return " {" + self.rewrite(first) + "} ", end
        start = end + len(text[end:]) - len(text[end:].lstrip())
        if start >= len(text) or text[start] != "{":
            raise self.error(f"\\{match.group(1)} needs two arguments")
        second, end = bracket_group(text, start, self)
        return " {" + self.rewrite(second) + "} ", end

    def indicator(self, inner: str):
        """``1[a > b] -> Heaviside(a - b, 0)``, ``1[a >= b] -> Heaviside(a - b, 1)``; ``<`` mirrored."""
        parts = _RELATION.split(inner)
        relations = _RELATION.findall(inner)
        if len(parts) != 2:
            raise self.error(f"an indicator needs one comparison such as [Z^1_1 > 0], got [{inner.strip()}]")
        left, right = (self.math(p) for p in parts)
        relation = relations[0].lstrip("\\")
        if relation in ("<", "<=", "le", "leq", "lt"):
            left, right = right, left
        strict = relation in (">", "<", "gt", "lt")
        return sympy.Heaviside(left - right, 0 if strict else 1)

    def symbol(self, letter: str, scripts: str, written: str):
        """``W`` + ``^{1}_{2}`` -> the symbol ``W1_2`` (or the column of a whole tensor)."""
        sup = sub = None
        for kind, content in _SCRIPT.findall(scripts):
            content = content.strip("{}").strip().strip("()").strip()
            if kind == "^":
                sup = content
            else:
                sub = content
        if letter in "Xy":
            if sup is not None:
                raise self.error(f"{written.strip()}: {letter} has no layer; write a power as "
                                 f"{{{letter}_{{...}}}}^{{2}}")
            tensor = letter
        else:
            if sup is None or not sup.isdigit():
                raise self.error(f"{written.strip()}: {letter} needs its layer as a superscript, e.g. "
                                 f"{letter}^{{1}}_{{2}}")
            tensor = "X" if (letter == "A" and sup == "0") else f"{letter}{int(sup)}"
        index = ()
        if sub is not None:
            try:
                index = tuple(int(i) for i in sub.split(","))
            except ValueError:
                raise self.error(f"{written.strip()}: indices must be numbers, got '{sub}'") from None
        return self.lookup(tensor, index, written.strip())

    def lookup(self, tensor: str, index: tuple[int, ...], written: str):
        graph = self.graph
        if index and index[0] == 0 and tensor.startswith("W"):
            tensor, index = "b" + tensor[1:], index[1:]
        split_tensor_name(tensor)
        if tensor not in graph._symbols:
            raise self.error(f"{written}: this network has no {tensor}")
        name = symbol_name(tensor, index)
        if name in self.names:
            return self.names[name]
        if not index:
            return graph.symbols(tensor)
        symbols = list(graph.symbol_array(tensor).flat)
        raise self.error(f"{written}: {tensor} has no entry {','.join(map(str, index))} "
                         f"(its {len(symbols)} entries run {symbols[0]} .. {symbols[-1]})")

    def _check_commands(self, rewritten: str, original: str):
        for command in _COMMAND.findall(rewritten):
            command = command[1:]
            if command.isalpha() and command not in KNOWN_COMMANDS:
                column = original.find("\\" + command)
                where = f" at column {column + 1}" if column >= 0 else ""
                raise self.error(f"cannot read \\{command}{where}: symcnn reads the course's notation, "
                                 "arithmetic, \\frac, matrices, ReLU, \\sigma, \\max, \\exp, \\ln and steps")


def bracket_group(text: str, start: int, reader: Reader) -> tuple[str, int]:
    """The inside of the bracket group opening at ``start`` (``{``, ``(`` or ``[``, with an
    optional ``\\right`` before the closing one) and the index just past it."""
    closing = {"{": "}", "(": ")", "[": "]"}[text[start]]
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "{([":
            depth += 1
        elif text[i] in "})]":
            depth -= 1
            if depth == 0:
                if text[i] != closing:
                    break
                inner = re.sub(r"\\right\s*$", "", text[start + 1:i])
                return inner, i + 1
    raise reader.error(f"unbalanced '{text[start]}' in '{text[start:start + 40].strip()}'")


def _split_top(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside any brackets."""
    parts, depth, last = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "{([" 
        depth -= char in "})]"
        if char == separator and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    return parts + [text[last:]]


_DELIMITERS = [(r"^\$\$(.*)\$\$$", 1), (r"^\$(.*)\$$", 1), (r"^\\\[(.*)\\\]$", 1),
               (r"^\\begin\{(equation|displaymath|math)\*?\}(.*)\\end\{\1\*?\}$", 2)]


def strip_math(text: str) -> str:
    """The math inside ``$...$``, ``\\[...\\]`` or an equation environment; comments dropped."""
    text = re.sub(r"(?<!\\)%.*", "", text).strip()
    for pattern, group in _DELIMITERS:
        match = re.match(pattern, text, re.S)
        if match:
            return match.group(group).strip()
    return text


def parse_latex(text: str, graph: Graph, source: str = "<latex>"):
    """The SymPy value (expression or Matrix) of LaTeX math in the course's notation."""
    return Reader(graph, source).math(strip_math(text))


def parse_answer(text: str, graph: Graph, source: str = "<answer>") -> Answer:
    """An answer: optional left-hand side(s) and ``=``, then the value (the last part)."""
    math = strip_math(text)
    if not math:
        raise LatexError(f"{source}: no math found")
    parts = _split_top(math, "=")
    lhs = parts[0].strip() if len(parts) > 1 else None
    return Answer(Reader(graph, source).math(parts[-1]), lhs)
