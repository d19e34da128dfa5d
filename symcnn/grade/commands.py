"""What ``symcnn exercise`` and ``symcnn grade`` do, printing included (the CLI only parses).

``symcnn grade`` exits 0 when grading ran, whatever the grades (each submission's status is in
its line and in the CSV); 2 for a bad key or bad arguments, before anything is graded; 130 on
Ctrl-C, with the CSV holding every grade given so far.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from ..errors import SymcnnError
from ..exercises import (key_data, make_key, make_variant, parse_assignment, read_key, read_settings, student_seed,
                         write_exercise)
from .gradebook import kept_tests, test_names, write_csv, write_gradescope
from .gradescope import read_roster, student_key, write_autograder
from .prairielearn import TIME_LIMIT as PL_TIME_LIMIT, write_question
from .run import Session, submissions
from .score import GRADED
from .selftest import self_test

KEY_TIME_LIMIT = 30.0  # seconds to check one answer, by default, in a key


def exercise_command(kind: str, seed: int, count: int = 1, output: Path | None = None,
                     prairielearn: Path | None = None, assignments=(), settings_file: Path | None = None,
                     points: float = 1.0, partial_credit: bool = False, time_limit: float | None = None,
                     pdf: bool = True, check: bool = False, students: Path | None = None,
                     gradescope: Path | None = None, name: str | None = None) -> int:
    """Write ``count`` variants (seeds ``seed``, ``seed + 1``, ...) or one per student of a
    roster, or a PrairieLearn question, or add them to a Gradescope autograder; or (``check``)
    self-test them: exit 1 when a variant fails its self-test."""
    settings = read_settings(settings_file, kind) if settings_file else {}
    settings.update(parse_assignment(a) for a in assignments)
    if count > 1 and (students is not None or gradescope is not None):
        raise SymcnnError(f"--count {count} with " + ("--students: a roster gives a variant per student" if students
                          else "--gradescope: a Gradescope question has one variant, or one per student "
                               "(--students ROSTER)"))
    if students is not None:
        seeds = {student: student_seed(seed, student) for student in read_roster(students)}
    else:
        seeds = {f"{kind}-{s}": s for s in range(seed, seed + count)} if count > 1 else {None: seed}
    if check:
        results = [self_test(kind, s, settings) for s in seeds.values()]
        for result in results:
            print(result)
        return 0 if all(r.passed for r in results) else 1
    if prairielearn is not None:
        files = write_question(prairielearn, kind, seed, settings, partial_credit,
                               PL_TIME_LIMIT if time_limit is None else time_limit)
        print("wrote " + ", ".join(map(str, files)))
        if output is None and gradescope is None:
            return 0
    keys = {folder: make_key(make_variant(kind, s, settings), points, partial_credit,
                             KEY_TIME_LIMIT if time_limit is None else time_limit) for folder, s in seeds.items()}
    if gradescope is not None:
        files = write_autograder(gradescope, name or kind, keys)
        print(f"wrote {files[0]}, {files[1]} and {len(files) - 2} key{'s' if len(files) > 3 else ''}")
    if output is not None or gradescope is None:
        for folder, key in keys.items():
            place = (output or Path(f"{kind}-{seed}")) / (folder or "")
            print("wrote " + ", ".join(map(str, write_exercise(key, place, pdf))))
    return 0


def grade_command(key_path: Path, answers, csv: Path | None = None, gradescope: Path | None = None,
                  time_limit: float | None = None, name: str | None = None, metadata: Path | None = None,
                  file: str | None = None) -> int:
    """Grade ``answers`` against the key (``key_path``; with ``metadata``, the submitting
    student's key in the folder ``key_path``); ``file``: the answer is the file of this name
    in each folder given, at any depth; ``name``: the question's name, before its title."""
    if metadata is not None:
        key_path = student_key(key_path, metadata)
    elif key_path.is_dir():
        key_path = key_path / "key.json"
    key = read_key(key_path)
    if time_limit is not None:
        key = type(key)(key.variant, key.title, key.answer,
                        type(key.grading)(**{**key.grading.__dict__, "time_limit": time_limit}))
    title = f"{name}: {key.title}" if name else key.title
    stored = {**key_data(key), "answer": None, "path": str(key_path.resolve())}
    key_id = hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()[:16]
    found = submissions(answers, missing_ok=gradescope is not None, file=file)
    if csv is not None:
        write_csv(csv, [], title)  # an unreadable gradebook stops here, before any grading
    if gradescope is not None:  # and so does a file that is not Gradescope's results, or a clash of titles
        kept_tests(gradescope, set(test_names([n for n, _ in found], title)), key_id)
    grades = []
    try:
        with Session(key) as session:
            for sub, path in found:
                grade = session.grade(sub, path)
                grades.append(grade)
                print(_line(grade), flush=True)
                if len(found) == 1 and grade.detail:
                    print("  " + grade.detail.replace("\n", "\n  "))
                if csv is not None:
                    write_csv(csv, grades, title)
    except KeyboardInterrupt:  # the CLI prints this line and exits 130
        raise KeyboardInterrupt(f"interrupted: {len(grades)} of {len(found)} submissions graded"
                                + (f", all of them in {csv}" if csv is not None else "")) from None
    if gradescope is not None:
        write_gradescope(gradescope, grades, title, key_id)
    print(_summary(grades) + "".join(f"; wrote {p}" for p in (csv, gradescope) if p is not None))
    return 0


def _line(grade) -> str:
    text = f"{grade.submission}: {grade.score:g}/{grade.points:g} {grade.status}"
    return text if grade.status == "correct" else f"{text}: {grade.message}"


def _summary(grades) -> str:
    counts = Counter(g.status for g in grades)
    graded = ", ".join(f"{counts[s]} {s}" for s in GRADED if counts[s])
    other = ", ".join(f"{n} {s}" for s, n in counts.items() if s not in GRADED)
    mean = sum(g.score for g in grades) / len(grades) if grades else 0.0
    return (f"graded {len(grades)} submission{'s' if len(grades) != 1 else ''}: {graded or 'none gradable'}"
            + (f"; not gradable: {other}" if other else "") + f"; mean score {mean:.3g}")

