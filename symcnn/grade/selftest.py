"""The self-test, as PrairieLearn's question tests do it: a variant's own answer must score full
marks, and every answer with one typical mistake (the kind's mutated answers) less.

The mutated answers come from the mistake catalogues (the verify stage's for derivations, each
numeric kind's own); how many of them the grader also names is counted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exercises import KINDS, make_key, make_variant
from .score import Grade, Grader


@dataclass(frozen=True)
class SelfTest:
    kind: str
    seed: int
    right: Grade
    wrong: tuple[tuple[str, Grade], ...]  # (the mutation's mistake key, its grade)

    @property
    def caught(self) -> int:
        return sum(g.score < g.points for _, g in self.wrong)

    @property
    def named(self) -> int:
        return sum(g.mistake == key for key, g in self.wrong)

    @property
    def passed(self) -> bool:
        return self.right.status == "correct" and bool(self.wrong) and self.caught == len(self.wrong)

    def __str__(self) -> str:
        missed = [key for key, g in self.wrong if g.score >= g.points]
        return (f"{self.kind} {self.seed}: own answer {self.right.status} ({self.right.score:g}/{self.right.points:g})"
                + (f" [{self.right.message}]" if self.right.status != "correct" else "")
                + f"; {len(self.wrong)} mutated answer{'s' if len(self.wrong) != 1 else ''}, {self.caught} below full marks, "
                  f"{self.named} named"
                + (f"; full marks for {', '.join(missed)}" if missed else ""))


def self_test(kind: str, seed: int, settings: dict | None = None) -> SelfTest:
    variant = make_variant(kind, seed, settings)
    key = make_key(variant)
    grader = Grader(key)
    right = grader.grade(key.answer, "key answer")
    wrong = tuple((mistake, grader.grade(answer, mistake)) for mistake, answer in KINDS[kind].wrong_answers(variant))
    return SelfTest(kind, seed, right, wrong)
