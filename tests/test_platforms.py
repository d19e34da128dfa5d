"""The platforms' rules, emulated: PrairieLearn's question phases and its question test (its
``zygote.py``, ``check_data`` and ``question-testing``), Gradescope's autograder (its
``docs/specs.md``: ``/autograder/submission``, ``submission_metadata.json``, ``results.json``)."""

import copy
import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symcnn.errors import SymcnnError
from symcnn.exercises import KINDS, make_key, make_variant, read_key, write_key
from symcnn.grade import Grade, Grader
from symcnn.grade.gradebook import write_csv, write_gradescope
from symcnn.grade.gradescope import student_key, write_autograder
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


# -- Gradescope ---------------------------------------------------------------------------------

def symcnn_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, args)], capture_output=True, text=True, **kwargs)


def test_setup_sh_installs_a_python_symcnn_runs_on_and_builds_the_wheels_with_it(tmp_path):
    write_autograder(tmp_path, "q1", {None: make_key(make_variant("pool-output", 1))})
    setup = (tmp_path / "setup.sh").read_text()
    assert subprocess.run(["bash", "-n", tmp_path / "setup.sh"]).returncode == 0
    python = re.search(r"apt-get install -y --no-install-recommends (python3\.(\d+)) python3\.\d+-venv", setup)
    assert python and int(python.group(2)) >= 11  # the base image's 3.10 cannot run symcnn
    assert f"{python.group(1)} -m venv /opt/symcnn" in setup
    assert "/opt/symcnn/bin/python -m pip wheel --wheel-dir /autograder/source/wheels /autograder/source/symcnn" in setup
    assert "pip install --no-index --find-links /autograder/source/wheels symcnn" in setup  # offline after the build
    assert (tmp_path / "symcnn" / "pyproject.toml").is_file() and (tmp_path / "symcnn" / "symcnn" / "cli.py").is_file()
    run = tmp_path / "run_autograder"
    assert os.access(run, os.X_OK) and subprocess.run(["bash", "-n", run]).returncode == 0


def test_run_autograder_grades_each_students_own_variant_found_in_subfolders(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Full Name,Email,SID\nAlice A,alice@uni.edu,101\nBob B,bob@uni.edu,102\n")
    source = tmp_path / "autograder" / "source"
    made = symcnn_cli("exercise", "conv-output", "--seed", 3, "--set", "dims=1", "--students", roster,
                      "--gradescope", source, "--name", "q1", "-o", tmp_path / "sheets", "--no-pdf")
    assert made.returncode == 0, made.stderr
    assert symcnn_cli("exercise", "weight-count", "--seed", 4, "--gradescope", source, "--name", "q2").returncode == 0
    alice = read_key(tmp_path / "sheets" / "alice@uni.edu" / "key.json")
    bob = read_key(source / "keys" / "q1" / "bob@uni.edu" / "key.json")
    assert alice.variant.spec != bob.variant.spec  # a variant per student
    submission = tmp_path / "autograder" / "submission"
    (submission / "homework" / "part1").mkdir(parents=True)
    (submission / "homework" / "part1" / "q1.tex").write_text(alice.answer)  # an uploaded folder keeps its folders
    metadata = tmp_path / "autograder" / "submission_metadata.json"
    metadata.write_text(json.dumps({"id": 1, "users": [{"email": "alice@uni.edu", "id": 7, "name": "Alice A"}]}))
    run = subprocess.run([source / "run_autograder"], capture_output=True, text=True,
                         env={**os.environ, "AUTOGRADER": str(tmp_path / "autograder"),
                              "SYMCNN": str(Path(sys.executable).parent / "symcnn")})
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "autograder" / "results" / "results.json").read_text())
    tests = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert tests["q1"]["score"] == 1 and tests["q1"]["name"] == f"q1: {alice.title}"
    assert tests["q2"]["score"] == 0 and "no q2.tex was submitted" in tests["q2"]["output"]
    metadata.write_text(json.dumps({"users": [{"email": "bob@uni.edu", "id": 9}]}))
    assert student_key(source / "keys" / "q1", metadata) == source / "keys" / "q1" / "bob@uni.edu" / "key.json"


def test_a_student_without_a_variant_or_bad_metadata_is_one_line(tmp_path):
    keys = tmp_path / "keys"
    (keys / "alice@uni.edu").mkdir(parents=True)
    write_key(make_key(make_variant("pool-output", 1)), keys / "alice@uni.edu" / "key.json")
    (tmp_path / "q.tex").write_text("1")
    meta = tmp_path / "meta.json"
    for content, message in [(json.dumps({"users": [{"email": "eve@uni.edu"}]}), "no variant for eve@uni.edu"),
                             ("{", "meta.json: not Gradescope's submission metadata")]:
        meta.write_text(content)
        run = symcnn_cli("grade", keys, tmp_path / "q.tex", "--metadata", meta, "--gradescope", tmp_path / "r.json")
        assert run.returncode == 2 and message in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr
    roster = tmp_path / "roster.txt"
    roster.write_text("alice@uni.edu\nalice@uni.edu\n")
    run = symcnn_cli("exercise", "pool-output", "--seed", 1, "--students", roster, "--gradescope", tmp_path / "ag")
    assert run.returncode == 2 and "'alice@uni.edu' is listed twice" in run.stderr


