"""Grading a class: each submission checked in a worker process that is killed when it runs over.

The key's time limit is checked inside the check (an alarm between SymPy steps), but a single
SymPy call can run on for hours in C (a student's ``2^{2^{40}}`` computed exactly).  So answers
are graded in a separate process: past the time limit and :data:`GRACE` seconds more, it is
killed, the answer gets 0 and "too slow", and a fresh worker grades the next one.  The worker
ignores Ctrl-C; the caller decides what to do with what has been graded so far.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
from pathlib import Path

from ..errors import SymcnnError
from ..exercises import Key, key_data, key_from_data
from .score import Grade, Grader, refused
from .submission import Refusal, read_submission

GRACE = 5.0      # seconds past the key's time limit before the worker is killed
STARTUP = 120.0  # seconds a new worker may take to import symcnn and read the key


def submissions(paths, missing_ok: bool = False, file: str | None = None) -> list[tuple[str, Path | None]]:
    """``(name, path)`` of every submission: files as given, the ``.tex`` files under folders
    (sorted, named relative to the folder), or with ``file`` the one file of that name under
    each folder, at any depth (the shallowest when there are several).  A path that does not
    exist, or a folder without answers (path None), is an error unless ``missing_ok`` (one
    student's Gradescope submission, which then gets 0 for it)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob(file or "*.tex") if p.is_file())
            if file:
                files = sorted(files, key=lambda p: len(p.relative_to(path).parts))[:1]
            if not files and not missing_ok:
                raise SymcnnError(f"{path}: no {file or '.tex answers'} in this folder")
            found += [(p.relative_to(path).as_posix(), p) for p in files] or [(file or f"{path.name}/", None)]
        elif path.exists() or missing_ok:
            found.append((path.name, path))
        else:
            raise SymcnnError(f"{path}: no such file or folder")
    return found


class Session:
    """Grades submissions against one key, one at a time, in a worker process."""

    def __init__(self, key: Key):
        self.key = key
        self.limit = key.grading.time_limit + GRACE
        self._worker = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def grade(self, name: str, path: Path | None) -> Grade:
        text = read_submission(path) if path is not None else \
            Refusal("missing", f"no {name if name.endswith('.tex') else '.tex answer'} was submitted")
        if isinstance(text, Refusal):
            return refused(name, text, self.key.grading.points)
        return self.grade_text(name, text)

    def grade_text(self, name: str, text: str) -> Grade:
        points = self.key.grading.points
        worker = self._start()
        worker.connection.send((name, text))
        if not worker.connection.poll(self.limit):
            self.close()
            return Grade(name, "too-slow", 0.0, points, f"checking this answer did not finish within "
                                                        f"{self.limit:g} s (the time limit and {GRACE:g} s more)")
        try:
            return Grade(**worker.connection.recv())
        except (EOFError, OSError):
            self.close()
            return Grade(name, "error", 0.0, points, "the grading process died on this answer (out of memory?)")

    def _start(self):
        if self._worker is None:
            self._worker = _Worker(key_data(self.key))
        return self._worker

    def close(self):
        if self._worker is not None:
            self._worker.stop()
            self._worker = None


class _Worker:
    def __init__(self, data: dict):
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no forked threads or locks
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, data), daemon=True)
        self.process.start()
        child.close()
        if not self.connection.poll(STARTUP) or self.connection.recv() != "ready":
            self.stop()
            raise SymcnnError(f"the grading process did not start within {STARTUP:g} s")

    def stop(self):
        self.process.kill()
        self.process.join()
        self.connection.close()


def _serve(connection, data: dict):
    """The worker: grade each ``(name, text)`` received, send the grade back as a dict."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    grader = Grader(key_from_data(data))
    connection.send("ready")
    while True:
        try:
            name, text = connection.recv()
        except EOFError:
            return
        connection.send(grader.grade(text, name).as_dict())


def grade_forked(grader: Grader, text: str, name: str) -> Grade:
    """One answer graded in a forked copy of this process, killed past the key's time limit
    and a second more (PrairieLearn's server.py: a fork costs no import, and PrairieLearn
    itself kills the whole call after 10 s, which must not happen)."""
    points, limit = grader.key.grading.points, grader.key.grading.time_limit + 1.0
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: grade, send the grade, leave at once
        os.close(read)
        try:
            with os.fdopen(write, "wb") as pipe:
                try:
                    grade = grader.grade(text, name)
                except Exception as error:  # a grader bug: said, not taken for a crash of the process
                    grade = Grade(name, "error", 0.0, points, f"grading failed: {type(error).__name__}: {error}")
                pipe.write(json.dumps(grade.as_dict()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        if not select.select([pipe], [], [], limit)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return Grade(name, "too-slow", 0.0, points, f"checking this answer did not finish within {limit:g} s")
        sent = pipe.read()
    os.waitpid(pid, 0)
    if not sent:
        return Grade(name, "error", 0.0, points, "the grading process died on this answer (out of memory?)")
    return Grade(**json.loads(sent))

