r"""What a check found, as one data structure, printed as text (terminals) or JSON (autograders).

Everything is in the course's notation, through the one notation printer
(:func:`symcnn.latex.to_latex`): ``W^{1}_{2}``, ``\mathbf{1}\left[Z^{1}_{2} > 0\right]``;
numbers exactly, with decimals beside them.  ``hide_solution`` leaves the expected expressions
out (for graders); the values at the counterexample stay, they are numbers, not the solution.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..latex import tensor_latex, to_latex
from .compare import Counterexample
from .mistakes import Mistake


class Deferred:
    """A value computed when first asked for (an entry's expressions, for a report of
    thousands of entries that shows a few)."""

    def __init__(self, compute):
        self._compute, self._value = compute, None

    def __call__(self):
        if self._compute is not None:
            self._value, self._compute = self._compute(), None
        return self._value


@dataclass(frozen=True)
class EntryResult:
    """One entry: its label, whether it agrees, the expected and given expressions (each may be
    :class:`Deferred`) and a point where they differ."""

    label: str
    right: bool
    expected_value: object
    given_value: object
    counterexample: Counterexample | None = None

    @property
    def expected(self) -> sympy.Expr:
        return self.expected_value() if isinstance(self.expected_value, Deferred) else self.expected_value

    @property
    def given(self) -> sympy.Expr:
        return self.given_value() if isinstance(self.given_value, Deferred) else self.given_value


class LazyEntries(Sequence):
    """A step's entries checked all at once (:mod:`.grid`): whether each is right, and each
    :class:`EntryResult` made only when asked for (a local Jacobian of LeNet-5 has millions)."""

    def __init__(self, right: np.ndarray, make):
        self.right, self._make = np.asarray(right, dtype=bool), make

    def __len__(self) -> int:
        return len(self.right)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return self._make(int(k) % len(self))


@dataclass(frozen=True)
class StepResult:
    """One side of the answer's chain, checked against the quantity its left-hand side names."""

    title: str
    where: str
    text: str
    expected_shape: tuple[int, int] | None
    given_shape: tuple[int, int] | None
    entries: tuple[EntryResult, ...] | LazyEntries = ()
    problem: str | None = None   # a layout or shape that is wrong as a whole
    layout: str | None = None    # how the answer's layout was read, when not the course's
    mistake: Mistake | None = None  # the mistake the problem itself names (the chain in reversed order)

    @property
    def right(self) -> bool:
        return self.problem is None and not len(self.wrong_positions)

    @property
    def wrong_positions(self) -> list[int]:
        """Where the wrong entries are, in order."""
        if isinstance(self.entries, LazyEntries):
            return list(np.flatnonzero(~self.entries.right))
        return [k for k, e in enumerate(self.entries) if not e.right]

    def wrong_entries(self, limit: int | None = None) -> list[EntryResult]:
        return [self.entries[k] for k in self.wrong_positions[:limit]]


@dataclass(frozen=True)
class Report:
    """The verdict: ``correct`` when every step is right."""

    title: str
    steps: tuple[StepResult, ...]
    mistake: Mistake | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    printing: dict = field(default_factory=dict)  # the notation printer's settings for this network

    @property
    def correct(self) -> bool:
        return all(step.right for step in self.steps)

    @property
    def verdict(self) -> str:
        return "correct" if self.correct else "wrong"

    @property
    def first_wrong(self) -> StepResult | None:
        return next((step for step in self.steps if not step.right), None)

    def __str__(self) -> str:
        return text(self)


def text(report: Report, hide_solution: bool = False) -> str:
    lines = []
    for number, step in enumerate(report.steps, start=1):
        name = f"step {number} ({step.where})" if len(report.steps) > 1 else step.where
        shapes = ""
        if step.expected_shape and step.given_shape:
            shapes = f": expected {shape_text(step.expected_shape)}, given {shape_text(step.given_shape)}"
        lines.append(f"{step.title} [{name}]{shapes}")
        if step.layout:
            lines.append(f"  read {step.layout}")
        if step.right:
            count = len(step.entries)
            lines.append(f"  right: {'all ' if count > 1 else ''}{count} entr{'ies agree' if count > 1 else 'y agrees'}"
                         if count else "  right: its sides agree")  # a fact about a function
            continue
        if step.problem:
            lines.append(f"  wrong: {step.problem}")
        wrong = len(step.wrong_positions)
        if wrong:
            lines.append(f"  wrong: {wrong} of {len(step.entries)} entries differ")
        for entry in step.wrong_entries(6):
            lines += _entry_lines(entry, hide_solution, report.printing)
        if wrong > 6:
            lines.append(f"  ... and {wrong - 6} more")
    for note in report.notes:
        lines.append(f"note: {note}")
    if report.mistake:
        lines.append(f"mistake: {report.mistake.name}")
        lines.append(f"  hint: {report.mistake.feedback}")
    first = report.first_wrong
    verdict = "correct" if first is None else (
        f"wrong (first wrong step: {report.steps.index(first) + 1}, {first.where})" if len(report.steps) > 1 else "wrong")
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)