def test_two_questions_with_one_title_never_overwrite_each_other(tmp_path):
    path = tmp_path / "results.json"
    write_gradescope(path, [Grade("q.tex", "correct", 1.0, 1.0, "correct")], "Counting weights", "key-a")
    write_gradescope(path, [Grade("q.tex", "wrong", 0.0, 1.0, "wrong")], "Counting weights", "key-a")  # regraded
    assert [t["score"] for t in json.loads(path.read_text())["tests"]] == [0.0]
    with pytest.raises(SymcnnError, match="holds the grade of another question"):
        write_gradescope(path, [Grade("q.tex", "correct", 1.0, 1.0, "correct")], "Counting weights", "key-b")


def test_the_wide_gradebook_has_a_row_per_student_and_a_column_per_question(tmp_path):
    book = tmp_path / "grades.csv"
    write_csv(book, [Grade("alice.tex", "correct", 2.0, 2.0, "ok"), Grade("bob.tex", "wrong", 0.0, 2.0, "no")], "q1")
    write_csv(book, [Grade("bob/answer.tex", "partial", 0.5, 1.0, "half")], "q2")
    wide = list(csv.reader((tmp_path / "grades-wide.csv").open()))
    assert wide == [["student", "q1", "q2", "total"], ["alice", "2", "", "2"], ["bob", "0", "0.5", "0.5"]]
    assert len(list(csv.DictReader(book.open()))) == 3  # the long form beside it
    # one guess per mistake earns nothing: the wide form keeps the last submission graded, not the best
    write_csv(book, [Grade("carol/guess1.tex", "correct", 2.0, 2.0, "ok"),
                     Grade("carol/guess2.tex", "wrong", 0.0, 2.0, "no")], "q1")
    assert list(csv.reader((tmp_path / "grades-wide.csv").open()))[-1] == ["carol", "0", "", "0"]


def test_a_group_whose_members_have_different_variants_is_refused(tmp_path):
    """Gradescope gives a group's one score to every member: one variant's answer cannot count for another's."""
    keys = tmp_path / "keys"
    for student, seed in (("alice@uni.edu", 1), ("bob@uni.edu", 2)):
        (keys / student).mkdir(parents=True)
        write_key(make_key(make_variant("pool-output", seed)), keys / student / "key.json")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"users": [{"email": "alice@uni.edu"}, {"email": "bob@uni.edu"}]}))
    with pytest.raises(SymcnnError, match="have different variants"):
        student_key(keys, meta)
    meta.write_text(json.dumps({"users": [{"email": "bob@uni.edu"}, {"email": "eve@uni.edu"}]}))
    assert student_key(keys, meta) == keys / "bob@uni.edu" / "key.json"


def test_a_grader_bug_in_the_forked_check_is_said_not_taken_for_a_crash(monkeypatch):
    from symcnn.grade.run import grade_forked
    grader = Grader(make_key(make_variant("pool-output", 1)))
    monkeypatch.setattr(grader, "grade", lambda text, name: 1 / 0)
    grade = grade_forked(grader, "1", "q.tex")
    assert grade.status == "error" and grade.score == 0 and "ZeroDivisionError" in grade.message, grade


def test_feedback_writes_its_math_inside_dollars(tmp_path):
    """MathJax typesets $...$ in PrairieLearn's feedback: no LaTeX may stand outside it."""
    for kind in KINDS:
        key = make_key(make_variant(kind, 2, CHEAP.get(kind)))
        grader = Grader(key)
        answers = [answer for _, answer in KINDS[kind].wrong_answers(key.variant)[:2]]
        answers.append(KINDS[kind].shifted_answer(key.variant))
        for answer in answers:
            message = grader.grade(answer).message
            assert message.count("$") % 2 == 0, message
            prose = re.sub(r"\$[^$]*\$", "", message)
            assert not re.search(r"\\[a-zA-Z]|\^|_\{|_[0-9A-Za-z]\b", prose), (kind, message)


def test_an_answer_that_never_finishes_is_stopped_within_the_call_and_not_graded(tmp_path):
    write_question(tmp_path, "jacobian", 1, {"form": "index"}, time_limit=1)
    params, correct = generate(tmp_path, 4)
    bomb = r"\frac{\partial Z^1_i}{\partial W^1_k} = 2^{2^{40}} X_{i+k-2}"  # computed in C: no alarm stops it
    start = time.monotonic()
    got = submit(tmp_path, (params, correct), {"answer": bomb})
    assert time.monotonic() - start < CALL_LIMIT
    assert not got["gradable"] and "did not finish within 2 s" in got["format_errors"]["answer"]


def test_a_question_offers_no_setting_whose_calls_would_near_prairielearns_limit(tmp_path):
    assert Question("gradient").settings["size"] == "4..5"  # the default, cut to what is offered
    for kind, settings, words in [("gradient", {"size": "4..9"}, "offers size up to 5"),
                                  ("delta", {"dims": "1,2"}, "offers dims 1 only"),
                                  ("conv-output", {"side": "8"}, "offers side up to 5")]:
        with pytest.raises(SymcnnError, match=words):
            Question(kind, 1, settings)
    run = symcnn_cli("exercise", "gradient", "--seed", 1, "--prairielearn", tmp_path / "q", "--set", "size=9")
    assert run.returncode == 2 and run.stderr.startswith("symcnn: error: --set size=9: a PrairieLearn gradient")
    assert len(run.stderr.splitlines()) == 1 and not (tmp_path / "q").exists()
