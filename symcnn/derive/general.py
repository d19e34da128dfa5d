"""General formulas: every layer's rule differentiated once in index form, valid for every size.

From the forward rules of :mod:`symcnn.layers` SymPy differentiates indexed entries
(``dW^l_{f,c,a,b}/dW^l_{g,c',a',b'}`` is a product of Kronecker deltas), and
:func:`~symcnn.derive.deltas.resolve` turns the deltas into index substitutions.  For the seed:

    dZ^1_i/dW^1_k = X_{i+k-2}                  delta^2 = dloss/dZ^2 = 2 (A^2 - y)
    delta^1_i = 1[Z^1_i > 0] W^2_i delta^2      dloss/dW^1_k = sum_{i=1}^{5} X_{i+k-2} delta^1_i

Backpropagation names ``delta^l = dloss/dZ^l`` for every conv and dense layer, and
``dloss/dA^l`` for a pooling layer's output (and for an output read flattened by a dense
layer); every other gradient is written in terms of the next named one, as the course does:

    dloss/dT_t = sum_u (dC_u/dT_t) g_u          (C the tensor that reads T, g its named gradient)
    delta^l_t  = f'(Z^l_t) dloss/dA^l_t
    dloss/dW^l_t = sum_u (dZ^l_u/dW^l_t) delta^l_u

A classifier's last layer has no activation and the loss is the cross entropy of its softmax
(``A^L = Z^L``, loss ``log sum_k e^{A^L_k} - sum_k y_k A^L_k``): that is how the network is
derived and compiled.  The course writes the softmax as the last activation instead, and
:meth:`GeneralDerivation.formula` answers in the course's convention (:func:`softmax_output`)
for the forward rule of ``A^L`` and the two factors that differ, derived from the derivation's
own ``dloss/dA^L = s - y`` (``s = softmax(A^L)``, the course's ``A^L``):

    A^L_j = s_j(Z^L)      dloss/dA^L_k = -y_k / s_k      dA^L_j/dZ^L_k = s_j (1[j = k] - s_k)
    loss = -sum_k y_k log s_k

whose product is the same ``delta^L = s - y`` (for a one-hot ``y``).

A :class:`Formula` keeps its expression with full-rank subscripts (one per axis); it is shown
with the axes of size 1 left out, as the symbols are named, and :meth:`Formula.at` gives its
value at one entry in the network's symbols, equal to the entry-by-entry derivation.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..activations import LOSSES
from ..errors import ShapeError, TensorNameError
from ..graph import Graph
from ..indexed import Instantiation, base_name, bound, course_letters, index, tensor
from ..notation import gradient_name, named_gradient, split_tensor_name, symbol_name
from .deltas import resolve

class Formula:
    """A general formula ``d(of)/d(wrt)`` (or ``of`` alone, a forward rule) in index form.

    Attributes
    ----------
    of, wrt : str
        Tensor names (``wrt`` is None for a forward rule).
    indices : tuple of Symbol
        The free indices, full rank: those of ``of`` (none for the loss), then those of ``wrt``.
    ranges : dict
        ``{index: (1, n)}`` for every free index.
    expression : sympy.Expr
        The right-hand side, in indexed tensors (``W1[f, c, k]``) and named gradients
        (``delta2[...]``, ``dA2[...]``), Kronecker deltas resolved.
    flat : tuple of bool
        Whether ``of``'s and ``wrt``'s indices are positions in the flattened tensor
        (``vec(A^2)_i``, as a dense layer reads its input).
    """

    def __init__(self, derivation: GeneralDerivation, of: str, wrt: str | None, of_indices, wrt_indices,
                 expression, flat=(False, False)):
        self.derivation, self.of, self.wrt = derivation, of, wrt
        self.of_indices, self.wrt_indices = tuple(of_indices), tuple(wrt_indices)
        self.indices = self.of_indices + self.wrt_indices
        self.flat = flat
        sizes = derivation.index_sizes(of, flat[0]) + (derivation.index_sizes(wrt, flat[1]) if wrt else ())
        self.ranges = {i: (1, n) for i, n in zip(self.indices, sizes)}
        self.expression = expression

    @property
    def kind(self) -> str:
        """``"forward"``, ``"jacobian"`` (a local Jacobian entry) or ``"gradient"`` (of the loss)."""
        return "forward" if self.wrt is None else "gradient" if self.of == "L" else "jacobian"

    def at(self, *written, named: bool = False):
        """The formula's value at one entry, in the network's symbols (``X_3``, ``Z1_2``, ...).

        ``written`` are the indices of ``of``, then of ``wrt``, 1-based and as the entries'
        symbols are written (axes of size 1 left out): ``formula("Z1", "W1").at(3, 2)`` is
        ``dZ1_3/dW1_2``.  Padding symbols stay in a Jacobian and are 0 in a loss gradient.
        Named gradients are written out, down to the loss; with ``named`` they stay entries
        ``delta3[f, i, j]`` (full rank), as the formula says: ``dloss/dW^3`` of LeNet-5 is then a
        sum of 100 products, not of every path through the network.
        """
        full = self.derivation.full_index(self.of, written, self.flat[0], self.wrt, self.flat[1])
        values = dict(zip(self.indices, full))
        return self.derivation.value(self.expression, values, zero_padding=self.kind == "gradient", named=named)

    def latex(self, ranges: bool = True) -> str:
        """The formula in the course's notation, with its index ranges and conventions."""
        from ..latex import formula_latex  # printing is downstream of derivation
        return formula_latex(self, ranges)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        from ..text import formula_text
        return formula_text(self)

    def __repr__(self) -> str:
        return f"<Formula {self}>"


