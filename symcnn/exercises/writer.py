"""An exercise on disk: ``question.tex``, ``solution.tex`` (and their PDFs) and ``key.json``."""

from __future__ import annotations

from pathlib import Path

from ..errors import SymcnnError
from .kinds import KINDS
from .sheet import write
from .variant import Key, write_key


def write_exercise(key: Key, folder: str | Path, pdf: bool = True) -> list[Path]:
    """Write one exercise into ``folder`` (created); the files written, in order."""
    folder = Path(folder)
    kind = KINDS[key.variant.kind]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files = write(folder, "question", key.title, kind.question(key.variant), pdf)
        files += write(folder, "solution", f"{key.title}: solution", kind.solution(key.variant), pdf)
        files.append(write_key(key, folder / "key.json"))
    except OSError as error:
        raise SymcnnError(f"{folder}: cannot write the exercise ({error.strerror})") from None
    return files
