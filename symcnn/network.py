"""The public :class:`Network`: a symbolic graph with its derivation, printing and compiling.

This module only assembles the pipeline's stages behind one object; each method hands the
work to the module of its stage (:mod:`~symcnn.derive`, ...).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import sympy

from .compile import DEFAULT_BACKEND, CompiledModel
from .derive import Chain, Derivation, Formula, GeneralDerivation
from .graph import Graph
from .latex import DEFAULT_MAX_SIZE, chain_latex, document, fragment, slides
from .spec import Sequential, Spec, describe, format_shape, parse_spec, plural, read_spec
from .verify import Report, verify


class Network(Graph):
    """A CNN for chosen sizes, every input, weight and activation a named SymPy symbol.

    Build one with :func:`load` from a spec file, or from a :class:`~symcnn.spec.Spec`, a dict
    of the spec file's structure, or a :class:`~symcnn.spec.Sequential` builder.
    """

    def __init__(self, spec: Spec | dict | Sequential):
        if isinstance(spec, Sequential):
            spec = spec.spec()
        super().__init__(spec if isinstance(spec, Spec) else parse_spec(spec))

    @cached_property
    def derivation(self) -> Derivation:
        """The entry-by-entry derivation (the slides' view), at the spec's sizes."""
        return Derivation(self)

    @cached_property
    def general(self) -> GeneralDerivation:
        """The general formulas in index form (the notes' view), valid for every size."""
        return GeneralDerivation(self)

    def formula(self, of: str, wrt: str | None = None) -> Formula:
        """A general formula in index form: ``of``'s forward rule (``formula("Z1")``), a local
        Jacobian entry (``formula("Z1", "W1")``: ``dZ^1_i/dW^1_k = X_{i+k-2}``), ``delta^l``
        (``formula("L", "Z1")``) or a loss gradient (``formula("L", "W1")``).

        ``.latex()`` prints it in the course's notation; ``.at(*index)`` is its value at one
        entry (the indices of ``of``, then of ``wrt``, as the entries' symbols write them),
        equal to :meth:`jacobian` / :meth:`gradient` / :meth:`expr` there.
        """
        return self.general.formula(of, wrt)

    def jacobian(self, of: str, wrt: str) -> sympy.Matrix:
        """``d(of)/d(wrt)``, ``size(wrt) x size(of)``, padding symbols kept.

        ``net.jacobian("Z1", "W1")`` of the seed is the 3x5 matrix whose column ``i`` is
        ``(X_{i-1}, X_i, X_{i+1})``.
        """
        return self.derivation.jacobian(of, wrt).to_matrix()

    def chain(self, wrt: str, full: bool = False) -> Chain:
        """The chain rule of ``dL/d(wrt)`` factor by factor: see :meth:`Derivation.chain`."""
        return self.derivation.chain(wrt, full)

    def gradient(self, wrt: str) -> sympy.Matrix:
        """``dL/d(wrt)``, ``size(wrt) x 1``, with the padding symbols substituted by 0."""
        return self.derivation.loss_gradient(wrt).to_matrix()

    def latex(self, max_size: int = DEFAULT_MAX_SIZE) -> str:
        """A complete LaTeX document of the derivation (see :mod:`symcnn.latex.document`):
        matrices are written out up to ``max_size`` rows and columns where they fit the page
        at normal size; larger networks get their general formulas and structure."""
        return document(self, max_size)

    def slides(self, max_size: int = DEFAULT_MAX_SIZE) -> str:
        """The derivation as Beamer slides, one idea per frame (see :mod:`symcnn.latex.beamer`)."""
        return slides(self, max_size)

    def fragment(self, what: str, max_size: int = DEFAULT_MAX_SIZE) -> str:
        """One piece of the derivation to paste into other notes, e.g. ``"jacobian:Z1,W1"``,
        ``"chain:W1"``, ``"formula:L,W1"``, ``"worked:Z1"`` (see :mod:`symcnn.latex.fragments`);
        it needs ``\\usepackage{amsmath}`` and nothing else."""
        return fragment(self, what, max_size)

    def _repr_latex_(self) -> str:
        """Jupyter shows a network as its chain rules, one per parameter."""
        if self.spec.loss is None:
            return None
        return "$$" + r" \\ ".join(chain_latex(self, p, self.derivation.chain_steps(p)) for p in self.parameters) + "$$"

    def compile(self, backend: str = DEFAULT_BACKEND, dtype="float64") -> CompiledModel:
        """NumPy functions from the derived gradients, vectorized over the batch: see
        :mod:`symcnn.compile` (``backend`` ``"numba"``, ``"array"`` or ``"scalar"``; ``dtype`` float64 or float32)."""
        return CompiledModel(self, self.derivation, self.general, backend, dtype)

    def verify(self, answer: str, wrt: str | None = None, of: str = "L", points: int = 64,
               seed: int = 0, source: str = "<answer>") -> Report:
        """Check a hand derivation of ``d(of)/d(wrt)`` written in LaTeX: see :mod:`symcnn.verify`."""
        return verify(self, answer, wrt, of, points, seed, source)

    def summary(self) -> str:
        """One line per layer: its type, output shape and number of weights."""
        spec = self.spec
        lines = [f"input X: {format_shape(spec.input_shape)}"]
        counts = spec.parameter_counts()
        for l, layer in enumerate(spec.layers, start=1):
            lines.append(f"layer {l}: {layer.type} ({describe(layer)}) -> {format_shape(layer.out_shape)}, "
                         f"{plural(counts[l], 'weight')}")
        lines.append(f"loss: {(spec.loss or 'none').replace('_', ' ')}; {plural(self.parameter_count(), 'weight')} in total")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<symcnn.Network {self.spec.source}: {' -> '.join(self.flow)}>"


def load(path: str | Path) -> Network:
    """The network of a TOML spec file."""
    return Network(read_spec(path))
