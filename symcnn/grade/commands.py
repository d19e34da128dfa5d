"""What ``symcnn exercise`` and ``symcnn grade`` do, printing included (the CLI only parses).

``symcnn grade`` exits 0 when grading ran, whatever the grades (each submission's status is in
its line and in the CSV); 2 for a bad key or bad arguments, before anything is graded; 130 on
Ctrl-C, with the CSV holding every grade given so far.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..exercises import make_key, make_variant, parse_assignment, read_key, read_settings, write_exercise
from .gradebook import existing_tests, write_csv, write_gradescope
from .prairielearn import TIME_LIMIT as PL_TIME_LIMIT, write_question
from .run import Session, submissions
from .score import GRADED
from .selftest import self_test

KEY_TIME_LIMIT = 30.0  # seconds to check one answer, by default, in a key


def exercise_command(kind: str, seed: int, count: int = 1, output: Path | None = None,
                     prairielearn: Path | None = None, assignments=(), settings_file: Path | None = None,
                     points: float = 1.0, partial_credit: bool = False, time_limit: float | None = None,
                     pdf: bool = True, check: bool = False) -> int:
    """Write ``count`` variants (seeds ``seed``, ``seed + 1``, ...), or a PrairieLearn question,
    or (``check``) self-test them: exit 1 when a variant fails its self-test."""
    settings = read_settings(settings_file, kind) if settings_file else {}
    settings.update(parse_assignment(a) for a in assignments)
    seeds = range(seed, seed + count)
    if check:
        results = [self_test(kind, s, settings) for s in seeds]
        for result in results:
            print(result)
        return 0 if all(r.passed for r in results) else 1
    if prairielearn is not None:
        files = write_question(prairielearn, kind, seed, settings, partial_credit,
                               PL_TIME_LIMIT if time_limit is None else time_limit)
        print("wrote " + ", ".join(map(str, files)))
    if prairielearn is None or output is not None:
        for s in seeds:
            folder = output or Path(f"{kind}-{seed}")
            folder = folder / f"{kind}-{s}" if count > 1 else folder
            key = make_key(make_variant(kind, s, settings), points, partial_credit,
                           KEY_TIME_LIMIT if time_limit is None else time_limit)
            print("wrote " + ", ".join(map(str, write_exercise(key, folder, pdf))))
    return 0


def grade_command(key_path: Path, answers, csv: Path | None = None, gradescope: Path | None = None,
                  time_limit: float | None = None) -> int:
    key = read_key(key_path)
    if time_limit is not None:
        key = type(key)(key.variant, key.title, key.answer,
                        type(key.grading)(**{**key.grading.__dict__, "time_limit": time_limit}))
    found = submissions(answers, missing_ok=gradescope is not None)
    if csv is not None:
        write_csv(csv, [], key.title)  # an unreadable gradebook stops here, before any grading
    if gradescope is not None:
        existing_tests(gradescope)  # and so does a file that is not Gradescope's results
    grades = []
    try:
        with Session(key) as session:
            for name, path in found:
                grade = session.grade(name, path)
                grades.append(grade)
                print(_line(grade), flush=True)
                if len(found) == 1 and grade.detail:
                    print("  " + grade.detail.replace("\n", "\n  "))
                if csv is not None:
                    write_csv(csv, grades, key.title)
    except KeyboardInterrupt:  # the CLI prints this line and exits 130
        raise KeyboardInterrupt(f"interrupted: {len(grades)} of {len(found)} submissions graded"
                                + (f", all of them in {csv}" if csv is not None else "")) from None
    if gradescope is not None:
        write_gradescope(gradescope, grades, key.title)
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

