"""A student's submission as text, or the reason it cannot be graded (what the student is told).

Read defensively: at most :data:`MAX_BYTES` (the verify stage's limit) are read from a file;
a NUL byte means a binary file (a PDF, a Word document, an image); the text must be UTF-8
(a UTF-8 or UTF-16 byte-order mark is honoured); blank is empty.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from ..parse.source import MAX_ANSWER_BYTES as MAX_BYTES


@dataclass(frozen=True)
class Refusal:
    """Why a submission is not graded: ``status`` (``empty``, ``binary``, ``too-large``,
    ``missing``) and one line for the student."""

    status: str
    message: str


def read_submission(path: Path) -> str | Refusal:
    """The text of a submitted file, or a :class:`Refusal`."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Refusal("missing", f"{path.name}: no such file was submitted")
    except OSError as error:
        return Refusal("missing", f"{path.name}: cannot be read ({error.strerror})")
    if len(data) > MAX_BYTES:
        return Refusal("too-large", f"the answer is over {MAX_BYTES // 1000} KB; answers are limited to "
                                    f"{MAX_BYTES // 1000} KB of LaTeX")
    return decode(data)


def decode(data: bytes) -> str | Refusal:
    """Bytes -> text: UTF-16 or UTF-8 (byte-order mark dropped); binary and other encodings refused."""
    for mark, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
                           (codecs.BOM_UTF8, "utf-8-sig")):
        if data.startswith(mark):
            try:
                return check_text(data.decode(encoding))
            except UnicodeDecodeError as error:
                return Refusal("binary", f"not valid {encoding.upper()} text (byte {error.start})")
    if b"\x00" in data:
        return Refusal("binary", f"a binary file, not LaTeX text (a NUL byte at byte {data.index(0)}): "
                                 "submit the .tex source")
    try:
        return check_text(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        return Refusal("binary", f"not UTF-8 text (byte {error.start}): save the answer as UTF-8")


def check_text(text: str) -> str | Refusal:
    """A submitted string (a file's text, or PrairieLearn's input box) checked: not blank,
    no control characters, within the size limit."""
    if not text.strip():
        return Refusal("empty", "the answer is empty")
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        return Refusal("too-large", f"the answer is over {MAX_BYTES // 1000} KB; answers are limited to "
                                    f"{MAX_BYTES // 1000} KB of LaTeX")
    control = next((c for c in text if ord(c) < 32 and c not in "\t\n\r\f"), None)
    if control is not None:
        return Refusal("binary", f"the answer holds the control character U+{ord(control):04X} at character "
                                 f"{text.index(control) + 1}: submit plain LaTeX text")
    return text
