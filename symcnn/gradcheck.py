"""Compiled gradients against central finite differences, entry by entry.

For every parameter entry ``w``, ``n = (L(w + eps) - L(w - eps)) / (2 eps)`` is compared with the
compiled ``a = dL/dw`` by the relative error ``|a - n| / (max(|a|, |n|) + floor)``, where
``floor = 1000 * machine_eps * max(1, |L|) / eps`` is the size of the round-off in ``n``: tiny
entries are not judged by their round-off.  Finite differences are meaningless across a kink, so samples whose ReLU
pre-activations or pooling windows come within ``margin`` of one (see
:meth:`CompiledModel.kink_distance`) are left out, and the report says how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ShapeError, SymcnnError


@dataclass(frozen=True)
class EntryCheck:
    """The worst entry of one parameter."""

    name: str
    entries: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float


@dataclass(frozen=True)
class GradientCheck:
    """The outcome of :func:`check_gradient`: per parameter its worst entry."""

    parameters: tuple[EntryCheck, ...]
    samples: int
    skipped: int
    eps: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(p.error <= self.tolerance for p in self.parameters)

    @property
    def worst(self) -> EntryCheck | None:
        return max(self.parameters, key=lambda p: p.error, default=None)

    def __str__(self) -> str:
        lines = [f"{self.samples} sample(s), {self.skipped} left out near a kink; central differences, "
                 f"eps {self.eps:g}"]
        for p in self.parameters:
            verdict = "ok" if p.error <= self.tolerance else "WRONG"
            lines.append(f"  {p.name:<4} {p.entries:>5} entries  worst relative error {p.error:.1e} at "
                         f"{p.name}{list(p.index)}: compiled {p.analytic:.10g}, finite difference "
                         f"{p.numeric:.10g}  {verdict}")
        w = self.worst
        if w is None:
            lines.append("passed: the network has no parameters to check")
        else:
            lines.append(f"passed: every entry within {self.tolerance:g}" if self.passed else
                         f"failed: {w.name}{list(w.index)} is off by a relative {w.error:.1e} "
                         f"(tolerance {self.tolerance:g})")
        return "\n".join(lines)


def check_gradient(model, params: dict, X, y, eps: float = 1e-6, tolerance: float = 1e-5,
                   margin: float = 1e-4) -> GradientCheck:
    """Check ``model.loss_and_grad`` against central differences of ``model.loss``.

    ``model`` is a float64 :class:`~symcnn.compile.CompiledModel` (or anything with its
    ``loss``, ``loss_and_grad`` and ``kink_distance``).
    """
    if np.dtype(getattr(model, "dtype", np.float64)) != np.float64:
        raise ShapeError("check_gradient: finite differences need a float64 model (compile(dtype='float64'))")
    params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    keep = model.kink_distance(params, X) > margin
    if not keep.any():
        raise SymcnnError(f"check_gradient: all {len(X)} samples lie within {margin:g} of a ReLU kink or a "
                          "pooling tie; draw other inputs")
    X, y = X[keep], y[keep]
    loss, grads = model.loss_and_grad(params, X, y)
    floor = 1000 * np.finfo(np.float64).eps * max(1.0, abs(loss)) / eps
    results = []
    for name, value in params.items():
        numeric = np.empty_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            plus = model.loss(params, X, y)
            value[index] = saved - eps
            minus = model.loss(params, X, y)
            value[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        analytic = np.asarray(grads[name], dtype=np.float64)
        error = np.abs(analytic - numeric) / (np.maximum(np.abs(analytic), np.abs(numeric)) + floor)
        worst = np.unravel_index(int(np.argmax(error)), value.shape)
        results.append(EntryCheck(name, value.size, tuple(int(i) for i in worst), float(analytic[worst]),
                                  float(numeric[worst]), float(error[worst])))
    return GradientCheck(tuple(results), int(keep.sum()), int((~keep).sum()), eps, tolerance)
