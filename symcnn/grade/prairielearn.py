r"""A PrairieLearn question whose ``server.py`` draws variants and grades answers with symcnn.

PrairieLearn (its ``zygote.py`` and ``question_phases``) runs each phase of ``server.py`` in a
freshly forked worker, with ``data`` passed as JSON, and kills the call after 10 s
(``questionTimeoutMilliseconds``).  A phase may change only its own keys of ``data``.  Here:

- importing ``server.py`` builds nothing (the settings are checked, no variant is drawn);
- ``generate`` draws the variant from the question's seed and ``data["variant_seed"]``: the
  question and worked solution (HTML with MathJax math) and the answer box's placeholder in
  ``data["params"]``, the key without its answer in ``data["params"]["key"]``, a right answer
  in ``data["correct_answers"]["answer"]``;
- ``parse`` refuses an empty, binary or oversized answer as a format error (no attempt used);
- ``grade`` checks the answer in a forked process, killed past the key's time limit (below
  PrairieLearn's; an answer too slow to check is a format error, never a grade):
  ``data["partial_scores"]["answer"] = {"score": s, "weight": 1}`` (exactly these keys: the
  question test compares them), ``data["score"] = s`` and the words for the student in
  ``data["feedback"]["answer"]``; an answer symcnn cannot read is a format error, with the line
  and column of the piece, as PrairieLearn's own input elements do;
- ``test`` makes the submission of PrairieLearn's question test (``data["test_type"]``) and the
  grade it must get: ``correct`` the key's answer (score 1), ``incorrect`` the right answer
  with every entry off by one (score 0, partial credit or not), ``invalid`` an unreadable one
  (a format error).

:func:`write_question` writes the question folder (``info.json``, ``question.html``,
``server.py``).  symcnn must be importable where ``server.py`` runs: installed into the
course's ``serverFilesCourse`` (the README's "PrairieLearn" section).
"""

from __future__ import annotations

import html
import json
import uuid
from pathlib import Path

from ..errors import SymcnnError
from ..exercises import KINDS, key_data, key_from_data, make_key, make_variant, ranges_for, student_seed
from ..exercises.ranges import IntRange
from ..exercises.sheet import html as blocks_html
from ..exercises.variant import VERSION
from .run import grade_forked
from .score import GRADED, Grader
from .submission import Refusal, check_text

ANSWER = "answer"  # the answers-name of the question's input box
CALL_LIMIT = 10.0  # seconds: PrairieLearn's questionTimeoutMilliseconds, which kills a server.py call
TIME_LIMIT = 5.0   # seconds a grade may take by default: the call's import and setup fit in the rest
INVALID = r"\frac{1}{"  # the question test's invalid submission: a fraction never closed

# What a PrairieLearn question offers: each kind's default sizes (the input's values cost
# nothing), smaller and without 2D networks where benchmarks/bench_prairielearn.py measured
# calls near PrairieLearn's limit (a 2D gradient's generate took 15-25 s on 2 busy cores, a
# 10 x 10 weight count's first grade 5 s, a 4 x 4 Jacobian's 5 s).
SMALLER = {"delta": {"size": 5}, "gradient": {"size": 5}, "weight-count": {"side": 6}, "jacobian": {"side": 3}}
ONLY = {"delta": {"dims": (1,)}, "gradient": {"dims": (1,)}}
BOUNDS = {kind: {name: SMALLER.get(kind, {}).get(name, value.high) for name, value in ranges_for(kind).settings.items()
                 if isinstance(value, IntRange) and name != "values"} for kind in KINDS}


def offered(kind: str, settings: dict) -> dict:
    """``settings`` with the kind's defaults cut to what a PrairieLearn question offers; a
    setting beyond it is an error (one line naming it)."""
    defaults, settings = ranges_for(kind).settings, dict(settings)
    for name, high in SMALLER.get(kind, {}).items():
        settings.setdefault(name, f"{defaults[name].low}..{min(high, defaults[name].high)}")
    ranges = ranges_for(kind, settings, "server.py")  # bad settings fail when the question loads, cheaply
    for name, high in BOUNDS[kind].items():
        if ranges[name].high > high:
            raise SymcnnError(f"--set {name}={ranges[name]}: a PrairieLearn {kind} question offers {name} up to "
                              f"{high}, so that every server.py call ends well within PrairieLearn's {CALL_LIMIT:g} s")
    for name, allowed in ONLY.get(kind, {}).items():
        if any(option not in allowed for option in ranges[name].options):
            raise SymcnnError(f"--set {name}={ranges[name]}: a PrairieLearn {kind} question offers {name} "
                              f"{','.join(map(str, allowed))} only, so that every server.py call ends well within "
                              f"PrairieLearn's {CALL_LIMIT:g} s")
    return settings


