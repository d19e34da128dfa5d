"""One drawn exercise (a :class:`Variant`) and its answer key, the JSON file the grader reads.

A key (``key.json``) is small and self-contained: the network's spec inline (with the numbers
the question gives, under ``values``), what is asked, a right answer in LaTeX and how to grade::

    {"format": "symcnn-key/1", "symcnn": "0.1.0", "kind": "gradient", "seed": 7,
     "title": "The loss gradient (variant 7)",
     "spec": {"input": [5], "loss": "squared", "layers": [...]},
     "quantity": {"of": "L", "wrt": "W1"}, "form": "index",
     "answer": "\\frac{\\partial L}{\\partial W^{1}_{k}} = ...",
     "grading": {"points": 1, "partial_credit": false, "time_limit": 30, "allowed_derivatives": []},
     "settings": {"size": "4..7", ...}}

The grader never trusts ``answer``: it derives what is right from ``spec`` and ``quantity``;
``answer`` is what ``symcnn grade`` must score full marks (the self-test checks it does).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import SymcnnError
from ..network import Network
from ..spec import parse_spec

KEY_FORMAT = "symcnn-key/1"
VERSION = "0.1.0"


@dataclass(frozen=True)
class Grading:
    """How a key grades: ``points`` for a right answer; with ``partial_credit`` a wrong one
    earns the share of its entries that are right; ``time_limit`` seconds per answer;
    ``allowed_derivatives``: the derivatives ``(of, wrt)`` an answer's last step may leave
    unexpanded without defining them (``delta^{l+1}`` in a delta exercise)."""

    points: float = 1.0
    partial_credit: bool = False
    time_limit: float = 30.0
    allowed_derivatives: tuple = ()


@dataclass(frozen=True)
class Variant:
    """An exercise drawn from a seed: the network (``spec``, as a spec file's structure) and
    what is asked, ``of`` (with ``wrt`` a derivative ``d(of)/d(wrt)``; ``"weights"`` for a
    count), in ``form`` (``matrix``, ``index`` or ``product``; None when there is one)."""

    kind: str
    seed: int
    spec: dict
    of: str
    wrt: str | None = None
    form: str | None = None
    settings: dict = field(default_factory=dict, compare=False)

    @cached_property
    def network(self) -> Network:
        return Network(parse_spec(self.spec, f"variant {self.seed}: spec"))


@dataclass(frozen=True)
class Key:
    variant: Variant
    title: str
    answer: str
    grading: Grading


def key_data(key: Key) -> dict:
    """The key as the JSON object written to ``key.json``."""
    v = key.variant
    grading = asdict(key.grading)
    grading["allowed_derivatives"] = [list(pair) for pair in key.grading.allowed_derivatives]
    return {"format": KEY_FORMAT, "symcnn": VERSION, "kind": v.kind, "seed": v.seed, "title": key.title,
            "spec": v.spec, "quantity": {"of": v.of, "wrt": v.wrt}, "form": v.form, "answer": key.answer,
            "grading": grading, "settings": v.settings}


def write_key(key: Key, path: Path) -> Path:
    path.write_text(json.dumps(key_data(key), indent=2) + "\n", encoding="utf-8")
    return path


def read_data(path: Path, what: str, loads, malformed) -> dict:
    """A UTF-8 file's data (``loads`` of its text); one line naming the file when it cannot be
    read or is not ``what`` (``malformed``: the parser's own error types)."""
    try:
        return loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SymcnnError(f"{path}: cannot read {what} ({error.strerror})") from None
    except (UnicodeDecodeError, *malformed) as error:
        raise SymcnnError(f"{path}: not {what} ({error})") from None
