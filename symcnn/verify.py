"""Check a hand derivation written in LaTeX against symcnn's, entry by entry.

The comparison goes in three steps:

1. **Shape.**  The course's layout puts ``size(wrt)`` rows and ``size(of)`` columns; an answer
   in the transposed layout is reported as *transposed*, not as a wall of wrong entries.
2. **Symbolically.**  Each entry's difference from the derived one, with the padding set to 0
   on both sides, is expanded; zero means right.
3. **At random exact points.**  Otherwise both entries are evaluated exactly (rational inputs,
   weights and targets; every intermediate ``Z^l, A^l`` by the forward pass) at a few points
   drawn away from ReLU kinks and pooling ties.  A point where they differ is the
   counterexample the report shows; agreeing everywhere counts as right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import sympy

from .errors import LatexError, TensorNameError
from .functions import PoolMax, ReLU
from .graph import Graph
from .spec import format_shape
from .parse import bracket_group, Reader, parse_answer

LOSS_NAMES = re.compile(r"^(?:L|\\mathcal\s*\{\s*L\s*\}|\\(?:operatorname|text|mathrm)\s*\{\s*loss\s*\}|loss)$")


@dataclass(frozen=True)
class Mismatch:
    """One wrong entry, with a point (values of ``X``, the parameters and ``y``) where the
    expected and the given entry take different values."""

    label: str
    expected: sympy.Expr
    given: sympy.Expr
    point: dict
    expected_value: sympy.Expr
    given_value: sympy.Expr

    def __str__(self) -> str:
        point = ", ".join(f"{name} = [{', '.join(map(str, np.ravel(v)))}]" for name, v in self.point.items())
        return (f"  {self.label}:\n    expected  {self.expected}\n    given     {self.given}\n"
                f"    at {point}:\n      expected {self.expected_value}, given {self.given_value}")


@dataclass(frozen=True)
class Report:
    """What :func:`verify` found: ``correct`` is true when shape and every entry agree."""

    title: str
    expected_shape: tuple[int, int]
    given_shape: tuple[int, int]
    problem: str | None = None
    mismatches: tuple[Mismatch, ...] = field(default_factory=tuple)

    @property
    def correct(self) -> bool:
        return self.problem is None and not self.mismatches

    def __str__(self) -> str:
        head = f"{self.title}: expected {format_shape(self.expected_shape)}, given {format_shape(self.given_shape)}"
        if self.correct:
            return f"{head}\ncorrect: all {int(np.prod(self.expected_shape))} entries agree"
        lines = [head]
        if self.problem:
            lines.append(f"wrong: {self.problem}")
        if self.mismatches:
            lines.append(f"wrong: {len(self.mismatches)} of {int(np.prod(self.expected_shape))} "
                         "entries differ")
            lines += [str(m) for m in self.mismatches]
        return "\n".join(lines)


def verify(graph: Graph, derivation, answer: str, wrt: str | None = None, of: str = "L",
           points: int = 64, seed: int = 0, source: str = "<answer>") -> Report:
    """Compare a LaTeX answer for ``d(of)/d(wrt)`` with the derivation (see the module doc).

    With ``wrt=None`` the answer is a scalar equation ``Z^1_2 = ...`` whose left-hand side is
    an entry of the network, checked against that entry's expression.  A single entry of a
    Jacobian or gradient is named by its left-hand side, ``\\frac{\\partial L}{\\partial W^1_2} = ...``.
    """
    parsed = parse_answer(answer, graph, source)
    given = parsed.value
    if wrt is None:
        title, expected, labels = _equation(graph, parsed, source)
    else:
        of, wrt = graph.tensor(of), graph.tensor(wrt)
        title = f"d{of}/d{wrt}"
        expected = (derivation.loss_gradient(wrt) if of == "L" else derivation.jacobian(of, wrt)).to_matrix()
        labels = _entry_labels(graph, of, wrt)
        if not isinstance(given, sympy.MatrixBase) and expected.shape != (1, 1):
            row, col = _named_entry(graph, parsed.lhs, of, wrt, source)
            expected, labels = sympy.Matrix([[expected[row, col]]]), [[labels[row][col]]]
    given = given if isinstance(given, sympy.MatrixBase) else sympy.Matrix([[given]])
    problem = _layout_problem(expected.shape, given.shape, title)
    if problem:
        return Report(title, expected.shape, given.shape, problem)
    checker = _PointChecker(graph, points, seed)
    mismatches = [checker.compare(labels[r][c], expected[r, c], given[r, c])
                  for r in range(expected.rows) for c in range(expected.cols)]
    return Report(title, expected.shape, given.shape, None, tuple(m for m in mismatches if m))


def _layout_problem(expected, given, title) -> str | None:
    if given == expected:
        return None
    if given == expected[::-1]:
        return (f"transposed: in the course's layout {title} is size({title.split('/d')[1]}) x "
                f"size({title.split('/')[0][1:]}) = {format_shape(expected)}, the answer is {format_shape(given)}")
    return f"shape {format_shape(given)}, expected {format_shape(expected)}"


def _entry_labels(graph: Graph, of: str, wrt: str) -> list[list[str]]:
    rows = [str(s) for s in graph.symbol_array(wrt).flat]
    cols = ["L"] if of == "L" else [str(s) for s in graph.symbol_array(of).flat]
    return [[f"d{c}/d{r}" for c in cols] for r in rows]


def _named_entry(graph: Graph, lhs: str | None, of: str, wrt: str, source: str) -> tuple[int, int]:
    """The (row, column) that ``\\frac{\\partial of_j}{\\partial wrt_i}`` names."""
    hint = (f"{source}: a single value for d{of}/d{wrt}, which has {graph.symbol_array(wrt).size} rows: "
            f"name the entry on the left, e.g. \\frac{{\\partial L}}{{\\partial W^1_2}} = ...")
    match = re.search(r"\\[dt]?frac\s*\{", lhs or "")
    if match is None:
        raise LatexError(hint)
    reader = Reader(graph, source)
    top, end = bracket_group(lhs, match.end() - 1, reader)
    bottom, _ = bracket_group(lhs, lhs.index("{", end), reader)
    names = []
    for part in (top, bottom):
        text = re.sub(r"^\s*\\partial\s*", "", part).strip()
        names.append(None if LOSS_NAMES.match(text) else reader.math(text))
    col = 0 if names[0] is None else _position(graph, names[0], of, source)
    return _position(graph, names[1], wrt, source), col


def _position(graph: Graph, symbol, tensor: str, source: str) -> int:
    symbols = list(graph.symbol_array(tensor).flat)
    if symbol not in symbols:
        raise LatexError(f"{source}: the left-hand side names {symbol}, which is not an entry of {tensor}")
    return symbols.index(symbol)


def _equation(graph: Graph, parsed, source: str):
    """``Z^1_2 = W^1_1 X_1 + ...``: the left side's own expression is what is expected."""
    if parsed.lhs is None:
        raise LatexError(f"{source}: without --wrt the answer must be an equation such as Z^1_2 = ...")
    lhs = Reader(graph, source).math(parsed.lhs)
    lhs = lhs if isinstance(lhs, sympy.MatrixBase) else sympy.Matrix([[lhs]])
    definitions = graph.definitions()
    unknown = [s for s in lhs if s not in definitions]
    if unknown:
        raise TensorNameError(f"{source}: the left-hand side {unknown[0]} is not a Z or A entry of the network")
    labels = [[str(s)] for s in lhs]
    return f"{', '.join(map(str, lhs))}", lhs.applyfunc(lambda s: definitions[s]), labels


