"""The exercise kinds by name, and the two things done with them: draw a variant, write its key.

A variant is drawn from ``numpy.random.default_rng([seed, kind code])``: the same seed and
settings give the same exercise, kinds drawn with the same seed are independent, and a draw
that breaks a constraint (a filter larger than its padded input) or makes a poor exercise (a
typical mistake that would not change the answer) is drawn again from the same generator.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import SymcnnError
from .backprop import Delta, Gradient, Jacobian
from .counting import WeightCount
from .forward import ConvOutput, PoolOutput
from .kind import Redraw
from .ranges import Ranges
from .variant import Grading, Key, Variant

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


def make_key(variant: Variant, points: float = 1.0, partial_credit: bool = False, time_limit: float = 30.0) -> Key:
    """The variant's answer key, with the kind's grading defaults and the instructor's options."""
    kind = KINDS[variant.kind]
    grading = Grading(float(points), partial_credit, float(time_limit), kind.grading(variant).allowed_derivatives)
    return Key(variant, f"{kind.title} (variant {variant.seed})", kind.answer(variant), grading)
