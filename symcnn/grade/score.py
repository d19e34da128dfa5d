r"""One answer against a key: check -> score -> diagnose -> a :class:`Grade`, never an exception.

- **Check.** A derivation (``jacobian``, ``delta``, ``gradient``) by :func:`symcnn.verify.verify`,
  in whatever notation it reads; numbers (``conv-output``, ``pool-output``, ``weight-count``) by
  :mod:`.numeric`.  Both within the key's time limit.
- **Complete.** The last side of every equation must be written in the network's symbols: a
  derivative left on it (``\frac{\partial Z^1}{\partial W^1}`` in a chain rule, ``\delta^1_i``)
  must be defined by an equation of the answer, or be one the key allows (``delta^{l+1}`` in a
  delta exercise).  Otherwise the chain rule alone, which verify reads as true, would score.
- **Score.** Right: the key's points.  Wrong: 0, or with partial credit the share of the
  entries that are right in the answer's weakest step (a step of the wrong shape has none).
- **Diagnose.** The mistake the checker named (verify's catalogue, or the kind's numeric one).

An answer that cannot be read, is empty, binary, too large or too slow gets 0 and one line
saying why; an error inside symcnn is reported as such (status ``error``), also with 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

from ..errors import SymcnnError
from ..exercises import KINDS, Key
from ..latex import partial, tensor_latex
from ..parse import read_answer
from ..verify import TimeLimitError, verify
from ..verify.compare import Deadline
from ..verify.report import text as report_text
from .numeric import check_numbers, read_parts
from .submission import Refusal, check_text

GRADED = ("correct", "partial", "wrong", "incomplete")
DERIVATIVES_NOTE = "derivatives on the right-hand side"  # verify's note when a step uses one


@dataclass(frozen=True)
class Grade:
    """One submission's grade: ``status`` (``correct``, ``partial``, ``wrong``, ``incomplete``,
    or why it was not graded: ``unreadable``, ``empty``, ``binary``, ``too-large``,
    ``too-slow``, ``missing``, ``error``), the score out of ``points``, one line for the student
    (the named mistake's words, or the reason), the mistake's key, and the report as text."""

    submission: str
    status: str
    score: float
    points: float
    message: str
    mistake: str | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def refused(submission: str, refusal: Refusal, points: float) -> Grade:
    return Grade(submission, refusal.status, 0.0, points, refusal.message)


class Grader:
    """Grades answers against one key; the key's right numbers are computed once."""

    def __init__(self, key: Key):
        self.key, self.variant, self.kind = key, key.variant, KINDS[key.variant.kind]

    @cached_property
    def _numbers(self):
        v = self.variant
        return self.kind.expected(v), self.kind.labels(v), self.kind.mistakes(v)

    def grade(self, text: str, submission: str = "<answer>") -> Grade:
        points, limit = self.key.grading.points, self.key.grading.time_limit
        checked = check_text(text)
        if isinstance(checked, Refusal):
            return refused(submission, checked, points)
        try:
            with Deadline(limit):
                report = self._check(text, submission)
                undefined = [] if self.kind.numeric else self._undefined(text, submission, report)
        except TimeLimitError:
            return Grade(submission, "too-slow", 0.0, points, f"checking this answer took longer than the "
                                                               f"time limit ({limit:g} s)")
        except SymcnnError as error:  # LatexError and friends: the answer cannot be read
            return Grade(submission, "unreadable", 0.0, points, _one_line(str(error)))
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError,
                MemoryError) as error:  # SymPy or the LaTeX parser choking on a student's input
            return Grade(submission, "unreadable", 0.0, points,
                         _one_line(f"cannot check this answer ({type(error).__name__}: {error})"))
        except Exception as error:  # noqa: BLE001 - a bug in symcnn must not cost the class its grades
            return Grade(submission, "error", 0.0, points,
                         _one_line(f"symcnn failed on this answer ({type(error).__name__}: {error}); "
                                   "please report it"))
        return self._graded(report, undefined, submission)

    def _check(self, text: str, submission: str):
        v = self.variant
        if self.kind.numeric:
            expected, labels, mistakes = self._numbers
            parts = read_parts(v.network, text, submission, v.of if v.of != "weights" else None)
            title = tensor_latex(v.of) if v.of != "weights" else "the weights of each layer"
            return check_numbers(parts, expected, labels, mistakes, title)
        return verify(v.network, text, wrt=v.wrt, of=v.of, source=submission, time_limit=None)

    def _undefined(self, text: str, submission: str, report) -> list[tuple[str, str]]:
        """The derivatives left on an equation's last side, neither defined nor allowed."""
        if not any(note.startswith(DERIVATIVES_NOTE) for note in report.notes):
            return []
        equations, _ = read_answer(self.variant.network, text, submission)
        defined = {_pair(e.lhs) for e in equations if e.lhs is not None}
        used = set().union(*(e.steps[-1].derivatives for e in equations))
        return sorted(used - defined - set(self.key.grading.allowed_derivatives))

    def _graded(self, report, undefined, submission: str) -> Grade:
        points, partial_credit = self.key.grading.points, self.key.grading.partial_credit
        detail = report_text(report, hide_solution=True)
        mistake = report.mistake
        if report.correct and undefined:
            names = ", ".join(f"${partial(*pair)}$" for pair in undefined)
            return Grade(submission, "incomplete", 0.0, points,
                         f"the answer leaves {names} unexpanded: write it in the network's symbols (X, W, Z, A, y) "
                         "or define it by an equation of its own", None, detail)
        if report.correct:
            return Grade(submission, "correct", points, points, "correct", None, detail)
        share = _share(report) if partial_credit else 0.0
        if mistake is not None:
            message = f"{mistake.name} (hint: {mistake.feedback})"
        else:
            step = report.first_wrong
            wrong = step.wrong_positions
            message = step.problem or (f"{len(wrong)} of {len(step.entries)} entries are wrong, the first "
                                       f"${step.entries[wrong[0]].label}$")
        return Grade(submission, "partial" if share > 0 else "wrong", round(points * share, 4), points,
                     _one_line(message), None if mistake is None else mistake.key, detail)


def _share(report) -> float:
    """The share of right entries in the weakest step (0 for a step of the wrong shape)."""
    return min((1 - len(step.wrong_positions) / len(step.entries)) if len(step.entries) and not step.problem else 0.0
               for step in report.steps)


def _pair(quantity) -> tuple[str, str | None]:
    of = "L" if quantity.of.kind == "loss" else quantity.of.tensor
    return of, None if quantity.wrt is None else quantity.wrt.tensor


def _one_line(message: str) -> str:
    return " ".join(message.split())