class _PointChecker:
    """Exact evaluation at random rational points away from kinks and ties.

    Points are drawn only when an entry needs them and then kept for the next entries.  An
    entry that differs symbolically is tried at up to ``points`` of them: with weights drawn
    symmetric around 0, every ReLU sees both signs many times over, so a dropped step or a
    wrong window shows.
    """

    def __init__(self, graph: Graph, points: int, seed: int):
        self.graph, self.limit = graph, points
        self.zeros = {s: sympy.S.Zero for s in graph.padding_symbols()}
        self.rng = np.random.default_rng(seed)
        self.points: list = []

    def compare(self, label, expected, given) -> Mismatch | None:
        difference = (expected - given).xreplace(self.zeros)
        if difference == 0 or sympy.expand(difference) == 0:
            return None
        for i in range(self.limit):
            if i == len(self.points):
                self.points.append(self._draw(self.rng))
            values, substitutions = self.points[i]
            e, g = expected.xreplace(substitutions), given.xreplace(substitutions)
            if _differ(e, g):
                return Mismatch(label, expected, given, values, e, g)
        return None

    def _draw(self, rng, tries: int = 100):
        graph = self.graph
        for _ in range(tries):
            values = {name: _rationals(rng, shape) for name, shape in graph.spec.shapes().items()
                      if name != "y" or shape != ()}
            if "y" in graph.spec.shapes() and graph.spec.shapes()["y"] == ():
                values["y"] = int(rng.integers(graph.symbol_array("y").size))
            substitutions = graph.substitutions(values)
            if not self._at_kink(substitutions):
                return values, substitutions
        raise LatexError("could not draw a point away from ReLU kinks and pooling ties")

    def _at_kink(self, substitutions) -> bool:
        for name in self.graph.flow[1:]:
            for expression in self.graph.expr_array(name).flat:
                if isinstance(expression, ReLU) and expression.args[0].xreplace(substitutions) == 0:
                    return True
                if isinstance(expression, PoolMax):
                    window = [a.xreplace(substitutions) for a in expression.args]
                    if window.count(max(window)) > 1:
                        return True
        return False


def _rationals(rng, shape) -> np.ndarray:
    numerators = rng.integers(-9, 10, size=shape)
    denominators = rng.integers(1, 5, size=shape)
    return np.vectorize(sympy.Rational, otypes=[object])(numerators, denominators)


def _differ(a, b) -> bool:
    """Exact for rationals; numbers with exp, log, tanh are compared to 60 digits."""
    difference = a - b
    if difference.is_Rational:
        return difference != 0
    return abs(sympy.N(difference, 60)) > sympy.Float("1e-45", 60)
