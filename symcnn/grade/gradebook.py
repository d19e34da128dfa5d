"""Grades written out: a CSV gradebook (long and wide) and Gradescope's ``results.json``.

Both are written to a temporary file beside the target and moved into place, so an interrupted
run never leaves half a file: the CSV is rewritten after every graded submission and always
holds every grade so far.  Both keep what an existing file holds about other submissions or
other exercises (a gradebook filled one key at a time: a variant per student, a question after
another); a submission graded again for the same exercise replaces its row.

The long gradebook ``OUT.csv`` has a row per graded submission; beside it ``OUT-wide.csv`` has
a row per student and a column per exercise (its score), then the total, as an LMS imports it.

Gradescope (its autograder specification): ``{"score": total, "tests": [{"name", "score",
"max_score", "status", "output", "extra_data"}, ...]}``.  A results file that already exists
keeps its other tests (a ``run_autograder`` script grades one key after another into one file);
a test of the same name from the same key is replaced, one from another key is an error (two
questions with one title would overwrite each other's grade): ``extra_data`` records the key.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from ..errors import SymcnnError
from .score import GRADED, Grade

COLUMNS = ["student", "submission", "exercise", "score", "points", "status", "mistake", "message"]


def student(submission: str) -> str:
    """``alice.tex`` -> ``alice``; ``alice/answer.tex`` -> ``alice`` (a folder per student)."""
    first = submission.split("/", 1)[0]
    return first[:-4] if first.endswith(".tex") else first


def rows(grades, exercise: str) -> list[dict]:
    return [{"student": student(g.submission), "submission": g.submission, "exercise": exercise,
             "score": f"{g.score:g}", "points": f"{g.points:g}", "status": g.status, "mistake": g.mistake or "",
             "message": g.message} for g in grades]


def write_csv(path: Path, grades, exercise: str) -> None:
    new = rows(grades, exercise)
    graded = {(r["submission"], r["exercise"]) for r in new}
    kept = [r for r in _existing_rows(path) if (r["submission"], r["exercise"]) not in graded]
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept + new)
    _replace(path, out.getvalue())
    _replace(wide_path(path), wide_csv(kept + new))


def wide_path(path: Path) -> Path:
    """``grades.csv`` -> ``grades-wide.csv``, beside it."""
    return path.with_name(f"{path.stem}-wide{path.suffix or '.csv'}")


def wide_csv(rows: list[dict]) -> str:
    """A row per student, a column per exercise (in the order first graded), the total last.  A
    student graded on several submissions of one exercise keeps the last one graded (not the
    best: handing in one guess per mistake must not earn the points); the long form has them all."""
    exercises = list(dict.fromkeys(r["exercise"] for r in rows))
    scores: dict[str, dict[str, float]] = {}
    for r in rows:
        scores.setdefault(r["student"], {})[r["exercise"]] = float(r["score"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *exercises, "total"])
    for name, last in scores.items():
        writer.writerow([name, *(f"{last[e]:g}" if e in last else "" for e in exercises),
                         f"{sum(last.values()):g}"])
    return out.getvalue()


def _existing_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            found = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise SymcnnError(f"{path}: exists but cannot be read as a gradebook ({error})") from None
    if reader.fieldnames != COLUMNS:
        raise SymcnnError(f"{path}: exists but is not a symcnn gradebook (its first line is not "
                          f"{','.join(COLUMNS)}); give --csv a new file or a gradebook")
    return found


def test_names(submissions: list[str], title: str) -> list[str]:
    """Gradescope's test names: the title, with the submission's name when there are several."""
    return [title] if len(submissions) == 1 else [f"{title}: {s}" for s in submissions]


def gradescope_tests(grades, title: str, key_id: str) -> list[dict]:
    """One Gradescope test per submission (normally one): the student sees the message and
    the report, never the solution."""
    tests = []
    for g, name in zip(grades, test_names([g.submission for g in grades], title)):
        output = g.message if g.status == "correct" else f"{g.status}: {g.message}"
        tests.append({"name": name, "score": g.score, "max_score": g.points,
                      "status": "passed" if g.status == "correct" else "failed",
                      "output": output + (f"\n\n{g.detail}" if g.detail and g.status in GRADED else ""),
                      "extra_data": {"symcnn_key": key_id}})
    return tests


def write_gradescope(path: Path, grades: list[Grade], title: str, key_id: str) -> None:
    tests = gradescope_tests(grades, title, key_id)
    kept = kept_tests(path, {t["name"] for t in tests}, key_id)
    everything = kept + tests
    total = round(sum(float(t.get("score", 0)) for t in everything), 4)
    _replace(path, json.dumps({"score": total, "tests": everything}, indent=2) + "\n")


def kept_tests(path: Path, names: set, key_id: str) -> list[dict]:
    """The tests of ``path`` that stay: all but those named ``names``; one of those graded
    against another key is an error (two questions of one title would overwrite each other)."""
    kept = []
    for test in existing_tests(path):
        if test.get("name") not in names:
            kept.append(test)
        elif (test.get("extra_data") or {}).get("symcnn_key", key_id) != key_id:
            raise SymcnnError(f"{path}: the test {test['name']!r} holds the grade of another question; "
                              "give each question its own name (symcnn grade --name)")
    return kept


def existing_tests(path: Path) -> list[dict]:
    """The tests a Gradescope results file already holds (none when there is no file); any
    other file (a key given as --gradescope by mistake) is refused, never overwritten."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SymcnnError(f"{path}: exists but is not a Gradescope results file ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise SymcnnError(f"{path}: exists but is not a Gradescope results file (no \"tests\" list)")
    return data["tests"]


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once (a temporary file beside it, then a rename)."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        raise SymcnnError(f"{path}: cannot write ({error.strerror})") from None
