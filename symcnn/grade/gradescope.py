"""Gradescope's autograder, as its specification has it: written by ``symcnn exercise
--gradescope DIR``, run by Gradescope for each submission.

The zip's root holds ``setup.sh`` (run once, as root, when Gradescope builds the image from its
base image, Ubuntu 22.04 with Python 3.10), ``run_autograder`` (run for each submission, in
``/autograder``), and the questions' keys under ``keys/NAME/``: one ``key.json`` for everyone,
or ``keys/NAME/STUDENT/key.json`` per student (the student's e-mail address or SID, as the
roster gives it).  For each question ``run_autograder`` runs ``symcnn grade`` on the file
``NAME.tex`` found anywhere in ``/autograder/submission`` (an uploaded folder or repository
keeps its folders), picks the student's key from ``/autograder/submission_metadata.json`` and
adds the test ``NAME: title`` to ``/autograder/results/results.json``.

``setup.sh`` installs Python 3.12 from the deadsnakes PPA (symcnn needs 3.11 or newer; the
image's 3.10 cannot run it) and builds symcnn's wheels, and those of its dependencies, with
that Python, then installs them into ``/opt/symcnn``.  Everything is fetched while the image is
built; a submission is graded offline.  (deadsnakes rather than ``uv python install``: an apt
package of the image's own Ubuntu, nothing but apt and pip needed to get it.)
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

from ..errors import SymcnnError
from ..exercises import write_key

PYTHON = "python3.12"
SOURCE = Path(__file__).resolve().parents[2]  # symcnn's source folder, when installed from it
SETUP_SH = f"""#!/usr/bin/env bash
# Run once by Gradescope when it builds the autograder's image (Ubuntu 22.04, Python 3.10).
# symcnn needs Python 3.11 or newer: {PYTHON} from the deadsnakes PPA, and wheels built for it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends software-properties-common
add-apt-repository -y ppa:deadsnakes/ppa
apt-get update
apt-get install -y --no-install-recommends {PYTHON} {PYTHON}-venv
{PYTHON} -m venv /opt/symcnn
/opt/symcnn/bin/python -m pip install --upgrade pip wheel
/opt/symcnn/bin/python -m pip wheel --wheel-dir /autograder/source/wheels /autograder/source/symcnn
/opt/symcnn/bin/python -m pip install --no-index --find-links /autograder/source/wheels symcnn
/opt/symcnn/bin/symcnn --version  # a broken install fails the build, not a student's submission
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Run by Gradescope for each submission: grades every question into results/results.json.
# (AUTOGRADER and SYMCNN may be set to try it outside Gradescope.)
AUTOGRADER="${AUTOGRADER:-/autograder}"
SYMCNN="${SYMCNN:-/opt/symcnn/bin/symcnn}"
mkdir -p "$AUTOGRADER/results"
for name in QUESTIONS; do
  "$SYMCNN" grade "$AUTOGRADER/source/keys/$name" "$AUTOGRADER/submission" --file "$name.tex" --name "$name" \\
    --metadata "$AUTOGRADER/submission_metadata.json" --gradescope "$AUTOGRADER/results/results.json"
done
"""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def write_autograder(folder: Path, name: str, keys: dict, source: Path = SOURCE) -> list[Path]:
    """Add question ``name`` to the autograder in ``folder``: its keys (``{student: key}``, or
    ``{None: key}`` for one key for everyone), ``setup.sh`` and a ``run_autograder`` that grades
    every question the folder holds; symcnn's source (``source``) is copied for ``setup.sh``."""
    if not (source / "pyproject.toml").is_file():
        raise SymcnnError(f"--gradescope: symcnn's source (pyproject.toml) is not beside the installed package "
                          f"({source}): install symcnn from its source folder (pip install -e)")
    if not NAME.fullmatch(name):
        raise SymcnnError(f"--name {name!r}: a question's name is letters, digits, '_', '.' and '-' "
                          "(the student submits NAME.tex)")
    folder = Path(folder)
    target = folder / "keys" / name
    try:
        if target.exists():
            shutil.rmtree(target)  # a question written again replaces its keys
        written = []
        for student, key in keys.items():
            place = target if student is None else target / student
            place.mkdir(parents=True, exist_ok=True)
            written.append(write_key(key, place / "key.json"))
        names = sorted(p.name for p in (folder / "keys").iterdir() if p.is_dir())
        (folder / "setup.sh").write_text(SETUP_SH, encoding="utf-8")
        run = folder / "run_autograder"
        run.write_text(RUN_AUTOGRADER.replace("QUESTIONS", " ".join(names)), encoding="utf-8")
        run.chmod(0o755)
        if not (folder / "symcnn" / "pyproject.toml").exists():
            for part in ("pyproject.toml", "README.md"):
                (folder / "symcnn").mkdir(exist_ok=True)
                shutil.copy2(source / part, folder / "symcnn" / part)
            shutil.copytree(source / "symcnn", folder / "symcnn" / "symcnn",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    except OSError as error:
        raise SymcnnError(f"{folder}: cannot write the autograder ({error.strerror})") from None
    return [folder / "setup.sh", run, *written]


def read_roster(path: Path) -> list[str]:
    """The students of a roster: Gradescope's roster export (a CSV with an ``Email`` or ``SID``
    column), or one e-mail address or SID per line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise SymcnnError(f"{path}: cannot read the roster ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise SymcnnError(f"{path}: the roster is not UTF-8 text (byte {error.start})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    header = next(csv.reader(lines[:1]), [])
    column = next((c for c in ("Email", "email", "SID", "sid") if c in header), None)
    students = [row[column].strip() for row in csv.DictReader(lines)] if column else lines
    bad = next((s for s in students if not NAME.fullmatch(s.replace("@", "_"))), None)
    if not students or bad is not None:
        raise SymcnnError(f"{path}: " + (f"{bad!r} is not an e-mail address or SID" if bad is not None
                                         else "no students (one e-mail address or SID a line, or a CSV with Email)"))
    if len(set(students)) != len(students):
        raise SymcnnError(f"{path}: {next(s for s in students if students.count(s) > 1)!r} is listed twice")
    return students


def student_key(keys: Path, metadata: Path) -> Path:
    """The key of the student who submitted (``submission_metadata.json``'s ``users``, by e-mail
    or SID), or the one key of ``keys`` when there is no folder per student."""
    if (keys / "key.json").is_file() or keys.is_file():
        return keys / "key.json" if keys.is_dir() else keys
    try:
        users = json.loads(metadata.read_text(encoding="utf-8"))["users"]
        ids = [str(u[field]) for u in users for field in ("email", "sid") if u.get(field)]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SymcnnError(f"{metadata}: not Gradescope's submission metadata ({error})") from None
    found = list(dict.fromkeys(keys / s / "key.json" for s in ids if (keys / s / "key.json").is_file()))
    if len(found) > 1:  # a group: its one score goes to every member, so all must have one variant
        raise SymcnnError(f"{metadata}: the group's members {', '.join(ids)} have different variants "
                          f"({', '.join(k.parent.name for k in found)}); each must submit their own")
    if found:
        return found[0]
    raise SymcnnError(f"{keys}: no variant for {', '.join(ids) or 'this submission'} "
                      f"(no {keys.name}/STUDENT/key.json for their e-mail address or SID)")
