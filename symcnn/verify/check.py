r"""Check a hand derivation: parse -> compare -> diagnose -> report.

1. **Parse** (:mod:`symcnn.parse`): every equation of the answer, ``lhs = step = step ...``;
   the left-hand side names what each step must equal (``--wrt``/``--of`` when there is none).
2. **Compare** (:mod:`.compare`): a generic entry (free indices on the left, such as ``k`` in
   ``\frac{\partial L}{\partial W^1_k}``) is checked at every value of its indices; a whole
   matrix by its layout (the course's ``size(wrt) x size(of)``, or a gradient in the variable's
   own shape), then entry by entry.
3. **Diagnose** (:mod:`.mistakes`): the first wrong step is compared with each mutation of the
   derivation; one that agrees at every entry names the mistake.
4. **Report** (:mod:`.report`).

A network of :data:`~.grid.LARGE` entries or more (LeNet-5), or an answer of :data:`~.grid.MANY`
entries or more, is compared on the grid of the answer's indices at once, in extended-precision
floats (:mod:`.grid`), and its mistakes are not named: the exact values of its entries reach
through the whole network.

Softmax outputs: see :mod:`.softmax`.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import numpy as np
import sympy

from ..derive.general import softmax_output
from ..errors import LatexError, SymcnnError
from ..parse.indexed import free_indices, instantiate, sum_past_entries, sum_variables
from ..latex import tensor_latex
from ..latex.formulas import course_printing
from ..parse import read_answer
from ..parse.tables import written_indices
from .compare import Deadline, PointChecker
from .grid import LARGE, MANY, TOLERANCE, GridChecker
from .mistakes import CHAIN_REVERSED, SUM_LETTER, SUM_RANGE, TRANSPOSED, WRONG_QUANTITY, chain, mutations, product_of
from .softmax import softmax_convention
from .report import EntryResult, LazyEntries, Report, StepResult, shape_text as _shape
from .target import Target, own_to_layout

DIAGNOSIS_POINTS = 12


def verify(net, answer: str, wrt: str | None = None, of: str = "L", points: int = 64, seed: int = 0,
           source: str = "<answer>", time_limit: float | None = None, exact: bool | None = None) -> Report:
    """Check a LaTeX answer (see the module doc); raises LatexError for unreadable answers
    and TimeLimitError past ``time_limit`` seconds.  ``exact``: True compares entry by entry
    exactly, False on the grid in floats (:mod:`.grid`), None (default) by the network's size and
    the answer's: the grid for a network of :data:`~.grid.LARGE` entries or an answer of
    :data:`~.grid.MANY` entries to check (the digits net's 512 x 512 dA^1/dZ^1: 28 s exact, 0.8 s)."""
    if points < 1:
        raise LatexError(f"points must be at least 1, got {points}")
    requested = None if wrt is None else (net.tensor(of) if of != "L" else "L", net.tensor(wrt))
    try:
        return _verify(net, answer, requested, points, seed, source, time_limit, exact)
    except SymcnnError as error:  # one line, whatever the message's source wrote
        raise type(error)(" ".join(str(error).split())) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError) as error:
        # SymPy or latex2sympy2 choking on a student's input: no traceback, no verdict
        first = (str(error).splitlines() or [""])[0][:200]
        raise LatexError(f"{source}: cannot check this answer ({type(error).__name__}: {first})") from None


def large(net) -> bool:
    """Whether a network is checked on the grid (:mod:`.grid`): its ``Z^l, A^l`` have
    :data:`~.grid.LARGE` entries or more."""
    return sum(net.symbol_array(name).size for name in net.flow[1:] if name != "L") >= LARGE


