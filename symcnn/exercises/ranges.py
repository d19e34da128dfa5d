"""What an instructor may set when variants are drawn: sizes, values and options, as ranges.

Every setting is either an integer range, written ``"4..7"`` (both ends included) or a single
integer, or a choice among allowed values, written ``"relu,none"`` or a TOML list
(``dims = [1, 2]``).  Each exercise kind has its own defaults (:data:`SETTINGS` lists every
setting a kind may use); an instructor overrides them with ``--set size=4..7`` or a TOML file
of settings, either at the top level (for every kind that uses the setting) or in a table
named after the kind::

    values = "-2..2"          # every kind that draws numbers
    [conv-output]
    dims = [2]
    padding = "1"

A setting a kind does not use is an error when asked of that kind (``--set``, or its own
table), and ignored at the top level of a file shared by several kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..activations import ACTIVATIONS
from ..errors import SymcnnError


@dataclass(frozen=True)
class IntRange:
    """The integers ``low..high``, both included."""

    low: int
    high: int

    def draw(self, rng) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}..{self.high}"


@dataclass(frozen=True)
class Choice:
    """One of ``options``, drawn uniformly."""

    options: tuple

    def draw(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def __str__(self) -> str:
        return ",".join(str(o).lower() if isinstance(o, bool) else str(o) for o in self.options)


# setting -> (what it is, the integers allowed or the values allowed)
SETTINGS = {
    "dims": ("choice", (1, 2), "spatial dimensions of the input"),
    "size": ("range", (1, 24), "1D input length"),
    "side": ("range", (1, 10), "2D input side (the input is side x side)"),
    "channels": ("range", (1, 8), "input channels"),
    "filter": ("range", (1, 7), "filter size of a convolution"),
    "window": ("range", (1, 6), "window size of a max pooling"),
    "padding": ("range", (0, 3), "zero padding on each side"),
    "stride": ("range", (1, 4), "stride"),
    "filters": ("range", (1, 6), "filters of a convolution"),
    "values": ("range", (-99, 99), "integer entries of inputs and weights"),
    "activation": ("choice", tuple(ACTIVATIONS), "activation of a convolution"),
    "bias": ("choice", (True, False), "whether layers have a bias"),
    "pool": ("choice", (True, False), "a max pooling between the convolution and the dense layer"),
    "layers": ("range", (1, 4), "layers of the network"),
    "units": ("range", (1, 64), "units of a dense layer"),
    "form": ("choice", ("matrix", "index", "product"), "how the answer is asked for"),
}


class Ranges:
    """The settings of one kind: its defaults, overridden by the instructor's."""

    def __init__(self, kind: str, defaults: dict, given: dict | None = None, source: str = "--set",
                 forms: tuple = ()):
        self.kind = kind
        self.settings = {name: _parse(name, value, "default") for name, value in defaults.items()}
        for name, value in (given or {}).items():
            if name not in self.settings:
                raise SymcnnError(f"{source}: {kind} has no setting {name!r} (its settings: "
                                  + ", ".join(self.settings) + ")")
            self.settings[name] = _parse(name, value, source)
        other = [f for f in getattr(self.settings.get("form"), "options", ()) if f not in forms]
        if other:
            raise SymcnnError(f"{source}: form: {kind} is asked as {' or '.join(forms)}, not {other[0]}")

    def __getitem__(self, name: str):
        return self.settings[name]

    def draw(self, name: str, rng):
        return self.settings[name].draw(rng)

    def as_dict(self) -> dict:
        """``{setting: "4..7"}``: what the key records about how its variant was drawn."""
        return {name: str(value) for name, value in self.settings.items()}


def parse_assignment(text: str) -> tuple[str, str]:
    """``"size=4..7"`` -> ``("size", "4..7")`` (a ``--set`` argument)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip() or not value.strip():
        raise SymcnnError(f"--set {text}: write NAME=VALUE, e.g. --set size=4..7")
    return name.strip(), value.strip()


def _parse(name: str, value, source: str):
    """A setting's text, integer or list -> :class:`IntRange` or :class:`Choice`, checked."""
    if name not in SETTINGS:
        raise SymcnnError(f"{source}: {name} is not a setting ({', '.join(SETTINGS)})")
    kind, allowed, _ = SETTINGS[name]
    where = f"{source}: {name} = {value!r}"
    if kind == "range":
        low, high = _bounds(value, where)
        lo, hi = allowed
        if not lo <= low <= high <= hi:
            raise SymcnnError(f"{where}: must lie within {lo}..{hi}" if low <= high else
                              f"{where}: the range is empty ({low} > {high})")
        return IntRange(low, high)
    items = value if isinstance(value, list) else [value] if not isinstance(value, str) else value.split(",")
    options = tuple(_option(item, allowed, where) for item in items)
    if not options:
        raise SymcnnError(f"{where}: give at least one of {', '.join(map(str, allowed))}")
    return Choice(tuple(dict.fromkeys(options)))


def _bounds(value, where) -> tuple[int, int]:
    if isinstance(value, bool):
        raise SymcnnError(f"{where}: expected an integer or LOW..HIGH")
    if isinstance(value, int):
        return value, value
    if isinstance(value, str):
        low, dots, high = value.partition("..")
        try:
            return (int(low), int(high)) if dots else (int(value), int(value))
        except ValueError:
            pass
    raise SymcnnError(f"{where}: expected an integer or LOW..HIGH, e.g. 4..7")


def _option(item, allowed, where):
    if isinstance(item, str):
        text = item.strip().lower()
        for option in allowed:
            if text == str(option).lower():
                return option
    elif item in allowed and type(item) is type(allowed[0]):
        return item
    raise SymcnnError(f"{where}: {item!r} is not one of {', '.join(str(o).lower() for o in allowed)}")
