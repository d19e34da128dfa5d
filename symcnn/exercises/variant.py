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


def read_key(path: str | Path) -> Key:
    """A key file, checked: every problem is one line naming the file and the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SymcnnError(f"{path}: cannot read the key ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SymcnnError(f"{path}: not a JSON key file ({error})") from None
    return key_from_data(data, str(path))


def key_from_data(data, source: str = "<key>") -> Key:
    """A key from its JSON object (a file's, or PrairieLearn's ``params``), checked."""
    from .kinds import KINDS  # the kind registry reads variants, so it comes after them
    if not isinstance(data, dict):
        raise SymcnnError(f"{source}: a key is a JSON object, not {type(data).__name__}")
    if data.get("format") != KEY_FORMAT:
        raise SymcnnError(f"{source}: format: expected {KEY_FORMAT!r}, got {data.get('format')!r}")
    missing = [name for name in ("kind", "seed", "spec", "quantity", "answer") if name not in data]
    if missing:
        raise SymcnnError(f"{source}: missing {', '.join(repr(m) for m in missing)}")
    if data["kind"] not in KINDS:
        raise SymcnnError(f"{source}: kind: {data['kind']!r} is not an exercise kind ({', '.join(KINDS)})")
    quantity = data["quantity"]
    if not isinstance(quantity, dict) or not isinstance(quantity.get("of"), str):
        raise SymcnnError(f"{source}: quantity: expected {{\"of\": ..., \"wrt\": ...}}")
    if not isinstance(data["answer"], str) or not isinstance(data["spec"], dict):
        raise SymcnnError(f"{source}: answer must be a string and spec an object")
    variant = Variant(data["kind"], _integer(data["seed"], source, "seed"), data["spec"], quantity["of"],
                      quantity.get("wrt"), data.get("form"), data.get("settings") or {})
    try:
        net = Network(parse_spec(variant.spec, f"{source}: spec"))
        if variant.of not in ("L", "weights"):
            net.tensor(variant.of)
        if variant.wrt is not None:
            net.tensor(variant.wrt)
    except SymcnnError as error:
        raise type(error)(str(error) if str(error).startswith(source) else f"{source}: quantity: {error}") from None
    variant.__dict__["network"] = net  # the checked network is the variant's (a cached_property)
    return Key(variant, str(data.get("title") or variant.kind), data["answer"],
               _grading(data.get("grading") or {}, source))


def _grading(raw, source: str) -> Grading:
    if not isinstance(raw, dict):
        raise SymcnnError(f"{source}: grading: expected an object")
    unknown = set(raw) - set(Grading.__dataclass_fields__)
    if unknown:
        raise SymcnnError(f"{source}: grading: unknown option {sorted(unknown)[0]!r} "
                          f"(options: {', '.join(Grading.__dataclass_fields__)})")
    grading = Grading()
    points = raw.get("points", grading.points)
    limit = raw.get("time_limit", grading.time_limit)
    for name, value in (("points", points), ("time_limit", limit)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise SymcnnError(f"{source}: grading.{name}: expected a positive number, got {value!r}")
    partial = raw.get("partial_credit", grading.partial_credit)
    if not isinstance(partial, bool):
        raise SymcnnError(f"{source}: grading.partial_credit: expected true or false, got {partial!r}")
    allowed = raw.get("allowed_derivatives", [])
    if not isinstance(allowed, list) or not all(isinstance(p, list) and len(p) == 2 for p in allowed):
        raise SymcnnError(f"{source}: grading.allowed_derivatives: expected a list of [of, wrt] pairs")
    return Grading(float(points), partial, float(limit), tuple(tuple(p) for p in allowed))


def _integer(value, source: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SymcnnError(f"{source}: {name}: expected an integer, got {value!r}")
    return value
