"""Grading: every variant's own answer scores full marks and its typical mistakes less (the
self-test); bad submissions get 0 and one clear line; partial credit; answers must be written
out; the class run (CSV, Gradescope, time limits, Ctrl-C); PrairieLearn's server.py in process."""

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import start_symcnn
from symcnn.exercises import KINDS, Variant, make_key, make_variant, write_exercise, write_key
from symcnn.grade import Grader
from symcnn.grade.gradebook import write_gradescope
from symcnn.grade.prairielearn import Question, write_question
from symcnn.grade.score import Grade
from symcnn.grade.selftest import self_test

SEEDS = range(2)  # the slow run (CI) takes many more
ONE_FILTER = {"dims": "1", "filters": "1", "size": "5", "filter": "3", "padding": "1", "stride": "1"}  # 5 outputs


def symcnn_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, args)], capture_output=True, text=True, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
def test_self_test(kind):
    for seed in SEEDS:
        result = self_test(kind, seed)
        assert result.passed, str(result)
        assert result.named >= 1, str(result)


SETTINGS = [  # the options the default settings leave out
    ("conv-output", {"dims": "2", "filters": "2..3", "channels": "2"}),
    ("pool-output", {"dims": "2", "window": "3", "stride": "1..3"}),
    ("weight-count", {"layers": "3..4", "dims": "2"}),
    ("jacobian", {"dims": "1,2", "form": "index"}),
    ("jacobian", {"padding": "2", "stride": "1..3"}),
    ("delta", {"form": "index", "activation": "relu,sigmoid,tanh", "bias": "true"}),
    ("delta", {"pool": "true", "dims": "2"}),
    ("gradient", {"form": "index", "pool": "true"}),
    ("gradient", {"activation": "tanh,sigmoid", "size": "4..5"}),
    ("gradient", {"dims": "2", "side": "3"}),
]


# more seeds where a variant is cheap to check (numbers: under a second; a gradient: about ten)
SLOW_SEEDS = {"conv-output": 30, "pool-output": 30, "weight-count": 30, "jacobian": 8, "delta": 5, "gradient": 5}


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_self_test_many_seeds(kind):
    results = [self_test(kind, seed) for seed in range(len(SEEDS), len(SEEDS) + SLOW_SEEDS[kind])]
    print("\n" + "\n".join(map(str, results)))
    assert all(r.passed for r in results), "\n".join(str(r) for r in results if not r.passed)
    assert all(r.named == len(r.wrong) for r in results), "\n".join(str(r) for r in results if r.named < len(r.wrong))


@pytest.mark.slow
@pytest.mark.parametrize("kind, settings", SETTINGS)
def test_self_test_other_settings(kind, settings):
    result = self_test(kind, 1, settings)
    print("\n" + str(result))
    assert result.passed and result.named == len(result.wrong), str(result)


@pytest.fixture(scope="module")
def conv():
    key = make_key(make_variant("conv-output", 1, ONE_FILTER))
    return key, Grader(key)


BAD_ANSWERS = [  # (text, status, words in the message)
    ("", "empty", "the answer is empty"),
    ("  \n\t ", "empty", "the answer is empty"),
    ("x" * 100_001, "too-large", "limited to 100 KB"),
    ("A^1 = \x00\x01", "binary", "control character U+0000"),
    (r"A^1 = \begin{bmatrix} 1 & 2", "unreadable", "line 1"),
    (r"A^1 = \foo{3}", "unreadable", r"\foo"),
    (r"A^1 = \begin{bmatrix} W^1_1 & 0 & 0 & 0 & 0 \end{bmatrix}", "unreadable", "the answer is numbers"),
    (r"A^1 = \begin{bmatrix} 2^{2^{40}} & 0 & 0 & 0 & 0 \end{bmatrix}", "unreadable", "exponent over 64"),
    (r"W^1 = \begin{bmatrix} 1 & 0 \end{bmatrix}", "unreadable", "names something else than the asked"),
    ("no math here", "unreadable", ""),
    (r"A^1 = \begin{bmatrix} 1 & 2 \end{bmatrix}", "wrong", "the question asks for"),
]