def _verify(net, answer, requested, points, seed, source, time_limit, exact) -> Report:
    with Deadline(time_limit) as deadline:
        grid = not exact if exact is not None else large(net)
        equations, reader = read_answer(net, answer, source, named=grid)
        plan = [(equation, _quantity(equation, requested, reader)) for equation in equations]
        if exact is None and not grid and sum(_entry_count(reader, q) for _, q in plan) >= MANY:
            grid = True  # read again: the grid keeps named gradients as entries of their own
            equations, reader = read_answer(net, answer, source, named=grid)
            plan = [(equation, _quantity(equation, requested, reader)) for equation in equations]
        if not plan and requested:
            return _nothing_derived(reader, requested)
        if not plan and not reader.facts:
            raise reader.error(0, "the answer only names formulas (e = A^2 - y): write the derivative that uses them")
        if requested and not any(q[:2] == requested for _, q in plan):
            return _other_quantity(reader, plan, requested)
        session = _Session(net, reader, deadline, grid)
        session.convention([s for e, _ in plan for s in e.steps])
        session.checker = GridChecker(net, reader, points, seed, deadline, session.course_output) if grid \
            else PointChecker(net, points, seed, deadline)
        results = [_fact_result(fact) for fact in reader.facts]
        work = [None] * len(results)  # a fact names no mistake of the catalogue
        for equation, quantity in plan:
            for step in equation.steps:
                deadline.doing = f"checking {reader.source.where(step.at.start)}"
                result, cells, given = session.check(quantity, step)
                results.append(result)
                work.append((quantity, cells, given))
        mistake = None
        first = next((k for k, r in enumerate(results) if not r.right), None)
        if first is not None and work[first] is not None:
            deadline.doing = "naming the mistake"
            mistake = session.diagnose(results[first], *work[first])
        title = _title(*requested) if requested else results[-1].title
        return Report(title, tuple(results), mistake, tuple(session.notes()), course_printing(net))


FACT_POINTS = tuple(sympy.Rational(n, d) for n, d in ((-11, 3), (-7, 3), (-3, 2), (-1, 2), (-1, 7), (1, 9), (1, 4),
                                                      (2, 3), (3, 2), (5, 2), (4, 1), (7, 1)))
"""Where a fact's sides are compared: both signs, away from 0 (the kinks' place), near it and far."""


def _fact_result(fact) -> StepResult:
    """A fact about a function (:mod:`symcnn.parse.facts`), its sides compared to 30 digits at
    every combination of :data:`FACT_POINTS` for its variables where both sides are finite
    (``\\frac{1}{2z+1}`` is not compared at ``z = -1/2``)."""
    title = " = ".join(fact.texts)
    compared = 0
    for values in product(FACT_POINTS, repeat=len(fact.variables)):
        point = dict(zip(fact.variables, values))
        numbers = [sympy.N(side.xreplace(point), 30) for side in fact.sides]
        if any(isinstance(n, sympy.MatrixBase) or not n.is_number for n in numbers):
            raise LatexError(f"{fact.where}: cannot read {title} as a fact about a function of "
                             f"{', '.join(map(str, fact.variables))}")
        if any(n.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) for n in numbers):
            continue
        compared += 1
        for k, number in enumerate(numbers[1:], 1):
            if abs(number - numbers[0]) > sympy.Float("1e-20", 30) * (1 + abs(numbers[0])):
                at = ", ".join(f"{v} = {p}" for v, p in point.items())
                problem = (f"this does not hold: at {at}, {fact.texts[0]} is {_number(numbers[0])} and "
                           f"{fact.texts[k]} is {_number(number)}")
                return StepResult(title, fact.where, fact.texts[k], None, None, problem=problem)
    if not compared:
        raise LatexError(f"{fact.where}: {title} has no value at any of the points it is checked at")
    return StepResult(title, fact.where, " = ".join(fact.texts[1:]), None, None)


def _number(value) -> str:
    """A number of a fact's side, 6 digits (a complex one too: ``\\sqrt{z}`` at ``z < 0``)."""
    real, imaginary = (float(part) for part in value.as_real_imag())
    if not imaginary:
        return f"{real:.6g}"
    return f"{imaginary:.6g}i" if not real else f"{real:.6g}{imaginary:+.6g}i"


def _entry_count(reader, quantity) -> int:
    """How many entries an equation's left-hand side names: every value of its free indices."""
    of, wrt, of_index, wrt_index, _ = quantity
    count, seen = 1, set()
    for tensor, index in ((of, of_index), (wrt, wrt_index)):
        if tensor in (None, "L"):
            continue
        if index is None:
            count *= reader.tables.size(tensor)
            continue
        for (low, high), i in zip(reader.tables.ranges(tensor), index):
            if isinstance(i, sympy.Symbol) and i not in seen:
                seen.add(i)
                count *= high - low + 1
    return count