def _entry_lines(entry: EntryResult, hide_solution: bool, printing: dict) -> list[str]:
    lines = [f"  {entry.label}:"]
    if not hide_solution:
        lines.append(f"    expected  {to_latex(entry.expected, **printing)}")
    lines.append(f"    given     {to_latex(entry.given, **printing)}")
    if entry.counterexample:
        point = entry.counterexample
        lines.append(f"    at {point_text(point.point)}:")
        lines.append(f"      expected {number_text(point.expected)}, given {number_text(point.given)}")
    return lines


SHOWN_VALUES = 8  # a tensor with more values is shown by its first and last ones


def point_text(point: dict) -> str:
    """``X = (1, -3/4, ...), W^{1} = ...``; floats to 4 digits, a long tensor elided in the middle
    (its count said: ``--format json`` lists every value in full)."""
    parts = []
    for name, values in point.items():
        flat = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in np.ravel(np.asarray(values, dtype=object))]
        label = tensor_latex(name) if name not in ("X", "y") else name
        if len(flat) > SHOWN_VALUES:
            parts.append(f"{label} = ({', '.join([*flat[:SHOWN_VALUES - 2], '...', *flat[-2:]])}; {len(flat)} values)")
        else:
            parts.append(f"{label} = " + (flat[0] if len(flat) == 1 else f"({', '.join(flat)})"))
    return ", ".join(parts)


def number_text(value) -> str:
    """``-3/4 (-0.75)``; irrational values as decimals."""
    value = sympy.sympify(value)
    if value.is_Integer:
        return str(value)
    if value.is_Rational:
        return f"{value} ({float(value):.6g})"
    return f"about {float(sympy.N(value, 30)):.10g}"


def to_json(report: Report, hide_solution: bool = False) -> str:
    """verdict, each step and entry's status, the named mistake, the counterexample."""
    def entry(e: EntryResult):
        data = {"entry": e.label, "status": "right" if e.right else "wrong", "given": to_latex(e.given, **report.printing)}
        if not hide_solution:
            data["expected"] = to_latex(e.expected, **report.printing)
        return data
    first = report.first_wrong
    counterexample = None
    if first is not None:
        found = next((e for e in first.wrong_entries(JSON_ENTRIES) if e.counterexample), None)
        if found is not None:
            point = found.counterexample
            counterexample = {"entry": found.label, "point": {k: [str(v) for v in np.ravel(np.asarray(x, dtype=object))]
                                                              for k, x in point.point.items()},
                              "expected": str(point.expected) if point.expected.is_Rational else number_text(point.expected),
                              "given": str(point.given) if point.given.is_Rational else number_text(point.given)}
    data = {"verdict": report.verdict, "quantity": report.title,
            "steps": [{"step": step.title, "where": step.where, "status": "right" if step.right else "wrong",
                       "problem": step.problem, "layout": step.layout,
                       "entry_count": len(step.entries), "wrong_count": len(step.wrong_positions),
                       "entries": [entry(e) for e in _listed(step)]} for step in report.steps],
            "first_wrong_step": None if first is None else report.steps.index(first) + 1,
            "mistake": None if report.mistake is None else {"key": report.mistake.key, "name": report.mistake.name,
                                                             "feedback": report.mistake.feedback},
            "counterexample": counterexample, "notes": list(report.notes)}
    return json.dumps(data, indent=2)


JSON_ENTRIES = 1000  # a step with more entries lists its wrong ones only (up to as many)


def _listed(step: StepResult) -> list[EntryResult]:
    """The entries JSON lists: all of them, or of a larger step the wrong ones (its counts say how many)."""
    return list(step.entries[:]) if len(step.entries) <= JSON_ENTRIES else step.wrong_entries(JSON_ENTRIES)


def shape_text(shape) -> str:
    return " x ".join(map(str, shape))