@pytest.mark.parametrize("text, status, words", BAD_ANSWERS)
def test_bad_answers_get_nothing_and_one_line(conv, text, status, words):
    key, grader = conv
    grade = grader.grade(text, "student.tex")
    assert (grade.status, grade.score) == (status, 0.0), grade
    assert words in grade.message and "\n" not in grade.message, grade.message


def test_partial_credit_is_the_share_of_right_entries(conv):
    key, _ = conv
    values = KINDS["conv-output"].expected(key.variant).copy()
    values[0, 0] = values[0, 0] + 7
    answer = KINDS["conv-output"].numbers_latex(key.variant, values)
    none = Grader(key).grade(answer)
    assert (none.status, none.score) == ("wrong", 0.0) and "1 of 5 entries are wrong" in none.message
    partial = make_key(key.variant, points=10, partial_credit=True)
    some = Grader(partial).grade(answer)
    assert (some.status, some.score, some.points) == ("partial", 8.0, 10.0), some


def test_numbers_may_be_written_as_rows_columns_chains_and_decimals():
    key = make_key(make_variant("weight-count", 0))  # three layers: 48, 0, 66
    grader = Grader(key)
    counts = [int(v) for v in KINDS["weight-count"].expected(key.variant).flat]
    assert counts == [48, 0, 66]
    for answer in [r"(48, 0, 66)", r"\begin{pmatrix} 48 & 0 & 66 \end{pmatrix}", "$48$ \\\\ $0$ \\\\ $(21 + 1) \\cdot 3 = 66.0$",
                   r"\[ \begin{bmatrix} 48 \\ 0 \\ (21 + 1) \times 3 \end{bmatrix} \]"]:
        assert grader.grade(answer).status == "correct", answer
    forgot = grader.grade(r"(45, 0, 63)")
    assert (forgot.status, forgot.mistake) == ("wrong", "bias-forgotten"), forgot


SEED_NETWORK = {"input": [5], "loss": "squared", "layers": [  # the seed's backpropagation slide
    {"type": "conv", "size": 3, "padding": 1, "bias": False, "activation": "relu"},
    {"type": "dense", "units": 1, "bias": False}]}