class Question:
    """One PrairieLearn question: a kind, a seed mixed into every variant, the settings."""

    def __init__(self, kind: str, seed: int = 0, settings: dict | None = None, partial_credit: bool = False,
                 time_limit: float = TIME_LIMIT):
        self.kind, self.seed, self.settings = kind, seed, offered(kind, settings or {})
        self.partial_credit, self.time_limit = partial_credit, time_limit
        if not 0 < time_limit <= CALL_LIMIT / 2:
            raise SymcnnError(f"--time-limit {time_limit:g}: PrairieLearn stops a server.py call after "
                              f"{CALL_LIMIT:g} s, import and setup included; give at most {CALL_LIMIT / 2:g} s")

    def generate(self, data: dict) -> None:
        variant = make_variant(self.kind, self.variant_seed(data["variant_seed"]), self.settings, "server.py")
        key = make_key(variant, 1.0, self.partial_credit, self.time_limit)
        kind = KINDS[self.kind]
        stored = key_data(key)
        del stored["answer"]  # params may reach the browser; the answer goes to correct_answers
        data["params"].update({"question": blocks_html(kind.question(variant)),
                               "solution": blocks_html(kind.solution(variant)),
                               "placeholder": kind.placeholder(variant), "key": stored})
        data["correct_answers"][ANSWER] = key.answer

    def parse(self, data: dict) -> None:
        text = data["submitted_answers"].get(ANSWER)
        checked = check_text(text) if isinstance(text, str) else Refusal("empty", "the answer is empty")
        if isinstance(checked, Refusal):
            data["format_errors"][ANSWER] = checked.message

    def grade(self, data: dict) -> None:
        if data["format_errors"].get(ANSWER):
            return
        grade = grade_forked(Grader(self.key(data)), data["submitted_answers"][ANSWER], ANSWER)
        if grade.status not in GRADED:  # unreadable or too slow to check: "invalid", no attempt used, no grade
            data["format_errors"][ANSWER] = grade.message
            data["partial_scores"].pop(ANSWER, None)
            return
        score = grade.score / grade.points
        data["partial_scores"][ANSWER] = {"score": score, "weight": 1}
        data["score"] = score
        data["feedback"][ANSWER] = f"<p>{html.escape(grade.message)}</p>" + (
            f"<pre>{html.escape(grade.detail)}</pre>" if grade.detail else "")

    def test(self, data: dict) -> None:
        test_type = data["test_type"]
        key = self.key(data)
        if test_type == "invalid":
            data["raw_submitted_answers"][ANSWER] = INVALID
            data["format_errors"][ANSWER] = "the fraction is never closed"
            data["partial_scores"].pop(ANSWER, None)
            return
        right = test_type == "correct"
        data["raw_submitted_answers"][ANSWER] = key.answer if right else KINDS[self.kind].shifted_answer(key.variant)
        data["partial_scores"][ANSWER] = {"score": 1.0 if right else 0.0, "weight": 1}
        data["score"] = 1.0 if right else 0.0

    def key(self, data: dict):
        """The variant's key, from ``params`` (its answer from ``correct_answers``)."""
        return key_from_data({**data["params"]["key"], "answer": data["correct_answers"].get(ANSWER, "")},
                             "params.key")

    def variant_seed(self, variant_seed) -> int:
        """The variant's seed: the question's seed and PrairieLearn's mixed (PrairieLearn's may
        be a number or a string)."""
        return student_seed(self.seed, variant_seed)


QUESTION_HTML = """<pl-question-panel>
{{{params.question}}}
</pl-question-panel>

<pl-string-input answers-name="answer" multiline="true" label="Your answer, in LaTeX:"
  placeholder="{{params.placeholder}}" remove-spaces="false"></pl-string-input>

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


def test(data):
    QUESTION.test(data)
'''


def write_question(folder: str | Path, kind: str, seed: int, settings: dict | None = None,
                   partial_credit: bool = False, time_limit: float = TIME_LIMIT) -> list[Path]:
    """The question folder ``info.json``, ``question.html``, ``server.py``; the files written.
    A folder written again keeps its UUID; every other folder gets a new one."""
    question = Question(kind, seed, settings, partial_credit, time_limit)  # checks the settings
    folder = Path(folder)
    info = {"uuid": _uuid(folder / "info.json"), "title": KINDS[kind].title, "topic": "Convolutional networks",
            "tags": ["symcnn", kind], "type": "v3", "partialCredit": partial_credit}
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


def _uuid(info: Path) -> str:
    """The UUID an existing ``info.json`` holds (PrairieLearn knows the question by it), else a new one."""
    try:
        return str(uuid.UUID(json.loads(info.read_text(encoding="utf-8"))["uuid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return str(uuid.uuid4())
