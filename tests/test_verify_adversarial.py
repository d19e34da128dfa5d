"""The adversarial answers (tests/adversarial.py): no false verdict, no crash; the counts are
printed for the report (`pytest -m slow -s tests/test_verify_adversarial.py`)."""

from collections import Counter

import pytest

import symcnn
from symcnn.verify import verify
from adversarial import cases
from test_verify import NETWORKS


@pytest.mark.slow
def test_no_false_verdict_on_adversarial_answers():
    nets = {k: symcnn.load(v) if not isinstance(v, dict) else symcnn.Network(v) for k, v in NETWORKS.items()}
    judged, false = Counter(), []
    for network, wrt, of, answer, expected in cases():
        try:
            verdict = {"correct": "right", "wrong": "wrong"}[verify(nets[network], answer, wrt=wrt, of=of).verdict]
        except symcnn.SymcnnError:
            verdict = "unreadable"
        judged[expected, verdict] += 1
        if verdict != expected and not (expected == "wrong" and verdict == "unreadable"):
            false.append((network, answer, expected, verdict))  # a wrong answer may be refused, never accepted
    print("\nadversarial answers (expected, judged):", dict(judged))
    assert not false, false
