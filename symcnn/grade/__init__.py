"""The grading stage: a key and submissions -> grades, a CSV gradebook, Gradescope's results.json.

:mod:`.submission` (read safely) -> :mod:`.score` (check with verify or :mod:`.numeric`,
score, diagnose) -> :mod:`.run` (many submissions, each in a worker with a hard time limit) ->
:mod:`.gradebook` (CSV, Gradescope); :mod:`.prairielearn` is the same grading inside a
PrairieLearn question's ``server.py``; :mod:`.selftest` grades every variant's own answers.
"""

from .score import Grade, Grader
from .submission import Refusal, read_submission

__all__ = ["Grade", "Grader", "Refusal", "read_submission"]
