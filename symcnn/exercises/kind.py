"""What every exercise kind provides: one small class per kind, its parts side by side.

A kind draws a variant from a random generator within its settings (:meth:`Kind.draw`), checks
that the draw makes a good exercise (:meth:`Kind.check`: the typical mistakes must change the
answer, the right answer must read back), and writes the question, the worked solution and a right answer.  A kind asked
for numbers (``numeric``) also gives the expected numbers and the numbers each typical mistake
produces, which the grader compares against; a kind asked for a derivation leaves both to
:func:`symcnn.verify.verify`.  :meth:`Kind.wrong_answers` are the self-test's mutated answers.
"""

from __future__ import annotations

import numpy as np

from ..latex import shape_latex, tensor_latex
from .sheet import values_latex
from .variant import Grading, Variant


class Redraw(Exception):
    """A draw that breaks a constraint (a filter larger than its input): draw again."""


class Kind:
    name = ""
    title = ""
    numeric = False
    defaults: dict = {}
    forms: tuple = ()

    def draw(self, rng, ranges) -> tuple[dict, str, str | None, str | None]:
        """``(spec, of, wrt, form)`` of a new variant; :class:`Redraw` when the draw is unusable."""
        raise NotImplementedError

    def check(self, variant: Variant):
        """Raise :class:`Redraw` unless the variant makes a good exercise: for numbers, an answer
        that is not constant and that every typical mistake changes."""
        if not self.numeric:
            return
        expected = self.expected(variant)
        if expected.size > 1 and len(set(expected.flat)) == 1:
            raise Redraw(f"every entry of the answer is {expected.flat[0]}")
        for mistake, values in self.mistakes(variant):
            if values.shape == expected.shape and not (values != expected).any():
                raise Redraw(f"the mistake {mistake.key!r} would not change the answer")

    def question(self, variant: Variant) -> list:
        raise NotImplementedError

    def solution(self, variant: Variant) -> list:
        raise NotImplementedError

    def answer(self, variant: Variant) -> str:
        """A right answer in LaTeX, as a student would write it."""
        raise NotImplementedError

    def placeholder(self, variant: Variant) -> str:
        """What the answer box shows before anything is typed: the form the answer takes."""
        return f"{tensor_latex(variant.of)} = \\begin{{bmatrix}} ... \\end{{bmatrix}}"

    def shifted_answer(self, variant: Variant) -> str:
        """A wrong answer with every entry off by one: it scores 0, partial credit or not (the
        "incorrect" submission of PrairieLearn's question test)."""
        return self.numbers_latex(variant, self.expected(variant) + 1)

    def grading(self, variant: Variant) -> Grading:
        """The kind's grading defaults (the derivatives an answer may leave unexpanded)."""
        return Grading()

    # -- numeric kinds --------------------------------------------------------------------------

    def expected(self, variant: Variant) -> np.ndarray:
        """The right numbers, exact (object array): ``(maps, *map shape)``."""
        raise NotImplementedError

    def mistakes(self, variant: Variant) -> list:
        """``[(Mistake, numbers)]``: what each typical mistake gives (those that apply)."""
        raise NotImplementedError

    def labels(self, variant: Variant) -> list[str]:
        """Each expected number's name in the course's notation, row-major."""
        raise NotImplementedError

    def numbers_latex(self, variant: Variant, values: np.ndarray) -> str:
        """An answer made of ``values``, written as the question asks for it."""
        raise NotImplementedError

    # -- the self-test ----------------------------------------------------------------------------

    def wrong_answers(self, variant: Variant) -> list[tuple[str, str]]:
        """``[(mistake key, LaTeX)]``: answers with one typical mistake each, all wrong."""
        expected = self.expected(variant)
        return [(mistake.key, self.numbers_latex(variant, values)) for mistake, values in self.mistakes(variant)
                if values.shape != expected.shape or (values != expected).any()]


def maps_latex(of: str, values: np.ndarray) -> str:
    r"""Numbers ``(maps, *shape)`` as the questions ask for them: one matrix for 1D maps (a row
    per filter) or a single 2D map; ``A^{1}_{f} = ...`` for each of several 2D maps."""
    values = np.asarray(values, dtype=object)
    name = tensor_latex(of)
    if values.ndim == 2 or values.shape[0] == 1:
        return f"{name} = {values_latex(values)}"
    lines = [f"{name}_{{{f}}} = {values_latex(values[f - 1])}" for f in range(1, values.shape[0] + 1)]
    return r"\begin{gathered} " + r" \\ ".join(lines) + r" \end{gathered}"


def draw_integers(rng, ranges, shape) -> list:
    low, high = ranges["values"].low, ranges["values"].high
    return rng.integers(low, high + 1, size=shape).tolist()


def draw_input(rng, ranges, channels: int = 1) -> tuple[int, list[int]]:
    """``(dims, input shape as a spec writes it)``."""
    dims = ranges.draw("dims", rng)
    spatial = [ranges.draw("size", rng)] if dims == 1 else [ranges.draw("side", rng)] * 2
    return dims, ([channels] if channels > 1 else []) + spatial


def input_words(shape, dims: int) -> str:
    """``length 5``, ``$4 \\times 4$``, ``3 channels of $4 \\times 4$``."""
    spatial = shape[-dims:]
    size = f"length {spatial[0]}" if dims == 1 else f"${shape_latex(spatial)}$"
    return f"{shape[0]} channels of {size}" if len(shape) > dims and shape[0] > 1 else size
