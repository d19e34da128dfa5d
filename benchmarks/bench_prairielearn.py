"""The time of every server.py call PrairieLearn makes, at the largest settings a PrairieLearn
question offers (``symcnn.grade.prairielearn.BOUNDS``), against its 10 s limit per call.

PrairieLearn runs each phase in a freshly forked worker that loads ``server.py`` anew, so each
call here runs in a fresh interpreter and is timed whole (interpreter start, imports, the call):
``generate``; ``test`` (incorrect); ``parse`` + ``grade`` of the right answer, of the test's
incorrect answer and of an answer with a typical mistake.  Run with

    .venv/bin/python benchmarks/bench_prairielearn.py [--seeds N] [--kind KIND]
        [--python python3.13 --course-path course/serverFilesCourse]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CALL = r"""
import json, sys
sys.path[:0] = json.loads(sys.argv[4])
from symcnn.grade.prairielearn import Question
question = Question(*json.loads(sys.argv[1]))
phase, data = sys.argv[2], json.loads(sys.argv[3])
if phase == "grade":
    question.parse(data)
getattr(question, phase)(data)
print(json.dumps(data))
"""

PYTHON, PATH = sys.executable, []  # the calls' interpreter and the folders put first on its path
BASE = {"correct_answers": {}, "options": {}, "format_errors": {}, "partial_scores": {}, "score": 0,
        "feedback": {}, "raw_submitted_answers": {}, "gradable": True}


def corners(kind: str) -> list[dict]:
    """The largest sizes a PrairieLearn question offers, with every option the kind can be given
    (biases on; sigmoid left out, it costs what tanh does)."""
    from symcnn.exercises import KINDS, SETTINGS, ranges_for
    from symcnn.grade.prairielearn import BOUNDS, ONLY
    top = {name: str(1 if name == "stride" else high) for name, high in BOUNDS[kind].items()}  # stride 1: most outputs
    variants = [top]
    for name, value in ranges_for(kind).settings.items():
        if not hasattr(value, "options"):
            continue
        options = {"form": KINDS[kind].forms, "bias": (True,), "activation": ("relu", "tanh"),
                   **ONLY.get(kind, {})}.get(name, SETTINGS[name][1])
        if kind == "conv-output" and name == "activation":
            options = value.options  # exact numbers: relu or none only
        variants = [{**v, name: str(o).lower()} for v in variants for o in options]
    return variants


def run(question, phase, data):
    start = time.perf_counter()
    done = subprocess.run([PYTHON, *(["-I"] if PATH else []), "-c", CALL, json.dumps(question), phase,
                           json.dumps(data), json.dumps(PATH)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return time.perf_counter() - start, json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--kind")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the calls (PrairieLearn's: 3.13)")
    parser.add_argument("--course-path", help="run the calls with only this folder on the path (serverFilesCourse, "
                                              "installed as the README says)")
    args = parser.parse_args()
    global PYTHON, PATH
    PYTHON, PATH = args.python, [args.course_path] if args.course_path else []
    from symcnn.exercises import KINDS
    worst = {}
    for kind in [args.kind] if args.kind else KINDS:
        for settings in corners(kind):
            question = [kind, 0, settings]
            for seed in range(args.seeds):
                took, generated = run(question, "generate", {**BASE, "params": {}, "variant_seed": seed})
                times = {"generate": took}
                variant = {**BASE, "params": generated["params"], "correct_answers": generated["correct_answers"],
                           "variant_seed": seed}
                took, tested = run(question, "test", {**variant, "test_type": "incorrect"})
                times["test"] = took
                from symcnn.grade.prairielearn import Question
                key = Question(*question).key(variant)
                wrong = KINDS[kind].wrong_answers(key.variant)[:1]
                for name, answer in [("right", key.answer), ("incorrect", tested["raw_submitted_answers"]["answer"])] + wrong:
                    took, graded = run(question, "grade", {**variant, "submitted_answers": {"answer": answer}})
                    times[f"grade {name}"] = took
                    score = graded["partial_scores"].get("answer", {}).get("score")
                    if score != (1 if name == "right" else 0):  # a timing of a call that went wrong is no timing
                        raise SystemExit(f"{kind} {settings} seed {seed}: {name} answer got {score} "
                                         f"{graded['format_errors']}")
                slowest = max(times, key=times.get)
                print(f"{kind} {json.dumps(settings)} seed {seed}: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()),
                      flush=True)
                if times[slowest] > worst.get(kind, ("", 0))[1]:
                    worst[kind] = (f"{slowest} at {json.dumps(settings)} seed {seed}", times[slowest])
    for kind, (where, took) in worst.items():
        print(f"slowest {kind}: {took:.1f} s ({where})")


if __name__ == "__main__":
    main()