def _other_quantity(reader, plan, requested) -> Report:
    """An answer that derives something else than what is asked (``dL/dW^2`` for ``dL/dW^1``):
    wrong, each of its equations named, the mistake WRONG_QUANTITY."""
    asked = _title(*requested)
    results = tuple(StepResult(asked, reader.source.where(equation.at.start), equation.steps[0].text, None, None,
                               problem=f"the answer derives {_title(*quantity)}; the question asks for {asked}")
                    for equation, quantity in plan)
    return Report(asked, results, WRONG_QUANTITY, tuple(dict.fromkeys(reader.notes)), course_printing(reader.net))


def _nothing_derived(reader, requested) -> Report:
    """An answer of names and facts only (``e = A^2 - y``, ``\\sigma'(z) = ..``) to a question:
    wrong, no mistake of the catalogue named; its facts are still checked."""
    asked = _title(*requested)
    missing = StepResult(asked, "line 1, column 1", "", None, None,
                         problem=f"the answer names formulas or states facts about functions, and derives nothing; "
                                 f"the question asks for {asked}")
    facts = tuple(_fact_result(fact) for fact in reader.facts)
    return Report(asked, facts + (missing,), None, tuple(dict.fromkeys(reader.notes)), course_printing(reader.net))


def _quantity(equation, requested, reader):
    """``(of, wrt, of_index, wrt_index, stated)`` of one equation (``stated``: the values
    written after it for its free indices, ``k = 1, 2, 3``, as ``{variable: (letter, values)}``;
    the variable of ``vec(A^2)_i``'s ``i`` is its flat position, :func:`~symcnn.parse.tensors.read_ref`)."""
    lhs = equation.lhs
    unknown = [letter for letter in equation.ranges if lhs is None or letter not in lhs.free]
    if unknown:
        raise reader.error(equation.at, f"a range is stated for {unknown[0]}, which is not an index of the "
                                        "left-hand side")
    if lhs is None:
        if requested is None:
            raise reader.error(equation.at, "without --wrt the answer needs a left-hand side, e.g. "
                                            "\\frac{\\partial L}{\\partial W^1} = ... or Z^1_2 = ...")
        return (*requested, None, None, {})
    of = "L" if lhs.of.kind == "loss" else lhs.of.tensor
    wrt = None if lhs.wrt is None else lhs.wrt.tensor
    of_index = () if lhs.of.kind == "loss" else lhs.of.indices
    stated = {lhs.free[letter]: (letter, values) for letter, values in equation.ranges.items()}
    return of, wrt, of_index, None if lhs.wrt is None else lhs.wrt.indices, stated


def _title(of, wrt, *_):
    return Target(None, of, wrt, sympy.Matrix()).title