def test_a_derivation_must_be_written_out_in_the_networks_symbols():
    key = make_key(Variant("gradient", 0, SEED_NETWORK, "L", "W1", "product"))
    grader = Grader(key)
    assert grader.grade(key.answer).status == "correct"
    chain_rule = grader.grade(r"\frac{\partial L}{\partial W^1} = \frac{\partial Z^1}{\partial W^1}"
                              r"\frac{\partial A^1}{\partial Z^1}\frac{\partial L}{\partial A^1}")
    assert (chain_rule.status, chain_rule.score) == ("incomplete", 0.0)
    assert r"\frac{\partial Z^{1}}{\partial W^{1}}" in chain_rule.message
    undefined = grader.grade(r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2} \delta^1_i")
    assert undefined.status == "incomplete" and r"Z^{1}" in undefined.message
    defined = grader.grade(r"\delta^1_i = \mathbb{1}[Z^1_i > 0] W^2_i 2(A^2 - y) \\ "
                           r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2} \delta^1_i")
    assert defined.status == "correct", defined
    chained = grader.grade(r"\frac{\partial L}{\partial W^1} = \frac{\partial Z^1}{\partial W^1}"
                           r"\frac{\partial A^1}{\partial Z^1}\frac{\partial L}{\partial A^1} = "
                           r"\sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i")
    assert chained.status == "unreadable"  # a free k on the right needs an entry on the left
    written = grader.grade(r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i")
    assert written.status == "correct", written


def test_a_delta_may_use_the_next_layers_delta():
    key = make_key(make_variant("delta", 0))
    assert key.grading.allowed_derivatives == (("L", "Z2"),)
    assert Grader(key).grade(r"\delta^1_i = \mathbb{1}[Z^1_i > 0] W^2_i \delta^2").status == "correct"
    wrong = Grader(key).grade(r"\delta^1_i = W^2_i \delta^2")
    assert (wrong.status, wrong.mistake) == ("wrong", "activation-derivative-dropped")


# -- the class run ------------------------------------------------------------------------------

@pytest.fixture
def classroom(tmp_path):
    key = make_key(make_variant("conv-output", 1, ONE_FILTER))
    write_exercise(key, tmp_path / "exercise", pdf=False)
    answers = tmp_path / "answers"
    (answers / "dana").mkdir(parents=True)
    (answers / "alice.tex").write_text(f"\\[ {key.answer} \\]\n")
    (answers / "bob.tex").write_text(KINDS["conv-output"].wrong_answers(key.variant)[0][1])
    (answers / "carol.tex").write_bytes(b"%PDF-1.5\n\x00\x01binary")
    (answers / "dana" / "answer.tex").write_text("")
    (answers / "notes.txt").write_text("not an answer")
    return tmp_path / "exercise" / "key.json", answers, key


def test_grading_a_class_writes_the_gradebook_and_gradescopes_results(classroom, tmp_path):
    key_path, answers, key = classroom
    run = symcnn_cli("grade", key_path, answers, "--csv", tmp_path / "grades.csv",
                     "--gradescope", tmp_path / "results.json")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "alice.tex: 1/1 correct"
    assert lines[1].startswith("bob.tex: 0/1 wrong: ") and "hint" in lines[1]
    assert lines[2].startswith("carol.tex: 0/1 binary: a binary file, not LaTeX text")
    assert lines[3] == "dana/answer.tex: 0/1 empty: the answer is empty"
    assert lines[4].startswith("graded 4 submissions: 1 correct, 1 wrong; not gradable: 1 binary, 1 empty")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["student"], r["score"], r["status"]) for r in rows] == [
        ("alice", "1", "correct"), ("bob", "0", "wrong"), ("carol", "0", "binary"), ("dana", "0", "empty")]
    assert rows[1]["mistake"] == KINDS["conv-output"].wrong_answers(key.variant)[0][0]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == 1 and len(results["tests"]) == 4
    assert {t["max_score"] for t in results["tests"]} == {1.0}
    assert [t["status"] for t in results["tests"]] == ["passed", "failed", "failed", "failed"]
    assert not list(tmp_path.glob(".*.partial"))


def test_one_gradebook_fills_key_by_key(classroom, tmp_path):
    key_path, answers, key = classroom
    other = make_key(make_variant("pool-output", 4))
    write_exercise(other, tmp_path / "other", pdf=False)
    (tmp_path / "pool.tex").write_text(other.answer)
    gradebook = tmp_path / "grades.csv"
    assert symcnn_cli("grade", key_path, answers / "alice.tex", answers / "bob.tex", "--csv", gradebook).returncode == 0
    assert symcnn_cli("grade", tmp_path / "other" / "key.json", tmp_path / "pool.tex", "--csv", gradebook).returncode == 0
    (answers / "bob.tex").write_text(key.answer)
    assert symcnn_cli("grade", key_path, answers / "bob.tex", "--csv", gradebook).returncode == 0
    rows = [(r["student"], r["exercise"], r["status"]) for r in csv.DictReader(gradebook.open())]
    assert rows == [("alice", key.title, "correct"), ("pool", other.title, "correct"), ("bob", key.title, "correct")]
    (tmp_path / "notes.csv").write_text("name,grade\nalice,A\n")
    run = symcnn_cli("grade", key_path, answers / "alice.tex", "--csv", tmp_path / "notes.csv")
    assert run.returncode == 2 and "notes.csv: exists but is not a symcnn gradebook" in run.stderr


def test_one_students_gradescope_submission_even_when_nothing_was_submitted(classroom, tmp_path):
    key_path, answers, key = classroom
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"tests": [{"name": "question 1", "score": 2, "max_score": 2}]}))
    empty = tmp_path / "submission"
    empty.mkdir()
    run = symcnn_cli("grade", key_path, empty, "--gradescope", results)
    assert run.returncode == 0, run.stderr
    data = json.loads(results.read_text())
    assert [t["name"] for t in data["tests"]] == ["question 1", key.title]
    assert data["tests"][1]["score"] == 0 and "no .tex answer was submitted" in data["tests"][1]["output"]
    assert data["score"] == 2
    again = symcnn_cli("grade", key_path, answers / "alice.tex", "--gradescope", results)
    assert again.returncode == 0 and json.loads(results.read_text())["score"] == 3  # replaced, not added


