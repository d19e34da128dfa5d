r"""A PrairieLearn question whose ``server.py`` draws variants and grades answers with symcnn.

PrairieLearn calls ``generate(data)`` once per variant (``data["variant_seed"]``), then, for each
submission, ``parse(data)`` and ``grade(data)``.  Here:

- ``generate`` draws the variant from the question's seed and PrairieLearn's variant seed, puts
  the question and the worked solution (HTML with MathJax math) in ``data["params"]``, the key
  (without its answer) in ``data["params"]["key"]`` and a right answer in
  ``data["correct_answers"]["answer"]``;
- ``parse`` refuses an empty, binary or oversized answer as a format error (not graded, no
  attempt used);
- ``grade`` checks the LaTeX answer against the key: ``data["partial_scores"]["answer"]``
  (score, weight, feedback), ``data["score"]`` and ``data["feedback"]["answer"]``; an answer
  symcnn cannot read is a format error too, with the line and column of the piece, as
  PrairieLearn's own input elements do.

:func:`write_question` writes the question folder (``info.json``, ``question.html``,
``server.py``).  PrairieLearn runs ``server.py`` in its own Python: symcnn must be importable
there (the README's "PrairieLearn" section).
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from pathlib import Path

from ..errors import SymcnnError
from ..exercises import KINDS, key_data, key_from_data, make_key, make_variant
from ..exercises.sheet import html as blocks_html
from ..exercises.variant import VERSION
from .score import GRADED, Grader
from .submission import Refusal, check_text

ANSWER = "answer"  # the answers-name of the question's input box


class Question:
    """One PrairieLearn question: a kind, a seed mixed into every variant, the settings."""

    def __init__(self, kind: str, seed: int = 0, settings: dict | None = None, partial_credit: bool = False,
                 time_limit: float = 20.0):
        self.kind, self.seed, self.settings = kind, seed, dict(settings or {})
        self.partial_credit, self.time_limit = partial_credit, time_limit
        make_variant(kind, 0, self.settings, "server.py")  # bad settings fail when the question loads

    def generate(self, data: dict) -> None:
        variant = make_variant(self.kind, self.variant_seed(data.get("variant_seed", 0)), self.settings, "server.py")
        key = make_key(variant, 1.0, self.partial_credit, self.time_limit)
        kind = KINDS[self.kind]
        stored = key_data(key)
        del stored["answer"]  # params may reach the browser; the answer goes to correct_answers
        data["params"].update({"question": blocks_html(kind.question(variant)),
                               "solution": blocks_html(kind.solution(variant)), "key": stored})
        data["correct_answers"][ANSWER] = key.answer

    def parse(self, data: dict) -> None:
        text = data.get("submitted_answers", {}).get(ANSWER)
        checked = check_text(text) if isinstance(text, str) else Refusal("empty", "the answer is empty")
        if isinstance(checked, Refusal):
            data["format_errors"][ANSWER] = checked.message

    def grade(self, data: dict) -> None:
        if data.get("format_errors", {}).get(ANSWER):
            return
        key = key_from_data({**data["params"]["key"], "answer": data["correct_answers"].get(ANSWER, "")},
                            "params.key")
        grade = Grader(key).grade(data["submitted_answers"][ANSWER], ANSWER)
        if grade.status not in GRADED and grade.status != "too-slow":
            data["format_errors"][ANSWER] = grade.message  # unreadable: PrairieLearn's "invalid", no attempt used
            return
        score = grade.score / grade.points
        feedback = f"<p>{html.escape(grade.message)}</p>" + (
            f"<pre>{html.escape(grade.detail)}</pre>" if grade.detail else "")
        data["partial_scores"][ANSWER] = {"score": score, "weight": 1, "feedback": feedback}
        data["score"] = score
        data["feedback"][ANSWER] = feedback

    def variant_seed(self, variant_seed) -> int:
        """The variant's seed: the question's seed and PrairieLearn's mixed (PrairieLearn's may
        be a number or a string)."""
        digest = hashlib.sha256(f"{self.seed}:{variant_seed}".encode()).hexdigest()
        return int(digest[:12], 16)


QUESTION_HTML = """<pl-question-panel>
{{{params.question}}}
</pl-question-panel>

<pl-string-input answers-name="answer" multiline="true" label="Your answer, in LaTeX:"
  placeholder="e.g. A^1 = \\begin{bmatrix} 1 & 0 \\end{bmatrix}" remove-spaces="false"></pl-string-input>

<pl-submission-panel>
{{{feedback.answer}}}
</pl-submission-panel>

<pl-answer-panel>
{{{params.solution}}}
</pl-answer-panel>
"""

SERVER_PY = '''"""PrairieLearn question written by `symcnn exercise {kind} --seed {seed} --prairielearn` (symcnn {version}).

Every variant is drawn by symcnn from PrairieLearn's variant seed and graded by symcnn:
symcnn must be importable here (see symcnn's README, "PrairieLearn").
"""

from symcnn.grade.prairielearn import Question

QUESTION = Question({kind!r}, seed={seed}, settings={settings!r}, partial_credit={partial_credit},
                    time_limit={time_limit})


def generate(data):
    QUESTION.generate(data)


def parse(data):
    QUESTION.parse(data)


def grade(data):
    QUESTION.grade(data)
'''


def write_question(folder: str | Path, kind: str, seed: int, settings: dict | None = None,
                   partial_credit: bool = False, time_limit: float = 20.0) -> list[Path]:
    """The question folder ``info.json``, ``question.html``, ``server.py``; the files written."""
    question = Question(kind, seed, settings, partial_credit, time_limit)  # checks the settings
    folder = Path(folder)
    identity = json.dumps([kind, seed, question.settings], sort_keys=True)
    info = {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"symcnn-exercise:{identity}")),
            "title": KINDS[kind].title, "topic": "Convolutional networks", "tags": ["symcnn", kind], "type": "v3"}
    server = SERVER_PY.format(kind=kind, seed=seed, version=VERSION, settings=question.settings,
                              partial_credit=partial_credit, time_limit=time_limit)
    files = {"info.json": json.dumps(info, indent=2) + "\n", "question.html": QUESTION_HTML, "server.py": server}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise SymcnnError(f"{folder}: cannot write the question ({error.strerror})") from None
    return [folder / name for name in files]
