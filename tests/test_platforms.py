"""The platforms' rules, emulated: PrairieLearn's question phases and its question test (its
``zygote.py``, ``check_data`` and ``question-testing``), Gradescope's autograder (its
``docs/specs.md``: ``/autograder/submission``, ``submission_metadata.json``, ``results.json``)."""

import copy
import importlib.util
import json
import sys

import pytest

from symcnn.exercises import KINDS
from symcnn.grade import Grader
from symcnn.grade.prairielearn import CALL_LIMIT, TIME_LIMIT, Question, write_question

# -- PrairieLearn -------------------------------------------------------------------------------

# PrairieLearn's check_data: the keys of `data` in each phase, and those the phase may change.
PRESENT = {
    "generate": {"params", "correct_answers", "variant_seed", "options"},
    "parse": {"params", "correct_answers", "variant_seed", "options", "submitted_answers", "format_errors",
              "raw_submitted_answers", "feedback", "gradable"},
    "grade": {"params", "correct_answers", "variant_seed", "options", "submitted_answers", "format_errors",
              "raw_submitted_answers", "partial_scores", "score", "feedback", "gradable"},
    "test": {"params", "correct_answers", "variant_seed", "options", "format_errors", "raw_submitted_answers",
             "partial_scores", "score", "feedback", "gradable", "test_type"},
}
EDITS = {
    "generate": {"params", "correct_answers"},
    "parse": {"params", "correct_answers", "submitted_answers", "format_errors", "feedback"},
    "grade": {"params", "correct_answers", "submitted_answers", "format_errors", "partial_scores", "score", "feedback"},
    "test": {"format_errors", "raw_submitted_answers", "partial_scores", "score", "feedback"},
}
LARGEST_JSON_INTEGER = 2 ** 53 - 1  # zygote refuses integers JavaScript cannot hold


