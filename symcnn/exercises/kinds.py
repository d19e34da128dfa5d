"""The exercise kinds by name, and what is done with them: draw a variant (within the settings,
given or read from a file), make its key, read a key back.

A variant is drawn from ``numpy.random.default_rng([seed, kind code])``: the same seed and
settings give the same exercise, kinds drawn with the same seed are independent, and a draw
that breaks a constraint (a filter larger than its padded input) or makes a poor exercise (a
typical mistake that would not change the answer) is drawn again from the same generator.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import zlib
from pathlib import Path

import numpy as np

from ..errors import SymcnnError
from ..network import Network
from ..spec import parse_spec
from .backprop import Delta, Gradient, Jacobian
from .counting import WeightCount
from .forward import ConvOutput, PoolOutput
from .kind import Redraw
from .ranges import SETTINGS, Ranges
from .variant import KEY_FORMAT, Grading, Key, Variant, read_data

KINDS = {kind.name: kind for kind in (ConvOutput(), PoolOutput(), WeightCount(), Jacobian(), Delta(), Gradient())}
DRAWS = 200  # draws tried before the settings are said to allow no exercise


def kind_of(name: str):
    if name not in KINDS:
        raise SymcnnError(f"{name!r} is not an exercise kind ({', '.join(KINDS)})")
    return KINDS[name]


def ranges_for(name: str, settings: dict | None = None, source: str = "--set") -> Ranges:
    kind = kind_of(name)
    return Ranges(kind.name, kind.defaults, settings, source, kind.forms)


def make_variant(name: str, seed: int, settings: dict | None = None, source: str = "--set") -> Variant:
    """The variant of kind ``name`` drawn from ``seed`` within the kind's settings."""
    kind, ranges = kind_of(name), ranges_for(name, settings, source)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SymcnnError(f"seed: expected a non-negative integer, got {seed!r}")
    rng = np.random.default_rng([int(seed), zlib.crc32(kind.name.encode())])
    reason = ""
    for _ in range(DRAWS):
        try:
            spec, of, wrt, form = kind.draw(rng, ranges)
            variant = Variant(kind.name, int(seed), spec, of, wrt, form, ranges.as_dict())
            kind.check(variant)
        except (Redraw, SymcnnError) as error:  # SymcnnError: the spec's own checks (filter sizes)
            reason = str(error)
            continue
        return variant
    settings_text = ", ".join(f"{k}={v}" for k, v in ranges.as_dict().items())
    raise SymcnnError(f"{name}: no exercise within the settings ({settings_text}) in {DRAWS} draws; "
                      f"the last: {reason}")


def student_seed(seed: int, student) -> int:
    """A variant's seed for one student (an e-mail address, a SID, PrairieLearn's variant seed):
    the exercise's seed and the student's mixed, the same every time, below 2^48."""
    return int(hashlib.sha256(f"{seed}:{student}".encode()).hexdigest()[:12], 16)


def read_settings(path: str | Path, kind: str) -> dict:
    """The settings a TOML file gives ``kind``: its top level (the settings ``kind`` uses) and
    its table ``[kind]`` (all of which ``kind`` must use; :class:`Ranges` checks)."""
    path = Path(path)
    data = read_data(path, "a TOML settings file", tomllib.loads, (tomllib.TOMLDecodeError,))
    used = KINDS[kind].defaults
    settings = {}
    for name, value in data.items():
        if isinstance(value, dict):
            if name not in KINDS:
                raise SymcnnError(f"{path}: [{name}] is not an exercise kind ({', '.join(KINDS)})")
            continue
        if name not in SETTINGS:
            raise SymcnnError(f"{path}: {name} is not a setting ({', '.join(SETTINGS)})")
        if name in used:
            settings[name] = value
    settings.update(data.get(kind, {}))
    return settings


def make_key(variant: Variant, points: float = 1.0, partial_credit: bool = False, time_limit: float = 30.0) -> Key:
    """The variant's answer key, with the kind's grading defaults and the instructor's options."""
    kind = KINDS[variant.kind]
    grading = Grading(float(points), partial_credit, float(time_limit), kind.grading(variant).allowed_derivatives)
    return Key(variant, f"{kind.title} (variant {variant.seed})", kind.answer(variant), grading)


def read_key(path: str | Path) -> Key:
    """A key file, checked: every problem is one line naming the file and the field."""
    data = read_data(Path(path), "a JSON key file", json.loads, (json.JSONDecodeError,))
    return key_from_data(data, str(path))


def key_from_data(data, source: str = "<key>") -> Key:
    """A key from its JSON object (a file's, or PrairieLearn's ``params``), checked."""
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