def softmax_output(graph) -> str | None:
    """``"A<L>"`` when the course's ``A^L = softmax(Z^L)`` applies: a cross entropy after a last
    layer without activation; else None."""
    layers = graph.spec.layers
    if graph.spec.loss and LOSSES[graph.spec.loss].softmax and layers[-1].type != "maxpool" \
            and layers[-1].activation == "none":
        return f"A{len(layers)}"
    return None


class GeneralDerivation:
    """The general formulas of one network, each derived once when first asked for."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.rules = {rule.of: rule for rule in graph.rules}
        self._formulas: dict = {}
        self._values: dict = {}

    # -- the public entry point --------------------------------------------------------------

    def formula(self, of: str, wrt: str | None = None) -> Formula:
        """``of`` alone: its forward rule; ``(of, wrt)``: a local Jacobian entry (``wrt`` read by
        ``of``'s layer) or, with ``of = "L"``, the loss gradient ``dloss/d(wrt)``; in the course's
        softmax convention where it differs (see the module doc)."""
        graph = self.graph
        of = graph.tensor(of)
        wrt = graph.tensor(wrt) if wrt is not None else None
        key = ("course", of, wrt)
        if key not in self._formulas:
            self._formulas[key] = self._course_softmax(of, wrt) or self.own(of, wrt)
        return self._formulas[key]

    def own(self, of: str, wrt: str | None = None) -> Formula:
        """The derivation's own formula, as :meth:`formula` but with a classifier's ``A^L = Z^L``
        (the loss the cross entropy of its softmax): what the other formulas build on and what is
        compiled."""
        graph = self.graph
        key = (of, wrt)
        if key not in self._formulas:
            if wrt is None:
                self._formulas[key] = self._forward(of)
            elif of == "L" and wrt not in ("y", graph.flow[-2]):
                self._formulas[key] = self._gradient(wrt)
            else:
                self._formulas[key] = self._local(of, wrt)
        return self._formulas[key]

    def named(self, name: str) -> str | None:
        """The named gradient standing for ``dloss/d(name)`` in other formulas: ``"delta2"`` for
        ``Z2``, ``"dA2"`` for a pooling output (or an output a dense layer reads flattened)."""
        kind, layer = split_tensor_name(name)
        if kind == "Z" or (kind == "A" and name != self.graph.flow[-2] and (
                self._layer(layer).type == "maxpool" or self._reads_flat(name))):
            return gradient_name(name)
        return None

    # -- derivations -------------------------------------------------------------------------

    def _course_softmax(self, of: str, wrt: str | None) -> Formula | None:
        """The course's ``A^L_j = s_j``, ``dloss/dA^L_k = -y_k / s_k``, ``dA^L_j/dZ^L_k =
        s_j (1[j = k] - s_k)`` and ``loss = -sum_k y_k log s_k``, with ``s_k = dloss/dA^L_k + y_k`` the derivation's softmax; None
        for every other formula, and for a network whose last activation is not the softmax."""
        output = softmax_output(self.graph)
        scores = f"Z{output[1:]}" if output else None
        if output is None or of != output and (of, wrt) not in (("L", output), ("L", None)):
            return None
        if of == output and wrt not in (None, scores):
            raise TensorNameError(f"formula({of!r}, {wrt!r}): in the course's convention {output} = "
                                  f"softmax({scores}) reads all of {scores}; its formulas are "
                                  f"formula({output!r}, {scores!r}) and formula({scores!r}, {wrt!r})")
        own = self.own("L", output)
        (k,), flat = own.wrt_indices, own.flat
        softmax = lambda at: (own.expression + tensor("y")[k]).xreplace({k: at})
        if of == "L" and wrt is None:
            m = bound("k")
            return Formula(self, "L", None, (), (), -sympy.Sum(tensor("y")[m] * sympy.log(softmax(m)),
                                                               (m, 1, self.index_sizes("y", False)[0])))
        if wrt is None:  # the forward rule, in Z^L: s(Z^L) = s(A^L) as A^L = Z^L
            (j,) = self.letters(of)
            named = {tensor(f"vec({output})" if flat[1] else output): tensor(scores)}
            return Formula(self, of, None, (j,), (), softmax(j).replace(lambda e: e in named, lambda e: named[e]))
        if of == "L":
            return Formula(self, "L", output, (), (k,), -tensor("y")[k] / softmax(k), flat)
        j, other = self.letters(of)[0], index("k")
        return Formula(self, of, scores, (j,), (other,),
                       softmax(j) * (sympy.KroneckerDelta(j, other) - softmax(other)))

    def _forward(self, of: str) -> Formula:
        if of not in self.rules:
            raise TensorNameError(f"formula({of!r}): {of} is an input; its entries are symbols, "
                                  "not a rule (rules: " + ", ".join(self.rules) + ")")
        rule = self.rules[of]
        return Formula(self, of, None, rule.indices, (), rule.expression)

    def _local(self, of: str, wrt: str) -> Formula:
        """``d(of)_t/d(wrt)_u`` for ``wrt`` read by ``of``'s rule (or through ``Z^l`` for ``A^l``)."""
        own, wrt_indices, derivative, flat = self._derivative(of, wrt)
        ranges = {**self._ranges(own, of, False), **self._ranges(wrt_indices, wrt, flat)}
        return Formula(self, of, wrt, own, wrt_indices, resolve(derivative, ranges), (False, flat))

    def _derivative(self, of: str, wrt: str):
        """SymPy's derivative of ``of``'s rule by an entry of ``wrt``, its deltas unresolved:
        ``(of's indices, wrt's indices, derivative, whether wrt is read flattened)``."""
        rule = self._rule_reading(of, wrt)
        own = self.letters(of) if of != "L" else ()
        base, flat = self._read_as(rule, wrt)
        wrt_indices = tuple(map(index, course_letters([s.name for s in self.letters(wrt, flat, reader=of)],
                                                          {s.name for s in own})))
        derivative = self._inlined(of, rule).diff(base[wrt_indices])
        return own, wrt_indices, self._folded(of, rule, derivative), flat

    def _gradient(self, wrt: str) -> Formula:
        """``dloss/d(wrt)`` through the tensor that reads ``wrt`` and its named gradient."""
        graph = self.graph
        if wrt in graph.parameters:
            reader = f"Z{graph.layer_of(wrt)}"
        elif wrt.startswith("Z"):
            reader = f"A{graph.layer_of(wrt)}"
        else:
            reader = graph.flow[graph.flow.index(wrt) + 1]
        of_indices, wrt_indices, derivative, flat = self._derivative(reader, wrt)
        summed = {i: bound(i.name) for i in of_indices}
        upstream = self._upstream(reader, tuple(summed.values()))
        limits = [(summed[i], 1, n) for i, n in zip(of_indices, self.index_sizes(reader, False))]
        total = sympy.Sum(derivative.xreplace(summed) * upstream, *limits[::-1])  # outermost first
        own = self.letters(wrt, flat)
        expression = resolve(total, self._ranges(wrt_indices, wrt, flat)).xreplace(dict(zip(wrt_indices, own)))
        return Formula(self, "L", wrt, (), own, expression, (False, flat))

    def _upstream(self, reader: str, at: tuple):
        """``dloss/d(reader)`` at the full-rank index ``at``: its name, or its formula inlined."""
        name = self.named(reader)
        if name is not None:
            return tensor(name)[at]
        gradient = self.own("L", reader)
        if gradient.flat[1]:  # written at the flattened position of ``at``
            position = sum((i - 1) * step for i, step in zip(at, _steps(self.graph.shape(reader)))) + 1
            return gradient.expression.xreplace({gradient.wrt_indices[0]: position})
        return gradient.expression.xreplace(dict(zip(gradient.wrt_indices, at)))

    # -- the pieces --------------------------------------------------------------------------

    def _rule_reading(self, of: str, wrt: str):
        rule = self.rules.get(of)
        if rule is not None and self._reads(rule, wrt):
            return rule
        layer = of[1:] if of[:1] == "A" else None
        if layer and f"Z{layer}" in self.rules and self._reads(self.rules[f"Z{layer}"], wrt):
            return self.rules[f"Z{layer}"]
        readers = [r.of for r in self.graph.rules if self._reads(r, wrt)]
        raise TensorNameError(
            f"formula({of!r}, {wrt!r}): {of} does not read {wrt} directly; general formulas cover one "
            f"layer ({wrt} is read by {', '.join(readers) or 'nothing'}) and the loss gradients "
            f"formula('L', {wrt!r})")

    def _reads(self, rule, wrt: str) -> bool:
        if wrt == "y" or rule.of == "L" and wrt == self.graph.flow[-2]:
            return rule.of == "L"
        names = {base_name(e) for e in rule.expression.atoms(sympy.Indexed)}
        return wrt in names or f"vec({wrt})" in names

    def _read_as(self, rule, wrt: str):
        """The indexed base under which ``rule`` reads ``wrt``, and whether it is flattened."""
        names = {base_name(e) for e in rule.expression.atoms(sympy.Indexed)}
        if f"vec({wrt})" in names:
            return tensor(f"vec({wrt})"), True
        return tensor(wrt), False

    def _inlined(self, of: str, rule):
        """``of``'s rule; for ``A^l`` read through ``Z^l``, ``f(Z^l)`` with ``Z^l``'s rule in it."""
        if rule.of == of:
            return rule.expression
        activation = self.rules[of]
        return activation.expression.xreplace({tensor(rule.of)[rule.indices]: rule.expression})

    def _folded(self, of: str, rule, expression):
        """Undo :meth:`_inlined` in a derivative: ``f'(rule)`` is ``f'(Z^l_t)`` again."""
        if rule.of == of:
            return expression
        return expression.xreplace({rule.expression: tensor(rule.of)[rule.indices]})

    def _reads_flat(self, name: str) -> bool:
        """Whether a dense layer reads ``name`` flattened across more than one kept axis."""
        position = self.graph.flow.index(name)
        reader = self.rules.get(self.graph.flow[position + 1]) if position + 1 < len(self.graph.flow) else None
        return (reader is not None and self._read_as(reader, name)[1]
                and sum(self.kept(name)) > 1)

    def _layer(self, l: int):
        return self.graph.spec.layers[l - 1]

    def _ranges(self, indices, name, flat) -> dict:
        return dict(zip(indices, ((1, n) for n in self.index_sizes(name, flat))))

    # -- indices: letters, sizes, the written form ----------------------------------------

    def letters(self, name: str, flat: bool = False, reader: str | None = None) -> tuple:
        """The full-rank free indices of a tensor, named as the course does: ``Z^l_{f,i,j}``,
        ``W^l_{f,c,a,b}``, dense ``Z^l_j`` and ``W^l_{i,j}``, ``X_{c,i,j}``; ``i`` (``k`` for the
        loss) for a flattened position."""
        if flat:
            return (index("k" if reader == "L" else "i"),)
        kind, layer = split_tensor_name(name)
        if kind == "y":
            return (index("k"),)
        if kind in ("W", "b"):
            spec_layer = self._layer(layer)
            if spec_layer.type == "dense":
                return tuple(map(index, ("i", "j") if kind == "W" else ("j",)))
            offsets = ("k",) if len(spec_layer.size) == 1 else ("a", "b")
            return tuple(map(index, ("f", "c", *offsets) if kind == "W" else ("f",)))
        rank = len(self.graph.shape(name))
        if kind in ("Z", "A") and self._layer(layer).type == "dense":
            return (index("j"),)
        channel = "f" if kind in ("Z", "A") and self._layer(layer).type == "conv" else "c"
        return tuple(map(index, (channel, "i", "j")[:rank]))

    def index_sizes(self, name: str, flat: bool) -> tuple:
        if name == "L":
            return ()
        shape = self.graph.shape(name)
        return (math.prod(shape),) if flat else tuple(shape)

    def kept(self, name: str) -> tuple[bool, ...]:
        """Which axes of ``name`` its symbols write (size above 1, or padded)."""
        shape = self.graph.shape(name)
        pads = self.graph.paddings.get(name, ())
        pads = (0,) * (len(shape) - len(pads)) + tuple(pads)
        return tuple(n > 1 or p > 0 for n, p in zip(shape, pads))

    def full_index(self, of, written, of_flat, wrt, wrt_flat) -> tuple[int, ...]:
        """``written`` (indices as the symbols write them, ``of``'s then ``wrt``'s) -> the
        formula's full-rank index values."""
        parts = [(of, of_flat)] + ([(wrt, wrt_flat)] if wrt else [])
        expected = [sum(self.kept(n)) if n != "L" else 0 for n, _ in parts]
        if len(written) != sum(expected) or not all(isinstance(i, (int, np.integer)) for i in written):
            names = " and ".join(f"{n} ({k} ind{'ex' if k == 1 else 'ices'})" for (n, _), k in zip(parts, expected))
            raise ShapeError(f"at{tuple(written)}: expected {sum(expected)} integer indices, of {names}")
        full, at = [], 0
        for (name, flat), count in zip(parts, expected):
            mine = written[at:at + count]
            at += count
            if name == "L":
                continue
            entry = self._unsqueezed(name, mine)
            full += [sum((i - 1) * s for i, s in zip(entry, _steps(self.graph.shape(name)))) + 1] if flat else entry
        return tuple(full)

    def _unsqueezed(self, name, written) -> list[int]:
        shape, kept, entry = self.graph.shape(name), self.kept(name), iter(written)
        full = [int(next(entry)) if k else 1 for k in kept]
        pads = self.graph.paddings.get(name, ())
        pads = (0,) * (len(shape) - len(pads)) + tuple(pads)
        for axis, (i, n, p) in enumerate(zip(full, shape, pads)):
            if not 1 <= i <= n:
                raise ShapeError(f"at: index {i} of {name} is out of range 1..{n} (axis {axis + 1})")
        return full

    # -- values --------------------------------------------------------------------------------

    def value(self, expression, values: dict, zero_padding: bool, named: bool = False):
        """An expression's value at index ``values``: symbols, named gradients written out (or,
        with ``named``, kept as their entries)."""
        return self._instantiation(zero_padding, named)(expression, values)

    def _instantiation(self, zero_padding: bool, named: bool) -> Instantiation:
        key = ("instantiation", zero_padding, named)
        if key not in self._values:
            self._values[key] = Instantiation(lambda name, at: self._lookup(name, at, zero_padding, named))
        return self._values[key]

    def _lookup(self, name: str, at: tuple, zero_padding: bool, named: bool):
        if name.startswith("vec("):
            name = name[4:-1]
            at = tuple(int(i) + 1 for i in np.unravel_index(at[0] - 1, self.graph.shape(name)))
        if named_gradient(name):
            return tensor(name)[at] if named else self._named_value(name, at, zero_padding)
        shape = self.graph.shape(name)
        if zero_padding and not all(1 <= i <= n for i, n in zip(at, shape)):
            return sympy.S.Zero
        written = tuple(i for i, k in zip(at, self.kept(name)) if k)
        return sympy.Symbol(symbol_name(name, written), real=True)

    def _named_value(self, name: str, at: tuple, zero_padding: bool):
        key = (name, at, zero_padding)
        if key not in self._values:
            tensor_name = named_gradient(name)
            formula = self.own("L", tensor_name)
            if formula.flat[1]:
                at = (sum((i - 1) * s for i, s in zip(at, _steps(self.graph.shape(tensor_name)))) + 1,)
            self._values[key] = self.value(formula.expression, dict(zip(formula.wrt_indices, at)), zero_padding)
        return self._values[key]


def _steps(shape) -> list[int]:
    """Row-major strides of ``shape``: the flattened position of index ``t`` is
    ``sum_a (t_a - 1) steps_a + 1``."""
    return [math.prod(shape[a + 1:]) for a in range(len(shape))]
