r"""Answers made of numbers (a convolution's or a pooling's output, weight counts), checked entry
by entry against the exact numbers, the mistake named from the numbers each typical mistake gives.

What is read (through :mod:`symcnn.parse`): one matrix (``A^{1} = \begin{bmatrix} ... \end{bmatrix}``,
bmatrix or pmatrix, a tuple ``(4, 0, 110)``), or one line per map (``A^{1}_{1} = ...``, or
in order without a left-hand side), or one number per line.  In a chain (``10 \times 11 = 110``)
the last side is the answer.  A left-hand side may name the asked tensor or its layer's other one
(``Z^1`` for ``A^1``: the numbers decide); a single index names a filter's map.

The result is a :class:`~symcnn.verify.report.Report` like the verify stage's, so grading reads
and prints both kinds of answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import LatexError
from ..parse.answer import read_quantity
from ..parse.indexed import instantiate
from ..parse.reader import Reader
from ..parse.source import Source
from ..verify.report import EntryResult, Report, StepResult, shape_text

LARGEST_EXPONENT = 64  # a power with a larger exponent is refused before it is computed


@dataclass(frozen=True)
class Part:
    """One equation of a numeric answer: its map index (``A^1_2 = ...``: 2), its last side."""

    index: int | None
    value: np.ndarray  # 2D, exact numbers
    where: str
    text: str


def read_parts(net, text: str, source: str, asked: str | None) -> list[Part]:
    """Every equation of the answer, each as its map index and its last side's numbers."""
    answer = Source(text, source)
    reader = Reader(net, answer)
    parts = []
    for sides in answer.equations():
        label = None
        if len(sides) > 1:
            try:
                label = read_quantity(reader, sides[0])
            except LatexError:  # "10 \times 11 = 110": the left side is working, not a name
                label = None
        value = instantiate(reader.value(sides[-1]), {}, reader.scope)
        start = sides[-1][0]
        parts.append(Part(_map_index(reader, label, sides[0][0], asked), _numbers(value, answer.where(start.start)),
                          answer.where(sides[0][0].start), " ".join(answer.text[start.start:].split())[:80]))
    if not parts:
        raise LatexError(f"{source}: no math found")
    return parts


def _map_index(reader, label, at, asked: str | None) -> int | None:
    if label is None or asked is None:
        return None
    ref = label.of
    layer = asked[1:]
    if label.wrt is not None or ref.tensor not in (f"Z{layer}", f"A{layer}"):
        raise reader.error(at, f"the left-hand side names something else than the asked A^{{{layer}}} "
                               f"(or Z^{{{layer}}}): write e.g. A^{{{layer}}} = \\begin{{bmatrix}} ... \\end{{bmatrix}}")
    indices = ref.indices or ()
    if len(indices) > 1 or (indices and not isinstance(indices[0], (int, sympy.Integer))):
        raise reader.error(at, f"name a whole map: A^{{{layer}}} = ..., or filter f's map as A^{{{layer}}}_f = ...")
    return int(indices[0]) if indices else None


def _numbers(value, where: str) -> np.ndarray:
    """A side's value as a 2D array of exact numbers (refusing symbols and enormous powers)."""
    cells = value if isinstance(value, sympy.MatrixBase) else sympy.Matrix([[value]])
    array = np.empty(cells.shape, dtype=object)
    for (r, c), cell in np.ndenumerate(np.array(cells.tolist(), dtype=object)):
        cell = sympy.sympify(cell)
        if cell.free_symbols:
            names = ", ".join(sorted(map(str, cell.free_symbols)))
            raise LatexError(f"{where}: the answer is numbers, this entry has the symbols {names}")
        if any(abs(p.exp) > LARGEST_EXPONENT for p in cell.atoms(sympy.Pow) if p.exp.is_number):
            raise LatexError(f"{where}: a power with an exponent over {LARGEST_EXPONENT} is not an answer here")
        array[r, c] = cell if cell.is_Rational else cell.doit()
    return array


def arrange(parts: list[Part], shape: tuple) -> np.ndarray | None:
    """The parts as numbers of ``shape`` = ``(maps, *map shape)``, or None when they do not fit."""
    maps, spatial = shape[0], tuple(shape[1:])
    if all(p.index is not None for p in parts):
        if sorted(p.index for p in parts) != list(range(1, maps + 1)):
            return None
        parts = sorted(parts, key=lambda p: p.index)
    elif any(p.index is not None for p in parts) and len(parts) > 1:
        return None
    values = [p.value for p in parts]
    if len(values) == 1 and len(spatial) == 1 and values[0].shape == (maps, spatial[0]):
        return values[0].copy()
    if len(values) == maps and all(_fits(v, spatial) for v in values):
        return np.stack([v.reshape(spatial) for v in values])
    if maps == 1 and len(spatial) == 1 and len(values) == spatial[0] and all(v.size == 1 for v in values):
        return np.array([[v.flat[0] for v in values]], dtype=object)
    return None


def _fits(value: np.ndarray, spatial: tuple) -> bool:
    """A map's numbers in its shape: a vector as a row or a column, a 2D map as itself."""
    if len(spatial) == 1:
        return value.size == spatial[0] and 1 in value.shape
    return value.shape == spatial


def check_numbers(parts: list[Part], expected: np.ndarray, labels: list[str], mistakes, title: str) -> Report:
    """The answer's numbers against ``expected``, entry by entry; the mistake they agree with."""
    given = arrange(parts, expected.shape)
    where = parts[0].where
    if given is None:
        shapes = ", ".join(shape_text(p.value.shape) for p in parts)
        problem = (f"the answer is {len(parts)} part(s) of shape {shapes}; the question asks for "
                   + _asked(expected.shape))
        step = StepResult(title, where, parts[0].text, expected.shape, parts[0].value.shape, problem=problem)
    else:
        entries = tuple(EntryResult(label, _same(g, e), e, g)
                        for label, g, e in zip(labels, given.flat, expected.flat))
        step = StepResult(title, where, parts[0].text, expected.shape, given.shape, entries)
    mistake = None if step.right else next(
        (m for m, values in mistakes if _agrees(arrange(parts, values.shape), values, expected)), None)
    return Report(title, (step,), mistake)


def _asked(shape) -> str:
    maps, spatial = shape[0], shape[1:]
    if len(spatial) == 1:
        return f"{spatial[0]} numbers" if maps == 1 else f"a {maps} x {spatial[0]} matrix (a row per filter)"
    return f"a {shape_text(spatial)} matrix" + (f" for each of {maps} filters" if maps > 1 else "")


def _agrees(given, mistaken: np.ndarray, expected: np.ndarray) -> bool:
    """Whether the answer is what the mistake gives: every number, or (same shape as the right
    answer) every number either right or the mistake's, and at least one the mistake's."""
    if given is None:
        return False
    if mistaken.shape != expected.shape:
        return all(_same(g, m) for g, m in zip(given.flat, mistaken.flat))
    wrong = [not _same(g, e) for g, e in zip(given.flat, expected.flat)]
    return any(wrong) and all(_same(g, e) or _same(g, m) for g, e, m in zip(given.flat, expected.flat, mistaken.flat))


def _same(given, expected) -> bool:
    """Exact equality (an irrational answer is simplified against the right number)."""
    given, expected = sympy.sympify(given), sympy.sympify(expected)
    if given.is_Rational and expected.is_Rational:
        return given == expected
    return bool(sympy.simplify(given - expected) == 0)