def test_a_gradescope_file_that_is_not_gradescopes_is_refused_before_grading(classroom):
    key_path, answers, _ = classroom
    before = key_path.read_text()
    run = symcnn_cli("grade", key_path, answers / "alice.tex", "--gradescope", key_path)  # the key given twice
    assert run.returncode == 2 and run.stdout == "", run.stdout
    assert run.stderr == f"symcnn: error: {key_path}: exists but is not a Gradescope results file (no \"tests\" list)\n"
    assert key_path.read_text() == before


def test_bad_keys_and_paths_stop_before_grading(classroom, tmp_path):
    key_path, answers, _ = classroom
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "symcnn-key/1", "kind": "conv-output"}')
    for args, message in [((broken, answers), "broken.json: missing 'seed', 'spec', 'quantity', 'answer'"),
                          ((key_path, tmp_path / "nowhere"), "nowhere: no such file or folder"),
                          ((key_path, tmp_path / "exercise" / "nothing"), "no such file or folder"),
                          ((key_path, answers, "--time-limit", "0"), "argument --time-limit: must be a positive number of seconds, got '0'")]:
        run = symcnn_cli("grade", *args, "--csv", tmp_path / "out.csv")
        assert run.returncode == 2 and run.stderr.startswith("symcnn: error: ") and message in run.stderr, run.stderr
        assert len(run.stderr.splitlines()) == 1 and not (tmp_path / "out.csv").exists()


SEED_CONV = {"input": [5], "layers": [{"type": "conv", "size": 3, "padding": 1, "bias": False}]}
BOMB = r"\frac{\partial Z^1_i}{\partial W^1_k} = 2^{2^{40}} X_{i+k-2}"  # SymPy computes 2^(2^40) in C: no alarm stops it


def test_an_answer_that_never_finishes_is_killed_and_the_next_is_graded(tmp_path):
    key = make_key(Variant("jacobian", 0, SEED_CONV, "Z1", "W1", "index"), time_limit=2)  # b.tex in 2 s on a busy CI
    write_key(key, tmp_path / "key.json")
    answers = tmp_path / "answers"
    answers.mkdir()
    (answers / "a.tex").write_text(BOMB)
    (answers / "b.tex").write_text(r"\frac{\partial Z^1_i}{\partial W^1_k} = X_{i+k-2}")
    (answers / "c.tex").write_text(r"\frac{\partial Z^1_i}{\partial W^1_k} = \sum_{j=1}^{1000000} \sum_{m=1}^{1000000} X_{i+k-2}")
    run = symcnn_cli("grade", tmp_path / "key.json", answers)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "a.tex: 0/1 too-slow: checking this answer did not finish within 7 s (the time limit and 5 s more)"
    assert lines[1] == "b.tex: 1/1 correct"
    assert lines[2] == "c.tex: 0/1 too-slow: checking this answer took longer than the time limit (2 s)"


def test_ctrl_c_keeps_the_grades_so_far_and_exits_130(tmp_path):
    key = make_key(Variant("jacobian", 0, SEED_CONV, "Z1", "W1", "index"))
    write_key(key, tmp_path / "key.json")
    answers = tmp_path / "class"
    answers.mkdir()
    (answers / "a.tex").write_text(key.answer)
    (answers / "b.tex").write_text(BOMB)
    (answers / "c.tex").write_text(key.answer)
    process = start_symcnn("grade", tmp_path / "key.json", answers, "--csv", tmp_path / "grades.csv",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == "a.tex: 1/1 correct\n"
    time.sleep(1)  # b.tex is being checked (it would take hours)
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert out == ""  # its first line was read above
    assert err.startswith("symcnn: interrupted: 1 of 3 submissions graded, all of them in") and len(err.splitlines()) == 1
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["submission"], r["status"]) for r in rows] == [("a.tex", "correct")]


