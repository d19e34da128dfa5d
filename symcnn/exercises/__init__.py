"""The exercises stage: seeded variants of the course's exercise kinds, questions, worked
solutions and answer keys.

:mod:`.ranges` (the instructor's settings) -> :mod:`.kinds` (draw a variant of a kind:
:mod:`.forward`, :mod:`.counting`, :mod:`.backprop`) -> :mod:`.sheet` (question and solution as
LaTeX, PDF and HTML) and :mod:`.variant` (the key the grader reads).
"""

from .kinds import (KINDS, key_from_data, kind_of, make_key, make_variant, ranges_for, read_key, read_settings,
                    student_seed)
from .ranges import SETTINGS, parse_assignment
from .variant import Grading, Key, Variant, key_data, write_key
from .writer import write_exercise

__all__ = ["Grading", "KINDS", "Key", "SETTINGS", "Variant", "key_data", "key_from_data", "kind_of", "make_key",
           "make_variant", "parse_assignment", "ranges_for", "read_key", "read_settings", "student_seed", "write_exercise",
           "write_key"]
