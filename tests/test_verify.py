"""Verifying hand derivations: the shipped answers, counterexamples that really differ."""

import subprocess
import sys

import numpy as np
import pytest

import symcnn
from conftest import DERIVATIONS

ANSWERS = DERIVATIONS / "answers"
SEED = DERIVATIONS / "seed_1d.toml"


@pytest.fixture(scope="module")
def seed():
    return symcnn.load(SEED)


def check(net, name, **kwargs):
    return net.verify((ANSWERS / name).read_text(), source=name, **kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("dloss_dW1_correct.tex", {"wrt": "W1"}),
    ("dloss_dW1_product.tex", {"wrt": "W1"}),
    ("dZ1_dW1_correct.tex", {"wrt": "W1", "of": "Z1"}),
    ("dZ1_dW1_padding_zero.tex", {"wrt": "W1", "of": "Z1"}),
])
def test_right_answers_pass(seed, name, kwargs):
    report = check(seed, name, **kwargs)
    assert report.correct, str(report)
    assert "correct: all" in str(report)


@pytest.mark.parametrize("name, wrong_rows", [
    ("dloss_dW1_padding_dropped.tex", [0, 1, 2]),
    ("dloss_dW1_off_by_one.tex", [0, 1, 2]),
    ("dloss_dW1_sign.tex", [0, 1, 2]),
    ("dloss_dW1_no_relu.tex", [0, 1, 2]),
])
def test_typical_mistakes_are_caught_with_real_counterexamples(seed, name, wrong_rows):
    report = check(seed, name, wrt="W1")
    assert not report.correct and report.problem is None
    assert [m.label for m in report.mismatches] == [f"dL/dW1_{r + 1}" for r in wrong_rows]
    for mismatch in report.mismatches:
        # the point is real: evaluate both expressions there independently of the report
        expected = seed.substitute(mismatch.expected, mismatch.point)
        given = seed.substitute(mismatch.given, mismatch.point)
        assert expected == mismatch.expected_value and given == mismatch.given_value
        assert expected != given
        z = seed.evaluate(mismatch.point)["Z1"]
        assert all(v != 0 for v in z.flat)  # away from the ReLU kink


def test_one_swapped_index_names_only_that_entry(seed):
    text = (ANSWERS / "dZ1_dW1_correct.tex").read_text()
    swapped = text.replace(r"X_{3} & X_{4} & X_{5} & X_{6}", r"X_{3} & X_{5} & X_{4} & X_{6}")
    assert swapped != text
    report = seed.verify(swapped, wrt="W1", of="Z1")
    assert [m.label for m in report.mismatches] == ["dZ1_3/dW1_3", "dZ1_4/dW1_3"]


def test_transposed_layout_is_reported_as_such(seed):
    report = check(seed, "dZ1_dW1_transposed.tex", wrt="W1", of="Z1")
    assert report.problem.startswith("transposed: in the course's layout dZ1/dW1 is size(W1) x size(Z1) = 3x5")
    assert report.mismatches == ()


def test_single_entries_and_equations(seed):
    assert seed.verify(r"\frac{\partial Z^1_2}{\partial W^1_1} = X_1", wrt="W1", of="Z1").correct
    wrong = seed.verify(r"\frac{\partial Z^1_2}{\partial W^1_1} = X_2", wrt="W1", of="Z1")
    assert [m.label for m in wrong.mismatches] == ["dZ1_2/dW1_1"]
    assert seed.verify(r"$Z^1_2 = W^1_1 X_1 + W^1_2 X_2 + W^1_3 X_3$").correct
    assert not seed.verify(r"$Z^1_2 = W^1_1 X_2 + W^1_2 X_2 + W^1_3 X_3$").correct
    assert seed.verify(r"\frac{\partial \text{loss}}{\partial A^1} = 2(A^2 - y) W^2", wrt="A1").correct
    assert seed.verify(r"\frac{\partial L}{\partial W^1_3} = 2(A^2-y) \sum_{i=1}^{1} "
                       r"(W^2_1 X_2 \mathbf{1}[Z^1_1>0] + W^2_2 X_3 \mathbf{1}[Z^1_2>0] + W^2_3 X_4 "
                       r"\mathbf{1}[Z^1_3>0] + W^2_4 X_5 \mathbf{1}[Z^1_4>0])", wrt="W1").correct


def test_single_value_without_an_entry_is_bad_input(seed):
    with pytest.raises(symcnn.LatexError, match="a single value for dL/dW1, which has 3 rows: name the entry"):
        seed.verify("X_1", wrt="W1")


def test_digits_sized_answer_in_exact_arithmetic():
    net = symcnn.Network({"input": [4, 4], "loss": "cross_entropy", "layers": [
        {"type": "conv", "filters": 2, "size": 3, "padding": 1, "activation": "relu"},
        {"type": "maxpool", "size": 2}, {"type": "dense", "units": 3}]})
    report = net.verify(r"\frac{\partial L}{\partial W^3_{0,2}} = e^{A^3_2 - \operatorname{logsumexp}"
                        r"(A^3_1, A^3_2, A^3_3)} - y_2", wrt="b3")
    assert report.correct, str(report)
    wrong = net.verify(r"\frac{\partial L}{\partial W^3_{0,2}} = e^{A^3_2} - y_2", wrt="b3")
    assert len(wrong.mismatches) == 1


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, args)], capture_output=True, text=True)


def test_cli_exit_status_right_wrong_bad():
    right = run_cli("verify", SEED, ANSWERS / "dloss_dW1_correct.tex", "--wrt", "W1")
    assert right.returncode == 0 and "correct: all 3 entries agree" in right.stdout
    wrong = run_cli("verify", SEED, ANSWERS / "dloss_dW1_sign.tex", "--wrt", "W1")
    assert wrong.returncode == 1 and "wrong: 3 of 3 entries differ" in wrong.stdout
    bad = run_cli("verify", SEED, ANSWERS / "README.md", "--wrt", "W1")
    assert bad.returncode == 2 and bad.stderr.startswith("symcnn: error: ") and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    missing = run_cli("verify", SEED, ANSWERS / "nothere.tex", "--wrt", "W1")
    assert missing.returncode == 2 and "nothere.tex: cannot read the answer" in missing.stderr
    unknown = run_cli("verify", SEED, ANSWERS / "dloss_dW1_correct.tex", "--wrt", "W9")
    assert unknown.returncode == 2 and "this network has no tensor 'W9'" in unknown.stderr