def test_gradescope_results_merge_by_test_name(tmp_path):
    path = tmp_path / "results.json"
    first = Grade("q.tex", "correct", 2.0, 2.0, "correct")
    write_gradescope(path, [first], "question 1", "key-1")
    write_gradescope(path, [Grade("q.tex", "wrong", 0.0, 3.0, "the sign", "sign", "verdict: wrong")], "question 2",
                     "key-2")
    data = json.loads(path.read_text())
    assert data["score"] == 2.0 and [t["max_score"] for t in data["tests"]] == [2.0, 3.0]
    assert data["tests"][1]["output"] == "wrong: the sign\n\nverdict: wrong"


# -- PrairieLearn -------------------------------------------------------------------------------

def pl_data(params=None, correct=None, submitted=None, seed="1234567"):
    """A data dict shaped as PrairieLearn passes it to server.py."""
    return {"params": dict(params or {}), "correct_answers": dict(correct or {}), "variant_seed": seed,
            "submitted_answers": {} if submitted is None else {"answer": submitted},
            "raw_submitted_answers": {} if submitted is None else {"answer": submitted},
            "format_errors": {}, "partial_scores": {}, "score": 0, "feedback": {}, "options": {}}


def load_server(folder):
    spec = importlib.util.spec_from_file_location(f"server_{folder.name}", folder / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["conv-output", "gradient"])
def test_a_prairielearn_question_generates_and_grades_in_process(kind, tmp_path):
    files = write_question(tmp_path / kind, kind, seed=7)
    assert [f.name for f in files] == ["info.json", "question.html", "server.py"]
    info = json.loads(files[0].read_text())
    assert info["type"] == "v3" and kind in info["tags"] and len(info["uuid"]) == 36
    assert 'answers-name="answer"' in files[1].read_text()
    server = load_server(tmp_path / kind)
    data = pl_data()
    server.generate(data)
    again = pl_data()
    server.generate(again)
    assert again["params"] == data["params"] and again["correct_answers"] == data["correct_answers"]
    others = [pl_data(seed=str(seed)) for seed in range(4)]
    for other in others:
        server.generate(other)
    assert len({json.dumps(o["params"]["key"]["spec"]) for o in others + [data]}) >= 3
    assert "answer" not in data["params"]["key"] and "$" in data["params"]["question"]
    json.dumps(data)  # PrairieLearn stores data as JSON

    right = pl_data(data["params"], data["correct_answers"], data["correct_answers"]["answer"])
    server.parse(right)
    server.grade(right)
    assert right["score"] == 1.0 and right["partial_scores"]["answer"]["score"] == 1.0 and not right["format_errors"]

    variant = make_variant(kind, Question(kind, 7).variant_seed("1234567"))
    mistake, answer = KINDS[kind].wrong_answers(variant)[0]
    wrong = pl_data(data["params"], data["correct_answers"], answer)
    server.parse(wrong)
    server.grade(wrong)
    assert wrong["score"] == 0 and "hint" in wrong["feedback"]["answer"], wrong["feedback"]

    unreadable = pl_data(data["params"], data["correct_answers"], r"\frac{1}{")
    server.parse(unreadable)
    server.grade(unreadable)
    assert "answer" in unreadable["format_errors"] and "score" not in unreadable["partial_scores"].get("answer", {})
    empty = pl_data(data["params"], data["correct_answers"], "   ")
    server.parse(empty)
    assert empty["format_errors"]["answer"] == "the answer is empty"


def test_prairielearn_partial_credit(tmp_path):
    question = Question("conv-output", 3, {"dims": "1", "filters": "1"}, partial_credit=True)
    data = pl_data()
    question.generate(data)
    variant = make_variant("conv-output", question.variant_seed("1234567"), {"dims": "1", "filters": "1"})
    values = KINDS["conv-output"].expected(variant).copy()
    values[0, -1] = values[0, -1] - 1
    submitted = pl_data(data["params"], data["correct_answers"], KINDS["conv-output"].numbers_latex(variant, values))
    question.parse(submitted)
    question.grade(submitted)
    n = values.size
    assert submitted["score"] == pytest.approx((n - 1) / n) and submitted["partial_scores"]["answer"]["weight"] == 1