class _Session:
    """The state of one check: targets, the softmax convention, what was read as 0."""

    def __init__(self, net, reader, deadline, grid: bool):
        self.net, self.reader, self.deadline, self.grid = net, reader, deadline, grid
        self.checker = None  # a PointChecker, or a GridChecker on the grid; set once the convention is read
        self.targets: dict = {}
        self.output_map: dict = {}
        self._notes: list[str] = []

    @property
    def course_output(self) -> str | None:
        """``A^L`` when the answer reads it as ``softmax(Z^L)`` (the course's convention)."""
        return softmax_output(self.net) if self.output_map else None

    def target(self, of, wrt) -> Target:
        if (of, wrt) not in self.targets:
            self.targets[of, wrt] = Target.derived(self.net, of, wrt, named=self.grid)
        return self.targets[of, wrt]

    def notes(self) -> list[str]:
        notes = list(dict.fromkeys(self.reader.notes)) + self._notes
        if self.grid and self.checker is not None and self.checker.points:
            count = len(self.checker.points)
            notes.append(f"checked at {count} random point{'s' if count > 1 else ''} in "
                         f"{np.finfo(np.longdouble).precision}-digit floats, every entry at once, as for every network "
                         f"or answer this large: a difference below {TOLERANCE:.1g} of the largest entry would not be seen, "
                         "and the mistake is not named")
        if self.reader.scope.outside:
            outside = sorted(self.reader.scope.outside)
            notes.append("read as 0 (outside the tensors, the course's zero padding): "
                         + ", ".join(outside[:8]) + (", ..." if len(outside) > 8 else ""))
        return notes

    def convention(self, steps):
        """The softmax convention of the answer (see the module doc): how to read ``A^L``."""
        self.output_map, notes = softmax_convention(self.net, self.reader, steps)
        self._notes += notes

    # -- comparing -----------------------------------------------------------------------------

    def given(self, step, assignment):
        """The step's value at an assignment of the free indices, in the network's symbols."""
        try:
            given = instantiate(step.value, assignment, self.reader.scope)
        except LatexError as error:  # instantiation knows the piece, the step knows where
            raise self.reader.error(step.at, str(error)) from None
        free = free_indices(given, self.reader.scope)
        if free:
            raise self.reader.error(step.at, f"the index {sorted(map(str, free))[0]} is bound neither by a sum "
                                             "nor by the left-hand side")
        return given.xreplace(self.output_map) if self.output_map else given

    def check(self, quantity, step):
        """One step against the quantity: ``(StepResult, checked cells, the given matrix)``.  A
        sum over the left-hand side's own index, or run past a tensor's entries
        (:func:`~symcnn.parse.indexed.sum_past_entries`), makes a step wrong even where the
        entries outside, read as 0, leave its values right."""
        of, wrt, of_index, wrt_index, _ = quantity
        indices = [i for i in (of_index or ()) + (wrt_index or ()) if isinstance(i, sympy.Basic)]
        shadowed = sum_variables(step.value) & set().union(*(i.free_symbols for i in indices))
        if shadowed:
            problem = (f"{sorted(map(str, shadowed))[0]} is the left-hand side's index and also a \\sum's variable: "
                       "the sum does not depend on the left-hand side's index")
            return StepResult(self.target(of, wrt).title, self.reader.source.where(step.at.start), step.text, None,
                              None, problem=problem, mistake=SUM_LETTER), [], None
        past = sum_past_entries(step.value, self.reader.scope, lambda table: table.tensor is not None and
                                bool(self.net.padding_symbols(table.tensor)), self._index_ranges(quantity))
        result, cells, given = self._check(quantity, step)
        if past and result.right:
            result = replace(result, entries=(), problem=past, mistake=SUM_RANGE)
        elif past and not result.problem:  # named when the catalogue names nothing (diagnose)
            result = replace(result, mistake=SUM_RANGE)
        return result, cells, given

    def _check(self, quantity, step):
        of, wrt, of_index, wrt_index, _ = quantity
        if wrt is not None and (of, wrt) in step.derivatives:
            raise self.reader.error(step.at, f"the right-hand side uses {self.target(of, wrt).title} itself, "
                                             "the derivative it is to compute")
        if step.derivatives:
            self._notes.append("derivatives on the right-hand side (" + ", ".join(
                sorted(self.target(o, w).title for o, w in step.derivatives)) + ") are read as symcnn's derived values")
        target = self.target(of, wrt)
        where = self.reader.source.where(step.at.start)
        indexed = (of != "L" and of_index is not None) or (wrt is not None and wrt_index is not None)
        if indexed:
            return self._check_entries(target, quantity, step, where)
        given = self.given(step, {})
        given = given if isinstance(given, sympy.MatrixBase) else sympy.Matrix([[given]])
        expected = target.shape
        layout, problem = None, None
        own = target.own_shape()
        if step.reversed_chain:
            problem = (f"{CHAIN_REVERSED.name}: the sizes of its factors fit only from the loss to the variable; in the "
                       f"course's layout (size(wrt) x size(of)) the chain runs from the variable to the loss")
        elif given.shape != expected:
            if own and given.shape == own:
                given, layout = own_to_layout(given), f"in {tensor_latex(wrt)}'s own shape {_shape(own)}, row by row"
            elif own and given.shape == own[::-1] or given.shape == expected[::-1]:
                problem = (f"transposed: in the course's layout ${target.title}$ is {_shape(expected)}"
                           + (f" (or {_shape(own)} in ${tensor_latex(wrt)}$'s own shape)" if own else "")
                           + f", the answer is {_shape(given.shape)}")
            else:
                problem = f"the answer is {_shape(given.shape)}, ${target.title}$ is {_shape(expected)}"
        result = StepResult(target.title, where, step.text, expected, given.shape, problem=problem, layout=layout,
                            mistake=CHAIN_REVERSED if step.reversed_chain else None)
        if problem:
            return result, [], given
        labels = target.labels() if wrt is not None else [[l[0]] for l in target.labels()]
        rows = written_indices(self.net, wrt) if wrt else [()]
        cols = written_indices(self.net, of) if of != "L" else [()]
        if wrt is None:
            cells = [(cols[r], (), given[r, 0], labels[r][0]) for r in range(expected[0])]
        else:
            cells = [(cols[c], rows[r], given[r, c], labels[r][c]) for r in range(expected[0])
                       for c in range(expected[1])]
        entries = self._entries(target, cells)
        return StepResult(target.title, where, step.text, expected, given.shape, tuple(entries), None, layout), cells, given

    def _index_ranges(self, quantity) -> dict:
        """``{letter: (low, high)}`` of the left-hand side's index letters: the range of the
        axes each stands alone at (the narrowest where it stands at several)."""
        of, wrt, of_index, wrt_index, _ = quantity
        ranges: dict = {}
        for indices, tensor in ((of_index or (), of), (wrt_index or (), wrt)):
            if tensor in (None, "L"):
                continue
            axes = self.reader.tables.ranges(tensor)
            for position, index in enumerate(indices):
                if isinstance(index, sympy.Symbol) and position < len(axes):
                    low, high = axes[position]
                    old = ranges.get(index, (low, high))
                    ranges[index] = (max(low, old[0]), min(high, old[1]))
        return ranges

    def _check_entries(self, target, quantity, step, where):
        of, wrt, of_index, wrt_index, stated = quantity
        for tensor, index in ((of, of_index), (wrt, wrt_index)):
            if tensor not in (None, "L") and index is None and self.reader.tables.size(tensor) > 1:
                raise self.reader.error(step.at, "the left-hand side names an entry on one side and a whole "
                                                 "tensor on the other: name both entries, or neither")
        of_index = of_index or ()
        wrt_index = wrt_index or ()
        for tensor, index in ((of, of_index), (wrt, wrt_index)):
            axes = self.reader.tables.axes(tensor) if tensor not in (None, "L") else 0
            if tensor not in (None, "L") and len(index) != axes and not (axes == 0 and len(index) <= 1):
                letters = [str(i) for i, k in zip(self.net.general.letters(tensor), self.net.general.kept(tensor)) if k]
                raise self.reader.error(step.at, f"the left-hand side writes {tensor_latex(tensor)} with {len(index)} "
                                                 f"indices; it has {axes} ({', '.join(letters)}: an axis of size 1 "
                                                 "is left out, as in the symbols' names)")
        ranges = self._index_ranges(quantity)
        variables = list(ranges)
        for variable, (letter, values) in stated.items():
            every = tuple(range(ranges[variable][0], ranges[variable][1] + 1)) if variable in ranges else ()
            if not isinstance(variable, sympy.Symbol) and variable.free_symbols <= set(ranges):  # vec(A^2)_i
                axes = sorted(variable.free_symbols, key=str)
                every = tuple(sorted({int(variable.xreplace(dict(zip(axes, point)))) for point in
                                      product(*[range(ranges[a][0], ranges[a][1] + 1) for a in axes])}))
            if values != every:
                problem = (f"the answer states {letter} = {', '.join(map(str, values))}; {target.title} needs "
                           + (f"{letter} = {every[0]}..{every[-1]}" if every else f"no range for {letter}"))
                return StepResult(target.title, where, step.text, None, None, problem=problem), [], None
        if self.grid:
            return self._check_grid(target, quantity, step, where, variables, ranges)
        cells = []
        for values in product(*[range(ranges[v][0], ranges[v][1] + 1) for v in variables]):
            self.deadline.check()
            assignment = dict(zip(variables, values))
            oi = tuple(int(sympy.sympify(i).xreplace(assignment)) for i in of_index)
            wi = tuple(int(sympy.sympify(i).xreplace(assignment)) for i in wrt_index)
            given = self._one_entry(step, self.given(step, assignment))
            if target.expected(oi, wi) is None:
                raise self.reader.error(step.at, f"the left-hand side names {target.label(oi, wi)}, which "
                                                 "the network does not have")
            cells.append((oi, wi, given, target.label(oi, wi)))
        entries = self._entries(target, cells)
        return self._indexed_result(target, where, step, variables, ranges, entries), cells, None

    def _one_entry(self, step, value):
        """The value of a step whose left-hand side names one entry (a 1x1 matrix is its entry)."""
        if isinstance(value, sympy.MatrixBase):
            if value.shape != (1, 1):
                raise self.reader.error(step.at, f"the left-hand side names one entry, the right-hand side is "
                                                 f"a {_shape(value.shape)} matrix")
            value = value[0, 0]
        return value

    @staticmethod
    def _indexed_result(target, where, step, variables, ranges, entries) -> StepResult:
        shape = (len(entries), 1)
        every = ", ".join(f"{v} = {ranges[v][0]}..{ranges[v][1]}" for v in variables)
        title = target.title + (f" at every {every}" if every else "")
        return StepResult(title, where, step.text, shape, shape, entries if isinstance(entries, LazyEntries) else tuple(entries))

    def _check_grid(self, target, quantity, step, where, variables, ranges):
        """:meth:`_check_entries` on the grid (:meth:`.grid.GridChecker.check_entries`)."""
        _, _, of_index, wrt_index, _ = quantity
        value = self._one_entry(step, step.value.xreplace(self.output_map) if self.output_map else step.value)
        entries = self.checker.check_entries(target, step, value, variables, ranges, tuple(of_index or ()),
                                             tuple(wrt_index or ()), lambda assignment: self.given(step, assignment))
        return self._indexed_result(target, where, step, variables, ranges, entries), [], None

    def _entries(self, target, cells):
        if self.grid:
            return self.checker.check_cells(target, cells)
        results = []
        for oi, wi, given, label in cells:
            expected = target.expected(oi, wi)
            counterexample = self.checker.compare(expected, given)
            results.append(EntryResult(label, counterexample is None, expected, given, counterexample))
        return results

    # -- naming the mistake -------------------------------------------------------------------

    def diagnose(self, result, quantity, cells, given):
        """The catalogue's mistake that the first wrong step equals at every entry, if any."""
        of, wrt = quantity[:2]
        if result.problem:
            if self.grid:
                return result.mistake
            return result.mistake or (None if given is None else self._transposed(self.target(of, wrt), given))
        return self._catalogue(of, wrt, cells) or result.mistake

    def _catalogue(self, of, wrt, cells):
        if wrt is None or self.grid:
            return None
        target = self.target(of, wrt)
        matrix = target.matrix
        if matrix.rows == matrix.cols and matrix.rows > 1 and self._agrees(target.mutated(matrix.T, "transposed"), cells):
            return TRANSPOSED
        factors = chain(self.net, of, wrt)
        if factors is None:
            return None
        for mistake, mutated in mutations(self.net, factors):
            self.deadline.check()
            candidate = product_of(mutated)
            if of == "L":
                candidate = candidate.xreplace(self.checker.zeros)
            if candidate.shape != matrix.shape:
                continue
            if self._agrees(target.mutated(candidate, mistake.key), cells):
                return mistake
        return None

    def _transposed(self, target, given):
        """TRANSPOSED when the transpose of a wrongly shaped answer has the expected values."""
        expected, own = target.matrix, target.own_shape()
        flipped = own_to_layout(given.T) if own and given.shape == own[::-1] else given.T
        if flipped.shape != expected.shape:
            return None
        agree = all(self.checker.compare(expected[r, c], flipped[r, c], DIAGNOSIS_POINTS) is None
                    for r in range(expected.rows) for c in range(expected.cols))
        return TRANSPOSED if agree else None

    def _agrees(self, target, cells) -> bool:
        if all(self.checker.same_symbolically(target.expected(oi, wi), self.target(target.of, target.wrt)
                                              .expected(oi, wi)) for oi, wi, _, _ in cells):
            return False  # the mutation changes nothing here
        return all(self.checker.compare(target.expected(oi, wi), given, DIAGNOSIS_POINTS) is None
                   for oi, wi, given, _ in cells)
