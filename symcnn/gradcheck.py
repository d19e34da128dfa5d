"""Compiled gradients against central finite differences, entry by entry, with an error model.

For a parameter entry ``w`` with compiled derivative ``a = dL/dw``, the central difference with
step ``h = eps * max(1, |w|)`` is

    n = (L(w + h) - L(w - h)) / (2h),    |n - dL/dw| <= h^2 |L'''| / 6 + delta / h

where ``delta`` bounds the round-off of one evaluation of the loss.  ``delta`` is measured at the
point (:func:`loss_noise`) and never taken below ``u * max(1, |L|)`` (``u`` the float64 machine
epsilon).  An entry passes when

    |a - n| <= tolerance * max(|a|, |n|) + 8 delta / h

the first term for truncation, the second for round-off, which on a large net is much more than
``tolerance`` times a small gradient.  Entries that fail this first test are looked at again
(``_EntryChecker._recheck``): a kink (a ReLU at 0, a pooling tie) between ``w - 2h`` and ``w + 2h`` makes the
two central differences ``D(h)``, ``D(2h)`` and the second differences of a five-point stencil
disagree beyond round-off, so the entry is differenced again with steps ``h/10`` and ``h/100``,
first on every sample and then on the samples farther than ``margin`` from a kink
(:meth:`CompiledModel.kink_distance`).  An entry is wrong only when a smooth difference disagrees
with it; one that sits on a kink for every step and sample is counted as not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ShapeError, SymcnnError

ROUND_OFF = np.finfo(np.float64).eps
NOISE_MULTIPLE = 8  # round-off allowed in a difference, in units of delta / h
RECHECK_STEPS = (0.1, 0.01)  # the smaller steps of a recheck, as fractions of h


@dataclass(frozen=True)
class EntryCheck:
    """One parameter's worst entry (the one nearest to or farthest beyond its allowance).

    ``error`` is the relative error ``|a - n| / max(|a|, |n|)`` and ``allowed`` the relative error
    the error model allows at that entry; ``checked`` of the ``entries`` were differenced,
    ``rechecked`` ones needed smaller steps, ``unjudged`` ones lie on a kink for every step and
    sample.
    """

    name: str
    entries: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float
    allowed: float
    checked: int
    rechecked: int = 0
    unjudged: int = 0

    @property
    def passed(self) -> bool:
        return self.error <= self.allowed


@dataclass(frozen=True)
class GradientCheck:
    """The outcome of :func:`check_gradient`: per parameter its worst entry."""

    parameters: tuple[EntryCheck, ...]
    samples: int
    noise: float
    eps: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parameters)

    @property
    def worst(self) -> EntryCheck | None:
        return max(self.parameters, key=lambda p: p.error / p.allowed if p.allowed else math.inf, default=None)

    def __str__(self) -> str:
        lines = [f"{self.samples} sample(s), central differences with step {self.eps:g} x max(1, |w|); allowed: "
                 f"{self.tolerance:g} relative + {NOISE_MULTIPLE} x the loss's round-off {self.noise:.1e} / step"]
        for p in self.parameters:
            notes = [f"{p.rechecked} rechecked with smaller steps"] if p.rechecked else []
            notes += [f"{p.unjudged} on a kink, not judged"] if p.unjudged else []
            count = f"{p.entries:>5} entries" if p.checked == p.entries else f"{p.checked} of {p.entries} entries"
            lines.append(f"  {p.name:<4} {count}  worst {p.name}{list(p.index)}: compiled "
                         f"{p.analytic:.10g}, finite difference {p.numeric:.10g}, relative error {p.error:.1e} "
                         f"(allowed {p.allowed:.1e})  {'ok' if p.passed else 'WRONG'}"
                         + (f" ({'; '.join(notes)})" if notes else ""))
        w = self.worst
        if w is None:
            lines.append("passed: the network has no parameters to check")
        else:
            lines.append("passed: every entry within its allowance" if self.passed else f"failed: {w.name}"
                         f"{list(w.index)} is off by a relative {w.error:.1e} (allowed {w.allowed:.1e})")
        return "\n".join(lines)


def check_gradient(model, params: dict, X, y, eps: float = 1e-6, tolerance: float = 1e-5,
                   margin: float = 1e-6, entries: int | None = None) -> GradientCheck:
    """Check ``model.loss_and_grad`` against central differences of ``model.loss`` (module doc).

    ``model`` is a float64 :class:`~symcnn.compile.CompiledModel` (or anything with its
    ``loss``, ``loss_and_grad`` and ``kink_distance``); ``X`` is ``(batch, *input)``.  Every
    entry is checked, or at most ``entries`` of each parameter, drawn at random (seeded).
    """
    if np.dtype(getattr(model, "dtype", np.float64)) != np.float64:
        raise ShapeError("check_gradient: finite differences need a float64 model (compile(dtype='float64'))")
    params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    full = _Samples(model, params, np.asarray(X, dtype=np.float64), np.asarray(y))
    if not math.isfinite(full.loss):
        raise SymcnnError(f"check_gradient: the loss is {full.loss} at these parameters and samples")
    noise = max(loss_noise(model, params, full.X, full.y), ROUND_OFF * max(1.0, abs(full.loss)))
    far = model.kink_distance(params, full.X) > margin
    subset = _Samples(model, params, full.X[far], full.y[far]) if 0 < far.sum() < len(far) else None
    checker = _EntryChecker(model, params, noise, tolerance, [full] + ([subset] if subset is not None else []))
    results = [checker.check(name, value, eps, entries) for name, value in params.items()]
    return GradientCheck(tuple(results), len(full.X), noise, eps, tolerance)


def loss_noise(model, params: dict, X, y, points: int = 16, step: float = 1e-9) -> float:
    """The round-off ``delta`` of one loss evaluation near ``params``, measured.

    Along a random direction ``v`` (entries +-1) the values ``L(w + k step v)``, ``k = 0..points-1``,
    differ by a smooth part that sixth differences remove (it contributes ``step^6 L^(6)``) and by
    round-off errors ``e_k``; for independent errors of standard deviation ``delta``,
    ``E[(Delta^6 e)^2] = C(12, 6) delta^2`` (Moré and Wild's noise estimate, with one order).
    """
    rng = np.random.default_rng(0)
    direction = {name: rng.choice([-1.0, 1.0], size=value.shape) for name, value in params.items()}
    values = np.array([model.loss({name: value + k * step * direction[name] for name, value in params.items()}, X, y)
                       for k in range(points)])
    sixth = np.diff(values, 6)
    scale = np.abs(sixth).max() or 1.0  # squares of a huge loss's differences would overflow
    return float(scale * np.sqrt(np.mean((sixth / scale) ** 2) / math.comb(12, 6)))


class _Samples:
    """A batch of samples with its loss and compiled gradient at the unperturbed parameters."""

    def __init__(self, model, params, X, y):
        self.X, self.y = X, y
        self.loss, self.grads = model.loss_and_grad(params, X, y)


class _EntryChecker:
    """Finite differences of one parameter entry after another, perturbing ``params`` in place."""

    def __init__(self, model, params, noise, tolerance, batches):
        self.model, self.params, self.noise, self.tolerance = model, params, noise, tolerance
        self.batches = batches  # every sample, then (when it differs) those far from kinks

    def check(self, name: str, value: np.ndarray, eps: float, most: int | None) -> EntryCheck:
        """The worst of ``value``'s entries, or of ``most`` of them drawn at random (seeded)."""
        analytic = np.array(self.batches[0].grads[name], dtype=np.float64)  # a recheck may use a subset's
        numeric, steps = np.zeros_like(value), np.ones_like(value)
        chosen = np.arange(value.size) if most is None or most >= value.size else \
            np.sort(np.random.default_rng(value.size).choice(value.size, most, replace=False))
        judged, rechecked, unjudged = np.zeros(value.shape, dtype=bool), 0, 0
        for index in map(tuple, np.array(np.unravel_index(chosen, value.shape)).T):
            numeric[index], steps[index] = self._central(name, index, eps * max(1.0, abs(value[index])))
            judged[index] = True
            if self._ratio(analytic[index], numeric[index], steps[index]) > 1:
                rechecked += 1
                again = self._recheck(name, index, steps[index])
                if again is None:
                    judged[index], unjudged = False, unjudged + 1
                else:
                    analytic[index], numeric[index], steps[index] = again
        if not judged.any():
            raise SymcnnError(f"check_gradient: every entry of {name} sits on a ReLU kink or a pooling tie for "
                              "every sample; draw other inputs")
        worst = np.unravel_index(int(np.argmax(np.where(judged, self._ratio(analytic, numeric, steps), -1))),
                                 value.shape)
        a, n = float(analytic[worst]), float(numeric[worst])
        scale = max(abs(a), abs(n))
        error, allowed = (abs(a - n) / scale, self._allowance(a, n, steps[worst]) / scale) if scale else (0.0, 1.0)
        return EntryCheck(name, value.size, tuple(int(i) for i in worst), a, n, error, float(allowed),
                          len(chosen), rechecked, unjudged)

    def _allowance(self, analytic, numeric, step):
        """What the error model allows ``|a - n|`` to be: truncation and round-off."""
        return self.tolerance * np.maximum(np.abs(analytic), np.abs(numeric)) + NOISE_MULTIPLE * self.noise / step

    def _ratio(self, analytic, numeric, step):
        """``|a - n|`` in units of its allowance (<= 1 passes)."""
        return np.abs(analytic - numeric) / self._allowance(analytic, numeric, step)

    def _recheck(self, name, index, step) -> tuple[float, float, float] | None:
        """``(analytic, numeric, step)`` of the first smooth five-point stencil that agrees with the
        compiled entry, else of the first smooth one; ``None`` when every stencil meets a kink."""
        smooth = None
        for batch in self.batches:
            analytic = float(batch.grads[name][index])
            for fraction in RECHECK_STEPS:
                numeric, h, kink = self._stencil(name, index, step * fraction, batch)
                if kink:
                    continue
                if self._ratio(analytic, numeric, h) <= 1:
                    return analytic, numeric, h
                smooth = smooth or (analytic, numeric, h)
        return smooth

    def _stencil(self, name, index, h, batch) -> tuple[float, float, bool]:
        """``D(h)``, the step actually taken, and whether a kink lies within ``2h``.

        With ``L_k = L(w + k h)``: on a smooth piece ``D(2h) - D(h) = h^2 L'''/2`` and
        ``L_2 + L_-2 - 4 (L_1 + L_-1) + 6 L_0 = h^4 L''''``, both far below round-off at these
        steps; a kink at distance ``d`` from ``w`` with slope jump ``s`` puts ``s d / 4h`` (for
        ``d < h``) into the first and ``(3d - 2h) s`` into the second, so that one of them is
        large for every ``d < 2h``.
        """
        (minus2, minus1, plus1, plus2), h = self._losses(name, index, h, (-2, -1, 1, 2), batch)
        near, far = (plus1 - minus1) / (2 * h), (plus2 - minus2) / (4 * h)
        even = plus2 + minus2 - 4 * (plus1 + minus1) + 6 * batch.loss
        kink = (abs(far - near) > NOISE_MULTIPLE * self.noise / h
                or abs(even) > NOISE_MULTIPLE * math.sqrt(70) * self.noise)
        return near, h, kink

    def _central(self, name, index, h) -> tuple[float, float]:
        (minus, plus), h = self._losses(name, index, h, (-1, 1), self.batches[0])
        return (plus - minus) / (2 * h), h

    def _losses(self, name, index, h, multiples, batch) -> tuple[list, float]:
        """The loss at ``w + k h`` for each ``k``, and ``h`` as the float64 grid takes it."""
        value = self.params[name]
        saved = value[index]
        h = ((saved + h) - (saved - h)) / 2  # the step float64 actually takes from saved
        losses = []
        for k in multiples:
            value[index] = saved + k * h
            losses.append(self.model.loss(self.params, batch.X, batch.y))
        value[index] = saved
        return losses, h
