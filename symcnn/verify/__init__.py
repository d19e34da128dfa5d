"""The verify stage: a hand derivation in LaTeX checked against symcnn's, its mistake named.

parse (:mod:`symcnn.parse`) -> compare (:mod:`.compare`, against :mod:`.target`) -> diagnose
(:mod:`.mistakes`) -> report (:mod:`.report`), driven by :func:`~.check.verify`.
"""

from .check import verify
from .compare import TimeLimitError
from .mistakes import Mistake
from .report import Report, to_json

__all__ = ["Mistake", "Report", "TimeLimitError", "to_json", "verify"]
