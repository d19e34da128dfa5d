"""Compare an answer's entry with the expected one: symbolically, then at exact random points.

Both sides are written in the network's symbols, with the padding set to 0.  A difference that
expands to 0 is right.  Otherwise both are evaluated exactly (rational inputs, weights and
targets; every ``Z^l, A^l`` by the forward pass) at points drawn away from ReLU kinks and
pooling ties, up to ``points`` of them; the first point where they differ is the
counterexample.  In a network with ``exp``, ``log``, ``tanh`` or sigmoids the forward pass runs
in 60-digit floats from the same rational point (nested exact values would take SymPy minutes
to evaluate) and the two entries must agree to 40 digits.

A :class:`Deadline` bounds the whole check: past it, :class:`TimeLimitError` says where it
gave up (the CLI turns that into one line and exit 2, never a verdict).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import SymcnnError
from ..activations import ACTIVATIONS, LOSSES
from ..functions import PoolMax, ReLU


class TimeLimitError(SymcnnError):
    """The check ran past its time limit."""


class Deadline:
    """A time limit in seconds (``None``: none), checked between evaluations and, in the main
    thread, also by an alarm that interrupts a SymPy call that runs on.

    The alarm can strike anywhere, also inside code that catches an error to try another
    reading; so once it has struck, the block ends in :class:`TimeLimitError` whatever it
    raised or returned after, never in a verdict or a message about something else."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds
        self.doing = "reading the answer"
        self.struck: TimeLimitError | None = None

    def check(self):
        if self.end is not None and time.monotonic() > self.end:
            self.expired()

    def expired(self, *_):
        if self.struck is None:
            self.struck = TimeLimitError(f"gave up after {self.seconds:g} s (the time limit) while "
                                         f"{self.doing}; raise it with --time-limit")
        raise self.struck

    def __enter__(self):
        self._armed = self.seconds is not None and threading.current_thread() is threading.main_thread()
        if self._armed:
            self._previous = signal.signal(signal.SIGALRM, self.expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, kind, error, traceback):
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        if self.struck is not None and error is not self.struck:
            raise self.struck from None  # the alarm was caught on the way and turned into something else
        return False


@dataclass(frozen=True)
class Counterexample:
    """A point (``{tensor: values}``) where the expected and the given entry differ."""

    point: dict
    expected: sympy.Expr
    given: sympy.Expr


class PointChecker:
    """Exact evaluation at random rational points away from kinks and ties; points are drawn
    when first needed and kept for the next entries (and the mutations)."""

    def __init__(self, net, points: int, seed: int, deadline: Deadline):
        self.net, self.limit, self.deadline = net, points, deadline
        self.zeros = {s: sympy.S.Zero for s in net.padding_symbols()}
        self.rng = np.random.default_rng(seed)
        self.points: list = []
        self._relu_inputs: dict | None = None
        self.numeric = (net.spec.loss is not None and not LOSSES[net.spec.loss].exact) or any(
            layer.type != "maxpool" and not ACTIVATIONS[layer.activation].exact for layer in net.spec.layers)

    def same_symbolically(self, expected, given) -> bool:
        difference = (expected - given).xreplace(self.zeros)
        if difference == 0:
            return True
        if sympy.count_ops(difference) > 4000:  # expanding would take long: the points decide
            return False
        return sympy.expand(difference) == 0

    def compare(self, expected, given, points: int | None = None) -> Counterexample | None:
        """``None`` when the two agree; else a point where they differ."""
        self.deadline.check()
        if self.same_symbolically(expected, given):
            return None
        for i in range(min(points or self.limit, self.limit)):
            self.deadline.check()
            if i == len(self.points):
                self.points.append(self._draw())
            values, substitutions = self.points[i]
            e, g = _number(expected.xreplace(substitutions)), _number(given.xreplace(substitutions))
            if _differ(e, g):
                return Counterexample(values, e, g)
        return None

    def _draw(self, tries: int = 200):
        net, shapes = self.net, self.net.spec.shapes()
        for _ in range(tries):
            values = {name: _rationals(self.rng, shape) for name, shape in shapes.items()
                      if name != "y" or shape != ()}
            if shapes.get("y") == ():
                values["y"] = int(self.rng.integers(net.symbol_array("y").size))
            label = shapes.get("y") == ()  # a class label stays an integer
            inputs = {name: v if not self.numeric or (name == "y" and label) else _floats(v)
                      for name, v in values.items()}
            substitutions = net.substitutions(inputs)
            if not self._at_kink(substitutions):
                return values, substitutions
        raise SymcnnError("could not draw a point away from ReLU kinks and pooling ties")

    def _at_kink(self, substitutions) -> bool:
        """A ReLU at 0, or a pooling window whose maximum is tied, unless every tied entry is a
        ReLU clamped to 0 (``Z < 0``): there the window is flat, every route of the gradient
        meets ``1[Z > 0] = 0``, and a network with ReLU before pooling has such windows at
        almost every point."""
        for name in self.net.flow[1:]:
            for expression in self.net.expr_array(name).flat:
                if isinstance(expression, ReLU) and expression.args[0].xreplace(substitutions) == 0:
                    return True
                if isinstance(expression, PoolMax):
                    window = [a.xreplace(substitutions) for a in expression.args]
                    tied = [a for a, value in zip(expression.args, window) if value == max(window)]
                    if len(tied) > 1 and not all(self._clamped(a, substitutions) for a in tied):
                        return True
        return False

    def _clamped(self, entry, substitutions) -> bool:
        """``entry`` is ``ReLU(Z)`` with ``Z < 0`` at this point."""
        if self._relu_inputs is None:
            self._relu_inputs = {s: e.args[0] for s, e in self.net.definitions().items() if isinstance(e, ReLU)}
        z = self._relu_inputs.get(entry)
        return z is not None and bool(z.xreplace(substitutions) < 0)


def _rationals(rng, shape) -> np.ndarray:
    numerators = rng.integers(-9, 10, size=shape)
    denominators = rng.integers(1, 5, size=shape)
    return np.vectorize(sympy.Rational, otypes=[object])(numerators, denominators)


def _floats(values) -> np.ndarray:
    return np.vectorize(lambda v: sympy.Float(v, 60), otypes=[object])(values)


def _number(value):
    value = sympy.sympify(value)
    if value.free_symbols:
        raise SymcnnError("an entry kept symbols the network does not have: "
                          + ", ".join(sorted(map(str, value.free_symbols))))
    return value


def _differ(a, b) -> bool:
    difference = a - b
    if difference.is_Rational:
        return difference != 0
    magnitude = sympy.N(difference, 60)
    if not magnitude.is_number or magnitude.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return True
    scale = max(1, abs(sympy.N(a, 60)), abs(sympy.N(b, 60)))
    return abs(magnitude) > sympy.Float("1e-40", 60) * scale