def _integers(value):
    if isinstance(value, dict):
        return [i for v in value.values() for i in _integers(v)]
    if isinstance(value, list):
        return [i for v in value for i in _integers(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def call(folder, phase, data):
    """One server.py call as PrairieLearn makes it: server.py loaded afresh (a new worker), data
    through JSON, then PrairieLearn's checks of what the phase changed."""
    data = json.loads(json.dumps(data))
    assert set(data) == PRESENT[phase], phase
    before = copy.deepcopy(data)
    spec = importlib.util.spec_from_file_location(f"server_{phase}", folder / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, phase)(data)
    assert set(data) == PRESENT[phase], f"{phase}() added or removed keys of data"
    for key in PRESENT[phase] - EDITS[phase]:
        assert data[key] == before[key], f"{phase}() changed data[{key!r}], which PrairieLearn forbids there"
    assert all(abs(i) <= LARGEST_JSON_INTEGER for i in _integers(data)), f"{phase}(): an integer over 2^53"
    return json.loads(json.dumps(data, allow_nan=False))


def generate(folder, variant_seed):
    data = call(folder, "generate", {"params": {}, "correct_answers": {}, "variant_seed": variant_seed, "options": {}})
    return data["params"], data["correct_answers"]


def submit(folder, variant, raw):
    """A submission parsed, then graded if it parsed: PrairieLearn's saveSubmission and gradeVariant."""
    params, correct = variant
    parsed = call(folder, "parse", {"params": params, "correct_answers": correct, "variant_seed": 1, "options": {},
                                    "submitted_answers": dict(raw), "raw_submitted_answers": dict(raw),
                                    "format_errors": {}, "feedback": {}, "gradable": True})
    if parsed["format_errors"]:
        return {**parsed, "gradable": False}
    graded = call(folder, "grade", {**parsed, "partial_scores": {}, "score": 0})
    return {**graded, "gradable": not graded["format_errors"]}


def question_test(folder, variant, test_type):
    """PrairieLearn's question test: test() makes a submission and the grade it must get; the
    submission is then parsed and graded, and the two must agree (gradable, the format errors'
    keys, and when gradable partial_scores and score, compared exactly)."""
    params, correct = variant
    expected = call(folder, "test", {"params": params, "correct_answers": correct, "variant_seed": 1, "options": {},
                                     "format_errors": {}, "raw_submitted_answers": {}, "partial_scores": {},
                                     "score": 0, "feedback": {}, "gradable": True, "test_type": test_type})
    expected["gradable"] = not expected["format_errors"]
    got = submit(folder, variant, expected["raw_submitted_answers"])
    assert got["gradable"] == expected["gradable"], (test_type, got["format_errors"])
    assert set(got["format_errors"]) == set(expected["format_errors"])
    if got["gradable"]:
        assert got["partial_scores"] == expected["partial_scores"], test_type
        assert got["score"] == expected["score"], test_type
    return expected, got


CHEAP = {"gradient": {"size": "4", "filter": "2"}, "delta": {"size": "4"}}  # the fast set's variants


@pytest.mark.parametrize("kind", KINDS)
def test_prairielearns_question_test_passes_for_every_kind(kind, tmp_path):
    write_question(tmp_path, kind, 5, CHEAP.get(kind), partial_credit=kind == "conv-output")
    variant = generate(tmp_path, 917)
    assert "answer" not in variant[0]["key"] and variant[1]["answer"]
    for test_type, score in [("correct", 1), ("incorrect", 0), ("invalid", None)]:
        expected, got = question_test(tmp_path, variant, test_type)
        if score is None:
            assert set(got["format_errors"]) == {"answer"} and "answer" not in got["partial_scores"]
        else:
            assert got["partial_scores"] == {"answer": {"score": score, "weight": 1}} and got["score"] == score
            assert got["feedback"]["answer"]  # the words for the student are in feedback, not partial_scores


def test_the_incorrect_test_answer_scores_nothing_even_with_partial_credit():
    for kind in KINDS:
        question = Question(kind, 2, CHEAP.get(kind), partial_credit=True)
        data = {"params": {}, "correct_answers": {}, "variant_seed": 3, "options": {}}
        question.generate(data)
        key = question.key(data)
        grade = Grader(key).grade(KINDS[kind].shifted_answer(key.variant))
        assert grade.score == 0 and grade.status == "wrong", (kind, grade)


def test_importing_server_py_draws_no_variant(tmp_path, monkeypatch):
    write_question(tmp_path, "gradient", 1)
    drawn = []
    import symcnn.grade.prairielearn as prairielearn
    monkeypatch.setattr(prairielearn, "make_variant", lambda *a, **k: drawn.append(a))
    spec = importlib.util.spec_from_file_location("server_import", tmp_path / "server.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert drawn == []


def test_the_grading_time_limit_is_below_prairielearns(tmp_path):
    assert TIME_LIMIT <= CALL_LIMIT / 2
    server = (write_question(tmp_path, "delta", 1)[2]).read_text()
    assert f"time_limit={TIME_LIMIT}" in server
    with pytest.raises(Exception, match="PrairieLearn stops a server.py call after 10 s"):
        write_question(tmp_path / "slow", "delta", 1, time_limit=30)


def test_a_question_written_twice_elsewhere_gets_another_uuid_and_keeps_its_own(tmp_path):
    first = json.loads(write_question(tmp_path / "a", "jacobian", 3)[0].read_text())["uuid"]
    second = json.loads(write_question(tmp_path / "b", "jacobian", 3)[0].read_text())["uuid"]
    again = json.loads(write_question(tmp_path / "a", "jacobian", 3)[0].read_text())["uuid"]
    assert first != second and again == first


def test_the_placeholder_names_what_the_kind_asks(tmp_path):
    html = write_question(tmp_path, "weight-count", 1)[1].read_text()
    assert 'placeholder="{{params.placeholder}}"' in html
    for kind, words in [("weight-count", "one count per layer"), ("jacobian", r"\partial Z^{1}"),
                        ("delta", r"\partial Z^{1}"), ("gradient", r"\partial W^{1}"), ("pool-output", "A^{1} =")]:
        data = {"params": {}, "correct_answers": {}, "variant_seed": 1, "options": {}}
        Question(kind, 1, CHEAP.get(kind)).generate(data)
        assert words in data["params"]["placeholder"], (kind, data["params"]["placeholder"])
